package bench_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/internal/memconn"
	"github.com/valyala/bytebufferpool"
)

// Cases are the core slice's hot paths, the same as the allocation tests.
var cases = []struct{ name, body string }{
	{"ping", `{"jsonrpc":"2.0","method":"ping","id":1}`},
	{"add_named", `{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`},
	{"add_positional", `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`},
	{"echo_1KiB", `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 1024) + `"],"id":1}`},
	{"batch_10_adds", "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},`, 9) +
		`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}]`},
	{"notification", `{"jsonrpc":"2.0","method":"add","params":[1,2]}`},
	{"unknown_method", `{"jsonrpc":"2.0","method":"nope","id":1}`},
}

func newEngine(b *testing.B) *engine.Engine {
	e := engine.New()
	if err := demo.Register(e); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkHandle measures Engine.Handle alone: parse, dispatch, answer.
func BenchmarkHandle(b *testing.B) {
	e := newEngine(b)
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			in := []byte(c.body)
			out := bytebufferpool.Get()
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				out.Reset()
				e.Handle(ctx, in, out)
			}
		})
	}
}

// BenchmarkHandleEcho1MiB measures large params: SetBytes makes the MB/s
// column the request bytes handled per second.
func BenchmarkHandleEcho1MiB(b *testing.B) {
	e := newEngine(b)
	in := []byte(`{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("abcdefgh", 1<<17) + `"],"id":1}`)
	out := bytebufferpool.Get()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		out.Reset()
		e.Handle(ctx, in, out)
	}
}

// BenchmarkFastHTTP measures whole HTTP requests through a fasthttp.Server
// with the production settings: keep-alive requests pipelined on an
// in-memory connection, HTTP parsing and answer writing included. Each
// case runs twice: "bare" is the ceiling, a handler that writes that
// case's own answer without reading the request, in a fasthttp.Server with
// the same settings; "jetrpc" is fastserver.Server, serving the connection
// as it serves every connection it accepts.
func BenchmarkFastHTTP(b *testing.B) {
	e := newEngine(b)
	srv := fastserver.New(e, fastserver.Config{})
	for _, c := range cases {
		answer := e.Append(context.Background(), nil, []byte(c.body))
		b.Run(c.name+"/bare", func(b *testing.B) {
			serveRequests(b, fastserver.NewFastHTTPServer(bench.FixedHandler(answer), fastserver.Config{}).ServeConn, c.body)
		})
		b.Run(c.name+"/jetrpc", func(b *testing.B) {
			serveRequests(b, srv.ServeConn, c.body)
		})
	}
}

func serveRequests(b *testing.B, serveConn func(net.Conn) error, body string) {
	const perConn = 256
	req := memconn.PostRequest(fastserver.DefaultPath, body)
	reqs := bytes.Repeat(req, perConn)
	conn := &memconn.Conn{}
	conn.In.Grow(len(reqs))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i += perConn {
		n := min(perConn, b.N-i)
		conn.In.Write(reqs[:n*len(req)])
		if err := serveConn(conn); err != nil {
			b.Fatal(err)
		}
		conn.Out.Reset()
	}
}
