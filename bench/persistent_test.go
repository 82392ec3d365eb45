package bench_test

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/stream"
)

// streamURLs serves the demo over every persistent transport and returns
// their URLs.
func streamURLs(t testing.TB) map[string]string {
	t.Helper()
	e := testserver.Demo(t)
	urls := map[string]string{"ws": "ws://" + testserver.Loopback(t, e) + fastserver.DefaultPath}
	for name, f := range map[string]stream.Framing{"tcp/line": stream.Line, "tcp/header": stream.Header, "unix": stream.Line} {
		srv := stream.New(e, stream.Config{Framing: f, Logger: testserver.Quiet})
		network, addr := "tcp", "127.0.0.1:0"
		if name == "unix" {
			network, addr = "unix", filepath.Join(t.TempDir(), "s.sock")
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
		urls[name] = "tcp://" + ln.Addr().String() + "?framing=" + f.String()
		if name == "unix" {
			urls[name] = "unix://" + ln.Addr().String()
		}
	}
	return urls
}

// TestStreamLoad: over each persistent transport, many requests in flight
// per connection are all answered and checked, calls and batches mixed,
// in the closed and the open loop; failures are classified as over HTTP.
func TestStreamLoad(t *testing.T) {
	for name, url := range streamURLs(t) {
		t.Run(name, func(t *testing.T) {
			l := bench.Load{URL: url, Concurrency: 2, Pipeline: 16, N: 3000, Requests: []bench.Template{
				bench.Call("add", []byte(`[1,2]`), 1), bench.Call("add", []byte(`{"a":1,"b":2}`), 10),
				bench.Call("ping", nil, 1), bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping"}`)),
			}}
			rep, err := l.Run(context.Background())
			if err != nil || rep.Requests != 3000 || rep.Errors != 0 {
				t.Fatalf("closed loop: %+v %v", rep, err)
			}
			l = bench.Load{URL: url, Concurrency: 2, Pipeline: 4, Rate: 1000, Duration: 300 * time.Millisecond,
				Requests: []bench.Template{bench.Call("sleep", []byte(`[2]`), 1)}}
			rep, err = l.Run(context.Background())
			if err != nil || rep.Errors != 0 || rep.Requests < 250 || rep.Requests > 310 {
				t.Fatalf("open loop at 1000/s for 0.3 s: %+v %v", rep, err)
			}
			l = bench.Load{URL: url, Concurrency: 1, Pipeline: 8, N: 100, Requests: []bench.Template{bench.Call("fail", nil, 1)}}
			rep, err = l.Run(context.Background())
			if err != nil || rep.Errors != 100 || rep.ErrorsByKind["rpc_error_1000"] != 100 {
				t.Fatalf("errors: %+v %v", rep, err)
			}
		})
	}
}

// TestStreamLoadRefuses: what cannot be routed is refused up front.
func TestStreamLoadRefuses(t *testing.T) {
	urls := streamURLs(t)
	for _, l := range []bench.Load{
		{URL: "http://127.0.0.1:1/json-rpc", Pipeline: 4, Requests: []bench.Template{bench.Call("ping", nil, 1)}},
		{URL: urls["tcp/line"], Pipeline: 4, Requests: []bench.Template{bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping","id":1}`))}},
		{URL: "tcp://127.0.0.1:1", Requests: []bench.Template{bench.Call("ping", nil, 1)}},
	} {
		if _, err := l.Run(context.Background()); err == nil {
			t.Errorf("%s, pipeline %d: ran", l.URL, l.Pipeline)
		} else if !strings.Contains(err.Error(), "bench:") {
			t.Errorf("%v: not the generator's own error", err)
		}
	}
}
