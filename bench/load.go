package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
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

// Report is the outcome of a run.
type Report struct {
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	DurationS    float64          `json:"duration_s"`
	RPS          float64          `json:"rps"`
	LatencyUS    Latency          `json:"latency_us"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
}

// Latency holds latency percentiles in microseconds.
type Latency struct {
	P50  int64 `json:"p50"`
	P90  int64 `json:"p90"`
	P99  int64 `json:"p99"`
	P999 int64 `json:"p999"`
	Max  int64 `json:"max"`
}

// worker is one connection's loop and its own counters.
type worker struct {
	mu       sync.Mutex // guards hist and kinds against the progress reader
	hist     *hdrhistogram.Histogram
	kinds    map[string]int64
	sent     atomic.Int64 // requests measured
	failed   atomic.Int64 // of which failed
	conn     httpConn
	requests [][]byte // per template, the whole HTTP request, whose ids it patches
	bodyAt   []int    // where each request's body starts
}

func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// Run runs the load and reports on it. It returns an error only when the
// run could not start (bad URL, no requests); failed calls are counted in
// the report.
func (l Load) Run(ctx context.Context) (*Report, error) {
	if len(l.Requests) == 0 {
		return nil, errors.New("bench: no requests to send")
	}
	if isPersistent(l.URL) {
		l.setDefaults()
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
	l.setDefaults()
	dial := dialer(ep, l.Dial, l.TLS)
	pick := newPicker(l.Weights, len(l.Requests))
	workers := make([]*worker, l.Concurrency)
	for i := range workers {
		w := &worker{hist: newHistogram(), kinds: map[string]int64{}, conn: httpConn{dial: dial}}
		for _, t := range l.Requests {
			req, at := ep.request(t.body)
			w.requests = append(w.requests, req)
			w.bodyAt = append(w.bodyAt, at)
		}
		workers[i] = w
	}

	var measuring atomic.Bool
	var sent atomic.Int64 // requests started after warm-up (for N)
	var seq atomic.Uint64 // request sequence, for ids and the open-loop schedule
	start := time.Now()
	measureStart := start.Add(l.Warmup)
	deadline := time.Time{}
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
	for wi, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(wi), uint64(start.UnixNano())))
			defer w.conn.close()
			answers := codec.AcquireResponses()
			defer codec.ReleaseResponses(answers)
			wait := time.NewTimer(time.Hour) // reused by the open loop: time.After would allocate per request
			wait.Stop()
			for runCtx.Err() == nil {
				k := seq.Add(1)
				due := time.Now()
				if l.Rate > 0 { // open loop: request k is due at start + k/rate
					due = start.Add(time.Duration(float64(k-1) / l.Rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						wait.Reset(d)
						select {
						case <-wait.C:
						case <-runCtx.Done():
							return
						}
					}
				}
				counted := measuring.Load()
				if counted && l.N > 0 && sent.Add(1) > l.N {
					return
				}
				ti := pick.next(rng)
				t := &l.Requests[ti]
				req := w.requests[ti]
				body := req[w.bodyAt[ti]:]
				for j, at := range t.idAt {
					patchID(body[at:at+idWidth], k*uint64(len(t.idAt))+uint64(j))
				}
				status, answer, err := w.conn.roundTrip(req, l.Timeout)
				latency := time.Since(due)
				kind := check(t, body, status, answer, err, answers)
				if !counted {
					continue
				}
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
	<-progressDone // its last line is written before Run returns and the caller writes the report
	elapsed := time.Since(measureStart)
	if !deadline.IsZero() && time.Now().After(deadline) {
		elapsed = l.Duration
	}
	return report(workers, elapsed), nil
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

// check classifies the answer to one request: "" when right, else the
// kind of failure.
func check(t *Template, body []byte, status int, answer []byte, err error, answers *codec.Responses) string {
	switch {
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, errAnswerTooLarge):
		return "answer_too_large"
	case err != nil:
		return "transport"
	case status == 204:
		if t.known && t.calls > 0 {
			return "no_answer"
		}
		return ""
	case status != 200:
		return "http_" + strconv.Itoa(status)
	}
	if t.known && t.calls == 0 && len(answer) == 0 {
		return "" // notifications only: an empty 200 is an answer too
	}
	if answers.Parse(answer) != nil {
		return "invalid_json"
	}
	return checkItems(t, body, answers)
}

// checkItems is check for an answer already parsed into answers.
func checkItems(t *Template, body []byte, answers *codec.Responses) string {
	if t.known && len(answers.Items) != t.calls {
		return "wrong_count"
	}
	var seen uint64 // the ids answered so far, for the first 64 calls
	for i := range answers.Items {
		a := &answers.Items[i]
		if a.Invalid != "" {
			return "invalid_answer"
		}
		if t.known {
			k := t.idIndex(a.ID, body)
			if k < 0 {
				return "wrong_id"
			}
			if t.distinct && k < 64 {
				if seen&(1<<k) != 0 {
					return "duplicate_id"
				}
				seen |= 1 << k
			}
		}
		if a.Error != nil {
			return "rpc_error" + errorCode(a.Error)
		}
	}
	return ""
}

// idIndex returns which of the request's calls id answers (body is t's
// body with the ids patched in), or -1 when it answers none of them.
func (t *Template) idIndex(id, body []byte) int {
	for k, want := range t.ids {
		if string(id) == string(want) {
			return k
		}
	}
	if len(id) != idWidth+2 {
		return -1
	}
	for k, at := range t.idAt {
		if string(id[1:idWidth+1]) == string(body[at:at+idWidth]) {
			return k
		}
	}
	return -1
}

// errorCode returns "_CODE" for a raw error object, without allocating
// on the way to the code.
func errorCode(raw []byte) string {
	for it := codec.Iterate(raw); it.Next(); {
		if string(it.Key()) == "code" {
			return "_" + string(it.Value())
		}
	}
	return ""
}

// patchID writes n as idWidth decimal digits into b.
func patchID(b []byte, n uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
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

// snapshot merges the workers' histograms and counters.
func snapshot(workers []*worker) (*hdrhistogram.Histogram, int64, int64, map[string]int64) {
	h := newHistogram()
	kinds := map[string]int64{}
	var requests, errs int64
	for _, w := range workers {
		w.mu.Lock()
		h.Merge(w.hist)
		for k, v := range w.kinds {
			kinds[k] += v
		}
		w.mu.Unlock()
		requests += w.sent.Load()
		errs += w.failed.Load()
	}
	return h, requests, errs, kinds
}

func report(workers []*worker, elapsed time.Duration) *Report {
	h, requests, errs, kinds := snapshot(workers)
	return &Report{
		Requests: requests, Errors: errs, DurationS: elapsed.Seconds(),
		RPS: float64(requests) / elapsed.Seconds(),
		LatencyUS: Latency{P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
			P999: h.ValueAtQuantile(99.9), Max: h.Max()},
		ErrorsByKind: kinds,
	}
}

// progress writes a line a second until stop is closed.
func progress(out io.Writer, workers []*worker, start time.Time, stop chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			h, requests, errs, _ := snapshot(workers)
			fmt.Fprintf(out, "%5.0fs  %8d req/s  p50 %6.2fms  p99 %7.2fms  errors %d\n",
				now.Sub(start).Seconds(), requests-last, float64(h.ValueAtQuantile(50))/1000, float64(h.ValueAtQuantile(99))/1000, errs)
			last = requests
		}
	}
}
