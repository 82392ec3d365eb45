package nethttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/nethttp"
)

type observed struct {
	mu   sync.Mutex
	seen []string
}

func (o *observed) ObserveHTTP(status, in, out int) {
	o.mu.Lock()
	o.seen = append(o.seen, fmt.Sprintf("%d %d %d", status, in, out))
	o.mu.Unlock()
}

func TestProbesDrainAndObserver(t *testing.T) {
	obs := &observed{}
	h := nethttp.New(testserver.Demo(t), nethttp.Config{Observer: obs, MaxBodySize: 100})
	mux := http.NewServeMux()
	mux.Handle("/json-rpc", h)
	mux.Handle("/healthz", nethttp.Healthz)
	mux.Handle("/readyz", h.Readyz())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path, ctype, body string) (int, string, bool) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Close
	}
	const ping = `{"jsonrpc":"2.0","method":"ping","id":1}`
	if s, b, _ := do("GET", "/healthz", "", ""); s != 200 || b != "ok\n" {
		t.Errorf("healthz: %d %q", s, b)
	}
	if s, b, _ := do("GET", "/readyz", "", ""); s != 200 || b != "ready\n" {
		t.Errorf("readyz: %d %q", s, b)
	}
	if _, _, closed := do("POST", "/json-rpc", "application/json", ping); closed {
		t.Error("Connection: close before the drain")
	}
	do("GET", "/json-rpc", "", "")
	do("POST", "/json-rpc", "text/plain", ping)
	do("POST", "/json-rpc", "application/json", strings.Repeat(" ", 101))
	do("POST", "/json-rpc", "application/json", `{"jsonrpc":"2.0","method":"ping"}`)
	h.Drain()
	if s, b, _ := do("GET", "/readyz", "", ""); s != 503 || b != "draining\n" {
		t.Errorf("readyz while draining: %d %q", s, b)
	}
	if s, b, closed := do("POST", "/json-rpc", "application/json", ping); s != 200 || !strings.Contains(b, "pong") || !closed {
		t.Errorf("a call while draining: %d %s, Connection: close %v", s, b, closed)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{"200 40 40", "405 0 19", "415 40 38", "413 101 23", "204 33 0", "200 40 40"}
	if !slices.Equal(obs.seen, want) {
		t.Errorf("observed %q, want %q", obs.seen, want)
	}
}
