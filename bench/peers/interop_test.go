package peers_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/channel"
	"github.com/ethereum/go-ethereum/rpc"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// TestMain removes the binary jetrpcBinary built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// jetrpcBinary builds jetrpc once for the package's tests.
func jetrpcBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "interop")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "jetrpc")
		if out, err := exec.Command("go", "build", "-o", binary, "github.com/jetrpc/jetrpc/cmd/jetrpc").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// startJetrpc starts `jetrpc serve` with args on ports the kernel picks and
// returns its HTTP and stream addresses, read from what it prints.
func startJetrpc(t *testing.T, args ...string) (httpAddr, streamAddr string) {
	t.Helper()
	cmd := exec.Command(jetrpcBinary(t), append([]string{"serve", "-addr", "127.0.0.1:0", "-stream-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		line := lines.Text()
		if _, rest, ok := strings.Cut(line, "serving JSON-RPC on http://"); ok {
			httpAddr, _, _ = strings.Cut(rest, "/")
		}
		if _, rest, ok := strings.Cut(line, "framing) on tcp://"); ok {
			streamAddr = rest
			go func() {
				for lines.Scan() {
				}
			}()
			return httpAddr, streamAddr
		}
	}
	t.Fatal("jetrpc serve did not start")
	return "", ""
}

// TestGoEthereumClientOverWebSocket: go-ethereum's client calls jetrpc
// serve over WebSocket and subscribes to the demo's ticks unchanged.
func TestGoEthereumClientOverWebSocket(t *testing.T) {
	addr, _ := startJetrpc(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := rpc.DialContext(ctx, "ws://"+addr+"/json-rpc")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pong string
	if err := c.CallContext(ctx, &pong, "ping"); err != nil || pong != "pong" {
		t.Fatalf("ping: %q %v", pong, err)
	}
	var sum float64
	if err := c.CallContext(ctx, &sum, "add", 1, 2); err != nil || sum != 3 {
		t.Fatalf("add: %v %v", sum, err)
	}
	var echoed map[string]int
	if err := c.CallContext(ctx, &echoed, "echo", map[string]int{"x": 1}); err != nil || echoed["x"] != 1 {
		t.Fatalf("echo: %v %v", echoed, err)
	}
	sums := make([]float64, 3)
	batch := make([]rpc.BatchElem, 3)
	for i := range batch {
		batch[i] = rpc.BatchElem{Method: "add", Args: []any{i, 10}, Result: &sums[i]}
	}
	if err := c.BatchCallContext(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i, b := range batch {
		if b.Error != nil || sums[i] != float64(i+10) {
			t.Fatalf("batch item %d: %v %v", i, sums[i], b.Error)
		}
	}
	ticks := make(chan int)
	sub, err := c.Subscribe(ctx, "demo", ticks, "ticks", 5)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for want := 1; want <= 5; want++ {
		select {
		case got := <-ticks:
			if got != want {
				t.Fatalf("tick %d, want %d", got, want)
			}
		case err := <-sub.Err():
			t.Fatalf("subscription ended: %v", err)
		case <-ctx.Done():
			t.Fatal("ticks did not come")
		}
	}
}

// TestJrpc2ClientOverStreams: creachadair/jrpc2's client calls jetrpc
// serve over a TCP stream, line-framed and LSP-framed.
func TestJrpc2ClientOverStreams(t *testing.T) {
	for _, tc := range []struct {
		framing string
		channel channel.Framing
	}{{"line", channel.Line}, {"header", channel.LSP}} {
		t.Run(tc.framing, func(t *testing.T) {
			_, addr := startJetrpc(t, "-stream-framing", tc.framing)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c := jrpc2.NewClient(tc.channel(conn, conn), nil)
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var pong string
			if err := c.CallResult(ctx, "ping", nil, &pong); err != nil || pong != "pong" {
				t.Fatalf("ping: %q %v", pong, err)
			}
			var sum float64
			if err := c.CallResult(ctx, "add", []int{1, 2}, &sum); err != nil || sum != 3 {
				t.Fatalf("add: %v %v", sum, err)
			}
			rsps, err := c.Batch(ctx, []jrpc2.Spec{
				{Method: "add", Params: []int{1, 1}},
				{Method: "add", Params: map[string]int{"a": 2, "b": 2}},
				{Method: "ping"},
			})
			if err != nil || len(rsps) != 3 {
				t.Fatalf("batch: %v %v", rsps, err)
			}
			for i, want := range []string{"2", "4", `"pong"`} {
				if got := rsps[i].ResultString(); got != want {
					t.Errorf("batch item %d: %s, want %s", i, got, want)
				}
			}
		})
	}
}
