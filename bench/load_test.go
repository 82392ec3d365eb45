package bench_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// inMemory serves the demo methods on an in-memory listener and returns a
// Load aimed at it.
func inMemory(t testing.TB) bench.Load {
	t.Helper()
	dial := testserver.InMemory(t, testserver.Demo(t))
	return bench.Load{URL: "http://inmemory" + fastserver.DefaultPath, Concurrency: 8,
		Dial: func(string) (net.Conn, error) { return dial() }}
}

func TestLoadCountsExactly(t *testing.T) {
	for _, batch := range []int{1, 10} {
		l := inMemory(t)
		l.Requests = []bench.Template{bench.Call("add", []byte(`[1,2]`), batch)}
		l.N = 500
		rep, err := l.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Requests != 500 || rep.Errors != 0 || rep.LatencyUS.P50 <= 0 || rep.LatencyUS.Max < rep.LatencyUS.P99 {
			t.Errorf("batch %d: %+v", batch, rep)
		}
	}
}

func TestLoadClassifiesErrors(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Call("fail", nil, 1), bench.Call("nope", nil, 1), bench.Call("ping", nil, 1)}
	l.Weights = []int{1, 1, 2}
	l.N = 400
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fails, unknown := rep.ErrorsByKind["rpc_error_1000"], rep.ErrorsByKind["rpc_error_-32601"]
	if rep.Requests != 400 || rep.Errors != fails+unknown || fails < 50 || unknown < 50 || rep.Errors > 300 {
		t.Errorf("%+v", rep)
	}
	l.URL = "http://inmemory/wrong-path"
	l.Requests, l.Weights, l.N = []bench.Template{bench.Call("ping", nil, 1)}, nil, 20
	rep, _ = l.Run(context.Background())
	if rep.ErrorsByKind["http_404"] != 20 {
		t.Errorf("wrong path: %+v", rep)
	}
}

func TestLoadRawBody(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping"}`))} // a notification: 204
	l.N = 50
	rep, _ := l.Run(context.Background())
	if rep.Requests != 50 || rep.Errors != 0 {
		t.Errorf("%+v", rep)
	}
}

func TestLoadOpenLoopKeepsRate(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Call("ping", nil, 1)}
	l.Rate, l.Duration = 400, time.Second
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests < 340 || rep.Requests > 440 || rep.Errors != 0 {
		t.Errorf("open loop at 400/s for 1s: %+v", rep)
	}
}

// BenchmarkLoad measures the load generator's own cost per request
// against an in-memory server (whose path allocates nothing): allocs/op
// is the generator's.
func BenchmarkLoad(b *testing.B) {
	l := inMemory(b)
	l.Requests = []bench.Template{bench.Call("ping", nil, 1)}
	l.Concurrency = 1
	l.N = int64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := l.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// serving serves h on an in-memory listener and returns a Load of 10
// requests over 2 connections aimed at it.
func serving(t *testing.T, h fasthttp.RequestHandler) bench.Load {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Logger: log.New(io.Discard, "", 0), Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return bench.Load{URL: "http://inmemory/", Concurrency: 2, N: 10,
		Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

// fixed serves answer (with status) to every request, after delay.
func fixed(t *testing.T, status int, answer string, delay time.Duration) bench.Load {
	t.Helper()
	return serving(t, func(ctx *fasthttp.RequestCtx) {
		time.Sleep(delay)
		ctx.SetStatusCode(status)
		ctx.SetBodyString(answer)
	})
}

// TestLoadChecksEveryAnswer runs a raw body (two calls with ids 1 and
// "b", and a notification) against servers that answer it in every way,
// right and wrong, and checks how each run is classified.
func TestLoadChecksEveryAnswer(t *testing.T) {
	body := `[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},` +
		`{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"ping","id":"b"}]`
	one, b := `{"jsonrpc":"2.0","result":3,"id":1}`, `{"jsonrpc":"2.0","result":"pong","id":"b"}`
	for _, tc := range []struct {
		name, answer string
		status       int
		delay        time.Duration
		want         string // the error kind of every request; "" when right
	}{
		{"right", "[" + one + "," + b + "]", 200, 0, ""},
		{"right in any order", "[" + b + "," + one + "]", 200, 0, ""},
		{"error answer", `[` + one + `,{"jsonrpc":"2.0","error":{"code":-32601,"message":"no"},"id":"b"}]`, 200, 0, "rpc_error_-32601"},
		{"wrong id", "[" + one + `,{"jsonrpc":"2.0","result":1,"id":"c"}]`, 200, 0, "wrong_id"},
		{"id answered twice", "[" + one + "," + one + "]", 200, 0, "duplicate_id"},
		{"an answer short", "[" + one + "]", 200, 0, "wrong_count"},
		{"an answer too many", "[" + one + "," + b + "," + b + "]", 200, 0, "wrong_count"},
		{"nothing", "", 204, 0, "no_answer"},
		{"not JSON", "[" + one + ",", 200, 0, "invalid_json"},
		{"not an answer", `[{"jsonrpc":"2.0","id":1},` + b + "]", 200, 0, "invalid_answer"},
		{"HTTP error", "oops", 500, 0, "http_500"},
		{"too slow", "[" + one + "," + b + "]", 200, 300 * time.Millisecond, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := fixed(t, tc.status, tc.answer, tc.delay)
			l.Requests = []bench.Template{bench.Raw([]byte(body))}
			l.Timeout = 100 * time.Millisecond
			if tc.delay > 0 {
				l.N = 2
			}
			rep, err := l.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && (rep.Errors != 0 || rep.Requests != l.N):
				t.Errorf("want no errors: %+v", rep)
			case tc.want != "" && (rep.Errors != l.N || rep.ErrorsByKind[tc.want] != l.N):
				t.Errorf("want %d %s: %+v", l.N, tc.want, rep)
			}
		})
	}
}

func TestLoadTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: every connection is refused
	l := bench.Load{URL: "http://" + addr + "/", Requests: []bench.Template{bench.Call("ping", nil, 1)}, N: 5, Concurrency: 1}
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.ErrorsByKind["transport"] != 5 {
		t.Errorf("%+v", rep)
	}
}

// TestRawNotJSONRPC: a body that is not a valid request (a test of the
// server's refusals) is sent as is and only its answers' form is checked.
func TestRawNotJSONRPC(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Raw([]byte(`{"jsonrpc":"2.0","id":7}`))}
	l.N = 10
	rep, _ := l.Run(context.Background())
	if rep.Requests != 10 || rep.ErrorsByKind["rpc_error_-32600"] != 10 {
		t.Errorf("%+v", rep)
	}
}

// TestLoadTLS: an https endpoint, verified against its own CA, and refused
// (a transport failure) when it cannot be verified.
func TestLoadTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","result":"pong","id":7}`)
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	l := bench.Load{URL: srv.URL + "/json-rpc", Requests: []bench.Template{bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping","id":7}`))},
		N: 20, Concurrency: 2, TLS: &tls.Config{RootCAs: roots}}
	rep, err := l.Run(context.Background())
	if err != nil || rep.Requests != 20 || rep.Errors != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	l.TLS = nil // the system's roots do not know this server
	rep, _ = l.Run(context.Background())
	if rep.ErrorsByKind["transport"] != 20 {
		t.Errorf("unverified server: %+v", rep)
	}
}

// TestLoadHeaders: extra headers go with every request, may replace the
// content type, and may not break the request's framing.
func TestLoadHeaders(t *testing.T) {
	l := serving(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Request.Header.Peek("Authorization")) != "Bearer s3cret" ||
			string(ctx.Request.Header.ContentType()) != "application/json-rpc" || len(ctx.Request.Header.PeekAll("Content-Type")) != 1 {
			ctx.SetStatusCode(fasthttp.StatusForbidden)
			return
		}
		ctx.SetBodyString(`{"jsonrpc":"2.0","result":"pong","id":1}`)
	})
	l.Requests = []bench.Template{bench.Raw([]byte(`{"jsonrpc":"2.0","method":"ping","id":1}`))}
	l.Header = map[string]string{"Authorization": "Bearer s3cret", "content-type": "application/json-rpc"}
	if rep, err := l.Run(context.Background()); err != nil || rep.Errors != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	l.Header = map[string]string{"Authorization": "Bearer wrong"}
	if rep, _ := l.Run(context.Background()); rep.ErrorsByKind["http_403"] != 10 {
		t.Errorf("wrong token: %+v", rep)
	}
	for _, bad := range []map[string]string{
		{"X-A": "1\r\nX-Injected: 2"}, {"X A": "1"}, {"": "1"}, {"Content-Length": "5"}, {"host": "elsewhere"},
	} {
		l.Header = bad
		if _, err := l.Run(context.Background()); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestLoadHonestFigures: failures do not count as throughput, and the
// first message of each kind is kept.
func TestLoadHonestFigures(t *testing.T) {
	l := bench.Load{URL: "http://127.0.0.1:9/json-rpc", N: 20, Concurrency: 2, Requests: []bench.Template{bench.Call("ping", nil, 1)}}
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 0 || rep.RPS != 0 || rep.Errors != 20 || rep.Requests != 20 || rep.ErrorsPerSecond <= 0 ||
		rep.LatencyUS.P50 != 0 || !strings.HasPrefix(rep.FirstErrors["transport"], "transport: dial tcp 127.0.0.1:9: ") {
		t.Errorf("%+v", rep)
	}
	l = inMemory(t)
	l.Requests = []bench.Template{bench.Call("fail", nil, 1), bench.Call("ping", nil, 1)}
	l.N = 200
	rep, _ = l.Run(context.Background())
	if rep.OK+rep.Errors != 200 || rep.RPS != float64(rep.OK)/rep.DurationS ||
		!strings.HasPrefix(rep.FirstErrors["rpc_error_1000"], `rpc_error_1000: {"jsonrpc":"2.0","error":{"code":1000,"message":"fail"},"id":`) {
		t.Errorf("%+v", rep)
	}
	if len(rep.Seconds) == 0 || rep.Seconds[0].OK != rep.OK || len(rep.Histogram) != len(bench.HDRPercentiles) {
		t.Errorf("series %+v, histogram %+v", rep.Seconds, rep.Histogram)
	}
}

// TestLoadChecksLargeBatches: every call of a batch of any size is
// checked; an id answered twice past the 64th call is caught.
func TestLoadChecksLargeBatches(t *testing.T) {
	var dup atomic.Bool
	l := serving(t, func(ctx *fasthttp.RequestCtx) {
		var reqs []struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(ctx.PostBody(), &reqs)
		out := []byte{'['}
		for i, r := range reqs {
			id := r.ID
			if dup.Load() && i == 90 {
				id = reqs[80].ID
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"jsonrpc":"2.0","result":3,"id":`...)
			out = append(append(out, id...), '}')
		}
		ctx.SetBodyString(string(append(out, ']')))
	})
	l.Requests = []bench.Template{bench.Call("add", []byte(`[1,2]`), 100)}
	if rep, err := l.Run(context.Background()); err != nil || rep.Errors != 0 {
		t.Fatalf("right answers: %+v %v", rep, err)
	}
	dup.Store(true)
	if rep, _ := l.Run(context.Background()); rep.ErrorsByKind["duplicate_id"] != rep.Requests {
		t.Errorf("id 81 answered twice, in place of 91: %+v", rep)
	}
}
