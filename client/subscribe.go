package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/jsonenc"
)

// Errors of subscriptions.
var (
	// ErrNotPersistent is returned by Subscribe on an HTTP client.
	ErrNotPersistent = errors.New("client: subscriptions need a persistent connection (ws://, wss://, tcp://, unix:// or NewStream)")
	// ErrSubscriptionOverflow ends a subscription whose values were not
	// taken: its buffer (WithSubscriptionBuffer) was full when the next
	// one came.
	ErrSubscriptionOverflow = errors.New("client: subscription ended: its buffer of values was full (the consumer fell behind)")
)

// DefaultSubscriptionBuffer is how many values a subscription holds for a
// consumer that has not taken them yet.
const DefaultSubscriptionBuffer = 1024

// WithSubscriptionBuffer sets how many values each subscription holds
// before it ends with ErrSubscriptionOverflow; DefaultSubscriptionBuffer
// when not given.
func WithSubscriptionBuffer(n int) Option { return Option{func(s *settings) { s.subBuffer = n }} }

// subscriptionSink is what a connection routes a subscription's
// notifications to, on its reader goroutine.
type subscriptionSink interface {
	// started records the id the subscribe answer carried.
	started(id string)
	// deliver takes one raw result; it must not block.
	deliver(result []byte)
	// end ends the subscription with err (nil: unsubscribed).
	end(err error)
}

// Subscription is a subscription in go-ethereum's convention, made with
// Subscribe: the server's "<namespace>_subscription" notifications for it
// arrive decoded into T on Values.
//
// A consumer that falls behind does not hold the connection up: values
// wait in a buffer (WithSubscriptionBuffer, DefaultSubscriptionBuffer),
// and when it is full the subscription ends with ErrSubscriptionOverflow
// (and is unsubscribed) rather than blocking the connection's other calls
// or dropping values silently. A value that does not decode into T ends it
// too, with the decoding error.
type Subscription[T any] struct {
	c         *Client
	m         multiplexer
	namespace string
	values    chan T
	errc      chan error

	mu    sync.Mutex
	id    string
	ended bool
}

// Subscribe subscribes to namespace with args (the subscription's name
// first, then its params, as go-ethereum's Client.Subscribe takes them):
//
//	sub, err := client.Subscribe[int](ctx, c, "demo", "ticks", 5)
//	for v := range sub.Values() { … }
//	err = <-sub.Err()   // nil once unsubscribed, else why it ended
//
// It needs a persistent connection (ErrNotPersistent otherwise); the
// server's error answer is returned as a *codec.Error. Decoding each value
// costs what go-json costs for T.
func Subscribe[T any](ctx context.Context, c *Client, namespace string, args ...any) (*Subscription[T], error) {
	m, ok := c.transport.(multiplexer)
	if !ok {
		return nil, ErrNotPersistent
	}
	if args == nil {
		args = []any{}
	}
	params, err := jsonenc.Append(nil, args)
	if err != nil {
		return nil, fmt.Errorf("client: encoding params: %w", err)
	}
	size := DefaultSubscriptionBuffer
	if p, ok := c.transport.(*persistent); ok && p.s.subBuffer > 0 {
		size = p.s.subBuffer
	}
	s := &Subscription[T]{c: c, m: m, namespace: namespace, values: make(chan T, size), errc: make(chan error, 1)}
	id := c.ids.Add(1)
	req := appendRequest(nil, namespace+"_subscribe", params, id, true)
	answer, err := m.subscribe(ctx, nil, req, id, s)
	if err != nil {
		return nil, fmt.Errorf("client: transport: %w", err)
	}
	rs := codec.AcquireResponses()
	defer codec.ReleaseResponses(rs)
	if err := rs.Parse(answer); err != nil || len(rs.Items) != 1 || rs.Items[0].Invalid != "" {
		return nil, fmt.Errorf("%w: to subscribe: %.200s", ErrInvalidAnswer, answer)
	}
	if rs.Items[0].Error != nil {
		return nil, decodeError(rs.Items[0].Error)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.id == "" {
		return nil, fmt.Errorf("%w: the subscription id is not a string: %s", ErrInvalidAnswer, rs.Items[0].Result)
	}
	return s, nil
}

// ID returns the subscription's id, as the server gave it.
func (s *Subscription[T]) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Values returns the channel the values arrive on; it is closed when the
// subscription ends, after the values already received.
func (s *Subscription[T]) Values() <-chan T { return s.values }

// Err returns a channel that receives one value when the subscription
// ends: nil after Unsubscribe; ErrConnectionLost (wrapped) when its
// connection was lost; ErrSubscriptionOverflow, or a decoding error. It is
// closed after that value.
func (s *Subscription[T]) Err() <-chan error { return s.errc }

// Unsubscribe ends the subscription: no value arrives after it returns
// (those received before stay on Values), and the server is told
// ("<namespace>_unsubscribe"). Its error is the server's or the
// transport's; the subscription ends either way.
func (s *Subscription[T]) Unsubscribe(ctx context.Context) error {
	id := s.ID()
	s.m.unsubscribed(id)
	if !s.finish(nil) {
		return nil // ended already
	}
	var ok bool
	return s.c.Call(ctx, s.namespace+"_unsubscribe", []string{id}, &ok)
}

func (s *Subscription[T]) started(id string) {
	s.mu.Lock()
	s.id = id
	s.mu.Unlock()
}

func (s *Subscription[T]) deliver(result []byte) {
	var v T
	if err := gojson.Unmarshal(result, &v); err != nil {
		s.endAndUnsubscribe(fmt.Errorf("client: decoding a %s_subscription value: %w", s.namespace, err))
		return
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	select {
	case s.values <- v:
		s.mu.Unlock()
	default:
		s.mu.Unlock()
		s.endAndUnsubscribe(ErrSubscriptionOverflow)
	}
}

// endAndUnsubscribe ends the subscription with err and tells the server,
// in the background (the reader goroutine must not wait for an answer).
func (s *Subscription[T]) endAndUnsubscribe(err error) {
	id := s.ID()
	s.m.unsubscribed(id)
	if s.finish(err) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.c.Call(ctx, s.namespace+"_unsubscribe", []string{id}, nil)
		}()
	}
}

func (s *Subscription[T]) end(err error) { s.finish(err) }

// finish ends the subscription once; false when it had ended already.
func (s *Subscription[T]) finish(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.ended = true
	s.errc <- err
	close(s.errc)
	close(s.values)
	return true
}
