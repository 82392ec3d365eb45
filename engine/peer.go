package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/jsonenc"
)

// Pusher is what a persistent transport (a WebSocket or a stream
// connection) gives the engine to push messages to its client.
type Pusher interface {
	// Push queues msg, one complete JSON-RPC message, after every answer
	// queued before it. It copies msg. It may block while the connection's
	// unwritten output is over its bound (a slow reader), and fails once
	// the connection is closing.
	Push(msg []byte) error
}

// ErrNoPeer is returned by Peer.Notify on a call that did not arrive on a
// persistent connection (plain HTTP has no way to push).
var ErrNoPeer = errors.New("engine: no persistent connection to push to (the call came over plain HTTP)")

// ErrPeerClosed is returned by Peer.Notify and Subscription.Send once the
// connection or the subscription has ended.
var ErrPeerClosed = errors.New("engine: connection or subscription closed")

// Peer is the client at the other end of one persistent connection: a
// handler reaches it with PeerFrom(ctx) to push notifications, and the
// engine keeps that connection's subscriptions in it. Transports make one
// per connection with NewPeer and Close it when the connection ends.
// A Peer is safe for concurrent use.
type Peer struct {
	push Pusher
	ctx  context.Context // cancelled by Close
	stop context.CancelFunc

	mu     sync.Mutex
	closed bool
	subs   map[string]*subscription
}

type peerKey struct{}

// NewPeer returns the Peer of one connection that pushes through p; its
// Context (and that of every subscription on it) derives from ctx and ends
// with Close. It allocates; call it once per connection.
func NewPeer(ctx context.Context, p Pusher) *Peer {
	pc, stop := context.WithCancel(ctx)
	return &Peer{push: p, ctx: pc, stop: stop}
}

// Context returns a context that carries the Peer, for the calls of its
// connection: PeerFrom finds the Peer in it and in any context derived
// from it. It ends when the Peer is closed.
func (p *Peer) Context() context.Context { return peerContext{p.ctx, p} }

// peerContext carries the Peer without context.WithValue's allocation per
// lookup chain: Value answers peerKey itself.
type peerContext struct {
	context.Context
	p *Peer
}

func (c peerContext) Value(key any) any {
	if key == (peerKey{}) {
		return c.p
	}
	return c.Context.Value(key)
}

// PeerFrom returns the Peer whose connection the call with context ctx
// came in on, or nil over plain HTTP. Notify on a nil *Peer returns
// ErrNoPeer, so engine.PeerFrom(ctx).Notify(...) fails cleanly there.
func PeerFrom(ctx context.Context) *Peer {
	p, _ := ctx.Value(peerKey{}).(*Peer)
	return p
}

// Notify pushes the notification {"jsonrpc":"2.0","method":method,
// "params":params} to the peer; params is encoded as Register encodes a
// result (nil: no params member). It returns ErrNoPeer on a nil Peer and
// ErrPeerClosed once the connection has ended. It may block while the
// client is not reading (see Pusher.Push). It allocates what go-json
// allocates for params; NotifyRaw allocates nothing.
func (p *Peer) Notify(method string, params any) error {
	if p == nil {
		return ErrNoPeer
	}
	if params == nil {
		return p.notify(method, nil)
	}
	bp := pushBuffers.Get().(*[]byte)
	defer pushBuffers.Put(bp)
	raw, err := jsonenc.Append((*bp)[:0], params)
	*bp = raw[:0]
	if err != nil {
		return codec.ErrInternal.WithData(err.Error())
	}
	return p.notify(method, raw)
}

// NotifyRaw pushes a notification whose params are raw JSON (an array or
// an object; nil for none); see Notify. It allocates nothing.
func (p *Peer) NotifyRaw(method string, params []byte) error {
	if p == nil {
		return ErrNoPeer
	}
	if params != nil && !codec.Valid(params) {
		return errInvalidResult
	}
	return p.notify(method, params)
}

func (p *Peer) notify(method string, params []byte) error {
	mp := pushBuffers.Get().(*[]byte)
	defer pushBuffers.Put(mp)
	msg := append((*mp)[:0], `{"jsonrpc":"2.0","method":`...)
	msg = codec.AppendString(msg, method)
	if params != nil {
		msg = append(msg, `,"params":`...)
		msg = append(msg, params...)
	}
	msg = append(msg, '}')
	*mp = msg[:0]
	if p.isClosed() {
		return ErrPeerClosed
	}
	return p.push.Push(msg)
}

// pushBuffers holds the buffers notifications are encoded into; Push
// copies, so a buffer goes back at once.
var pushBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close ends the peer: its context and every subscription on it are
// cancelled, and later pushes fail with ErrPeerClosed. Transports call it
// when the connection ends; it is idempotent.
func (p *Peer) Close() {
	p.EndSubscriptions()
	p.stop()
}

// EndSubscriptions ends every subscription on the peer and refuses new
// ones and later pushes, while the calls running on it go on (a server
// shutting down gracefully).
func (p *Peer) EndSubscriptions() {
	p.mu.Lock()
	p.closed = true
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()
	for _, s := range subs {
		s.end()
	}
}

// Subscriptions returns the number of subscriptions active on the peer.
func (p *Peer) Subscriptions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.subs)
}
