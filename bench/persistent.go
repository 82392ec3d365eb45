package bench

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jetrpc/jetrpc/internal/clock"
	"github.com/jetrpc/jetrpc/internal/wire"
)

// isPersistent reports whether rawURL names a persistent transport
// (ws, wss, tcp, unix), which runStream loads.
func isPersistent(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && (u.Scheme == "ws" || u.Scheme == "wss" || u.Scheme == "tcp" || u.Scheme == "unix")
}

// streamFraming is how a persistent connection frames messages.
type streamFraming uint8

const (
	framingLine streamFraming = iota
	framingHeader
	framingWebSocket
)

// streamDialer returns how to open one persistent connection to rawURL,
// and its framing.
func streamDialer(rawURL string, header map[string]string, tlsConfig *tls.Config) (func(ctx context.Context) (net.Conn, error), streamFraming, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, 0, err
	}
	f := framingLine
	switch u.Query().Get("framing") {
	case "", "line":
	case "header":
		f = framingHeader
	default:
		return nil, 0, fmt.Errorf("framing %q is not line or header", u.Query().Get("framing"))
	}
	switch u.Scheme {
	case "ws", "wss":
		h := http.Header{}
		for k, v := range header {
			h.Set(k, v)
		}
		d := websocket.Dialer{TLSClientConfig: tlsConfig, HandshakeTimeout: 10 * time.Second}
		return func(ctx context.Context) (net.Conn, error) {
			ws, _, err := d.DialContext(ctx, rawURL, h)
			if err != nil {
				return nil, err
			}
			return ws.NetConn(), nil
		}, framingWebSocket, nil
	case "tcp", "unix":
		network, addr := u.Scheme, u.Host
		if network == "unix" {
			addr = u.Path
		}
		if addr == "" {
			return nil, 0, fmt.Errorf("%q has no address", rawURL)
		}
		return func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}, f, nil
	}
	return nil, 0, fmt.Errorf("scheme %q is not a persistent transport", u.Scheme)
}

// flushEvery is how many requests the generator frames before it writes
// them, when answers keep coming: the server starts on them while the
// generator reads the rest (the server flushes its answers likewise).
const flushEvery = 16

// slotDigits is the part of a persistent request's id that names its slot
// on the connection: answers are routed by it.
const slotDigits = 10_000

// streamSlot is one request in flight on a persistent connection: its
// body carries ids ending in the slot's number, so that an answer names
// the slot it answers.
type streamSlot struct {
	seq     uint64
	tmpl    int
	bodies  [][]byte // per template, the body with this slot's ids
	due     time.Time
	counted bool
	busy    bool
}

// streamConn is one persistent connection of a run and its requests in
// flight; one goroutine drives it.
type streamConn struct {
	conn    net.Conn
	framing streamFraming
	ws      wire.WebSocket
	mask    *rand.PCG
	out     []byte
	buf     []byte
	r, w    int
	slots   []streamSlot
	free    []int
	busy    int
	rdAt    int64 // when the read deadline set expires (clock.Nanotime)
	// unflushed counts the requests framed since the last write.
	unflushed int
	rec       *recorder
	rng       *rand.Rand
	checker   checker
}

// frame appends body to the output, framed.
func (c *streamConn) frame(body []byte) {
	c.unflushed++
	switch c.framing {
	case framingHeader:
		c.out = wire.AppendHeader(c.out, body)
	case framingWebSocket:
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], uint32(c.mask.Uint64()))
		c.out = wire.AppendFrame(c.out, wire.OpText, body, &key)
	default:
		c.out = wire.AppendLine(c.out, body)
	}
}

// next returns the next message read, reading as needed under a read
// deadline of d (set exactly, or re-armed coarsely when not exact).
func (c *streamConn) next(d time.Duration, exact bool) ([]byte, error) {
	for {
		if c.r < c.w {
			var n int
			var msg []byte
			var ctl wire.Control
			var ferr *wire.Error
			switch c.framing {
			case framingHeader:
				n, msg, ferr = wire.Header(c.buf[c.r:c.w], maxAnswer)
			case framingWebSocket:
				n, msg, ctl, ferr = c.ws.Next(c.buf[c.r:c.w], maxAnswer)
			default:
				n, msg, ferr = wire.Line(c.buf[c.r:c.w], maxAnswer)
			}
			if ferr != nil {
				return nil, ferr
			}
			if n > 0 {
				c.r += n
				switch ctl {
				case wire.Ping:
					var key [4]byte
					binary.LittleEndian.PutUint32(key[:], uint32(c.mask.Uint64()))
					c.out = wire.AppendFrame(c.out, wire.OpPong, msg, &key)
					continue
				case wire.Close:
					return nil, fmt.Errorf("server closed the WebSocket (%d)", wire.CloseCode(msg))
				}
				if msg != nil {
					return msg, nil
				}
				continue
			}
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
		} else if c.w == len(c.buf) {
			if c.r > 0 {
				c.w = copy(c.buf, c.buf[c.r:c.w])
				c.r = 0
			} else {
				if len(c.buf) >= maxAnswer+16 {
					return nil, errAnswerTooLarge
				}
				nb := make([]byte, min(2*len(c.buf), maxAnswer+16))
				copy(nb, c.buf[:c.w])
				c.buf = nb
			}
		}
		if err := c.flush(); err != nil {
			return nil, err
		}
		// Re-armed coarsely: a deadline costs a timer update per read.
		if now := clock.Nanotime(); exact || c.rdAt-now < int64(d-d/8) {
			_ = c.conn.SetReadDeadline(time.Now().Add(d))
			c.rdAt = now + int64(d)
			if exact {
				c.rdAt = 0 // the next read sets its own
			}
		}
		n, err := c.conn.Read(c.buf[c.w:])
		c.w += n
		if n == 0 && err != nil {
			return nil, err
		}
	}
}

// flush writes the output.
func (c *streamConn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.conn.Write(c.out)
	c.out, c.unflushed = c.out[:0], 0
	return err
}

// runStream is Run over a persistent transport: Concurrency connections,
// each with Pipeline requests in flight, every answer routed to its
// request by id and checked as over HTTP. One goroutine drives each
// connection: it writes the requests that are due together in one write
// and reads the answers that arrived together with one read; nothing is
// allocated per request.
func (l Load) runStream(ctx context.Context) (*Report, error) {
	dial, framing, err := streamDialer(l.URL, l.Header, l.TLS)
	if err != nil {
		return nil, fmt.Errorf("bench: URL: %w", err)
	}
	pipeline := max(l.Pipeline, 1)
	if pipeline >= slotDigits {
		return nil, fmt.Errorf("bench: -pipeline %d: at most %d", pipeline, slotDigits-1)
	}
	for _, t := range l.Requests {
		if t.calls > 1000 {
			return nil, errors.New("bench: a batch of more than 1000 calls cannot be routed on a persistent connection")
		}
		if len(t.idAt) == 0 && t.calls > 0 && pipeline > 1 {
			return nil, errors.New("bench: a raw body's ids cannot tell its answers apart: -pipeline 1 with -body on a persistent connection")
		}
	}
	conns := make([]*streamConn, l.Concurrency)
	for i := range conns {
		dctx, cancel := context.WithTimeout(ctx, l.Timeout)
		nc, err := dial(dctx)
		cancel()
		if err != nil {
			for _, c := range conns[:i] {
				c.conn.Close()
			}
			return nil, fmt.Errorf("bench: connecting: %w", err)
		}
		c := &streamConn{conn: nc, framing: framing, mask: rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())),
			buf: make([]byte, 64<<10), slots: make([]streamSlot, pipeline), checker: newChecker(l.Requests)}
		for s := range c.slots {
			for _, t := range l.Requests {
				c.slots[s].bodies = append(c.slots[s].bodies, append([]byte(nil), t.body...))
			}
			c.free = append(c.free, pipeline-1-s)
		}
		conns[i] = c
	}
	r, runCtx, cancel := l.begin(ctx, len(conns))
	defer cancel()
	var wg sync.WaitGroup
	for i, c := range conns {
		c.rec = r.recorders[i]
		c.rng = rand.New(rand.NewPCG(uint64(i), uint64(r.start.UnixNano())))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.conn.Close()
			c.drive(runCtx, &l)
		}()
	}
	return r.wait(&wg), nil
}

// drive runs one connection: closed loop (each answer frees its slot for
// the next request) or open loop (requests leave when due, whatever is in
// flight, up to the pipeline).
func (c *streamConn) drive(ctx context.Context, l *Load) {
	r := c.rec.r
	stopping := false
	var nextDue time.Time // the open loop's request taken and not yet sent
	sl := newSleeper()
	defer sl.close()
	// send fills free slots with requests that are due; it returns the
	// time the next one is due (zero in the closed loop).
	send := func() time.Time {
		for len(c.free) > 0 && !stopping {
			if ctx.Err() != nil {
				stopping = true
				break
			}
			due := time.Now()
			if l.Rate > 0 {
				if nextDue.IsZero() {
					nextDue = r.sched.next()
				}
				if nextDue.After(due) {
					return nextDue
				}
				if r.measuring.Load() {
					c.rec.lateBy(due.Sub(nextDue))
				}
				due, nextDue = nextDue, time.Time{}
			}
			ok, counted := r.admit()
			if !ok {
				stopping = true
				break
			}
			s := c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			sl := &c.slots[s]
			sl.seq++
			sl.tmpl = r.pick.next(c.rng)
			t := &l.Requests[sl.tmpl]
			body := sl.bodies[sl.tmpl]
			t.patch(body, sl.seq, s) // answers name their slot
			sl.due, sl.counted, sl.busy = due, counted, true
			c.frame(body)
			if t.known && t.calls == 0 { // notifications only: nothing comes back
				if sl.counted {
					c.rec.record(due, time.Now(), "", nil, nil)
				}
				sl.busy = false
				c.free = append(c.free, s)
				continue
			}
			c.busy++
		}
		return time.Time{}
	}
	for {
		due := send()
		if c.unflushed >= flushEvery {
			_ = c.flush() // the server starts on these while the rest are read
		}
		if c.busy == 0 && (stopping || due.IsZero()) {
			_ = c.flush()
			return
		}
		if c.busy == 0 {
			// Only waiting for the next due time: wait for it exactly.
			_ = c.flush()
			sl.until(monoOf(due))
			continue
		}
		wait := l.Timeout
		if !due.IsZero() {
			wait = min(wait, max(time.Until(due), time.Microsecond))
		}
		msg, err := c.next(wait, !due.IsZero())
		if err != nil {
			var ne net.Error
			if !due.IsZero() && errors.As(err, &ne) && ne.Timeout() && !c.overdue(l.Timeout) {
				continue // the next request is due: send it
			}
			kind := "transport"
			if isTimeout(err) {
				kind = "timeout"
			} else if errors.Is(err, errAnswerTooLarge) {
				kind = "answer_too_large"
			}
			now := time.Now()
			for s := range c.slots {
				if sl := &c.slots[s]; sl.busy && sl.counted {
					c.rec.record(sl.due, now, kind, err, nil)
				}
			}
			return
		}
		now := time.Now()
		s, ok := c.route(msg)
		if !ok {
			if r.measuring.Load() {
				c.rec.record(now, now, "unroutable_answer", nil, msg)
			}
			continue
		}
		sl := &c.slots[s]
		t := &l.Requests[sl.tmpl]
		kind := c.checker.items(t, sl.bodies[sl.tmpl]) // route parsed msg into c.checker.answers
		if sl.counted {
			c.rec.record(sl.due, now, kind, nil, msg)
		}
		sl.busy = false
		c.busy--
		c.free = append(c.free, s)
	}
}

// overdue reports whether a request in flight has waited longer than
// timeout.
func (c *streamConn) overdue(timeout time.Duration) bool {
	for s := range c.slots {
		if c.slots[s].busy && time.Since(c.slots[s].due) > timeout {
			return true
		}
	}
	return false
}

// route finds the slot an answer is for, from the slot digits of its
// first id; it leaves the answer parsed in c.checker.answers.
func (c *streamConn) route(msg []byte) (int, bool) {
	answers := c.checker.answers
	if answers.Parse(msg) != nil || len(answers.Items) == 0 {
		return 0, false
	}
	for i := range answers.Items {
		v, ok := patchedValue(answers.Items[i].ID)
		if s := int(v % slotDigits); ok && s < len(c.slots) && c.slots[s].busy {
			return s, true
		}
	}
	if c.busy == 1 { // a raw body's own ids (-pipeline 1): the one in flight
		for s := range c.slots {
			if c.slots[s].busy {
				return s, true
			}
		}
	}
	return 0, false
}
