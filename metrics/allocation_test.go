//go:build !race

package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/metrics"
	"github.com/jetrpc/jetrpc/middleware"
)

var hotPaths = []struct{ name, in string }{
	{"ping", `{"jsonrpc":"2.0","method":"ping","id":1}`},
	{"add by name", `{"jsonrpc":"2.0","method":"add","params":{"a":1.5,"b":2},"id":"x"}`},
	{"batch of 10 adds", "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},`, 9) +
		`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}]`},
	{"notification", `{"jsonrpc":"2.0","method":"add","params":[1,2]}`},
	{"handler error", `{"jsonrpc":"2.0","method":"fail","id":1}`},
	{"unknown method", `{"jsonrpc":"2.0","method":"nope","id":1}`},
	{"invalid request", `{"jsonrpc":"2.0","method":1,"id":1}`},
	{"parse error", `{"jsonrpc":"2.0","method":"add",`},
}

// withEverything is an engine with metrics and per-call logging, the
// logging off (below the logger's level), as jetrpc serve runs by default.
func withEverything(t testing.TB) (*engine.Engine, *metrics.Metrics) {
	m := metrics.New()
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := engine.New(
		engine.WithMiddleware(m.Middleware(), middleware.Logging(quiet, slog.LevelInfo)),
		engine.WithObserver(m, middleware.LoggingObserver(quiet, slog.LevelInfo)),
	)
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	return e, m
}

// TestRecordingAllocations: a call through the metrics middleware and
// observer, and through logging when it is off, allocates nothing, nor
// does recording an HTTP request.
func TestRecordingAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	e, m := withEverything(t)
	var out []byte
	for _, tc := range hotPaths {
		in := []byte(tc.in)
		out = e.Append(context.Background(), out[:0], in) // the first sight of a method or code makes its series
		if allocs := testing.AllocsPerRun(100, func() {
			out = e.Append(context.Background(), out[:0], in)
			m.ObserveHTTP(200, len(in), len(out))
		}); allocs != 0 {
			t.Errorf("%s: %v allocs per call with metrics, want 0", tc.name, allocs)
		}
	}
}

// BenchmarkMetrics is the cost of metrics on a call: compare its
// "without" case with "metrics" (metrics alone, as jetrpc serve runs by
// default) and "with" (metrics and logging, the logging off).
func BenchmarkMetrics(b *testing.B) {
	with, m := withEverything(b)
	alone := metrics.New()
	metered := engine.New(engine.WithMiddleware(alone.Middleware()), engine.WithObserver(alone))
	without := engine.New()
	for _, e := range []*engine.Engine{metered, without} {
		if err := demo.Register(e); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range hotPaths[:3] {
		in := []byte(tc.in)
		for _, c := range []struct {
			name string
			e    *engine.Engine
			m    *metrics.Metrics
		}{{"without", without, nil}, {"metrics", metered, alone}, {"with", with, m}} {
			b.Run(tc.name+"/"+c.name, func(b *testing.B) {
				out := make([]byte, 0, 4096)
				b.ReportAllocs()
				for b.Loop() {
					out = c.e.Append(context.Background(), out[:0], in)
					if c.m != nil {
						c.m.ObserveHTTP(200, len(in), len(out))
					}
				}
			})
		}
	}
}
