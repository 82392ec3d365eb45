package fastserver_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/spectest"
	"github.com/jetrpc/jetrpc/internal/streamtest"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// serveLoopback serves the demo with cfg on 127.0.0.1 and returns its
// WebSocket URL.
func serveLoopback(t *testing.T, cfg fastserver.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testserver.Serve(t, testserver.Demo(t), ln, cfg)
	return "ws://" + ln.Addr().String() + fastserver.DefaultPath
}

// TestSpecificationOverWebSocket runs the specification's table through
// the server's own upgrade: the answers HTTP gives, and no frame where it
// answers 204.
func TestSpecificationOverWebSocket(t *testing.T) {
	c, err := streamtest.DialWebSocket(serveLoopback(t, fastserver.Config{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range spectest.Cases {
		if err := c.Send(tc.In); err != nil {
			t.Fatal(err)
		}
		if tc.Want != "" {
			if got, err := c.Recv(5 * time.Second); err != nil || got != tc.Want {
				t.Errorf("%s:\n got %s %v\nwant %s", tc.Name, got, err, tc.Want)
			}
		}
		if got, err := c.Call(`{"jsonrpc":"2.0","method":"ping","id":"marker"}`); err != nil || !strings.Contains(got, `"marker"`) {
			t.Errorf("%s: got %s %v, want the marker's answer", tc.Name, got, err)
		}
	}
}

// TestWebSocketOrigins: a browser page from another origin is refused
// (403) unless listed; programs (no Origin) and the same host are not.
func TestWebSocketOrigins(t *testing.T) {
	url := serveLoopback(t, fastserver.Config{WebSocketOrigins: []string{"https://app.example"}})
	host := strings.TrimPrefix(strings.TrimSuffix(url, fastserver.DefaultPath), "ws://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"", true}, {"http://" + host, true}, {"https://app.example", true}, {"https://evil.example", false}} {
		h := map[string]string{}
		if tc.origin != "" {
			h["Origin"] = tc.origin
		}
		c, err := streamtest.DialWebSocket(url, h)
		if tc.ok != (err == nil) {
			t.Errorf("origin %q: %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err == nil {
			c.Close()
		} else if !strings.Contains(err.Error(), "403") {
			t.Errorf("origin %q refused with %v, want 403", tc.origin, err)
		}
	}
	if _, err := streamtest.DialWebSocket(serveLoopback(t, fastserver.Config{NoWebSocket: true}), nil); err == nil || !strings.Contains(err.Error(), "405") {
		t.Errorf("NoWebSocket: %v, want 405", err)
	}
}

// TestWebSocketMessageSize: the default message limit is MaxBodySize;
// over it the connection closes with 1009.
func TestWebSocketMessageSize(t *testing.T) {
	c, err := streamtest.DialWebSocket(serveLoopback(t, fastserver.Config{MaxBodySize: 1024}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := c.Call(`{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 900) + `"],"id":1}`); err != nil || !strings.HasSuffix(got, `"id":1}`) {
		t.Fatalf("under the limit: %.60s %v", got, err)
	}
	_, err = c.Call(`{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 1100) + `"],"id":2}`)
	var ce *streamtest.CloseError
	if !errors.As(err, &ce) || ce.Code != 1009 {
		t.Fatalf("over the limit: %v, want close 1009", err)
	}
}
