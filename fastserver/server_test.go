package fastserver_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/spectest"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// startServer serves the demo methods on an in-memory listener and returns
// a client dialling it.
func startServer(t *testing.T, cfg fastserver.Config) (*fastserver.Server, *fasthttp.Client) {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := testserver.Serve(t, testserver.Demo(t), ln, cfg)
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	return srv, c
}

type answer struct {
	status      int
	contentType string
	body        string
	header      *fasthttp.ResponseHeader
}

func do(t *testing.T, c *fasthttp.Client, method, path, body string) answer {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://jetrpc" + path)
	req.Header.SetMethod(method)
	req.Header.SetContentType("application/json")
	req.SetBodyString(body)
	if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	h := &fasthttp.ResponseHeader{}
	resp.Header.CopyTo(h)
	return answer{resp.StatusCode(), string(resp.Header.ContentType()), string(resp.Body()), h}
}

func TestSpecificationOverHTTP(t *testing.T) {
	_, c := startServer(t, fastserver.Config{})
	for _, tc := range spectest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			a := do(t, c, "POST", fastserver.DefaultPath, tc.In)
			if tc.Want == "" {
				if a.status != fasthttp.StatusNoContent || a.body != "" {
					t.Errorf("got %d %q, want 204 and no body", a.status, a.body)
				}
				return
			}
			if a.status != fasthttp.StatusOK || a.contentType != "application/json" || a.body != tc.Want {
				t.Errorf("got %d %s %s\nwant 200 application/json %s", a.status, a.contentType, a.body, tc.Want)
			}
		})
	}
}

func TestHTTPSemantics(t *testing.T) {
	_, c := startServer(t, fastserver.Config{Path: "/rpc", MaxBodySize: 1024})
	ping := `{"jsonrpc":"2.0","method":"ping","id":1}`
	for _, method := range []string{"GET", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		a := do(t, c, method, "/rpc", ping)
		if a.status != fasthttp.StatusMethodNotAllowed || string(a.header.Peek("Allow")) != "POST" {
			t.Errorf("%s: got %d Allow=%q, want 405 Allow=POST", method, a.status, a.header.Peek("Allow"))
		}
	}
	if a := do(t, c, "POST", "/json-rpc", ping); a.status != fasthttp.StatusNotFound {
		t.Errorf("other path: got %d, want 404", a.status)
	}
	if a := do(t, c, "POST", "/rpc", ping); a.status != 200 || a.body != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("configured path: got %d %s", a.status, a.body)
	}
	big := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 2000) + `"],"id":1}`
	if a := do(t, c, "POST", "/rpc", big); a.status != fasthttp.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: got %d, want 413", a.status)
	}
	// The server keeps serving after each refusal.
	if a := do(t, c, "POST", "/rpc", ping); a.status != 200 {
		t.Errorf("after refusals: got %d", a.status)
	}
}

func TestConfigDefaults(t *testing.T) {
	srv := fastserver.New(engine.New(), fastserver.Config{})
	cfg := srv.Config()
	if cfg.Addr != "127.0.0.1:8080" || cfg.Path != "/json-rpc" || cfg.MaxBodySize != 4<<20 ||
		cfg.ReadTimeout != 30*time.Second || cfg.IdleTimeout != 2*time.Minute {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestShutdownCancelsSleepers(t *testing.T) {
	srv, c := startServer(t, fastserver.Config{})
	got := make(chan answer, 1)
	go func() {
		got <- do(t, c, "POST", fastserver.DefaultPath, `{"jsonrpc":"2.0","method":"sleep","params":{"ms":200},"id":1}`)
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.status != 200 || !strings.Contains(a.body, `"id":1`) {
		t.Errorf("in-flight call during shutdown: %d %s", a.status, a.body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
}
