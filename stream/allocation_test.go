//go:build !race

package stream_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/streamtest"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/stream"
)

// TestMessageAllocations: a message on an open connection (read, run,
// answered, written) allocates nothing, for single calls and a batch,
// over a line-framed stream and over WebSocket. The client's side (one
// write, one read into a buffer of the answer's length) allocates nothing
// either, so AllocsPerRun counts the server's.
func TestMessageAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	add := `{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`
	cases := []struct{ name, in, want string }{
		{"ping", `{"jsonrpc":"2.0","method":"ping","id":1}`, `{"jsonrpc":"2.0","result":"pong","id":1}`},
		{"add by name", add, `{"jsonrpc":"2.0","result":3,"id":1}`},
		{"add by position", `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`, `{"jsonrpc":"2.0","result":3,"id":1}`},
		{"batch of 10 adds", "[" + strings.Repeat(add+",", 9) + add + "]", "[" + strings.Repeat(`{"jsonrpc":"2.0","result":3,"id":1},`, 9) + `{"jsonrpc":"2.0","result":3,"id":1}]`},
	}
	for _, f := range framings {
		srv := stream.New(testserver.Demo(t), stream.Config{Framing: f})
		client, server := net.Pipe()
		go func() { _ = srv.ServeConn(server) }()
		c := streamtest.New(client, f.String())
		for _, tc := range cases {
			req := c.Frame(tc.in)
			answer := framedAnswer(f, tc.want)
			buf := make([]byte, len(answer))
			round := func() {
				if _, err := client.Write(req); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(client, buf); err != nil {
					t.Fatal(err)
				}
			}
			round()
			if string(buf) != string(answer) {
				t.Fatalf("%s %s: got %q, want %q", f, tc.name, buf, answer)
			}
			if n := testing.AllocsPerRun(200, round); n != 0 {
				t.Errorf("%s %s: %.1f allocations per message, want 0", f, tc.name, n)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		client.Close()
		_ = srv.Shutdown(ctx)
		cancel()
	}
}

// framedAnswer is msg as the server frames it.
func framedAnswer(f stream.Framing, msg string) []byte {
	switch f.String() {
	case "header":
		return []byte("Content-Length: " + itoa(len(msg)) + "\r\n\r\n" + msg)
	case "websocket":
		if len(msg) <= 125 {
			return append([]byte{0x81, byte(len(msg))}, msg...)
		}
		return append([]byte{0x81, 126, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	}
	return []byte(msg + "\n")
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// TestNotificationAllocations: once a subscription exists, sending a value
// to its subscriber allocates nothing.
func TestNotificationAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	e := testserver.Demo(t)
	subs := make(chan *engine.Subscription[int], 1)
	if err := engine.RegisterSubscription(e, "test", "values", func(ctx context.Context, _ struct{}, sub *engine.Subscription[int]) error {
		subs <- sub
		<-ctx.Done()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv := stream.New(e, stream.Config{})
	// Over TCP: Send writes before the test reads, which net.Pipe,
	// without a buffer, would block.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	c := streamtest.New(client, "line")
	if _, err := c.Call(`{"jsonrpc":"2.0","method":"test_subscribe","params":["values"],"id":1}`); err != nil {
		t.Fatal(err)
	}
	sub := <-subs
	want := `{"jsonrpc":"2.0","method":"test_subscription","params":{"subscription":"` + sub.ID() + `","result":42}}` + "\n"
	buf := make([]byte, len(want))
	send := func() {
		if err := sub.Send(42); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf); err != nil {
			t.Fatal(err)
		}
	}
	send()
	if string(buf) != want {
		t.Fatalf("got %q, want %q", buf, want)
	}
	if n := testing.AllocsPerRun(200, send); n != 0 {
		t.Errorf("%.1f allocations per notification, want 0", n)
	}
}
