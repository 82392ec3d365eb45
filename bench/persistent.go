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
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jetrpc/jetrpc/codec"
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
	pick := newPicker(l.Weights, len(l.Requests))
	workers := make([]*worker, l.Concurrency)
	conns := make([]*streamConn, l.Concurrency)
	for i := range workers {
		workers[i] = &worker{hist: newHistogram(), kinds: map[string]int64{}}
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
			buf: make([]byte, 64<<10), slots: make([]streamSlot, pipeline)}
		for s := range c.slots {
			for _, t := range l.Requests {
				c.slots[s].bodies = append(c.slots[s].bodies, append([]byte(nil), t.body...))
			}
			c.free = append(c.free, pipeline-1-s)
		}
		conns[i] = c
	}
	var measuring atomic.Bool
	var sent atomic.Int64
	var seq atomic.Uint64 // the open loop's schedule
	start := time.Now()
	measureStart := start.Add(l.Warmup)
	var deadline time.Time
	if l.Duration > 0 {
		deadline = measureStart.Add(l.Duration)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !deadline.IsZero() {
		runCtx, cancel = context.WithDeadline(runCtx, deadline)
		defer cancel()
	}
	if l.Warmup <= 0 {
		measuring.Store(true)
	} else {
		time.AfterFunc(l.Warmup, func() { measuring.Store(true) })
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.conn.Close()
			l.driveStream(runCtx, c, workers[i], pick, rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano()))), &measuring, &sent, &seq, start)
		}()
	}
	stopProgress, progressDone := make(chan struct{}), make(chan struct{})
	if l.Progress != nil {
		go func() { progress(l.Progress, workers, measureStart, stopProgress); close(progressDone) }()
	} else {
		close(progressDone)
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone
	elapsed := time.Since(measureStart)
	if !deadline.IsZero() && time.Now().After(deadline) {
		elapsed = l.Duration
	}
	return report(workers, elapsed), nil
}

// driveStream runs one connection: closed loop (each answer frees its
// slot for the next request) or open loop (requests leave when due,
// whatever is in flight, up to the pipeline).
func (l Load) driveStream(ctx context.Context, c *streamConn, w *worker, pick picker, rng *rand.Rand,
	measuring *atomic.Bool, sent *atomic.Int64, seq *atomic.Uint64, start time.Time) {
	answers := codec.AcquireResponses()
	defer codec.ReleaseResponses(answers)
	stopping := false
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
				k := seq.Load()
				due = start.Add(time.Duration(float64(k) / l.Rate * float64(time.Second)))
				if due.After(time.Now()) {
					return due
				}
				if !seq.CompareAndSwap(k, k+1) {
					continue // another connection took request k
				}
			}
			counted := measuring.Load()
			if counted && l.N > 0 && sent.Add(1) > l.N {
				stopping = true
				break
			}
			s := c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			sl := &c.slots[s]
			sl.seq++
			sl.tmpl = pick.next(rng)
			t := &l.Requests[sl.tmpl]
			body := sl.bodies[sl.tmpl]
			wrap := uint64(1e12 / slotDigits / max(len(t.idAt), 1))
			for j, at := range t.idAt {
				patchID(body[at:at+idWidth], ((sl.seq%wrap)*uint64(len(t.idAt))+uint64(j))*slotDigits+uint64(s))
			}
			sl.due, sl.counted, sl.busy = due, counted, true
			c.frame(body)
			if t.known && t.calls == 0 { // notifications only: nothing comes back
				l.record(w, sl, "")
				sl.busy = false
				c.free = append(c.free, s)
				continue
			}
			c.busy++
		}
		return time.Time{}
	}
	for {
		nextDue := send()
		if c.unflushed >= flushEvery {
			_ = c.flush() // the server starts on these while the rest are read
		}
		if c.busy == 0 && (stopping || nextDue.IsZero()) {
			_ = c.flush()
			return
		}
		wait := l.Timeout
		if !nextDue.IsZero() {
			wait = min(wait, max(time.Until(nextDue), time.Microsecond))
		}
		if c.busy == 0 {
			// Only waiting for the next due time: sleep, no read.
			_ = c.flush()
			time.Sleep(time.Until(nextDue))
			continue
		}
		msg, err := c.next(wait, !nextDue.IsZero())
		if err != nil {
			var ne net.Error
			if !nextDue.IsZero() && errors.As(err, &ne) && ne.Timeout() && !c.overdue(l.Timeout) {
				continue // the next request is due: send it
			}
			kind := "transport"
			if isTimeout(err) {
				kind = "timeout"
			} else if errors.Is(err, errAnswerTooLarge) {
				kind = "answer_too_large"
			}
			for s := range c.slots {
				if c.slots[s].busy {
					l.record(w, &c.slots[s], kind)
				}
			}
			return
		}
		s, ok := c.route(msg, answers)
		if !ok {
			if measuring.Load() {
				w.mu.Lock()
				w.kinds["unroutable_answer"]++
				w.mu.Unlock()
				w.failed.Add(1)
			}
			continue
		}
		sl := &c.slots[s]
		t := &l.Requests[sl.tmpl]
		kind := checkItems(t, sl.bodies[sl.tmpl], answers) // route parsed msg into answers
		l.record(w, sl, kind)
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
// first id.
func (c *streamConn) route(msg []byte, answers *codec.Responses) (int, bool) {
	if answers.Parse(msg) != nil || len(answers.Items) == 0 {
		return 0, false
	}
	for i := range answers.Items {
		id := answers.Items[i].ID
		if len(id) != idWidth+2 || id[0] != '"' {
			continue
		}
		var n uint64
		digits := true
		for _, ch := range id[1 : idWidth+1] {
			if ch < '0' || ch > '9' {
				digits = false
				break
			}
			n = n*10 + uint64(ch-'0')
		}
		if s := int(n % slotDigits); digits && s < len(c.slots) && c.slots[s].busy {
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

// record counts one request's outcome if it was sent after the warm-up.
func (l Load) record(w *worker, sl *streamSlot, kind string) {
	if !sl.counted {
		return
	}
	latency := time.Since(sl.due)
	w.sent.Add(1)
	w.mu.Lock()
	_ = w.hist.RecordValue(max(latency.Microseconds(), 1))
	if kind != "" {
		w.kinds[kind]++
	}
	w.mu.Unlock()
	if kind != "" {
		w.failed.Add(1)
	}
}
