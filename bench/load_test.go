package bench_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/valyala/fasthttp/fasthttputil"
)

// inMemory serves the demo methods on an in-memory listener and returns a
// Load aimed at it.
func inMemory(t testing.TB) bench.Load {
	t.Helper()
	e := engine.New(engine.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	srv := fastserver.New(e, fastserver.Config{})
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return bench.Load{URL: "http://inmemory" + fastserver.DefaultPath, Concurrency: 8,
		Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

func TestLoadCountsExactly(t *testing.T) {
	for _, batch := range []int{1, 10} {
		l := inMemory(t)
		l.Requests = []bench.Template{bench.Call("add", []byte(`[1,2]`), batch)}
		l.N = 500
		rep, err := l.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Requests != 500 || rep.Errors != 0 || rep.LatencyUS.P50 <= 0 || rep.LatencyUS.Max < rep.LatencyUS.P99 {
			t.Errorf("batch %d: %+v", batch, rep)
		}
	}
}

func TestLoadClassifiesErrors(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Call("fail", nil, 1), bench.Call("nope", nil, 1), bench.Call("ping", nil, 1)}
	l.Weights = []int{1, 1, 2}
	l.N = 400
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fails, unknown := rep.ErrorsByKind["rpc_error_1000"], rep.ErrorsByKind["rpc_error_-32601"]
	if rep.Requests != 400 || rep.Errors != fails+unknown || fails < 50 || unknown < 50 || rep.Errors > 300 {
		t.Errorf("%+v", rep)
	}
	l.URL = "http://inmemory/wrong-path"
	l.Requests, l.Weights, l.N = []bench.Template{bench.Call("ping", nil, 1)}, nil, 20
	rep, _ = l.Run(context.Background())
	if rep.ErrorsByKind["http_404"] != 20 {
		t.Errorf("wrong path: %+v", rep)
	}
}

func TestLoadRawBody(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping"}`))} // a notification: 204
	l.N = 50
	rep, _ := l.Run(context.Background())
	if rep.Requests != 50 || rep.Errors != 0 {
		t.Errorf("%+v", rep)
	}
}

func TestLoadOpenLoopKeepsRate(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Call("ping", nil, 1)}
	l.Rate, l.Duration = 400, time.Second
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests < 340 || rep.Requests > 440 || rep.Errors != 0 {
		t.Errorf("open loop at 400/s for 1s: %+v", rep)
	}
}

// BenchmarkLoad measures the load generator's own cost per request
// against an in-memory server (whose path allocates nothing): allocs/op
// is the generator's.
func BenchmarkLoad(b *testing.B) {
	l := inMemory(b)
	l.Requests = []bench.Template{bench.Call("ping", nil, 1)}
	l.Concurrency = 1
	l.N = int64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := l.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
}
