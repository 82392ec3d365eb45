package fastserver_test

import (
	"net"
	"testing"
	"time"

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
	return answer{resp.StatusCode(), string(resp.Header.ContentType()), string(resp.Body())}
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
