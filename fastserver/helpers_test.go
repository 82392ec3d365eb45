package fastserver_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// hold is a method that tells the test it started and then waits to be
// released, or for its context to end (answering its error).
type hold struct {
	started chan struct{}
	release chan struct{}
}

func newHold(t testing.TB, e *engine.Engine) *hold {
	h := &hold{started: make(chan struct{}, 1000), release: make(chan struct{})}
	if err := e.RegisterRaw("hold", func(c *engine.Call) error {
		h.started <- struct{}{}
		select {
		case <-h.release:
			return c.ResultString("released")
		case <-c.Context().Done():
			return c.Context().Err()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// serve serves the demo methods and hold with cfg on a fresh listener (a
// free port of 127.0.0.1, or cfg.Unix) until the test ends, and returns the
// server, its hold method and its address.
func serve(t *testing.T, cfg fastserver.Config) (*fastserver.Server, *hold, string) {
	t.Helper()
	e := testserver.Demo(t)
	h := newHold(t, e)
	network, addr := "tcp", "127.0.0.1:0"
	if cfg.Unix != "" {
		network, addr = "unix", cfg.Unix
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return testserver.Serve(t, e, ln, cfg), h, ln.Addr().String()
}

const (
	pingBody   = `{"jsonrpc":"2.0","method":"ping","id":1}`
	pongAnswer = `{"jsonrpc":"2.0","result":"pong","id":1}`
	holdBody   = `{"jsonrpc":"2.0","method":"hold","id":1}`
)

func postTo(client *http.Client, url, body string) (int, string, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// rawExchange writes raw to a new connection to addr and reads one
// answer; the connection stays open for the caller (closed at the end of
// the test).
func rawExchange(t *testing.T, addr, raw string) (*http.Response, string, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to %.60q: %v", raw, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body), c
}

// waitFor waits until cond holds, for a state of the server that no event
// announces (a connection it has closed, an answer it has given up on);
// it fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// shutdown shuts srv down with the given grace and returns Shutdown's
// error.
func shutdown(srv *fastserver.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(ctx)
}
