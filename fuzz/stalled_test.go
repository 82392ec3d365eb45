package fuzz

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
)

// Bounds of TestStalledReaders: the server's RSS with the attack on, and
// how close to where it started it must come back once the attack ends.
const (
	stalledPeakRSS   = 2*fastserver.DefaultMaxBufferedBytes + 64<<20
	stalledRSSMargin = 32 << 20
)

// TestStalledReaders: 200 clients post a 4 MiB echo each and never read
// the answer, against `jetrpc serve` under a 1 GB address-space limit
// (ulimit -v 1000000). The server survives: it holds at most
// MaxBufferedBytes of bodies and answers and refuses the rest with 503, so
// its RSS stays under stalledPeakRSS; when the clients leave, its RSS comes
// back to within stalledRSSMargin of where it started, and it answers a
// ping and stops cleanly.
func TestStalledReaders(t *testing.T) {
	cmd, url := startJetrpcIn(t, "ulimit -v 1000000 && exec")
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), fastserver.DefaultPath)
	for range 100 { // warm up
		stillServes(t, addr)
	}
	before := rssOf(t, cmd.Process.Pid)

	body := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("s", 4<<20-64) + `"],"id":1}`
	req := []byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error { // a tiny window: the server's writes stall
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	var conns []net.Conn
	var sent sync.WaitGroup
	for i := range 200 {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer c.Close()
		conns = append(conns, c)
		sent.Add(1)
		go func() {
			defer sent.Done()
			c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			c.Write(req)
		}()
	}
	var peak int64
	done := make(chan struct{})
	go func() { sent.Wait(); close(done) }()
	for sampling := true; sampling; {
		select {
		case <-done:
			sampling = false
		case <-time.After(20 * time.Millisecond):
		}
		peak = max(peak, rssOf(t, cmd.Process.Pid))
	}
	// Past the bound, a new call gets 503 rather than memory.
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"ping","id":1}`))
	if err != nil {
		t.Fatalf("the server with 200 stalled clients: %v", err)
	}
	resp.Body.Close()
	t.Logf("RSS %.1f MiB before, peak %.1f MiB with 200 stalled 4 MiB readers; a ping meanwhile got %d",
		float64(before)/(1<<20), float64(peak)/(1<<20), resp.StatusCode)
	if peak > stalledPeakRSS {
		t.Errorf("peak RSS %.1f MiB, bound %.1f MiB", float64(peak)/(1<<20), float64(stalledPeakRSS)/(1<<20))
	}
	for _, c := range conns {
		c.Close()
	}
	start := time.Now()
	var after int64
	for {
		after = rssOf(t, cmd.Process.Pid)
		if after <= before+stalledRSSMargin || time.Since(start) > 20*time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond) // RSS is a reading, not an event
	}
	t.Logf("RSS %.1f MiB %v after the clients left", float64(after)/(1<<20), time.Since(start).Round(time.Millisecond))
	if after > before+stalledRSSMargin {
		t.Errorf("RSS %.1f MiB after the attack, %.1f MiB before", float64(after)/(1<<20), float64(before)/(1<<20))
	}
	stillServes(t, addr)
	stopJetrpc(t, cmd)
}
