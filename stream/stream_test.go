package stream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/spectest"
	"github.com/jetrpc/jetrpc/internal/streamtest"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/stream"
)

var framings = []stream.Framing{stream.Line, stream.Header, stream.WebSocket}

// serve serves the demo engine with cfg on a loopback TCP listener until
// the test ends, and returns the server and a dialler. A WebSocket
// framing is served without a handshake: the client sends frames at once.
func serve(t *testing.T, cfg stream.Config) (*stream.Server, func() *streamtest.Client) {
	t.Helper()
	cfg.Logger = testserver.Quiet
	srv := stream.New(testserver.Demo(t), cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, stream.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return srv, func() *streamtest.Client {
		c, err := streamtest.Dial("tcp", ln.Addr().String(), cfg.Framing.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

func recv(t *testing.T, c *streamtest.Client) string {
	t.Helper()
	msg, err := c.Recv(5 * time.Second)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return msg
}

const marker = `{"jsonrpc":"2.0","method":"ping","id":"marker"}`
const markerAnswer = `{"jsonrpc":"2.0","result":"pong","id":"marker"}`

// TestSpecification runs the specification's table over each framing: the
// same answers as over HTTP, and no frame at all where HTTP answers 204
// (the marker call after each case shows that nothing came before it).
func TestSpecification(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			_, dial := serve(t, stream.Config{Framing: f})
			c := dial()
			for _, tc := range spectest.Cases {
				in := tc.In
				if strings.TrimSpace(in) == "" && f.String() != "websocket" {
					continue // an empty line or message is no message on a stream
				}
				if f.String() == "line" {
					in = strings.ReplaceAll(in, "\n", " ") // one message per line; offsets unchanged
				}
				if err := c.Send(in); err != nil {
					t.Fatal(err)
				}
				if tc.Want != "" {
					if got := recv(t, c); got != tc.Want {
						t.Errorf("%s:\n got %s\nwant %s", tc.Name, got, tc.Want)
					}
				}
				// Calls may answer out of order: the marker goes once the
				// answer owed (if any) is in.
				if err := c.Send(marker); err != nil {
					t.Fatal(err)
				}
				if got := recv(t, c); got != markerAnswer {
					t.Errorf("%s: got %s, want the marker's answer", tc.Name, got)
				}
			}
		})
	}
}

// TestPipelining writes 1,000 requests before reading any answer: each is
// answered, each id once.
func TestPipelining(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			_, dial := serve(t, stream.Config{Framing: f})
			c := dial()
			const n = 1000
			var all []byte
			for i := range n {
				all = append(all, c.Frame(fmt.Sprintf(`{"jsonrpc":"2.0","method":"add","params":[%d,1],"id":%d}`, i, i))...)
			}
			go func() { _, _ = c.Conn.Write(all) }()
			seen := make(map[string]bool, n)
			for range n {
				msg := recv(t, c)
				var id, sum int
				if _, err := fmt.Sscanf(msg, `{"jsonrpc":"2.0","result":%d,"id":%d}`, &sum, &id); err != nil || sum != id+1 {
					t.Fatalf("answer %s", msg)
				}
				key := fmt.Sprint(id)
				if seen[key] {
					t.Fatalf("id %s answered twice", key)
				}
				seen[key] = true
			}
		})
	}
}

// TestCallsRunConcurrently: a call that blocks does not hold up the calls
// sent after it on the same connection.
func TestCallsRunConcurrently(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			_, dial := serve(t, stream.Config{Framing: f})
			c := dial()
			must(t, c.Send(`{"jsonrpc":"2.0","method":"sleep","params":[300],"id":"slow"}`))
			must(t, c.Send(`{"jsonrpc":"2.0","method":"ping","id":"fast"}`))
			if got := recv(t, c); got != `{"jsonrpc":"2.0","result":"pong","id":"fast"}` {
				t.Fatalf("first answer %s, want the ping's", got)
			}
			if got := recv(t, c); got != `{"jsonrpc":"2.0","result":null,"id":"slow"}` {
				t.Fatalf("second answer %s, want the sleep's", got)
			}
		})
	}
}

// TestInFlightBoundPerConnection: with a bound of 2, two sleeping calls
// hold the connection's reading, and a ping waits for one of them.
func TestInFlightBoundPerConnection(t *testing.T) {
	_, dial := serve(t, stream.Config{MaxInFlightPerConn: 2})
	c := dial()
	must(t, c.Send(`{"jsonrpc":"2.0","method":"sleep","params":[200],"id":1}`))
	must(t, c.Send(`{"jsonrpc":"2.0","method":"sleep","params":[200],"id":2}`))
	must(t, c.Send(`{"jsonrpc":"2.0","method":"ping","id":3}`))
	var order []string
	for range 3 {
		msg := recv(t, c)
		order = append(order, msg[strings.LastIndex(msg, `"id":`)+5:len(msg)-1])
	}
	if order[0] == "3" {
		t.Errorf("answers in order %v: the ping ran though two calls were in flight", order)
	}
}

// TestBackpressure: a client that sends large requests and never reads
// makes the server stop reading it once MaxBufferedBytes of answers wait;
// the heap stays within a small bound, and WriteTimeout ends the
// connection.
func TestBackpressure(t *testing.T) {
	const bound = 256 << 10
	srv, dial := serve(t, stream.Config{MaxBufferedBytes: bound, WriteTimeout: 500 * time.Millisecond})
	c := dial()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	payload := strings.Repeat("x", 32<<10)
	req := []byte(c.Frame(`{"jsonrpc":"2.0","method":"echo","params":["` + payload + `"],"id":1}`))
	sent := make(chan int, 1)
	go func() {
		n := 0
		_ = c.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
		for n < 64<<20 {
			m, err := c.Conn.Write(req)
			n += m
			if err != nil {
				break
			}
		}
		sent <- n
	}()
	time.Sleep(300 * time.Millisecond) // the server fills its bound and the sockets' buffers
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("heap grew %d KiB while the client did not read", grown>>10)
	if grown > 8*bound+(2<<20) {
		t.Errorf("heap grew %d bytes, over the bound", grown)
	}
	n := <-sent
	if n >= 64<<20 {
		t.Errorf("the server read all %d bytes of a client that does not read", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Conns() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if srv.Conns() != 0 {
		t.Error("the connection of a client that does not read is still open after WriteTimeout")
	}
}

// TestFramingErrors: invalid JSON is answered and the connection goes on;
// a broken frame gets one answer (or a WebSocket close code) and ends it.
func TestFramingErrors(t *testing.T) {
	tests := []struct {
		name    string
		framing stream.Framing
		raw     string
		want    string // the answer, or the close code for WebSocket
	}{
		{"line over the limit", stream.Line, strings.Repeat(" ", 2000),
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"message is over the limit of 1024 bytes"},"id":null}`},
		{"header over the limit", stream.Header, "Content-Length: 2000\r\n\r\n",
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"message of 2000 bytes is over the limit of 1024"},"id":null}`},
		{"header not a length", stream.Header, "Content-Length: x\r\n\r\n",
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":"bad header: Content-Length \" x\" is not a length"},"id":null}`},
		{"header without colon", stream.Header, "Content-Length 5\r\n\r\n",
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":"bad header: header line \"Content-Length 5\" has no colon"},"id":null}`},
		{"header missing", stream.Header, "Content-Type: application/json\r\n\r\n",
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":"bad header: no Content-Length header"},"id":null}`},
		{"websocket over the limit", stream.WebSocket, string(streamtest.MaskedFrame(1, true, make([]byte, 2000))), "1009"},
		{"websocket unmasked", stream.WebSocket, "\x81\x02{}", "1002"},
		{"websocket reserved bits", stream.WebSocket, "\xc1\x80abcd", "1002"},
		{"websocket continuation first", stream.WebSocket, string(streamtest.MaskedFrame(0, true, []byte("{}"))), "1002"},
		{"websocket long ping", stream.WebSocket, string(streamtest.MaskedFrame(9, true, make([]byte, 126))), "1002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dial := serve(t, stream.Config{Framing: tt.framing, MaxMessageSize: 1024})
			c := dial()
			// Invalid JSON first: answered, and the connection goes on.
			got, err := c.Call(`{"jsonrpc":`)
			if err != nil || !strings.Contains(got, `"code":-32700`) {
				t.Fatalf("invalid JSON: %s %v", got, err)
			}
			_, err = c.Conn.Write([]byte(tt.raw))
			must(t, err)
			msg, err := c.Recv(5 * time.Second)
			if tt.framing.String() == "websocket" {
				var ce *streamtest.CloseError
				if !errors.As(err, &ce) || fmt.Sprint(ce.Code) != tt.want {
					t.Fatalf("got %q %v, want close %s", msg, err, tt.want)
				}
			} else if msg != tt.want {
				t.Fatalf("got  %s\nwant %s", msg, tt.want)
			}
			if msg, err := c.Recv(5 * time.Second); !errors.Is(err, io.EOF) {
				t.Errorf("after the error: %q %v, want the connection closed", msg, err)
			}
		})
	}
}

// TestWebSocketMessages: fragments are reassembled, pings answered with
// pongs, binary frames read as text ones, a close frame echoed.
func TestWebSocketMessages(t *testing.T) {
	_, dial := serve(t, stream.Config{Framing: stream.WebSocket})
	c := dial()
	msg := []byte(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}`)
	var b []byte
	b = append(b, streamtest.MaskedFrame(1, false, msg[:10])...)
	b = append(b, streamtest.MaskedFrame(9, true, []byte("hi"))...) // a ping between fragments
	b = append(b, streamtest.MaskedFrame(0, false, msg[10:20])...)
	b = append(b, streamtest.MaskedFrame(0, true, msg[20:])...)
	b = append(b, streamtest.MaskedFrame(2, true, msg)...)
	_, err := c.Conn.Write(b)
	must(t, err)
	for range 2 {
		if got := recv(t, c); got != `{"jsonrpc":"2.0","result":3,"id":7}` {
			t.Fatalf("got %s", got)
		}
	}
	_, err = c.Conn.Write(streamtest.MaskedFrame(8, true, []byte{0x03, 0xE8}))
	must(t, err)
	_, err = c.Recv(5 * time.Second)
	var ce *streamtest.CloseError
	if !errors.As(err, &ce) || ce.Code != 1000 {
		t.Fatalf("after a close: %v, want the close echoed", err)
	}
}

// TestWebSocketKeepAlive: a silent client is pinged after PingInterval,
// and dropped when it stays silent for another.
func TestWebSocketKeepAlive(t *testing.T) {
	srv, dial := serve(t, stream.Config{Framing: stream.WebSocket, PingInterval: 100 * time.Millisecond})
	c := dial()
	must(t, c.Conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	var h [2]byte
	if _, err := io.ReadFull(c.Conn, h[:]); err != nil || h != [2]byte{0x89, 0} {
		t.Fatalf("got % x %v, want a ping", h, err)
	}
	if _, err := io.ReadFull(c.Conn, h[:1]); !errors.Is(err, io.EOF) {
		t.Fatalf("got % x %v, want the connection closed", h[:1], err)
	}
	if srv.Conns() > 1 {
		t.Error("connection still counted")
	}
}

// TestIdleTimeout: a stream connection with nothing to do is closed.
func TestIdleTimeout(t *testing.T) {
	_, dial := serve(t, stream.Config{IdleTimeout: 100 * time.Millisecond})
	c := dial()
	if _, err := c.Recv(2 * time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want the idle connection closed", err)
	}
}

// TestShutdownAnswersCallsInFlight: at shutdown every call read is
// answered, then the connection closes: a WebSocket one with 1001.
func TestShutdownAnswersCallsInFlight(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			srv, dial := serve(t, stream.Config{Framing: f})
			c := dial()
			for i := range 5 {
				must(t, c.Send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"sleep","params":[%d],"id":%d}`, 100+20*i, i)))
			}
			must(t, c.Send(`{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",100000],"id":"sub"}`))
			if got := recv(t, c); !strings.Contains(got, `"id":"sub"`) {
				t.Fatalf("subscribe: %s", got)
			}
			time.Sleep(20 * time.Millisecond)
			done := make(chan error, 1)
			go func() { done <- srv.Shutdown(context.Background()) }()
			answered := 0
			for {
				msg, err := c.Recv(5 * time.Second)
				if err != nil {
					var ce *streamtest.CloseError
					if f.String() == "websocket" {
						if !errors.As(err, &ce) || ce.Code != 1001 {
							t.Fatalf("end: %v, want close 1001", err)
						}
						_, _ = c.Conn.Write(streamtest.MaskedFrame(8, true, []byte{0x03, 0xE9}))
					} else if !errors.Is(err, io.EOF) {
						t.Fatalf("end: %v, want EOF", err)
					}
					break
				}
				if strings.Contains(msg, `"result":null`) {
					answered++
				} else if !strings.Contains(msg, "demo_subscription") {
					t.Errorf("unexpected %s", msg)
				}
			}
			if answered != 5 {
				t.Errorf("%d of 5 calls answered", answered)
			}
			if err := <-done; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
}

// TestSubscriptions: the subscribe answer comes before the first
// notification; unsubscribe answers true, then no notification follows;
// an unknown id answers false.
func TestSubscriptions(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			_, dial := serve(t, stream.Config{Framing: f})
			c := dial()
			got := recvCall(t, c, `{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",3],"id":1}`)
			var id string
			if _, err := fmt.Sscanf(got, `{"jsonrpc":"2.0","result":%q,"id":1}`, &id); err != nil || len(id) != 34 {
				t.Fatalf("subscribe answered %s", got)
			}
			for i := 1; i <= 3; i++ {
				want := fmt.Sprintf(`{"jsonrpc":"2.0","method":"demo_subscription","params":{"subscription":%q,"result":%d}}`, id, i)
				if got := recv(t, c); got != want {
					t.Fatalf("got  %s\nwant %s", got, want)
				}
			}
			if got := recvCall(t, c, `{"jsonrpc":"2.0","method":"demo_unsubscribe","params":["0x00"],"id":2}`); got != `{"jsonrpc":"2.0","result":false,"id":2}` {
				t.Errorf("unsubscribe of an unknown id: %s", got)
			}
			got = recvCall(t, c, `{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",100000],"id":3}`)
			if _, err := fmt.Sscanf(got, `{"jsonrpc":"2.0","result":%q,"id":3}`, &id); err != nil {
				t.Fatalf("second subscribe answered %s", got)
			}
			must(t, c.Send(`{"jsonrpc":"2.0","method":"demo_unsubscribe","params":["`+id+`"],"id":4}`))
			for {
				msg := recv(t, c)
				if msg == `{"jsonrpc":"2.0","result":true,"id":4}` {
					break
				}
				if !strings.Contains(msg, "demo_subscription") {
					t.Fatalf("got %s", msg)
				}
			}
			if msg, err := c.Recv(50 * time.Millisecond); err == nil {
				t.Errorf("after unsubscribe: %s", msg)
			}
			for _, bad := range []struct{ in, want string }{
				{`{"jsonrpc":"2.0","method":"demo_subscribe","params":["nope"],"id":5}`, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"no \"nope\" subscription in demo namespace"},"id":5}`},
				{`{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",0],"id":6}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"n\": must be an integer between 1 and 100000"},"id":6}`},
				{`{"jsonrpc":"2.0","method":"demo_subscribe","params":{},"id":7}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"the first param must be the subscription name, a string"},"id":7}`},
			} {
				if got := recvCall(t, c, bad.in); got != bad.want {
					t.Errorf("got  %s\nwant %s", got, bad.want)
				}
			}
		})
	}
}

func recvCall(t *testing.T, c *streamtest.Client, msg string) string {
	t.Helper()
	got, err := c.Call(msg)
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
	return got
}

// TestServeConnOverPipes serves a stream made of two pipes, as stdio is:
// answers come back, and the end of the input ends it after the answers.
func TestServeConnOverPipes(t *testing.T) {
	srv := stream.New(testserver.Demo(t), stream.Config{})
	inR, inW, err := os.Pipe()
	must(t, err)
	outR, outW, err := os.Pipe()
	must(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(stream.Pipe(inR, outW)) }()
	_, err = inW.WriteString(`{"jsonrpc":"2.0","method":"sleep","params":[50],"id":1}` + "\n\n" + `{"jsonrpc":"2.0","method":"ping","id":2}` + "\r\n")
	must(t, err)
	inW.Close() // the client is done sending: the server still answers
	out, err := io.ReadAll(outR)
	must(t, err)
	want := `{"jsonrpc":"2.0","result":"pong","id":2}` + "\n" + `{"jsonrpc":"2.0","result":null,"id":1}` + "\n"
	if string(out) != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	if err := <-done; err != nil {
		t.Errorf("ServeConn: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
