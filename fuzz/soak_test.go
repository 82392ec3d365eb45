package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/valyala/bytebufferpool"
)

// soakRSSGrowth bounds how much the server's RSS may grow after warm-up:
// a leak of one buffer per call would pass it within seconds.
const soakRSSGrowth = 16 << 20

// TestSoak runs `jetrpc serve` under mixed valid and invalid traffic for
// $JETRPC_SOAK (e.g. 3m; `make soak`), then checks that no call was lost
// (sent = answered, each answer right), that the server's RSS stayed flat
// after warm-up, and that it still answers and stops cleanly.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("JETRPC_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set JETRPC_SOAK to a duration to soak (make soak)")
	}
	cmd, url := startJetrpc(t)
	tr, err := client.NewFastHTTP(url, client.WithTimeout(10*time.Second), client.WithMaxConns(64))
	if err != nil {
		t.Fatal(err)
	}

	var sent, answered, wrong atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			resp := bytebufferpool.Get()
			defer bytebufferpool.Put(resp)
			for i := 0; time.Now().Before(stop); i++ {
				body, want, prefix := soakRequest(rng, w, i)
				sent.Add(1)
				resp.Reset()
				var err error
				if resp.B, err = tr.RoundTrip(context.Background(), resp.B, []byte(body)); err != nil {
					wrong.Add(1)
					t.Errorf("worker %d request %d: %v", w, i, err)
					return
				}
				if (prefix == "" && !bytes.Equal(resp.B, []byte(want))) || (prefix != "" && !bytes.HasPrefix(resp.B, []byte(prefix))) {
					wrong.Add(1)
					t.Errorf("worker %d request %d: wrong answer\nsent %.200s\ngot  %.200s", w, i, body, resp.B)
					return
				}
				answered.Add(1)
			}
		}()
	}

	// The RSS curve, sampled every 2 s; warm-up is the first quarter.
	var curve []int64
	for time.Now().Before(stop) {
		time.Sleep(2 * time.Second)
		curve = append(curve, rssOf(t, cmd.Process.Pid))
	}
	wg.Wait()
	warm := curve[len(curve)/4]
	peak := warm
	for _, r := range curve[len(curve)/4:] {
		peak = max(peak, r)
	}
	var b strings.Builder
	for i, r := range curve {
		fmt.Fprintf(&b, " %ds:%.1f", 2*(i+1), float64(r)/(1<<20))
	}
	t.Logf("soak %v: %d requests sent, %d answered right, %d wrong; RSS MiB every 2s:%s", d, sent.Load(), answered.Load(), wrong.Load(), b.String())
	t.Logf("RSS after warm-up %.1f MiB, peak %.1f MiB (growth %.1f MiB, bound %d MiB)",
		float64(warm)/(1<<20), float64(peak)/(1<<20), float64(peak-warm)/(1<<20), soakRSSGrowth>>20)
	if sent.Load() != answered.Load() {
		t.Errorf("%d requests sent, %d answered", sent.Load(), answered.Load())
	}
	if peak-warm > soakRSSGrowth {
		t.Errorf("RSS grew %.1f MiB after warm-up, bound %d MiB", float64(peak-warm)/(1<<20), soakRSSGrowth>>20)
	}
	if answer, err := tr.RoundTrip(context.Background(), nil, []byte(`{"jsonrpc":"2.0","method":"ping","id":1}`)); err != nil ||
		string(answer) != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("after the soak: %s %v", answer, err)
	}
	stopJetrpc(t, cmd)
}

// startJetrpc builds `jetrpc serve` and starts it on a free port of
// 127.0.0.1; it returns the process and its URL. The process is killed at
// the end of the test if it is still running.
func startJetrpc(t *testing.T, args ...string) (*exec.Cmd, string) {
	return startJetrpcIn(t, "", args...)
}

// startJetrpcIn is startJetrpc through `sh -c`, with shell words before
// the command (such as "ulimit -v 1000000 && exec"); exec keeps the
// process's pid the server's own.
func startJetrpcIn(t *testing.T, shell string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jetrpc")
	build := exec.Command("go", "build", "-o", bin, "github.com/jetrpc/jetrpc/cmd/jetrpc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build does
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	argv := append([]string{bin, "serve", "-addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if shell != "" {
		cmd = exec.Command("sh", append([]string{"-c", shell + ` "$0" "$@"`}, argv...)...)
	}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "http://") {
		t.Fatalf("serve did not start: %q %v", line, err)
	}
	go io.Copy(io.Discard, stderr)
	return cmd, strings.Fields(line[strings.Index(line, "http://"):])[0]
}

// stopJetrpc sends SIGTERM to the server and checks that it exits 0.
func stopJetrpc(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("server did not stop on SIGTERM")
	}
}

// soakRequest returns a request and either its exact answer (want) or the
// prefix every right answer starts with: valid calls and batches, invalid
// JSON, invalid requests and invalid params.
func soakRequest(rng *rand.Rand, w, i int) (body, want, prefix string) {
	id := strconv.Itoa(w*10_000_000 + i)
	switch rng.IntN(10) {
	case 0:
		return `{"jsonrpc":"2.0","method":"add","params":["x",1],"id":` + id + `}`, "", `{"jsonrpc":"2.0","error":{"code":-32602`
	case 1:
		return `{"jsonrpc":"2.0","method":"echo","params":[` + id, "", `{"jsonrpc":"2.0","error":{"code":-32700`
	case 2:
		return `[1,{"method":"ping"}]`, "", `[{"jsonrpc":"2.0","error":{"code":-32600`
	case 3:
		return `{"jsonrpc":"2.0","method":"nope","id":` + id + `}`, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":` + id + `}`, ""
	}
	c := randomCall(rng, w, i, 0)
	if c.want == "" { // a notification: 204, no body
		return c.req, "", ""
	}
	return c.req, c.want, ""
}

// rssOf reads a process's resident set size from /proc.
func rssOf(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
