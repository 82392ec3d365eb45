package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/metrics"
	"github.com/valyala/fasthttp"
)

// A server with metrics and probes beside its JSON-RPC path; here it is
// called and scraped in process.
func Example() {
	m := metrics.New()
	e := engine.New(engine.WithMiddleware(m.Middleware()), engine.WithObserver(m))
	srv := fastserver.New(e, fastserver.Config{Observer: m})
	srv.Handle("/metrics", m.FastHTTPHandler())
	srv.Handle("/healthz", fastserver.Healthz)
	srv.Handle("/readyz", srv.Readyz)

	engine.RegisterNoParams(e, "ping", func(context.Context) (string, error) { return "pong", nil })
	for _, req := range []string{
		`{"jsonrpc":"2.0","method":"ping","id":1}`,
		`{"jsonrpc":"2.0","method":"ping","id":2}`,
		`{"jsonrpc":"2.0","method":"nope","id":3}`,
	} {
		e.Append(context.Background(), nil, []byte(req))
	}

	var scrape fasthttp.RequestCtx
	scrape.Request.SetRequestURI("/metrics")
	srv.HandleFastHTTP(&scrape)
	lines := bufio.NewScanner(bytes.NewReader(scrape.Response.Body()))
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "jetrpc_calls_total") || strings.HasPrefix(line, "jetrpc_call_duration_seconds_count") {
			fmt.Println(line)
		}
	}
	// Output:
	// jetrpc_call_duration_seconds_count{method="ping"} 2
	// jetrpc_calls_total{method="(unknown)"} 1
	// jetrpc_calls_total{method="ping"} 2
}
