package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/jetrpc/jetrpc/codec"
)

// Subscriptions follow go-ethereum's pub/sub convention, so that its
// client and web3-style libraries subscribe unchanged:
//
//	--> {"jsonrpc":"2.0","method":"<ns>_subscribe","params":["<name>", args...],"id":1}
//	<-- {"jsonrpc":"2.0","result":"0x9cef478923ff08bf67fde6c64013158d","id":1}
//	<-- {"jsonrpc":"2.0","method":"<ns>_subscription","params":{"subscription":"0x9cef…","result":V}}
//	--> {"jsonrpc":"2.0","method":"<ns>_unsubscribe","params":["0x9cef…"],"id":2}
//	<-- {"jsonrpc":"2.0","result":true,"id":2}
var (
	// ErrNotificationsUnsupported answers a subscribe call that came over
	// plain HTTP (go-ethereum's code and message).
	ErrNotificationsUnsupported = codec.NewError(codec.CodeMethodNotFound, "notifications not supported")
)

// Subscription is one client's subscription: the producer given to
// RegisterSubscription sends its values with Send.
type Subscription[T any] struct {
	*subscription
	enc *resultEncoder[T]
}

// subscription is the untyped part of a Subscription.
type subscription struct {
	id     string
	peer   *Peer
	ctx    context.Context
	cancel context.CancelFunc
	// prefix is the notification up to its result, encoded once:
	// {"jsonrpc":"2.0","method":"<ns>_subscription","params":{"subscription":"<id>","result":
	prefix []byte
	// mu orders Send against end: once end returns (and so before an
	// unsubscribe is answered), no notification of it is queued.
	mu    sync.Mutex
	ended bool
}

// ID returns the subscription's id, as the client got it.
func (s *subscription) ID() string { return s.id }

// Send pushes v to the subscriber as one notification. It returns
// ErrPeerClosed once the subscription has ended (unsubscribed, or its
// connection closed); the producer should then return. It may block while
// the client is not reading, until the connection's write timeout closes
// it. v is encoded as Register encodes a result; for booleans, numbers,
// strings and json.RawMessage Send allocates nothing.
func (s *Subscription[T]) Send(v T) error {
	bp := pushBuffers.Get().(*[]byte)
	defer pushBuffers.Put(bp)
	msg := append((*bp)[:0], s.prefix...)
	msg, err := s.enc.append(msg, &v)
	if err != nil {
		return err
	}
	msg = append(msg, "}}"...)
	*bp = msg[:0]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return ErrPeerClosed
	}
	return s.peer.push.Push(msg)
}

// end ends the subscription: its context is cancelled and Send fails from
// now on. It reports whether it was still active.
func (s *subscription) end() bool {
	s.mu.Lock()
	was := !s.ended
	s.ended = true
	s.mu.Unlock()
	// Cancelled once marked: the producer it wakes ends it too (forget),
	// and must not be the one that reports it active.
	s.cancel()
	return was
}

// subscriptionKind is one name a namespace subscribes to: start decodes
// the params after the name and returns the new subscription and the
// function that runs its producer.
type subscriptionKind struct {
	start func(e *Engine, peer *Peer, args []byte, s *subscription) (run func(), err error)
}

// subNamespace is the subscriptions under one <ns>_subscribe method.
type subNamespace struct {
	name  string
	mu    sync.Mutex
	kinds map[string]*subscriptionKind
}

// RegisterSubscription registers the subscription name in namespace:
// "<namespace>_subscribe" with params [name, args...] decodes args into P
// (by position, as Register decodes an array), answers the new
// subscription's id, and once that answer is queued runs fn on its own
// goroutine; fn sends values with sub.Send, which reach the client as
// "<namespace>_subscription" notifications. ctx ends when the client
// unsubscribes ("<namespace>_unsubscribe" [id] answers true, false for an
// unknown id) or its connection closes; fn should then return, and when it
// returns the subscription ends. An error fn returns is logged.
//
// Subscribing needs a persistent connection (WebSocket or a stream); over
// plain HTTP the subscribe call answers ErrNotificationsUnsupported.
// Creating a subscription allocates; Send does not (see Send).
func RegisterSubscription[P, T any](e *Engine, namespace, name string, fn func(ctx context.Context, params P, sub *Subscription[T]) error, opts ...MethodOption) error {
	if fn == nil {
		return fmt.Errorf("engine: subscription %q in %q: nil function", name, namespace)
	}
	if namespace == "" || name == "" {
		return errors.New("engine: subscription: empty namespace or name")
	}
	m := newMethod(namespace+"_subscribe", opts)
	info, err := analyseParams(reflect.TypeFor[P](), m.paramNames)
	if err != nil {
		return fmt.Errorf("engine: subscription %q in %q: %w", name, namespace, err)
	}
	enc, err := newResultEncoder[T]()
	if err != nil {
		return fmt.Errorf("engine: subscription %q in %q: %w", name, namespace, err)
	}
	dec := newParamsDecoder[P](info)
	kind := &subscriptionKind{start: func(e *Engine, peer *Peer, args []byte, s *subscription) (func(), error) {
		p := new(P)
		if err := dec.decode(nil, args, unsafe.Pointer(p)); err != nil {
			return nil, err
		}
		sub := &Subscription[T]{subscription: s, enc: enc}
		return func() {
			go func() {
				defer peer.forget(s)
				if err := fn(s.ctx, *p, sub); err != nil && s.ctx.Err() == nil && e.logger != nil {
					e.logger.Warn("subscription ended with an error", "namespace", namespace, "name", name, "id", s.id, "error", err)
				}
			}()
		}, nil
	}}
	e.mu.Lock()
	ns := e.namespaces[namespace]
	e.mu.Unlock()
	if ns != nil { // <namespace>_subscribe exists: one more name under it
		return ns.add(name, kind)
	}
	ns = &subNamespace{name: namespace, kinds: map[string]*subscriptionKind{name: kind}}
	if m.description == "" {
		m.description = "Subscribes to a " + namespace + " subscription; its notifications are " + namespace + "_subscription."
	}
	m.handler = ns.subscribe
	if err := e.add(m); err != nil {
		return err
	}
	un := newMethod(namespace+"_unsubscribe", nil)
	un.description = "Ends a " + namespace + " subscription: true, or false for an unknown id."
	un.handler = ns.unsubscribe
	if err := e.add(un); err != nil {
		return err
	}
	e.mu.Lock()
	if e.namespaces == nil {
		e.namespaces = map[string]*subNamespace{}
	}
	e.namespaces[namespace] = ns
	e.mu.Unlock()
	return nil
}

// add adds the subscription name to the namespace.
func (ns *subNamespace) add(name string, kind *subscriptionKind) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.kinds[name] != nil {
		return fmt.Errorf("engine: subscription %q in %q registered twice", name, ns.name)
	}
	ns.kinds[name] = kind
	return nil
}

// errNoSubscriptionName answers a subscribe call whose params do not
// start with the subscription's name.
var errNoSubscriptionName = codec.ErrInvalidParams.WithData("the first param must be the subscription name, a string")

// subscribe is the <ns>_subscribe method.
func (ns *subNamespace) subscribe(c *Call) error {
	peer := PeerFrom(c.ctx)
	if peer == nil {
		return ErrNotificationsUnsupported
	}
	name, args, ok := splitSubscribeParams(c.req.Params)
	if !ok {
		return errNoSubscriptionName
	}
	ns.mu.Lock()
	kind := ns.kinds[name]
	ns.mu.Unlock()
	if kind == nil {
		return codec.NewError(codec.CodeMethodNotFound, fmt.Sprintf("no %q subscription in %s namespace", name, ns.name))
	}
	if c.IsNotification() {
		return nil // nobody would learn its id
	}
	s := &subscription{id: newSubscriptionID(), peer: peer}
	s.ctx, s.cancel = context.WithCancel(peer.ctx)
	s.prefix = append(s.prefix, `{"jsonrpc":"2.0","method":`...)
	s.prefix = codec.AppendString(s.prefix, ns.name+"_subscription")
	s.prefix = append(s.prefix, `,"params":{"subscription":"`...)
	s.prefix = append(s.prefix, s.id...)
	s.prefix = append(s.prefix, `","result":`...)
	run, err := kind.start(c.engine, peer, args, s)
	if err != nil {
		s.cancel()
		return err
	}
	if !peer.remember(s) {
		s.cancel()
		return ErrPeerClosed
	}
	if err := c.ResultString(s.id); err != nil {
		return err
	}
	// The producer starts once this call's answer is queued, so that no
	// notification can overtake it.
	if mc, _ := c.ctx.Value(messageKey{}).(*MessageContext); mc != nil {
		mc.afterAnswer(run)
	} else {
		run()
	}
	return nil
}

// unsubscribe is the <ns>_unsubscribe method: [id] → true, or false for
// an id unknown on this connection.
func (ns *subNamespace) unsubscribe(c *Call) error {
	peer := PeerFrom(c.ctx)
	if peer == nil {
		return ErrNotificationsUnsupported
	}
	it := codec.Iterate(c.req.Params)
	if it.IsObject() || !it.Next() || len(it.Value()) < 2 || it.Value()[0] != '"' {
		return codec.ErrInvalidParams.WithData("params must be [id], the subscription's id")
	}
	id := it.Value()[1 : len(it.Value())-1]
	if peer.unsubscribe(id) {
		return c.ResultRaw(trueJSON)
	}
	return c.ResultRaw(falseJSON)
}

var trueJSON, falseJSON = []byte("true"), []byte("false")

// splitSubscribeParams returns the subscription name, the first of params,
// and the rest as a JSON array.
func splitSubscribeParams(params []byte) (name string, args []byte, ok bool) {
	if len(params) == 0 || params[0] != '[' {
		return "", nil, false
	}
	it := codec.Iterate(params)
	if !it.Next() || len(it.Value()) < 2 || it.Value()[0] != '"' {
		return "", nil, false
	}
	name = string(codec.AppendUnescaped(nil, it.Value()[1:len(it.Value())-1]))
	args = append(args, '[')
	for it.Next() {
		if it.Index() > 1 {
			args = append(args, ',')
		}
		args = append(args, it.Value()...)
	}
	return name, append(args, ']'), true
}

// newSubscriptionID returns a fresh id in go-ethereum's form: 0x and 32
// hex digits of randomness.
func newSubscriptionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on a supported platform
	return "0x" + hex.EncodeToString(b[:])
}

// remember adds s to the peer's subscriptions; false once it is closed.
func (p *Peer) remember(s *subscription) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.subs == nil {
		p.subs = map[string]*subscription{}
	}
	p.subs[s.id] = s
	return true
}

// forget ends s and removes it, when its producer has returned.
func (p *Peer) forget(s *subscription) {
	s.end()
	p.mu.Lock()
	if p.subs[s.id] == s {
		delete(p.subs, s.id)
	}
	p.mu.Unlock()
}

// unsubscribe ends the subscription with id; false if there is none.
func (p *Peer) unsubscribe(id []byte) bool {
	p.mu.Lock()
	s := p.subs[string(id)]
	delete(p.subs, string(id))
	p.mu.Unlock()
	return s != nil && s.end()
}

// MessageContext is the context a persistent transport gives the calls of
// one message it read: it carries the connection's Peer (through the
// context it wraps) and holds what must wait until the message's answer
// has been queued (a subscription's first notification). A transport keeps
// one per goroutine running messages, Resets it for each message, and
// calls Answered once the answer (or nothing, for notifications) is
// queued. Not for use by handlers.
type MessageContext struct {
	context.Context
	mu      sync.Mutex
	after   []func()
	pending atomic.Bool // after is not empty
}

type messageKey struct{}

// Value returns the MessageContext itself for the engine's own key and
// asks the wrapped context otherwise.
func (m *MessageContext) Value(key any) any {
	if key == (messageKey{}) {
		return m
	}
	return m.Context.Value(key)
}

// Reset makes m the context of a new message, wrapping ctx.
func (m *MessageContext) Reset(ctx context.Context) { m.Context = ctx }

func (m *MessageContext) afterAnswer(fn func()) {
	m.mu.Lock()
	m.after = append(m.after, fn)
	m.pending.Store(true)
	m.mu.Unlock()
}

// HasPending reports whether something waits for the message's answer
// (an atomic load: transports check it per message and call Answered
// only then).
func (m *MessageContext) HasPending() bool { return m.pending.Load() }

// Answered runs what waited for the message's answer. It allocates
// nothing when no call of the message subscribed.
func (m *MessageContext) Answered() {
	m.mu.Lock()
	after := m.after
	m.after = m.after[:0]
	m.pending.Store(false)
	m.mu.Unlock()
	for i, fn := range after {
		fn()
		after[i] = nil
	}
}
