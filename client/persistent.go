package client

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/outbox"
	"github.com/jetrpc/jetrpc/internal/wire"
)

// Errors of persistent connections.
var (
	// ErrConnectionLost is the error of the calls in flight when their
	// connection is lost (wrapped with the cause). Such a call may have
	// run: it is never sent again.
	ErrConnectionLost = errors.New("client: connection lost (the call may have run)")
	// ErrClosed is the error of calls made after Close.
	ErrClosed = errors.New("client: closed")
	// ErrTimeout is the error of a call whose answer did not come within
	// the client's timeout (WithTimeout).
	ErrTimeout = errors.New("client: no answer within the timeout")
)

// DefaultMaxAnswerSize bounds one message read from a persistent
// connection; a larger one ends the connection.
const DefaultMaxAnswerSize = 64 << 20

// framing is how a persistent connection frames messages.
type framing uint8

const (
	lineFraming framing = iota
	headerFraming
	wsFraming
)

func parseFraming(name string) (framing, error) {
	switch name {
	case "", "line":
		return lineFraming, nil
	case "header":
		return headerFraming, nil
	}
	return 0, fmt.Errorf("client: framing %q is not line or header", name)
}

// multiplexer is a transport that carries many calls at once on one
// connection: it routes each answer by the id of its call.
type multiplexer interface {
	// exchangeOne sends req, a call with id (0: a notification, nothing
	// owed), and appends its answer to dst.
	exchangeOne(ctx context.Context, dst, req []byte, id uint64) ([]byte, error)
	// exchangeBatch sends req, a batch whose calls have ids (none: only
	// notifications), and appends the batch's answer to dst.
	exchangeBatch(ctx context.Context, dst, req []byte, ids []uint64) ([]byte, error)
	// subscribe sends req, a subscribe call with id, and registers sink
	// under the subscription id the answer carries before any later
	// message is read.
	subscribe(ctx context.Context, dst, req []byte, id uint64, sink subscriptionSink) ([]byte, error)
	// unsubscribed forgets the subscription with id.
	unsubscribed(id string)
}

// persistent is the Transport of ws://, wss://, tcp:// and unix:// URLs and
// of NewStream: one connection at a time, redialled after a loss when
// WithReconnect asks for it.
type persistent struct {
	s       *settings
	framing framing
	// dial opens a new connection; nil for a single stream (NewStream),
	// which cannot be reopened.
	dial func(ctx context.Context) (io.ReadWriteCloser, error)

	mu      sync.Mutex
	conn    *pconn
	ready   chan struct{} // closed when a redial has set conn
	lostErr error         // why conn is nil, when not redialling
	closed  bool
}

// dialPersistent connects to u (ws, wss, tcp, unix) at once.
func dialPersistent(u *url.URL, s *settings) (*persistent, error) {
	t := &persistent{s: s}
	q := u.Query()
	f, err := parseFraming(q.Get("framing"))
	if err != nil {
		return nil, err
	}
	t.framing = f
	switch u.Scheme {
	case "ws", "wss":
		t.framing = wsFraming
		wsURL := *u
		t.dial = func(ctx context.Context) (io.ReadWriteCloser, error) { return dialWebSocket(ctx, wsURL.String(), s) }
	case "tcp", "unix":
		network, addr := u.Scheme, u.Host
		if network == "unix" {
			addr = u.Path
			if addr == "" {
				addr = u.Opaque
			}
		}
		if addr == "" {
			return nil, fmt.Errorf("client: URL %q has no address", u.String())
		}
		t.dial = func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	rwc, err := t.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	t.conn = newPconn(t, rwc)
	return t, nil
}

// dialWebSocket does the WebSocket handshake (fasthttp/websocket's
// client: TLS, proxies, headers) and returns the connection under it;
// frames are written and read by wire.
func dialWebSocket(ctx context.Context, rawURL string, s *settings) (io.ReadWriteCloser, error) {
	d := websocket.Dialer{TLSClientConfig: s.tlsConfig, HandshakeTimeout: s.timeout, Proxy: websocket.DefaultDialer.Proxy}
	h := make(map[string][]string, len(s.header))
	for _, kv := range s.header {
		h[kv[0]] = append(h[kv[0]], kv[1])
	}
	ws, resp, err := d.DialContext(ctx, rawURL, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket handshake with %s: %w (HTTP %d)", rawURL, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("websocket handshake with %s: %w", rawURL, err)
	}
	return ws.NetConn(), nil
}

// NewStream returns a Client that speaks JSON-RPC over rwc, one stream
// such as a child process's standard input and output (as editors drive
// language servers), with framing "line" (newline-delimited JSON) or
// "header" (LSP Content-Length headers). Many calls may be in flight at
// once, as on any persistent connection. Close closes rwc. A stream cannot
// be redialled: once it ends, calls fail with ErrConnectionLost.
func NewStream(rwc io.ReadWriteCloser, framingName string, opts ...Option) (*Client, error) {
	f, err := parseFraming(framingName)
	if err != nil {
		return nil, err
	}
	t := &persistent{s: newSettings(opts), framing: f}
	t.conn = newPconn(t, rwc)
	return New(t), nil
}

// current returns the connection, waiting (up to ctx) while a redial is
// under way.
func (t *persistent) current(ctx context.Context) (*pconn, error) {
	t.mu.Lock()
	for {
		switch {
		case t.closed:
			t.mu.Unlock()
			return nil, ErrClosed
		case t.conn != nil:
			c := t.conn
			t.mu.Unlock()
			return c, nil
		case t.ready == nil:
			err := t.lostErr
			t.mu.Unlock()
			return nil, err
		}
		ready := t.ready
		t.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("client: waiting for the connection: %w", ctx.Err())
		}
		t.mu.Lock()
	}
}

// lost is called once when c ends: with WithReconnect a redial starts.
func (t *persistent) lost(c *pconn, cause error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn != c {
		return
	}
	t.conn = nil
	t.lostErr = fmt.Errorf("%w: %v", ErrConnectionLost, cause)
	if t.closed || t.dial == nil || t.s.reconnect == nil {
		return
	}
	t.ready = make(chan struct{})
	go t.redial(t.ready)
}

// redial dials until it succeeds or the client is closed, waiting an
// exponentially growing, jittered delay between attempts.
func (t *persistent) redial(ready chan struct{}) {
	r := t.s.reconnect
	delay := r.min
	for {
		// Full jitter: a uniform wait up to delay spreads the clients of
		// a restarted server over the whole interval.
		time.Sleep(r.min/2 + rand.N(delay))
		t.mu.Lock()
		closed := t.closed
		t.mu.Unlock()
		if closed {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.s.timeout)
		rwc, err := t.dial(ctx)
		cancel()
		if err == nil {
			c := newPconn(t, rwc)
			t.mu.Lock()
			if t.closed {
				t.mu.Unlock()
				c.close(ErrClosed)
				return
			}
			t.conn, t.ready = c, nil
			t.mu.Unlock()
			close(ready)
			return
		}
		delay = min(2*delay, r.max)
	}
}

// Close closes the connection: calls in flight fail with ErrClosed (they
// may have run), subscriptions end, later calls fail with ErrClosed.
func (t *persistent) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	c := t.conn
	t.conn = nil
	ready := t.ready
	t.ready = nil
	t.mu.Unlock()
	if ready != nil {
		close(ready) // waiters see closed
	}
	if c != nil {
		c.close(ErrClosed)
	}
	return nil
}

// RoundTrip sends req, a request or a batch of any origin, and appends
// its answer: the ids it must wait for are read from req (a parse).
func (t *persistent) RoundTrip(ctx context.Context, dst, req []byte) ([]byte, error) {
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	if err := b.Parse(req); err != nil {
		return dst, fmt.Errorf("client: request: %w", err)
	}
	var ids []uint64
	for i := range b.Requests {
		r := &b.Requests[i]
		if r.IsNotification() {
			continue
		}
		id, ok := numericID(r.ID)
		if !ok {
			return dst, fmt.Errorf("client: a persistent connection routes answers by numeric ids; %s is not one", r.ID)
		}
		ids = append(ids, id)
	}
	if !b.IsArray {
		var id uint64
		if len(ids) == 1 {
			id = ids[0]
		}
		return t.exchangeOne(ctx, dst, req, id)
	}
	return t.exchangeBatch(ctx, dst, req, ids)
}

func (t *persistent) exchangeOne(ctx context.Context, dst, req []byte, id uint64) ([]byte, error) {
	return t.exchange(ctx, dst, req, id, nil, nil)
}

func (t *persistent) exchangeBatch(ctx context.Context, dst, req []byte, ids []uint64) ([]byte, error) {
	return t.exchange(ctx, dst, req, 0, ids, nil)
}

func (t *persistent) subscribe(ctx context.Context, dst, req []byte, id uint64, sink subscriptionSink) ([]byte, error) {
	return t.exchange(ctx, dst, req, id, nil, sink)
}

// exchange sends req, a call with id or a batch with ids (neither: only
// notifications, nothing owed), and appends its answer to dst; sink, for a
// subscribe call, is registered under the id its answer carries. It
// writes both to the trace when WithTrace asks.
func (t *persistent) exchange(ctx context.Context, dst, req []byte, id uint64, ids []uint64, sink subscriptionSink) ([]byte, error) {
	if t.s.trace == nil {
		return t.exchangeUntraced(ctx, dst, req, id, ids, sink)
	}
	t.s.trace.request(req)
	start := len(dst)
	dst, err := t.exchangeUntraced(ctx, dst, req, id, ids, sink)
	t.s.trace.reply(dst[start:], err)
	return dst, err
}

func (t *persistent) exchangeUntraced(ctx context.Context, dst, req []byte, id uint64, ids []uint64, sink subscriptionSink) ([]byte, error) {
	c, err := t.current(ctx)
	if err != nil {
		return dst, err
	}
	if id == 0 && len(ids) == 0 {
		return dst, c.send(req)
	}
	w := getWaiter(dst)
	w.id, w.ids, w.sink = id, ids, sink
	if err := c.register(w); err != nil {
		putWaiter(w)
		return dst, err
	}
	return c.roundTrip(ctx, w, req)
}

func (t *persistent) unsubscribed(id string) {
	t.mu.Lock()
	c := t.conn
	t.mu.Unlock()
	if c != nil {
		c.mu.Lock()
		delete(c.subs, id)
		c.mu.Unlock()
	}
}

// waiter is a call waiting for its answer: the reader appends the answer
// to buf (the caller's dst) and signals ch. Pooled.
type waiter struct {
	ch    chan struct{}
	buf   []byte
	err   error
	id    uint64   // the call's id
	ids   []uint64 // a batch's ids, all registered
	sink  subscriptionSink
	timer *time.Timer
}

var waiters = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &waiter{ch: make(chan struct{}, 1), timer: t}
}}

func getWaiter(dst []byte) *waiter {
	w := waiters.Get().(*waiter)
	w.buf = dst
	return w
}

func putWaiter(w *waiter) {
	w.buf, w.err, w.id, w.ids, w.sink = nil, nil, 0, nil, nil
	waiters.Put(w)
}

// pconn is one persistent connection: writes from many goroutines leave
// coalesced, one reader goroutine routes answers to their waiters and
// notifications to their subscriptions.
type pconn struct {
	t       *persistent
	rwc     io.ReadWriteCloser
	framing framing
	ws      wire.WebSocket
	max     int

	outbox outbox.Outbox
	mask   *rand.ChaCha8 // WebSocket masking keys, drawn while the outbox frames

	mu      sync.Mutex
	pending map[uint64]*waiter
	subs    map[string]subscriptionSink
	dead    error
}

func newPconn(t *persistent, rwc io.ReadWriteCloser) *pconn {
	c := &pconn{t: t, rwc: rwc, framing: t.framing, max: DefaultMaxAnswerSize,
		pending: map[uint64]*waiter{}, subs: map[string]subscriptionSink{}}
	// A server that stops reading holds the writers once 4 MiB wait.
	c.outbox.Init(4<<20, c.writeOut)
	if c.framing == wsFraming {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		c.mask = rand.NewChaCha8(seed)
	}
	go c.readLoop()
	return c
}

// register makes w wait for the answer of its call (w.id) or batch
// (w.ids).
func (c *pconn) register(w *waiter) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead != nil {
		return c.dead
	}
	if len(w.ids) == 0 {
		c.pending[w.id] = w
		return nil
	}
	for _, id := range w.ids {
		c.pending[id] = w
	}
	return nil
}

// unregister removes w's ids, with c.mu held; false when w was not
// there (the reader has taken it).
func (c *pconn) unregister(w *waiter) bool {
	if len(w.ids) == 0 {
		if c.pending[w.id] != w {
			return false
		}
		delete(c.pending, w.id)
		return true
	}
	found := false
	for _, id := range w.ids {
		if c.pending[id] == w {
			delete(c.pending, id)
			found = true
		}
	}
	return found
}

// roundTrip sends req and waits for w's answer, the client's timeout or
// ctx, whichever comes first.
func (c *pconn) roundTrip(ctx context.Context, w *waiter, req []byte) ([]byte, error) {
	if err := c.send(req); err != nil {
		c.abandon(w)
		dst := w.buf
		putWaiter(w)
		return dst, err
	}
	var timeout <-chan time.Time
	if d := c.t.s.timeout; d > 0 {
		w.timer.Reset(d)
		timeout = w.timer.C
	}
	var err error
	select {
	case <-w.ch:
		err = w.err
	case <-ctx.Done():
		err = c.abandonOr(w, ctx.Err())
	case <-timeout:
		err = c.abandonOr(w, ErrTimeout)
	}
	w.timer.Stop()
	dst := w.buf
	putWaiter(w)
	return dst, err
}

// abandonOr stops waiting for w with err, unless its answer is being
// delivered: then it waits for it and returns its outcome.
func (c *pconn) abandonOr(w *waiter, err error) error {
	if c.abandon(w) {
		return err
	}
	<-w.ch
	return w.err
}

// abandon removes w; false when the reader has taken it already.
func (c *pconn) abandon(w *waiter) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unregister(w)
}

// send frames msg into the output and writes it, unless another goroutine
// is writing (which then writes it too, in the same write).
func (c *pconn) send(msg []byte) error { return c.write(c.frameMessage, msg) }

// write frames msg with frame into the output and writes the output
// unless another goroutine is at it.
func (c *pconn) write(frame func(dst, msg []byte) []byte, msg []byte) error {
	if err := c.outbox.Append(frame, msg); err != nil {
		return err
	}
	return c.outbox.Flush()
}

// frameMessage frames one message in the connection's framing.
func (c *pconn) frameMessage(dst, msg []byte) []byte {
	switch c.framing {
	case wsFraming:
		return c.frameWebSocket(dst, wire.OpText, msg)
	case headerFraming:
		return wire.AppendHeader(dst, msg)
	}
	return wire.AppendLine(dst, msg)
}

// frameWebSocket frames a client frame, masked with a fresh key.
func (c *pconn) frameWebSocket(dst []byte, op byte, msg []byte) []byte {
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], uint32(c.mask.Uint64()))
	return wire.AppendFrame(dst, op, msg, &key)
}

func (c *pconn) framePong(dst, msg []byte) []byte  { return c.frameWebSocket(dst, wire.OpPong, msg) }
func (c *pconn) frameClose(dst, msg []byte) []byte { return c.frameWebSocket(dst, wire.OpClose, msg) }

// writeOut writes buf; a failed write closes the connection (the reader
// then ends it) and fails the outbox with ErrConnectionLost.
func (c *pconn) writeOut(buf []byte) error {
	if _, err := c.rwc.Write(buf); err != nil {
		c.rwc.Close()
		return fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	return nil
}

// close ends the connection with err (Close, or a failed redial race).
func (c *pconn) close(err error) {
	c.mu.Lock()
	if c.dead == nil {
		c.dead = err
	}
	c.mu.Unlock()
	c.rwc.Close()
}

// readLoop reads messages until the connection fails, then fails what
// waits on it.
func (c *pconn) readLoop() {
	buf := make([]byte, 16<<10)
	r, w := 0, 0
	var err error
	for err == nil {
		for r < w {
			n, msg, ctl, ferr := c.next(buf[r:w])
			if ferr != nil {
				err = ferr
				break
			}
			if n == 0 {
				break
			}
			r += n
			switch ctl {
			case wire.Ping:
				_ = c.write(c.framePong, msg)
				continue
			case wire.Close:
				_ = c.write(c.frameClose, msg)
				err = fmt.Errorf("server closed the WebSocket (%d)", wire.CloseCode(msg))
			}
			if msg != nil && ctl == 0 {
				c.dispatch(msg)
			}
		}
		if err != nil {
			break
		}
		if r == w {
			r, w = 0, 0
		} else if w == len(buf) {
			if r > 0 {
				w = copy(buf, buf[r:w])
				r = 0
			} else {
				nb := make([]byte, min(2*len(buf), c.max+16))
				copy(nb, buf[:w])
				buf = nb
			}
		}
		var n int
		n, err = c.rwc.Read(buf[w:])
		w += n
		if n > 0 {
			err = nil
		}
	}
	c.fail(err)
}

func (c *pconn) next(buf []byte) (int, []byte, wire.Control, error) {
	switch c.framing {
	case lineFraming:
		n, msg, err := wire.Line(buf, c.max)
		if err != nil {
			return 0, nil, 0, err
		}
		return n, msg, 0, nil
	case headerFraming:
		n, msg, err := wire.Header(buf, c.max)
		if err != nil {
			return 0, nil, 0, err
		}
		return n, msg, 0, nil
	}
	n, msg, ctl, err := c.ws.Next(buf, c.max)
	if err != nil {
		return 0, nil, 0, err
	}
	return n, msg, ctl, nil
}

// dispatch routes one message: an answer to the call (or batch) waiting
// for its id, a notification to its subscription or the handler.
func (c *pconn) dispatch(msg []byte) {
	rs := codec.AcquireResponses()
	defer codec.ReleaseResponses(rs)
	if rs.Parse(msg) != nil || len(rs.Items) == 0 {
		return // not JSON: nothing can be routed
	}
	if !rs.IsArray && rs.Items[0].Invalid == codec.InvalidResponseShape {
		c.notification(msg)
		return
	}
	c.mu.Lock()
	var w *waiter
	for i := range rs.Items {
		id, ok := numericID(rs.Items[i].ID)
		if ok {
			w = c.pending[id]
		} else if string(rs.Items[i].ID) == "null" && len(rs.Items) == 1 {
			w = c.oldest() // an error for a request the server could not read
		}
		if w != nil {
			break
		}
	}
	if w == nil {
		c.mu.Unlock()
		return // an answer nobody waits for (abandoned): dropped
	}
	c.unregister(w)
	w.buf = append(w.buf, msg...)
	if w.sink != nil && !rs.IsArray && rs.Items[0].Result != nil {
		if sid, ok := subscriptionID(rs.Items[0].Result); ok {
			c.subs[sid] = w.sink // before any later message is routed
			w.sink.started(sid)
		}
	}
	c.mu.Unlock()
	w.ch <- struct{}{}
}

// oldest returns the waiter of the lowest id, with c.mu held.
func (c *pconn) oldest() *waiter {
	var best uint64
	var w *waiter
	for id, pw := range c.pending {
		if w == nil || id < best {
			best, w = id, pw
		}
	}
	return w
}

// subscriptionID reads a subscribe answer's result: a JSON string.
func subscriptionID(result []byte) (string, bool) {
	if len(result) < 2 || result[0] != '"' || result[len(result)-1] != '"' {
		return "", false
	}
	return string(codec.AppendUnescaped(nil, result[1:len(result)-1])), true
}

// notification routes a message from the server that is not an answer.
func (c *pconn) notification(msg []byte) {
	method, params := memberPair(msg, "method", "params")
	if len(method) < 2 || method[0] != '"' {
		return
	}
	name := method[1 : len(method)-1]
	if len(params) > 0 && params[0] == '{' && bytes.HasSuffix(name, strSubscriptionSuffix) {
		sid, result := memberPair(params, "subscription", "result")
		if len(sid) >= 2 && sid[0] == '"' && result != nil {
			c.mu.Lock()
			sink := c.subs[string(sid[1:len(sid)-1])]
			c.mu.Unlock()
			if sink != nil {
				sink.deliver(result)
				return
			}
		}
	}
	if h := c.t.s.onNotification; h != nil {
		h(string(codec.AppendUnescaped(nil, name)), append([]byte(nil), params...))
	}
}

// strSubscriptionSuffix ends the method of a subscription notification.
var strSubscriptionSuffix = []byte("_subscription")

// memberPair returns the raw values of the members a and b of obj, a
// validated JSON object (nil for a member absent; the last of duplicates).
func memberPair(obj []byte, a, b string) (va, vb []byte) {
	for it := codec.Iterate(obj); it.Next(); {
		// Comparisons, not a switch on string(key): they never copy the key.
		if k := it.Key(); string(k) == a {
			va = it.Value()
		} else if string(k) == b {
			vb = it.Value()
		}
	}
	return va, vb
}

// fail ends the connection: every call waiting fails with
// ErrConnectionLost, every subscription ends with it.
func (c *pconn) fail(cause error) {
	c.rwc.Close()
	if cause == nil || errors.Is(cause, io.EOF) {
		cause = errors.New("the server closed the connection")
	}
	// The client lets go of the connection first, so that a caller woken
	// below (a call failed, a subscription ended) that calls again waits
	// for the redial instead of finding this connection and failing with it.
	c.t.lost(c, cause)
	c.mu.Lock()
	dead := c.dead
	if dead == nil {
		dead = fmt.Errorf("%w: %v", ErrConnectionLost, cause)
		c.dead = dead
	}
	waiting := make(map[*waiter]bool, len(c.pending))
	for id, w := range c.pending {
		waiting[w] = true
		delete(c.pending, id)
	}
	subs := c.subs
	c.subs = map[string]subscriptionSink{}
	c.mu.Unlock()
	c.outbox.Fail(dead)
	for w := range waiting {
		w.err = dead
		w.ch <- struct{}{}
	}
	for _, s := range subs {
		s.end(dead)
	}
}

// reconnectPolicy is WithReconnect's.
type reconnectPolicy struct{ min, max time.Duration }

// WithReconnect makes a persistent connection (ws, wss, tcp, unix) redial
// after it is lost, waiting about first, then twice as long after each
// failed attempt up to limit, with jitter. Calls in flight when it is lost fail at once with
// ErrConnectionLost (never sent again: they may have run); calls made
// while it redials wait for it, up to their context. Subscriptions end
// with ErrConnectionLost: subscribing again is the caller's decision.
func WithReconnect(first, limit time.Duration) Option {
	return Option{func(s *settings) {
		if first <= 0 {
			first = 100 * time.Millisecond
		}
		s.reconnect = &reconnectPolicy{min: first, max: max(first, limit)}
	}}
}

// WithNotificationHandler receives the server's notifications that are
// not a subscription's, on the connection's reader goroutine: it must
// return quickly (hand work to a goroutine), or the connection's answers
// wait.
func WithNotificationHandler(h func(method string, params []byte)) Option {
	return Option{func(s *settings) { s.onNotification = h }}
}
