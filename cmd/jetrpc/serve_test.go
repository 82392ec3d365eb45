package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/testserver"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// base is the server's root URL, without the JSON-RPC path.
func base(url string) string { return url[:strings.LastIndex(url, "/")] }

// TestServeEndpoints: on both transports, /healthz and /readyz answer 200,
// and /metrics serves standard Prometheus histograms that count the calls
// made; -metrics=false turns /metrics off.
func TestServeEndpoints(t *testing.T) {
	for _, transport := range []string{"fasthttp", "nethttp"} {
		t.Run(transport, func(t *testing.T) {
			url, stop := startServe(t, "-transport", transport)
			defer stop()
			for range 3 {
				post(t, url, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`)
			}
			post(t, url, `{"jsonrpc":"2.0","method":"nope","id":1}`)
			for _, p := range []string{"/healthz", "/readyz"} {
				if status, _ := testserver.Get(t, base(url)+p); status != 200 {
					t.Errorf("GET %s: %d", p, status)
				}
			}
			status, text := testserver.Get(t, base(url)+"/metrics")
			if status != 200 {
				t.Fatalf("GET /metrics: %d", status)
			}
			parser := expfmt.NewTextParser(model.UTF8Validation)
			families, err := parser.TextToMetricFamilies(strings.NewReader(text))
			if err != nil {
				t.Fatalf("Prometheus' parser: %v", err)
			}
			if !strings.Contains(text, "# HELP jetrpc_call_duration_seconds ") || !strings.Contains(text, "# TYPE jetrpc_call_duration_seconds histogram") {
				t.Error("no HELP or TYPE for the duration histogram")
			}
			if got := countOf(families["jetrpc_call_duration_seconds"], "method", "add"); got != 3 {
				t.Errorf("add: _count %d, want 3", got)
			}
			if f := families["jetrpc_http_requests_total"]; f == nil || len(f.Metric) == 0 {
				t.Error("no jetrpc_http_requests_total")
			}
			if f := families["jetrpc_open_connections"]; f == nil || f.Metric[0].GetGauge().GetValue() < 1 {
				t.Error("no open connection counted")
			}
		})
	}
	url, stop := startServe(t, "-metrics=false")
	defer stop()
	if status, _ := testserver.Get(t, base(url)+"/metrics"); status != 404 {
		t.Errorf("-metrics=false: GET /metrics %d, want 404", status)
	}
}

func countOf(f *dto.MetricFamily, label, value string) uint64 {
	if f == nil {
		return 0
	}
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// TestServeDrain: on a signal with -drain-delay, /readyz answers 503 within
// 100 ms while calls under steady load are still answered for the delay;
// then the listener closes and serve exits 0. No call sent before the
// listener closed fails (a call refused at dial was never sent).
func TestServeDrain(t *testing.T) {
	for _, transport := range []string{"fasthttp", "nethttp"} {
		t.Run(transport, func(t *testing.T) {
			const delay = 600 * time.Millisecond
			url, stop := startServe(t, "-transport", transport, "-drain-delay", delay.String(), "-grace", "2s")
			var answered, failed, refused atomic.Int64
			var firstFailure atomic.Value
			var signalled atomic.Int64 // unix nanos of the signal, 0 before
			var answeredAfter atomic.Int64
			done := make(chan struct{})
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := &http.Client{Timeout: 5 * time.Second}
					for {
						select {
						case <-done:
							return
						default:
						}
						resp, err := c.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"ping","id":1}`))
						if err != nil {
							var op *net.OpError
							if errors.As(err, &op) && op.Op == "dial" {
								refused.Add(1) // after the listener closed: never sent
								time.Sleep(time.Millisecond)
								continue
							}
							failed.Add(1)
							firstFailure.CompareAndSwap(nil, err.Error())
							continue
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 || string(b) != `{"jsonrpc":"2.0","result":"pong","id":1}` {
							failed.Add(1)
							firstFailure.CompareAndSwap(nil, string(b))
							continue
						}
						answered.Add(1)
						if signalled.Load() != 0 {
							answeredAfter.Add(1)
						}
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			exited := make(chan int, 1)
			signalled.Store(time.Now().UnixNano())
			go func() { exited <- stop() }()
			start := time.Now()
			for {
				status, _ := testserver.Get(t, base(url)+"/readyz")
				if status == 503 {
					break
				}
				if time.Since(start) > 100*time.Millisecond {
					t.Fatalf("/readyz still %d %v after the signal", status, time.Since(start))
				}
			}
			time.Sleep(delay / 2)
			if status, _ := testserver.Get(t, base(url)+"/readyz"); status != 503 {
				t.Errorf("/readyz %d halfway through the drain", status)
			}
			before := answeredAfter.Load()
			time.Sleep(delay / 4)
			if answeredAfter.Load() == before {
				t.Error("no call answered during the drain delay")
			}
			code := <-exited
			close(done)
			wg.Wait()
			if code != 0 {
				t.Errorf("exit %d", code)
			}
			if since := time.Since(start); since < delay {
				t.Errorf("exited %v after the signal, before the drain delay", since)
			}
			if failed.Load() != 0 {
				t.Errorf("%d calls failed (first: %v); %d answered, %d refused at dial", failed.Load(), firstFailure.Load(), answered.Load(), refused.Load())
			}
		})
	}
}

func TestServeRefusesIgnoredFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-transport", "nethttp", "-max-inflight", "5", "-max-conns", "9"}, "-transport nethttp does not use -max-conns, -max-inflight"},
		{[]string{"-transport", "nethttp", "-max-conns-per-ip", "2"}, "does not use -max-conns-per-ip"},
		{[]string{"-baseline", "-metrics=false"}, "-baseline does not use -metrics"},
		{[]string{"-baseline", "-drain-delay", "1s"}, "-baseline does not use -drain-delay"},
		{[]string{"-baseline-answer", "x"}, "-baseline-answer goes with -baseline"},
		{[]string{"-log-format", "xml"}, "-log-format must be text or json"},
		{[]string{"-log-level", "loud"}, "invalid value"},
		{[]string{"extra"}, "serve takes no arguments"},
	} {
		var errOut strings.Builder
		if code := run(context.Background(), append([]string{"serve"}, tc.args...), io.Discard, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeCallLogs: -log-level debug logs every call, and a rejected
// request, as JSON with -log-format json.
func TestServeCallLogs(t *testing.T) {
	var log syncBuffer
	url, stop := startServeLogging(t, &log, "-log-level", "debug", "-log-format", "json")
	post(t, url, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}`)
	post(t, url, `{"jsonrpc":"2.0","method":"nope","id":8}`)
	stop()
	var calls []map[string]any
	for _, line := range strings.Split(log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "jetrpc call" {
			calls = append(calls, rec)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("%d call records in:\n%s", len(calls), log.String())
	}
	for i, want := range []map[string]any{
		{"method": "add", "id": "7", "code": 0.0},
		{"method": "nope", "id": "8", "code": -32601.0},
	} {
		for k, v := range want {
			if calls[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v", i, k, calls[i][k], v)
			}
		}
		if r, _ := calls[i]["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
			t.Errorf("record %d: remote %v", i, calls[i]["remote"])
		}
	}
	if _, ok := calls[0]["duration"]; !ok {
		t.Error("no duration")
	}
	// At the default level, no call is logged.
	log = syncBuffer{}
	url, stop = startServeLogging(t, &log)
	post(t, url, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}`)
	stop()
	if strings.Contains(log.String(), "jetrpc call") {
		t.Errorf("a call logged at the default level:\n%s", log.String())
	}
}
