package fastserver_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/valyala/fasthttp"
)

// observed records what an Observer is told.
type observed struct {
	mu    sync.Mutex
	http  []string
	conns int
}

func (o *observed) ObserveHTTP(status, in, out int) {
	o.mu.Lock()
	o.http = append(o.http, fmt.Sprintf("%d %d %d", status, in, out))
	o.mu.Unlock()
}

func (o *observed) ObserveConns(delta int) {
	o.mu.Lock()
	o.conns += delta
	o.mu.Unlock()
}

func (o *observed) snapshot() ([]string, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.http), o.conns
}

// serveWithProbes serves the demo engine with /healthz, /readyz and a
// /extra handler beside the JSON-RPC path.
func serveWithProbes(t *testing.T, cfg fastserver.Config) (*fastserver.Server, string) {
	t.Helper()
	srv := fastserver.New(testserver.Demo(t), cfg)
	srv.Handle("/healthz", fastserver.Healthz)
	srv.Handle("/readyz", srv.Readyz)
	srv.Handle("/extra", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("extra") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { shutdown(srv, time.Second) })
	return srv, "http://" + ln.Addr().String()
}

func TestProbesAndDrain(t *testing.T) {
	srv, base := serveWithProbes(t, fastserver.Config{})
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/healthz", 200, "ok\n"}, {"/readyz", 200, "ready\n"}, {"/extra", 200, "extra"}, {"/other", 404, ""},
	} {
		if status, body := testserver.Get(t, base+tc.path); status != tc.status || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, status, body, tc.status, tc.body)
		}
	}
	// A keep-alive connection before the drain stays open after an answer.
	addr := strings.TrimPrefix(base, "http://")
	raw := "POST " + fastserver.DefaultPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
		fmt.Sprint(len(pingBody)) + "\r\n\r\n" + pingBody
	if resp, _, _ := rawExchange(t, addr, raw); resp.Close {
		t.Error("Connection: close before the drain")
	}
	srv.Drain()
	if srv.Ready() {
		t.Error("ready after Drain")
	}
	if status, body := testserver.Get(t, base+"/readyz"); status != 503 || body != "draining\n" {
		t.Errorf("GET /readyz while draining: %d %q", status, body)
	}
	if status, _ := testserver.Get(t, base+"/healthz"); status != 200 {
		t.Errorf("GET /healthz while draining: %d", status)
	}
	// Calls are still answered, each ending its connection.
	resp, body, _ := rawExchange(t, addr, raw)
	if resp.StatusCode != 200 || body != pongAnswer || !resp.Close {
		t.Errorf("a call while draining: %d %s, Connection: close %v", resp.StatusCode, body, resp.Close)
	}
}

func TestObserverSeesEveryRequest(t *testing.T) {
	obs := &observed{}
	_, base := serveWithProbes(t, fastserver.Config{Observer: obs, MaxBodySize: 1000, MaxConnsPerIP: 3})
	url := base + fastserver.DefaultPath
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	postTo(client, url, pingBody)
	postTo(client, url, `{"jsonrpc":"2.0","method":"ping"}`)
	client.Get(url)
	if resp, err := client.Post(url, "text/plain", strings.NewReader(pingBody)); err == nil {
		resp.Body.Close()
	}
	postTo(client, url, `[`+strings.Repeat(`1,`, 600)+`1]`)
	client.Get(base + "/healthz") // not JSON-RPC: not observed
	// Past MaxConnsPerIP: 429 before a byte is read (once the connections
	// above, which may linger after a refusal, are gone).
	waitFor(t, "the earlier connections to close", func() bool { _, n := obs.snapshot(); return n == 0 })
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("P")) // used: not closed at once
		held = append(held, c)
	}
	waitFor(t, "three open connections", func() bool { _, n := obs.snapshot(); return n == 3 })
	// The refusal is written as the connection is taken, before any
	// request: read it on a raw connection (Go's client would call it an
	// unsolicited response).
	refused, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(refused), nil)
	if err != nil || resp.StatusCode != 429 {
		t.Errorf("past MaxConnsPerIP: %v %v", resp, err)
	}
	refused.Close()
	for _, c := range held {
		c.Close()
	}
	waitFor(t, "the connections to close", func() bool { _, n := obs.snapshot(); return n == 0 })
	got, _ := obs.snapshot()
	// Status and request bytes; the answer bytes of a refusal are its text.
	want := []string{
		fmt.Sprintf("200 %d %d", len(pingBody), len(pongAnswer)),
		"204 33 0",
		"405 0 ",
		"415 40 ",
		"413 1203 ",
		"429 0 ",
		"400 0 ", "400 0 ", "400 0 ", // the held connections' "P", closed
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("observed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
