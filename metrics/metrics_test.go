package metrics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/metrics"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func newEngine(t testing.TB, m *metrics.Metrics) *engine.Engine {
	t.Helper()
	e := engine.New(engine.WithMiddleware(m.Middleware()), engine.WithObserver(m),
		engine.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	if err := e.RegisterRaw("panics", func(*engine.Call) error { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	return e
}

// scrape serves GET /metrics and parses the answer with Prometheus' own
// text-format parser.
func scrape(t *testing.T, m *metrics.Metrics) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	text := rec.Body.String()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus' parser refuses the output: %v\n%s", err, text)
	}
	return families, text
}

// find returns the series of family name with the given labels.
func find(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f := families[name]
	if f == nil {
		t.Fatalf("no family %s", name)
	}
outer:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue outer
			}
		}
		return m
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

func TestPrometheusOutput(t *testing.T) {
	m := metrics.New()
	e := newEngine(t, m)
	const n = 7
	for range n {
		e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`))
	}
	for _, req := range []string{
		`{"jsonrpc":"2.0","method":"fail","id":1}`,
		`{"jsonrpc":"2.0","method":"panics","id":1}`,
		`{"jsonrpc":"2.0","method":"nope","id":1}`,
		`{"jsonrpc":"2.0","method":"nope2"}`,
		`{"jsonrpc":"2.0","method":`,
		`[{"jsonrpc":"2.0","method":"ping","id":1},{"jsonrpc":"2.0","method":"add","params":{"a":1},"id":2},1]`,
	} {
		e.Append(context.Background(), nil, []byte(req))
	}
	m.ObserveHTTP(200, 50, 40)
	m.ObserveHTTP(413, 6<<20, 30)
	m.ObserveHTTP(415, 10, 30)
	m.ObserveConns(1)
	m.ObserveConns(1)
	m.ObserveConns(-1)
	families, text := scrape(t, m)

	for _, name := range []string{"jetrpc_calls_total", "jetrpc_call_errors_total", "jetrpc_call_duration_seconds", "jetrpc_http_requests_total"} {
		if !strings.Contains(text, "# HELP "+name+" ") || !strings.Contains(text, "# TYPE "+name+" ") {
			t.Errorf("%s: no HELP or TYPE line", name)
		}
	}
	if got := families["jetrpc_call_duration_seconds"].GetType(); got != dto.MetricType_HISTOGRAM {
		t.Errorf("duration is a %v", got)
	}
	h := find(t, families, "jetrpc_call_duration_seconds", map[string]string{"method": "add"}).GetHistogram()
	if h.GetSampleCount() != n+1 { // n calls and the batch's
		t.Errorf("add: _count %d, want %d", h.GetSampleCount(), n+1)
	}
	checkBuckets(t, h)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"jetrpc_calls_total", map[string]string{"method": "add"}, n + 1},
		{"jetrpc_calls_total", map[string]string{"method": "panics"}, 1},
		{"jetrpc_call_errors_total", map[string]string{"method": "panics", "code": "-32603"}, 1},
		{"jetrpc_call_errors_total", map[string]string{"method": "fail", "code": "1000"}, 1},
		{"jetrpc_call_errors_total", map[string]string{"method": "add", "code": "-32602"}, 1},
		{"jetrpc_calls_total", map[string]string{"method": metrics.UnknownMethod}, 4},
		{"jetrpc_call_errors_total", map[string]string{"method": metrics.UnknownMethod, "code": "-32601"}, 2},
		{"jetrpc_call_errors_total", map[string]string{"method": metrics.UnknownMethod, "code": "-32700"}, 1},
		{"jetrpc_call_errors_total", map[string]string{"method": metrics.UnknownMethod, "code": "-32600"}, 1},
		{"jetrpc_http_requests_total", map[string]string{"code": "413"}, 1},
		{"jetrpc_http_requests_total", map[string]string{"code": "415"}, 1},
		{"jetrpc_open_connections", nil, 1},
		{"jetrpc_calls_in_flight", nil, 0},
	} {
		s := find(t, families, tc.name, tc.labels)
		got := s.GetCounter().GetValue() + s.GetGauge().GetValue()
		if got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	batch := find(t, families, "jetrpc_batch_items", nil).GetHistogram()
	if batch.GetSampleCount() != 1 || batch.GetSampleSum() != 3 {
		t.Errorf("batch: count %d sum %v", batch.GetSampleCount(), batch.GetSampleSum())
	}
	for _, tc := range []struct {
		name string
		sum  float64
		le64 uint64 // observations of 64 bytes or fewer
	}{
		{"jetrpc_http_request_size_bytes", 50 + 6<<20 + 10, 2},
		{"jetrpc_http_response_size_bytes", 40 + 30 + 30, 3},
	} {
		if got := families[tc.name].GetType(); got != dto.MetricType_HISTOGRAM {
			t.Errorf("%s is a %v", tc.name, got)
		}
		h := find(t, families, tc.name, nil).GetHistogram()
		checkBuckets(t, h)
		if h.GetSampleCount() != 3 || h.GetSampleSum() != tc.sum || h.GetBucket()[0].GetUpperBound() != 64 || h.GetBucket()[0].GetCumulativeCount() != tc.le64 {
			t.Errorf("%s: count %d sum %v, first bucket %v", tc.name, h.GetSampleCount(), h.GetSampleSum(), h.GetBucket()[0])
		}
	}
	if strings.Contains(text, "nope") {
		t.Error("an unknown method's name became a label")
	}
}

// checkBuckets checks that a histogram's buckets are cumulative: sorted
// upper bounds, counts that never decrease, none above _count.
func checkBuckets(t *testing.T, h *dto.Histogram) {
	t.Helper()
	b := h.GetBucket()
	if len(b) == 0 {
		t.Fatal("no buckets")
	}
	if !sort.SliceIsSorted(b, func(i, j int) bool { return b[i].GetUpperBound() < b[j].GetUpperBound() }) {
		t.Error("le bounds not sorted")
	}
	for i := 1; i < len(b); i++ {
		if b[i].GetCumulativeCount() < b[i-1].GetCumulativeCount() {
			t.Errorf("bucket le=%v: %d after %d", b[i].GetUpperBound(), b[i].GetCumulativeCount(), b[i-1].GetCumulativeCount())
		}
	}
	if last := b[len(b)-1]; last.GetCumulativeCount() > h.GetSampleCount() && !math.IsInf(last.GetUpperBound(), 1) {
		t.Errorf("last bucket %d above _count %d", last.GetCumulativeCount(), h.GetSampleCount())
	}
}

// The number of error-code series per method is bounded.
func TestErrorCodesBounded(t *testing.T) {
	m := metrics.New()
	e := engine.New(engine.WithMiddleware(m.Middleware()))
	code := 0
	e.RegisterRaw("codes", func(*engine.Call) error { code++; return &codec.Error{Code: codec.Code(-40000 - code), Message: "x"} })
	for range 100 {
		e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"codes","id":1}`))
	}
	families, _ := scrape(t, m)
	if n := len(families["jetrpc_call_errors_total"].Metric); n > 33 {
		t.Errorf("%d error series for one method", n)
	}
	if v := find(t, families, "jetrpc_call_errors_total", map[string]string{"method": "codes", "code": "other"}).GetCounter().GetValue(); v != 100-32 {
		t.Errorf("other: %v", v)
	}
}

// The in-flight gauge counts the calls running now, items of a batch run
// concurrently included, and returns to 0 once they end.
func TestCallsInFlight(t *testing.T) {
	m := metrics.New()
	e := engine.New(engine.WithMiddleware(m.Middleware()), engine.WithBatchConcurrency(4))
	started, release := make(chan struct{}, 3), make(chan struct{})
	e.RegisterRaw("block", func(*engine.Call) error { started <- struct{}{}; <-release; return nil })
	e.RegisterRaw("quick", func(*engine.Call) error { return nil })
	inFlight := func() float64 {
		families, _ := scrape(t, m)
		return find(t, families, "jetrpc_calls_in_flight", nil).GetGauge().GetValue()
	}
	e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"quick","id":1}`))
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Append(context.Background(), nil, []byte(`[{"jsonrpc":"2.0","method":"block","id":1},{"jsonrpc":"2.0","method":"block","id":2},{"jsonrpc":"2.0","method":"quick","id":3}]`))
	}()
	go e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"block","id":4}`))
	for range 3 {
		<-started
	}
	if got := inFlight(); got != 3 {
		t.Errorf("3 calls blocked: %v in flight", got)
	}
	close(release)
	<-done
	for deadline := time.Now().Add(5 * time.Second); inFlight() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v in flight after every call ended", inFlight())
		}
	}
}

// Calls are timed by runs: a run of one method's calls under the first
// bucket's bound counts each call there; a longer run of several calls
// counts each in the bucket of the whole run (an upper bound), and the
// method's calls are then timed one by one until enough of them in a row
// are under the first bound.
func TestDurationsByRun(t *testing.T) {
	m := metrics.New(metrics.WithDurationBuckets([]float64{0.05, 10}))
	e := engine.New(engine.WithMiddleware(m.Middleware()), engine.WithObserver(m))
	nap := func(_ context.Context, p struct{ Ms int }) (int, error) {
		time.Sleep(time.Duration(p.Ms) * time.Millisecond)
		return p.Ms, nil
	}
	if err := engine.Register(e, "nap", nap); err != nil {
		t.Fatal(err)
	}
	if err := engine.Register(e, "other", nap); err != nil {
		t.Fatal(err)
	}
	batch := func(ms ...int) {
		var b strings.Builder
		for i, ms := range ms {
			fmt.Fprintf(&b, `,{"jsonrpc":"2.0","method":"nap","params":[%d],"id":%d}`, ms, i)
		}
		e.Append(context.Background(), nil, []byte("["+b.String()[1:]+"]"))
	}
	zeros := func(n int) []int { return make([]int, n) }
	type want struct{ fast, count uint64 } // calls under the first bound, calls
	check := func(step string, w want, slowSum float64) {
		t.Helper()
		families, _ := scrape(t, m)
		h := find(t, families, "jetrpc_call_duration_seconds", map[string]string{"method": "nap"}).GetHistogram()
		checkBuckets(t, h)
		got := want{h.GetBucket()[0].GetCumulativeCount(), h.GetSampleCount()}
		if got != w || h.GetBucket()[1].GetCumulativeCount() != w.count {
			t.Errorf("%s: nap: %d calls of which %d under 50 ms (le=10: %d), want %d of which %d",
				step, got.count, got.fast, h.GetBucket()[1].GetCumulativeCount(), w.count, w.fast)
		}
		if sum := h.GetSampleSum(); sum < slowSum || sum > slowSum+1 {
			t.Errorf("%s: nap: sum %vs, want %vs and a little", step, sum, slowSum)
		}
		if calls := find(t, families, "jetrpc_calls_total", map[string]string{"method": "nap"}).GetCounter().GetValue(); calls != float64(w.count) {
			t.Errorf("%s: jetrpc_calls_total %v, want %d", step, calls, w.count)
		}
		if v := find(t, families, "jetrpc_calls_in_flight", nil).GetGauge().GetValue(); v != 0 {
			t.Errorf("%s: %v calls in flight after every call ended", step, v)
		}
	}

	batch(0, 0, 0, 0, 0)
	e.Append(context.Background(), nil, []byte(`[{"jsonrpc":"2.0","method":"nap","params":[0],"id":1},`+
		`{"jsonrpc":"2.0","method":"other","params":[0],"id":2},{"jsonrpc":"2.0","method":"nap","params":[0],"id":3}]`))
	check("fast runs", want{7, 7}, 0)
	e.Append(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"nap","params":[80],"id":1}`))
	check("a lone slow call", want{7, 8}, 0.08)
	batch(80, 0, 0)
	check("a slow run: an upper bound", want{7, 11}, 0.16)
	batch(80, 0, 0)
	check("then one by one", want{9, 14}, 0.24)
	batch(zeros(1000)...)
	batch(zeros(1000)...)
	check("fast one by one", want{2009, 2014}, 0.24)
	batch(80, 0, 0)
	check("runs again", want{2009, 2017}, 0.32)
}
