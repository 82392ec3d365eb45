package stream_test

import (
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/internal/memconn"
	"github.com/jetrpc/jetrpc/internal/streamtest"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/stream"
)

// BenchmarkPipelined serves pipelined messages on an in-memory connection
// (each read brings the messages of 4 KiB, their answers leave in one
// write), per message: the engine's calls, the framing alone (a fixed
// answer, no parsing), and a goroutine per message instead of inline.
// Run with -cpu 1 to compare with the server's one-core figures.
func BenchmarkPipelined(b *testing.B) {
	ping := `{"jsonrpc":"2.0","method":"ping","id":1}`
	add := `{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`
	pong := []byte(`{"jsonrpc":"2.0","result":"pong","id":1}`)
	fixed := func(dst, _ []byte) []byte { return append(dst, pong...) }
	for _, bc := range []struct {
		name, framing, msg string
		setup              func(*stream.Server)
	}{
		{"ping/line", "line", ping, nil},
		{"ping/header", "header", ping, nil},
		{"ping/websocket", "websocket", ping, nil},
		{"framing-alone/line", "line", ping, func(s *stream.Server) { stream.SetAnswer(s, fixed) }},
		{"framing-alone/header", "header", ping, func(s *stream.Server) { stream.SetAnswer(s, fixed) }},
		{"framing-alone/websocket", "websocket", ping, func(s *stream.Server) { stream.SetAnswer(s, fixed) }},
		{"goroutine-per-message/ping/line", "line", ping, stream.SetGoroutinePerMessage},
		{"add/line", "line", add, nil},
		{"batch-10-adds/line", "line", "[" + strings.Repeat(add+",", 9) + add + "]", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, _ := stream.ParseFraming(bc.framing)
			srv := stream.New(testserver.Demo(b), stream.Config{Framing: f})
			if bc.setup != nil {
				bc.setup(srv)
			}
			const chunk = 10_000
			frame := streamtest.New(nil, bc.framing).Frame(bc.msg)
			all := []byte(strings.Repeat(string(frame), chunk))
			conn := &memconn.Conn{}
			serve := func(n int) {
				conn.In.Reset()
				conn.Out.Reset()
				conn.In.Write(all[:n*len(frame)])
				_ = srv.ServeConn(conn)
			}
			serve(10)
			if conn.Out.Len() == 0 {
				b.Fatal("no answers")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for served := 0; served < b.N; served += chunk {
				serve(min(chunk, b.N-served))
			}
		})
	}
}
