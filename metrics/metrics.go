// Package metrics records what a jetrpc server does as Prometheus metrics,
// with github.com/prometheus/client_golang: standard cumulative histograms
// with le buckets, # HELP and # TYPE lines, names by Prometheus
// conventions. One Metrics serves as the engine's middleware (calls that
// run), its Observer (requests that never reach a method, batch sizes),
// and the transport's observer (HTTP statuses, bytes, connections):
//
//	m := metrics.New()
//	e := engine.New(engine.WithMiddleware(m.Middleware()), engine.WithObserver(m))
//	srv := fastserver.New(e, fastserver.Config{Observer: m})
//	srv.Handle("/metrics", m.FastHTTPHandler())
//
// The series, per method (a label bounded by the methods registered, plus
// UnknownMethod for requests that named no registered method):
//
//	jetrpc_calls_total{method}                 requests naming the method
//	jetrpc_call_errors_total{method,code}      of which answered with an error, by JSON-RPC code
//	jetrpc_call_duration_seconds{method}       histogram of the calls that ran
//
// and server-wide: jetrpc_calls_in_flight, jetrpc_batch_items (histogram),
// jetrpc_http_requests_total{code} (HTTP status, refusals such as 413,
// 415, 429 and 503 included), jetrpc_http_request_size_bytes and
// jetrpc_http_response_size_bytes (histograms), jetrpc_open_connections,
// and the Go runtime's and the process's own metrics.
//
// Recording a call allocates nothing: the method's series are found once,
// on its first call. Calls are timed by runs: the calls of one method that
// a request runs one after the other (a lone call is a run of one), from
// the end of the previous run (or the request's first call) to where the
// run ends (a call of another method starts, or the request ends), with
// the engine's work between them: two readings of the monotonic clock
// (22 ns each on this project's 2-core machine) for a lone call, one per
// run in a batch (engine.Span). A run that took no longer than the first
// bucket's bound is exact: each of its calls took no longer either, and
// counts there. A longer run of several calls counts each in the bucket of
// the whole run, an upper bound (the sum is exact), and its method's calls
// are then timed one by one, exactly, until 1,024 of them in a row are
// under the first bound. A run costs three atomic additions.
package metrics

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/clock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// UnknownMethod is the method label of requests that named no registered
// method: unknown methods (-32601), invalid requests (-32600), parse
// errors (-32700), batches over their limit. It keeps the label set
// bounded whatever clients send.
const UnknownMethod = "(unknown)"

// DefaultDurationBuckets are the upper bounds, in seconds, of the call
// duration histogram: from 25 µs, where a cheap call over loopback lies,
// to 10 s.
var DefaultDurationBuckets = []float64{
	.000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
}

// sizeBuckets are the upper bounds, in bytes, of the HTTP body size
// histograms: 64 B to 16 MiB.
var sizeBuckets = prometheus.ExponentialBuckets(64, 4, 10)

// maxCodes bounds the distinct error codes counted per method; past it
// they are counted under code="other", so that a handler returning
// arbitrary codes cannot grow the label set without bound.
const maxCodes = 32

// Metrics holds a server's metrics. It is safe for concurrent use.
type Metrics struct {
	registry      *prometheus.Registry
	bounds        []int64   // duration buckets, nanoseconds
	boundsSeconds []float64 // the same, seconds
	errors        *prometheus.CounterVec
	started       atomic.Uint64      // calls started; in flight = started - those the durations counted
	endSpan       func(*engine.Span) // m.endRun at the clock's reading: made once, not per request
	batch         *histogramCollector
	requests      *prometheus.CounterVec
	inBytes       *histogramCollector
	outBytes      *histogramCollector
	conns         prometheus.Gauge

	mu       sync.Mutex
	methods  map[string]*methodMetrics
	statuses [600]atomic.Pointer[prometheus.Counter] // by HTTP status, made on first use
	unknown  *methodMetrics
}

// methodMetrics are the series of one method label.
type methodMetrics struct {
	m        *Metrics
	label    string
	rejected atomic.Uint64                 // requests answered without running (engine.Observer)
	duration *histogram                    // nanoseconds
	solo     atomic.Int32                  // > 0: time calls one by one (see endRun)
	codes    atomic.Pointer[[]codeCounter] // copied on each new code: read without locks
	other    prometheus.Counter            // codes past maxCodes, under m.mu
}

type codeCounter struct {
	code    codec.Code
	counter prometheus.Counter
}

// An Option configures Metrics.
type Option func(*options)

type options struct {
	registry *prometheus.Registry
	buckets  []float64
}

// WithRegistry registers the metrics in r instead of a registry of their
// own (which also holds the Go runtime and process collectors); Handler
// then serves all of r.
func WithRegistry(r *prometheus.Registry) Option { return func(o *options) { o.registry = r } }

// WithDurationBuckets sets the upper bounds, in seconds, of the call
// duration histogram (DefaultDurationBuckets): ascending, positive, at
// nanosecond precision.
func WithDurationBuckets(b []float64) Option { return func(o *options) { o.buckets = b } }

// New returns Metrics registered in a new registry (or the one of
// WithRegistry). It panics if the registry already holds jetrpc's series,
// as prometheus.MustRegister does, or if the duration buckets are not
// ascending.
func New(opts ...Option) *Metrics {
	o := options{buckets: DefaultDurationBuckets}
	for _, opt := range opts {
		opt(&o)
	}
	if o.registry == nil {
		o.registry = prometheus.NewRegistry()
		o.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &Metrics{
		registry:      o.registry,
		boundsSeconds: slices.Clone(o.buckets),
		methods:       map[string]*methodMetrics{},
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetrpc_call_errors_total",
			Help: "JSON-RPC requests answered with an error, by method and JSON-RPC error code (panics count as -32603).",
		}, []string{"method", "code"}),
		batch: newHistogramCollector("jetrpc_batch_items", "Items per JSON-RPC batch request.",
			[]float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}, 1),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetrpc_http_requests_total",
			Help: "HTTP requests to the JSON-RPC path by the status they were answered with, refusals included.",
		}, []string{"code"}),
		inBytes: newHistogramCollector("jetrpc_http_request_size_bytes",
			"Bodies of the HTTP requests to the JSON-RPC path.", sizeBuckets, 1),
		outBytes: newHistogramCollector("jetrpc_http_response_size_bytes",
			"Bodies of the HTTP answers from the JSON-RPC path.", sizeBuckets, 1),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetrpc_open_connections",
			Help: "Client connections open now.",
		}),
	}
	if !slices.IsSorted(m.boundsSeconds) || len(m.boundsSeconds) == 0 || m.boundsSeconds[0] <= 0 {
		panic("metrics: duration buckets must be positive and ascending")
	}
	for _, b := range m.boundsSeconds {
		m.bounds = append(m.bounds, int64(b*float64(time.Second)))
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jetrpc_calls_in_flight",
		Help: "Calls running now.",
	}, m.inFlight)
	o.registry.MustRegister(newCallCollector(m), m.errors, inFlight, m.batch, m.requests, m.inBytes, m.outBytes, m.conns)
	m.unknown = m.newMethod(UnknownMethod)
	m.endSpan = m.endRequest
	return m
}

// newMethod makes the series of one method label.
func (m *Metrics) newMethod(label string) *methodMetrics {
	mm := &methodMetrics{m: m, label: label, duration: newHistogram(m.bounds)}
	mm.codes.Store(&[]codeCounter{})
	return mm
}

// forMethod returns the series of a registered method, making them once.
// The label is valid UTF-8: the codec refuses anything else in a request,
// so only such names can match a method.
func (m *Metrics) forMethod(name []byte) *methodMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.methods[string(name)] // no allocation: the compiler reads the bytes in place
	if mm == nil {
		mm = m.newMethod(string(name))
		m.methods[mm.label] = mm
	}
	return mm
}

// failed counts an answer with code ce under the method.
func (mm *methodMetrics) failed(ce *codec.Error) {
	codes := *mm.codes.Load()
	for i := range codes {
		if codes[i].code == ce.Code {
			codes[i].counter.Inc()
			return
		}
	}
	mm.newCode(ce.Code).Inc()
}

// newCode returns the counter of a code not seen yet under the method
// (the slow path: a label to format, a slice to copy).
func (mm *methodMetrics) newCode(code codec.Code) prometheus.Counter {
	mm.m.mu.Lock()
	defer mm.m.mu.Unlock()
	codes := *mm.codes.Load()
	for _, c := range codes {
		if c.code == code {
			return c.counter
		}
	}
	if len(codes) >= maxCodes {
		if mm.other == nil {
			mm.other = mm.m.errors.WithLabelValues(mm.label, "other")
		}
		return mm.other
	}
	c := codeCounter{code: code, counter: mm.m.errors.WithLabelValues(mm.label, strconv.Itoa(int(code)))}
	grown := append(append(make([]codeCounter, 0, len(codes)+1), codes...), c)
	mm.codes.Store(&grown)
	return c.counter
}

// Middleware returns the engine middleware that counts and times the
// calls that run (see the package doc on runs). Put it first (outermost)
// so that its duration covers the other middleware. A call costs no
// allocation.
func (m *Metrics) Middleware() engine.Middleware {
	return func(next engine.Handler) engine.Handler {
		// The engine composes middleware once per method: this cache is
		// that method's, filled on its first call.
		var cached atomic.Pointer[methodMetrics]
		return func(c *engine.Call) error {
			mm := cached.Load()
			if mm == nil {
				mm = m.forMethod(c.Method())
				cached.Store(mm)
			}
			s := c.Span()
			if s.Calls != 0 && s.Owner != mm {
				m.endRun(s, clock.Nanotime()) // a run of another method ends as this one starts
			}
			if s.Calls == 0 {
				if s.Start == 0 { // the request's first call
					// The runtime's monotonic clock: time.Now+Since costs three times as much.
					s.Start = clock.Nanotime()
				}
				s.Owner, s.End = mm, m.endSpan
				m.started.Add(1) // a request runs one call at a time: its run is one call in flight
			}
			err := next(c)
			s.Calls++
			if mm.solo.Load() > 0 {
				m.endRun(s, clock.Nanotime())
			}
			if err != nil {
				mm.failed(engine.ErrorOf(err))
			}
			return err
		}
	}
}

// soloCalls is how many calls in a row under the first bucket's bound a
// method's calls are timed one by one for, after a run of them was not.
const soloCalls = 1024

// endRun records the pending run of s as ended at now, and starts the next
// one there.
func (m *Metrics) endRun(s *engine.Span, now int64) {
	mm, ok := s.Owner.(*methodMetrics)
	if !ok { // another middleware's Span: not ours to record
		return
	}
	if s.Calls > 1 {
		m.started.Add(uint64(s.Calls - 1)) // before they end: in flight is never negative
	}
	first := mm.duration.observeRun(s.Calls, now-s.Start) // counts the calls as ended too: calls = durations + rejected
	switch {
	case s.Calls > 1 && !first:
		mm.solo.Store(soloCalls) // an upper bound only: time the method's calls one by one
	case mm.solo.Load() > 0:
		if first {
			mm.solo.Add(-1)
		} else {
			mm.solo.Store(soloCalls)
		}
	}
	s.Start, s.Calls = now, 0
}

// endRequest is engine.Span.End: the request's last run ends.
func (m *Metrics) endRequest(s *engine.Span) { m.endRun(s, clock.Nanotime()) }

// inFlight returns the calls running now: those started less those ended,
// which the duration histograms count, so that a run costs one atomic
// addition for the gauge instead of two. Ended calls are read first: a
// call that ends meanwhile started before the second read, so the result
// is never negative.
func (m *Metrics) inFlight() float64 {
	m.mu.Lock()
	ended := m.unknown.duration.total()
	for _, mm := range m.methods {
		ended += mm.duration.total()
	}
	m.mu.Unlock()
	return float64(m.started.Load() - ended)
}

// ObserveRejected implements engine.Observer: a request answered without
// running counts as a call with an error, under its method when it named a
// registered one, under UnknownMethod otherwise.
func (m *Metrics) ObserveRejected(_ context.Context, r engine.Rejection) {
	mm := m.unknown
	if r.Registered {
		mm = m.forMethod(r.Method)
	}
	mm.rejected.Add(1)
	mm.failed(r.Error)
}

// ObserveBatch implements engine.Observer.
func (m *Metrics) ObserveBatch(items int) { m.batch.h.observe(int64(items)) }

// ObserveHTTP counts one HTTP request to the JSON-RPC path by the status it
// was answered with, and the sizes of its body and its answer's. It is
// what fastserver.Observer and nethttp.Observer ask for. It allocates
// nothing once the status has been seen.
func (m *Metrics) ObserveHTTP(status, requestBytes, answerBytes int) {
	m.status(status).Inc()
	m.inBytes.h.observe(int64(requestBytes))
	m.outBytes.h.observe(int64(answerBytes))
}

// status returns the counter of an HTTP status, making it on first use.
func (m *Metrics) status(status int) prometheus.Counter {
	if status < 100 || status >= len(m.statuses) {
		status = 0 // not HTTP: counted as code="0"
	}
	if c := m.statuses[status].Load(); c != nil {
		return *c
	}
	c := m.requests.WithLabelValues(strconv.Itoa(status))
	m.statuses[status].CompareAndSwap(nil, &c) // a racing first use stores the same series
	return c
}

// ObserveConns adds delta to the open connections: +1 when one is
// accepted, -1 when it closes (fastserver.Observer).
func (m *Metrics) ObserveConns(delta int) { m.conns.Add(float64(delta)) }

// ConnState counts the connections of a net/http server: set it as the
// http.Server's ConnState.
func (m *Metrics) ConnState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		m.conns.Inc()
	case http.StateClosed, http.StateHijacked:
		m.conns.Dec()
	}
}

// Registry returns the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics, or gzipped, as the scraper asks), for GET /metrics on a
// net/http mux.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// FastHTTPHandler is Handler for fastserver (fastserver.Server.Handle):
// a scrape costs what net/http's handler costs, plus the adaptation.
func (m *Metrics) FastHTTPHandler() fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(m.Handler())
}
