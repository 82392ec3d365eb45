package fuzz

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
)

// TestIdleConnectionsRSS opens $JETRPC_IDLE keep-alive connections to
// `jetrpc serve` (1,000 by default, 10,000 with `make idle`), makes one call on
// each, holds them all open and idle, and reports the server's RSS before
// and with them, and checks the cost per connection against
// idleConnBytes. Bounded by the open-files limit of this process.
func TestIdleConnectionsRSS(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("JETRPC_IDLE"))
	if err != nil || n <= 0 {
		n = 1000 // make test; make idle opens 10,000
	}
	cmd, url := startJetrpc(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/json-rpc")
	time.Sleep(200 * time.Millisecond)
	before := rssOf(t, cmd.Process.Pid)
	req := []byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n" +
		`{"jsonrpc":"2.0","method":"ping","id":1}`)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		c.Write(req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	time.Sleep(2 * time.Second) // idle
	with := rssOf(t, cmd.Process.Pid)
	perConn := float64(with-before) / float64(n)
	t.Logf("jetrpc serve RSS: %.1f MiB idle, %.1f MiB with %d idle keep-alive connections (%.1f KiB each)",
		float64(before)/(1<<20), float64(with)/(1<<20), n, perConn/1024)
	if perConn > idleConnBytes {
		t.Errorf("%.1f KiB per idle connection, bound %d KiB", perConn/1024, idleConnBytes>>10)
	}
}

// idleConnBytes bounds what an idle keep-alive connection costs the
// server: its read buffer (MaxHeaderBytes), its write buffer, its
// goroutine and fasthttp's state, with room for the allocator's rounding.
const idleConnBytes = fastserver.DefaultMaxHeaderBytes + 32<<10
