//go:build !race

package fastserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/memconn"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/metrics"
)

// TestHTTPRequestAllocations serves whole HTTP requests (parse, handler,
// answer) on in-memory connections, as fasthttp's own allocation tests do:
// through Server.ServeConn, the path of every connection the server
// accepts, and through HandleFastHTTP in a fasthttp.Server of one's own.
// A connection costs a few allocations when it is taken; a request on it
// costs none, so the test compares a connection serving 1 request with one
// serving 101.
func TestHTTPRequestAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	m := metrics.New()
	for _, srv := range []*fastserver.Server{
		fastserver.New(withLarge(t, testserver.Demo(t)), fastserver.Config{}),
		// With metrics, as jetrpc serve runs: the engine's and the server's.
		fastserver.New(withLarge(t, testserver.Demo(t, engine.WithMiddleware(m.Middleware()), engine.WithObserver(m))), fastserver.Config{Observer: m}),
	} {
		testRequestAllocations(t, srv)
	}
}

// withLarge adds to e a method "large" whose answer is 20 KiB.
func withLarge(t *testing.T, e *engine.Engine) *engine.Engine {
	large := json.RawMessage(`"` + strings.Repeat("x", 20<<10) + `"`)
	if err := engine.RegisterNoParams(e, "large", func(context.Context) (json.RawMessage, error) { return large, nil }); err != nil {
		t.Fatal(err)
	}
	return e
}

func testRequestAllocations(t *testing.T, srv *fastserver.Server) {
	own := fastserver.NewFastHTTPServer(srv.HandleFastHTTP, srv.Config())
	for _, body := range []string{
		`{"jsonrpc":"2.0","method":"ping","id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`,
		`{"jsonrpc":"2.0","method":"ping"}`,
		`[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"add","params":[3,4],"id":2}]`,
		// An answer past 16 KiB goes out as a counted body stream; its
		// buffer cycles back through the pools.
		`{"jsonrpc":"2.0","method":"large","id":1}`,
	} {
		req := memconn.PostRequest(fastserver.DefaultPath, body)
		reqs := bytes.Repeat(req, 101)
		for name, serveConn := range map[string]func(*memconn.Conn) error{
			"ServeConn":      func(c *memconn.Conn) error { return srv.ServeConn(c) },
			"HandleFastHTTP": func(c *memconn.Conn) error { return own.ServeConn(c) },
		} {
			conn := &memconn.Conn{}
			conn.In.Grow(101 * len(req))
			conn.Out.Grow(101 * 1024)
			serve := func(requests int) float64 {
				return testing.AllocsPerRun(20, func() {
					conn.In.Write(reqs[:requests*len(req)])
					if err := serveConn(conn); err != nil {
						t.Fatal(err)
					}
					if n := bytes.Count(conn.Out.Bytes(), []byte("HTTP/1.1 20")); n != requests {
						t.Fatalf("%d answers to %d requests", n, requests)
					}
					conn.Out.Reset()
				})
			}
			serve(101) // warm the pools
			if perRequest := (serve(101) - serve(1)) / 100; perRequest != 0 {
				t.Errorf("%s %.60s (%d bytes, observer %v): %v allocs per HTTP request, want 0", name, body, len(body), srv.Config().Observer != nil, perRequest)
			}
		}
	}
}
