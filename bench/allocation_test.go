//go:build !race

package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/valyala/fasthttp"
)

// TestLoadAllocations: the load path allocates nothing per request. A run
// has a fixed set-up cost (workers, histograms, connections), so the test
// compares a run of 100 requests with one of 5,100: every allocation in
// the process counts, the in-process server's (which allocates nothing)
// included, over real loopback TCP.
func TestLoadAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	addr := testserver.Loopback(t, testserver.Demo(t))
	for name, tmpl := range map[string]bench.Template{
		"call":  bench.Call("add", []byte(`{"a":1,"b":2}`), 1),
		"batch": bench.Call("add", []byte(`[1,2]`), 10),
		"raw":   bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping","id":"x"}`)),
	} {
		t.Run(name, func(t *testing.T) {
			run := func(n int64) float64 {
				return testing.AllocsPerRun(1, func() {
					l := bench.Load{URL: "http://" + addr + fastserver.DefaultPath,
						Requests: []bench.Template{tmpl}, Concurrency: 4, N: n}
					rep, err := l.Run(context.Background())
					if err != nil || rep.Errors != 0 || rep.Requests != n {
						t.Fatalf("%+v %v", rep, err)
					}
				})
			}
			run(100) // warm the pools
			small, large := run(100), run(5100)
			if perRequest := (large - small) / 5000; perRequest > 0.01 {
				t.Errorf("%.3f allocations per request (%v for 100 requests, %v for 5,100), want 0", perRequest, small, large)
			}
		})
	}
}

// TestStreamLoadAllocations: over a persistent transport too, the load
// path allocates nothing per request (compared as above), with 16
// requests in flight per connection.
func TestStreamLoadAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	urls := streamURLs(t)
	for _, name := range []string{"ws", "tcp/line"} {
		t.Run(name, func(t *testing.T) {
			run := func(n int64) float64 {
				return testing.AllocsPerRun(1, func() {
					l := bench.Load{URL: urls[name], Requests: []bench.Template{bench.Call("add", []byte(`[1,2]`), 1), bench.Call("add", []byte(`[1,2]`), 10)},
						Concurrency: 2, Pipeline: 16, N: n}
					rep, err := l.Run(context.Background())
					if err != nil || rep.Errors != 0 || rep.Requests != n {
						t.Fatalf("%+v %v", rep, err)
					}
				})
			}
			run(100)
			small, large := run(100), run(20100)
			if perRequest := (large - small) / 20000; perRequest > 0.01 {
				t.Errorf("%.3f allocations per request (%v for 100 requests, %v for 20,100), want 0", perRequest, small, large)
			}
		})
	}
}

// TestWorkingHandlerAllocations: the working handler, as the bare one,
// allocates nothing per request.
func TestWorkingHandlerAllocations(t *testing.T) {
	h := bench.WorkingHandler([]byte(`{"jsonrpc":"2.0","result":3,"id":1}`), 100*time.Nanosecond)
	var ctx fasthttp.RequestCtx
	h(&ctx)
	if n := testing.AllocsPerRun(100, func() { h(&ctx) }); n != 0 {
		t.Errorf("%v allocations a request", n)
	}
}
