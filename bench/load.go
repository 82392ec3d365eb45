package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/jetrpc/jetrpc/codec"
)

// Load describes a load run against a JSON-RPC endpoint. Run sends its
// requests over Concurrency HTTP/1.1 keep-alive connections, one
// goroutine each, every request pre-encoded and written with one write,
// its ids patched in place; it allocates nothing per request. Over a
// persistent transport (ws://, wss://, tcp://HOST:PORT[?framing=header],
// unix:///PATH) each connection carries Pipeline requests in flight, their
// answers routed back by id.
type Load struct {
	// URL is the endpoint: http://host[:port]/path or https://….
	URL string
	// Requests are the request templates, chosen by Weights (all equal when
	// nil). A template made with Call has an id slot that is patched in
	// place for every request; a raw one (a body sent as is) is checked
	// only for well-formed answers.
	Requests []Template
	Weights  []int
	// Concurrency is the number of connections (closed loop: each sends
	// its next request when the last is answered); 64 when 0.
	Concurrency int
	// Rate, when > 0, makes an open loop: requests are due at Rate per
	// second, and latency counts from when each was due, so a slow server
	// cannot hide its queue (no coordinated omission).
	Rate float64
	// Duration or N ends the run: whichever comes first; 10 s when both 0.
	Duration time.Duration
	N        int64
	// Warmup runs before measuring; its requests are not counted.
	Warmup time.Duration
	// Timeout bounds one request; 10 s when 0.
	Timeout time.Duration
	// Progress, when set, gets a line a second: elapsed, requests/s, p50,
	// p99 and errors so far.
	Progress io.Writer
	// Header adds these headers to every request (Authorization, say).
	Header map[string]string
	// TLS configures https URLs; nil verifies the server against the
	// system's roots. Its ServerName defaults to the URL's host.
	TLS *tls.Config
	// Dial replaces how connections are made (tests use it); TLS, for an
	// https URL, is layered on what it returns.
	Dial func(addr string) (net.Conn, error)
	// Pipeline is the number of requests in flight on each connection of
	// a persistent transport (ws://, wss://, tcp://, unix://); 1 when 0.
	// Over HTTP it must be 0 or 1.
	Pipeline int

	// sendDelay is a delay planted in the send path by tests, to show
	// that the open-loop timing test can fail.
	sendDelay time.Duration
}

// Template is one request body to send.
type Template struct {
	body  []byte
	idAt  []int    // offsets of the id digits to patch (Call)
	ids   [][]byte // the ids written in a raw body, answered byte for byte (Raw)
	calls int      // answers owed per request
	known bool     // whether calls and the ids are known (false: a body that is not valid JSON-RPC)
	// distinct: the ids are all different, so each must be answered once.
	distinct bool
}

// idWidth is the number of digits of a patched id: a string id "…" of
// fixed width, so that the body never changes length.
const idWidth = 12

// Call returns the template of a call of method with params (raw JSON,
// or nil), repeated batch times in one batch when batch > 1.
func Call(method string, params []byte, batch int) Template {
	one := func(b []byte) ([]byte, int) {
		b = append(b, `{"jsonrpc":"2.0","method":`...)
		b = codec.AppendString(b, method)
		if params != nil {
			b = append(append(b, `,"params":`...), params...)
		}
		b = append(b, `,"id":"`...)
		at := len(b)
		for range idWidth {
			b = append(b, '0')
		}
		return append(b, `"}`...), at
	}
	var t Template
	if batch <= 1 {
		var at int
		t.body, at = one(nil)
		t.idAt, t.calls, t.known, t.distinct = []int{at}, 1, true, true
		return t
	}
	t.body = append(t.body, '[')
	for i := range batch {
		if i > 0 {
			t.body = append(t.body, ',')
		}
		var at int
		t.body, at = one(t.body)
		t.idAt = append(t.idAt, at)
	}
	t.body = append(t.body, ']')
	t.calls, t.known, t.distinct = batch, true, true
	return t
}

// Raw returns the template of a body sent as is. When body is a valid
// request or batch, every answer is checked like Call's: one per call
// that is not a notification, each with one of the body's ids. Otherwise
// (a body meant to be refused) answers are only checked to be well formed,
// and error answers count as errors.
func Raw(body []byte) Template {
	t := Template{body: body}
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	if b.Parse(body) != nil {
		return t
	}
	for i := range b.Requests {
		r := &b.Requests[i]
		if r.Invalid != "" {
			return Template{body: body}
		}
		if !r.IsNotification() {
			t.ids = append(t.ids, append([]byte(nil), r.ID...))
			t.calls++
		}
	}
	t.known, t.distinct = true, true
	for i, id := range t.ids {
		for _, other := range t.ids[:i] {
			t.distinct = t.distinct && string(id) != string(other)
		}
	}
	return t
}

// Run runs the load and reports on it. It returns an error only when the
// run could not start (bad URL, no requests); failed calls are counted in
// the report.
func (l Load) Run(ctx context.Context) (*Report, error) {
	if len(l.Requests) == 0 {
		return nil, errNoRequests
	}
	l.setDefaults()
	if isPersistent(l.URL) {
		return l.runStream(ctx)
	}
	if l.Pipeline > 1 {
		return nil, errors.New("bench: -pipeline needs a persistent transport (ws://, tcp://, unix://); HTTP/1.1 carries one request at a time")
	}
	ep, err := parseEndpoint(l.URL)
	if err != nil {
		return nil, fmt.Errorf("bench: URL: %w", err)
	}
	if err := ep.addHeaders(l.Header); err != nil {
		return nil, err
	}
	dial := dialer(ep, l.Dial, l.TLS)
	r, runCtx, cancel := l.begin(ctx, l.Concurrency)
	defer cancel()
	var wg sync.WaitGroup
	for i, rec := range r.recorders {
		w := newHTTPWorker(&l, ep, dial, rec, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.conn.close()
			w.loop(runCtx)
		}()
	}
	return r.wait(&wg), nil
}

// setDefaults fills in the zero fields that have defaults.
func (l *Load) setDefaults() {
	if l.Concurrency <= 0 {
		l.Concurrency = 64
	}
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.Duration <= 0 && l.N <= 0 {
		l.Duration = 10 * time.Second
	}
}

// httpWorker is one HTTP/1.1 connection's loop: it takes a request from
// the schedule, patches its ids, sends it, checks the answer and records
// the outcome.
type httpWorker struct {
	l        *Load
	rec      *recorder
	conn     httpConn
	requests [][]byte // per template, the whole HTTP request, whose ids it patches
	bodyAt   []int    // where each request's body starts
	rng      *rand.Rand
	checker  checker
	index    uint64 // among the workers: part of every id it sends
}

func newHTTPWorker(l *Load, ep *endpoint, dial func() (net.Conn, error), rec *recorder, i int) *httpWorker {
	w := &httpWorker{l: l, rec: rec, conn: httpConn{dial: dial}, checker: newChecker(l.Requests),
		rng: rand.New(rand.NewPCG(uint64(i), uint64(rec.r.start.UnixNano()))), index: uint64(i)}
	for _, t := range l.Requests {
		req, at := ep.request(t.body)
		w.requests = append(w.requests, req)
		w.bodyAt = append(w.bodyAt, at)
	}
	return w
}

func (w *httpWorker) loop(ctx context.Context) {
	r := w.rec.r
	var k uint64
	for ctx.Err() == nil {
		due := time.Now()
		if r.dues != nil { // open loop: the request falls due
			select {
			case due = <-r.dues:
			case <-ctx.Done():
				return
			}
			w.sendHook()
			if r.measuring.Load() {
				w.rec.lateBy(time.Since(due))
			}
		}
		ok, counted := r.admit()
		if !ok {
			return
		}
		ti := r.pick.next(w.rng)
		t := &w.l.Requests[ti]
		req := w.requests[ti]
		body := req[w.bodyAt[ti]:]
		k++
		t.patch(body, k*uint64(w.l.Concurrency)+w.index, 0)
		status, answer, err := w.conn.roundTrip(req, w.l.Timeout)
		now := time.Now()
		kind := w.checker.check(t, body, status, answer, err)
		if counted {
			w.rec.record(due, now, kind, err, answer)
		}
	}
}

// sendHook is where tests plant a delay in the send path.
func (w *httpWorker) sendHook() {
	if w.l.sendDelay > 0 {
		time.Sleep(w.l.sendDelay)
	}
}

// picker chooses templates by weight.
type picker struct{ cumulative []int }

func newPicker(weights []int, n int) picker {
	p := picker{}
	total := 0
	for i := range n {
		w := 1
		if i < len(weights) && weights[i] > 0 {
			w = weights[i]
		}
		total += w
		p.cumulative = append(p.cumulative, total)
	}
	return p
}

func (p picker) next(rng *rand.Rand) int {
	if len(p.cumulative) == 1 {
		return 0
	}
	r := rng.IntN(p.cumulative[len(p.cumulative)-1])
	for i, c := range p.cumulative {
		if r < c {
			return i
		}
	}
	return len(p.cumulative) - 1
}
