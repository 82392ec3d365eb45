package nethttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/nethttp"
)

// TestRun: cancelling Run's context stops the server, but Run returns only
// once the calls in flight were answered: a call released within the grace
// period with its result, a call still running at its end with "call
// cancelled".
func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name    string
		grace   time.Duration
		release bool
		want    string
	}{
		{"released", 10 * time.Second, true, `{"jsonrpc":"2.0","result":"released","id":1}`},
		{"cancelled", 100 * time.Millisecond, false, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"call cancelled"},"id":1}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := engine.New()
			started, release := make(chan struct{}), make(chan struct{})
			if err := e.RegisterRaw("hold", func(c *engine.Call) error {
				close(started)
				select {
				case <-release:
					return c.ResultString("released")
				case <-c.Context().Done():
					return c.Context().Err()
				}
			}); err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ran := make(chan error, 1)
			go func() { ran <- nethttp.Run(ctx, &http.Server{Handler: nethttp.New(e, nethttp.Config{})}, tt.grace, ln) }()
			answered := make(chan string, 1)
			go func() {
				resp, err := http.Post("http://"+ln.Addr().String(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"hold","id":1}`))
				if err != nil {
					answered <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				answered <- string(body)
			}()
			<-started
			cancel()
			if tt.release {
				select {
				case err := <-ran:
					t.Fatalf("Run returned %v with a call in flight", err)
				case <-time.After(50 * time.Millisecond): // Run is shutting down, and must keep waiting
				}
				close(release)
			}
			body := <-answered
			if err := <-ran; err != nil {
				t.Errorf("Run: %v", err)
			}
			if body != tt.want {
				t.Errorf("the call in flight answered %q, want %q", body, tt.want)
			}
		})
	}
}
