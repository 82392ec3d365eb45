// Package testserver starts jetrpc servers for tests: an engine with the
// demo methods and a quiet logger, served by fastserver on an in-memory
// listener or on 127.0.0.1, and shut down when the test ends.
package testserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/valyala/fasthttp/fasthttputil"
)

// Quiet is a logger that writes nothing.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Demo returns an engine with the demo methods, logging nowhere, with opts
// after the logger (so that a test can still choose its own).
func Demo(t testing.TB, opts ...engine.Option) *engine.Engine {
	t.Helper()
	e := engine.New(append([]engine.Option{engine.WithLogger(Quiet)}, opts...)...)
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	return e
}

// Serve serves e with cfg on ln until the test ends; then it shuts the
// server down and fails the test if Serve or Shutdown did. The grace is
// 10 s because fasthttp (like net/http) counts a connection that has not
// sent a request yet as idle, and so closes it, only after 5 s: net/http
// clients dial such spare connections.
func Serve(t testing.TB, e *engine.Engine, ln net.Listener, cfg fastserver.Config) *fastserver.Server {
	t.Helper()
	srv := fastserver.New(e, cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, fastserver.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv
}

// InMemory serves e (default config) on an in-memory listener and returns
// a dial function for it.
func InMemory(t testing.TB, e *engine.Engine) func() (net.Conn, error) {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	Serve(t, e, ln, fastserver.Config{})
	return func() (net.Conn, error) { return ln.Dial() }
}

// Loopback serves e (default config) on a free port of 127.0.0.1 and
// returns its host:port.
func Loopback(t testing.TB, e *engine.Engine) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	Serve(t, e, ln, fastserver.Config{})
	return ln.Addr().String()
}

// Get fetches url with net/http and returns the status and the body; a
// failed request fails the test.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
