package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/nethttp"
)

// demoURL serves the demo methods with the net/http adapter and returns
// the URL.
func demoURL(t *testing.T) string {
	t.Helper()
	e := engine.New()
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nethttp.New(e, nethttp.Config{}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDial: one constructor for every transport, CallFor for typed
// results, and the server's errors reading as what they are, data
// included.
func TestDial(t *testing.T) {
	url := demoURL(t)
	for name, opts := range map[string][]client.Option{
		"fasthttp": nil,
		"nethttp":  {client.WithHTTPClient(&http.Client{})},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := client.Dial(url, append(opts, client.WithHeader("X-Trace", "1"))...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			if sum, err := client.CallFor[float64](ctx, c, "add", []int{1, 2}); err != nil || sum != 3 {
				t.Errorf("CallFor add: %v %v", sum, err)
			}
			_, err = client.CallFor[float64](ctx, c, "add", map[string]string{"a": "x", "b": "y"})
			var rpcErr *codec.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != codec.CodeInvalidParams {
				t.Fatalf("bad params: %v", err)
			}
			if want := `jsonrpc error -32602: Invalid params: param "a": cannot use string as float64`; err.Error() != want {
				t.Errorf("the server's error reads %q, want %q", err, want)
			}
		})
	}
	if _, err := client.Dial("127.0.0.1:8080/json-rpc"); err == nil || !strings.Contains(err.Error(), "no scheme") {
		t.Errorf("a URL without a scheme: %v", err)
	}
	if _, err := client.Dial("gopher://x"); err == nil || !strings.Contains(err.Error(), `scheme "gopher" is not supported`) {
		t.Errorf("an unknown scheme: %v", err)
	}
}

// TestTrace: WithTrace writes each request and answer as jsonrpcclient
// does, with the HTTP status, refusals included, over both transports.
func TestTrace(t *testing.T) {
	url := demoURL(t)
	for name, opts := range map[string][]client.Option{
		"fasthttp": nil,
		"nethttp":  {client.WithHTTPClient(&http.Client{})},
	} {
		t.Run(name, func(t *testing.T) {
			var trace bytes.Buffer
			c, err := client.Dial(url, append(opts, client.WithTrace(&trace))...)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := c.Call(ctx, "ping", nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.Notify(ctx, "ping", nil); err != nil {
				t.Fatal(err)
			}
			want := `--> {"jsonrpc":"2.0","method":"ping","id":1}
<-- {"jsonrpc":"2.0","result":"pong","id":1} (200 OK)
--> {"jsonrpc":"2.0","method":"ping"}
<-- (204 No Content)
`
			if trace.String() != want {
				t.Errorf("trace:\n%s\nwant:\n%s", trace.String(), want)
			}
			trace.Reset()
			big := strings.Repeat("x", 5<<20)
			err = c.Call(ctx, "echo", []string{big}, nil)
			var httpErr *client.HTTPError
			if !errors.As(err, &httpErr) || httpErr.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("5 MiB echo: %v", err)
			}
			if lines := strings.Split(trace.String(), "\n"); len(lines) != 3 || lines[1] != "<-- request body too large (413 Request Entity Too Large)" {
				t.Errorf("a refusal traced as %q", lines[1:])
			}
		})
	}
}
