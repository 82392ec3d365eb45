package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/streamtest"
	"github.com/jetrpc/jetrpc/stream"
)

// TestServePersistent: jetrpc serve answers over WebSocket on the
// JSON-RPC path and over a unix-socket stream in both framings, runs the
// demo subscription there, and refuses it over plain HTTP; on both
// transports.
func TestServePersistent(t *testing.T) {
	for _, transport := range []string{"fasthttp", "nethttp"} {
		for _, framing := range []string{"line", "header"} {
			t.Run(transport+"/"+framing, func(t *testing.T) {
				sock := filepath.Join(t.TempDir(), "s.sock")
				url, stop := startServe(t, "-transport", transport, "-stream-unix", sock, "-stream-framing", framing)
				ws, err := streamtest.DialWebSocket(strings.Replace(url, "http://", "ws://", 1), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer ws.Close()
				var st *streamtest.Client
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					if st, err = streamtest.Dial("unix", sock, framing); err == nil || time.Now().After(deadline) {
						break
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				for name, c := range map[string]*streamtest.Client{"websocket": ws, framing: st} {
					if got, err := c.Call(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`); err != nil || got != `{"jsonrpc":"2.0","result":3,"id":1}` {
						t.Errorf("%s: add: %s %v", name, got, err)
					}
					got, err := c.Call(`{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",5],"id":2}`)
					if err != nil || !strings.HasPrefix(got, `{"jsonrpc":"2.0","result":"0x`) {
						t.Fatalf("%s: subscribe: %s %v", name, got, err)
					}
					for i := 1; i <= 5; i++ {
						msg, err := c.Recv(5 * time.Second)
						if err != nil || !strings.HasSuffix(msg, fmt.Sprintf(`"result":%d}}`, i)) {
							t.Fatalf("%s: notification %d: %s %v", name, i, msg, err)
						}
					}
				}
				if _, body := post(t, url, `{"jsonrpc":"2.0","method":"demo_subscribe","params":["ticks",5],"id":3}`); body != `{"jsonrpc":"2.0","error":{"code":-32601,"message":"notifications not supported"},"id":3}` {
					t.Errorf("over HTTP: %s", body)
				}
				if code := stop(); code != 0 {
					t.Errorf("serve exited %d", code)
				}
				if _, err := ws.Recv(5 * time.Second); err == nil || !strings.Contains(err.Error(), "1001") {
					t.Errorf("WebSocket at shutdown: %v, want close 1001", err)
				}
			})
		}
	}
}

// TestServeStdio: -stdio answers on standard output what it reads on
// standard input, in the chosen framing, and exits 0 at the end of input.
func TestServeStdio(t *testing.T) {
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func(old func() io.ReadWriteCloser) { stdio = old }(stdio)
	stdio = func() io.ReadWriteCloser { return stream.Pipe(inR, outW) }
	code := make(chan int, 1)
	go func() {
		code <- run(context.Background(), []string{"serve", "-stdio", "-stream-framing", "header"}, io.Discard, io.Discard)
	}()
	msg := `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`
	fmt.Fprintf(inW, "Content-Length: %d\r\n\r\n%s", len(msg), msg)
	inW.Close()
	out, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Content-Length: 35\r\n\r\n" + `{"jsonrpc":"2.0","result":3,"id":1}`; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if c := <-code; c != 0 {
		t.Errorf("exit %d, want 0", c)
	}
	if c := run(context.Background(), []string{"serve", "-stdio", "-addr", "127.0.0.1:1"}, io.Discard, io.Discard); c != 2 {
		t.Errorf("-stdio with -addr: exit %d, want 2 (refused)", c)
	}
}

// TestSubscribeAndCallCommands: jetrpc subscribe prints each result as a
// line and exits 0 after -n, over WebSocket and a stream; 1 on a JSON-RPC
// error or a timeout short of -n; 2 when it cannot connect. jetrpc call
// works over the same URLs.
func TestSubscribeAndCallCommands(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	url, stop := startServe(t, "-stream-unix", sock)
	defer stop()
	ws := strings.Replace(url, "http://", "ws://", 1)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
	}
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"subscribe", "-url", ws, "-n", "5", "demo", `["ticks", 5]`}, 0, "1\n2\n3\n4\n5\n", ""},
		{[]string{"subscribe", "-n", "3", "-url", "unix://" + sock, "demo", `["ticks", 5]`}, 0, "1\n2\n3\n", ""},
		{[]string{"subscribe", "-url", ws, "demo", `["nope"]`}, 1, "", `error -32601: no "nope" subscription in demo namespace`},
		{[]string{"subscribe", "-url", ws, "-n", "5", "-timeout", "25ms", "demo", `["ticks", 5]`}, 1, "?", "timed out after 25ms"}, // ? : 0 to 2 results
		{[]string{"subscribe", "-url", "tcp://127.0.0.1:1", "demo", `["ticks", 5]`}, 2, "", "connection refused"},
		{[]string{"subscribe", "-url", url, "demo", `["ticks", 5]`}, 2, "", "subscriptions need a persistent connection"},
		{[]string{"call", "-url", ws, "add", "[1, 2]"}, 0, "3\n", ""},
		{[]string{"call", "-url", "unix://" + sock, "ping"}, 0, "\"pong\"\n", ""},
	}
	for _, tt := range tests {
		var out, errs strings.Builder
		code := run(context.Background(), tt.args, &out, &errs)
		if code != tt.code || (out.String() != tt.stdout && tt.stdout != "?") || !strings.Contains(errs.String(), tt.errs) {
			t.Errorf("jetrpc %s: exit %d, stdout %q, stderr %q; want %d, %q, %q", strings.Join(tt.args, " "), code, out.String(), errs.String(), tt.code, tt.stdout, tt.errs)
		}
	}
}
