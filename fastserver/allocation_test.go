//go:build !race

package fastserver_test

import (
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/internal/memconn"
)

// TestHTTPRequestAllocations serves whole HTTP requests (parse, handler,
// answer) through fasthttp's ServeConn, as fasthttp's own allocation
// tests do.
func TestHTTPRequestAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	e := engine.New()
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	srv := fastserver.New(e, fastserver.Config{})
	hs := fastserver.NewFastHTTPServer(srv.HandleFastHTTP, srv.Config())
	for _, body := range []string{
		`{"jsonrpc":"2.0","method":"ping","id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`,
		`{"jsonrpc":"2.0","method":"ping"}`,
	} {
		req := memconn.PostRequest(fastserver.DefaultPath, body)
		conn := &memconn.Conn{}
		conn.In.Grow(1024)
		conn.Out.Grow(1024)
		allocs := testing.AllocsPerRun(100, func() {
			conn.In.Write(req)
			if err := hs.ServeConn(conn); err != nil {
				t.Fatal(err)
			}
			conn.Out.Reset()
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per HTTP request, want 0", body, allocs)
		}
	}
}
