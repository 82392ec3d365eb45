package fastserver_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// stalledClient posts raw on a connection whose receive buffer is tiny
// and never reads: the server's write of an answer larger than the
// kernel's send buffer (up to tcp_wmem's 4 MiB on Linux) stalls. It is
// closed when the test ends.
func stalledClient(t *testing.T, addr, raw string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go c.Write([]byte(raw)) // a refused body may not be read at all
	return c
}

// TestBufferedBytesBound: answers nobody reads count against
// MaxBufferedBytes until they are written; past it every new call gets
// 503 instead of memory, a large body is refused before it is read, and
// when the clients leave the count returns to zero and calls are served.
func TestBufferedBytesBound(t *testing.T) {
	const max, blob = 16 << 20, 5 << 20
	e := testserver.Demo(t)
	payload := strings.Repeat("b", blob)
	if err := engine.Register(e, "blob", func(context.Context, struct{}) (string, error) { return payload, nil }); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := testserver.Serve(t, e, ln, fastserver.Config{MaxBodySize: 8 << 20, MaxBufferedBytes: max})
	addr, url := ln.Addr().String(), "http://"+ln.Addr().String()+fastserver.DefaultPath
	// Three stalled 5 MiB answers hold 15 MiB; a fourth call is still let
	// in (the bound is checked before a call runs) and reaches it.
	var stalled []net.Conn
	for i := range 4 {
		stalled = append(stalled, stalledClient(t, addr, post("/json-rpc", "", `{"jsonrpc":"2.0","method":"blob","id":1}`)))
		waitFor(t, "a stalled answer to be held", func() bool { return srv.BufferedBytes() >= int64(i+1)*blob })
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(pingBody))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("a ping past the bound: %d, want 503 with Retry-After", resp.StatusCode)
	}
	echo := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("e", 4<<20) + `"],"id":1}`
	if status, _, err := postTo(http.DefaultClient, url, echo); status != http.StatusServiceUnavailable {
		t.Errorf("a 4 MiB body past the bound: %d %v, want 503", status, err)
	}
	if b := srv.BufferedBytes(); b > max+blob {
		t.Errorf("%d bytes buffered, bound %d plus one answer", b, max)
	}
	for _, c := range stalled {
		c.Close()
	}
	waitFor(t, "the abandoned answers to be given up", func() bool { return srv.BufferedBytes() == 0 && srv.InFlight() == 0 })
	if status, body, err := postTo(http.DefaultClient, url, pingBody); status != 200 || body != pongAnswer {
		t.Errorf("after the stalled clients left: %d %s %v", status, body, err)
	}
}

// TestBufferedBytesUnderAttack: many clients post large echoes at once and
// never read. Bodies are counted from their headers and answers until
// written, so the count never passes the bound by more than an answer's
// envelope (a body's count passes to its answer), and the refused ones
// are refused before their bodies are read.
func TestBufferedBytesUnderAttack(t *testing.T) {
	const max, size, clients = 32 << 20, 6 << 20, 20
	srv, _, addr := serve(t, fastserver.Config{MaxBodySize: 8 << 20, MaxBufferedBytes: max})
	echo := post("/json-rpc", "", `{"jsonrpc":"2.0","method":"echo","params":["`+strings.Repeat("a", size)+`"],"id":1}`)
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // sample the count while the attack runs
		defer wg.Done()
		for {
			if b := srv.BufferedBytes(); b > peak.Load() {
				peak.Store(b)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	var conns []net.Conn
	for range clients {
		conns = append(conns, stalledClient(t, addr, echo))
	}
	waitFor(t, "the server to hold what it can", func() bool { return srv.BufferedBytes() > max-size-1024 })
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > max+1024 {
		t.Errorf("peak %d bytes buffered, bound %d", p, max)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "the count to return to zero", func() bool { return srv.BufferedBytes() == 0 && srv.InFlight() == 0 })
	t.Logf("peak %.1f MiB buffered with %d clients posting %s each", float64(peak.Load())/(1<<20), clients, strconv.Itoa(size>>20)+" MiB")
}
