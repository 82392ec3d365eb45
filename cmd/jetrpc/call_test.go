package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
)

func TestCall(t *testing.T) {
	url, stop := startServe(t)
	defer stop()
	tests := []struct {
		name       string
		args       []string
		code       int
		out, errOf string
	}{
		{"result", []string{"add", "[1,2]"}, 0, "3\n", ""},
		{"by name", []string{"add", `{"a":0.5,"b":0.25}`}, 0, "0.75\n", ""},
		{"no params", []string{"ping"}, 0, "\"pong\"\n", ""},
		{"pretty UTF-8", []string{"echo", `{"message":{"k":["h\u00e9llo",[],{}],"n":null}}`}, 0,
			"{\n  \"k\": [\n    \"héllo\",\n    [],\n    {}\n  ],\n  \"n\": null\n}\n", ""},
		{"header", []string{"-H", "Authorization: Bearer x", "ping"}, 0, "\"pong\"\n", ""},
		{"notify", []string{"-notify", "add", "[1,2]"}, 0, "", ""},
		{"rpc error", []string{"fail"}, 1, "", "error 1000: fail\n"},
		{"rpc error with data", []string{"add", `["x",1]`}, 1, "", "error -32602: Invalid params\ndata: \"param \\\"a\\\": cannot use string as float64\"\n"},
		{"unknown method", []string{"nope"}, 1, "", "error -32601: Method not found\n"},
		{"bad params", []string{"add", "1,2"}, 2, "", "jetrpc: PARAMS is not valid JSON: invalid character ',' after top-level value at offset 1 of \"1,2\"\n"},
		{"truncated params", []string{"add", "[1, 2"}, 2, "", "jetrpc: PARAMS is not valid JSON: unexpected end of JSON input at offset 5 of \"[1, 2\"\n"},
		{"scalar params", []string{"add", "1"}, 2, "", "jetrpc: PARAMS must be a JSON array or object, not the number 1 (for one param, write [1])\n"},
		{"no method", []string{}, 2, "", "jetrpc: call needs a METHOD\nusage: jetrpc call"},
		{"flag after method", []string{"add", "-H", "X-A: b", "[1,2]"}, 0, "3\n", ""},
		{"flag after params", []string{"add", "[1,2]", "-timeout", "5s"}, 0, "3\n", ""},
		{"extra argument", []string{"add", "[1,", "2]"}, 2, "", `jetrpc: unexpected argument "2]" after METHOD and PARAMS (quote PARAMS as one argument)`},
		{"unknown flag after method", []string{"add", "-x"}, 2, "", "flag provided but not defined: -x"},
		{"verbose", []string{"-v", "ping"}, 0, "\"pong\"\n", "--> {\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}\n<-- {\"jsonrpc\":\"2.0\",\"result\":\"pong\",\"id\":1} (200 OK)\n"},
		{"bad header", []string{"-H", "nocolon", "ping"}, 2, "", "is not 'Name: value'"},
		{"timeout", []string{"-timeout", "50ms", "sleep", `{"ms":2000}`}, 2, "", "jetrpc: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(context.Background(), append([]string{"call", "-url", url}, tt.args...), &out, &errOut)
			if code != tt.code || out.String() != tt.out || !strings.Contains(errOut.String(), tt.errOf) {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant %d, %q, %q…", code, out.String(), errOut.String(), tt.code, tt.out, tt.errOf)
			}
		})
	}
}

// TestCallURLWithoutScheme: a URL without a scheme means http://.
func TestCallURLWithoutScheme(t *testing.T) {
	url, stop := startServe(t)
	defer stop()
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"call", "-url", strings.TrimPrefix(url, "http://"), "ping"}, &out, &errOut); code != 0 || out.String() != "\"pong\"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "-version"} {
		var out, errOut strings.Builder
		if code := run(context.Background(), []string{arg}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "jetrpc ") || !strings.Contains(out.String(), " go1.") {
			t.Errorf("%s: exit %d, stdout %q", arg, code, out.String())
		}
	}
}

func TestCallTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"call", "-url", "http://" + addr + "/json-rpc", "ping"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "client: transport: ") {
		t.Errorf("exit %d, stderr %q; want 2 and a transport error", code, errOut.String())
	}
}

func TestBenchCommand(t *testing.T) {
	url, stop := startServe(t)
	defer stop()
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"bench", "-url", url, "-method", "add", "-params", "[1,2]", "-c", "4", "-n", "300", "-json"}, &out, &errOut)
	var rep struct {
		Requests  int64   `json:"requests"`
		Errors    int64   `json:"errors"`
		RPS       float64 `json:"rps"`
		LatencyUS struct {
			P50, P99, Max int64
		} `json:"latency_us"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil || code != 0 || rep.Requests != 300 || rep.Errors != 0 || rep.RPS <= 0 || rep.LatencyUS.P50 <= 0 {
		t.Errorf("exit %d, %v, report %s (%+v), stderr %s", code, err, out.String(), rep, errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"bench", "-url", url, "-method", "fail", "-n", "20", "-c", "2"}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "rpc_error_1000") {
		t.Errorf("failing calls: exit %d, report %s", code, out.String())
	}
	if code := run(context.Background(), []string{"bench", "-url", url, "-method", "fail", "-n", "5", "-c", "1", "-allow-errors"}, &out, &errOut); code != 0 {
		t.Errorf("-allow-errors: exit %d", code)
	}
	mix := t.TempDir() + "/mix.jsonl"
	os.WriteFile(mix, []byte(`{"weight":3,"request":{"method":"ping"}}`+"\n"+`{"weight":1,"request":{"method":"echo","params":["x"]}}`+"\n"), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"bench", "-url", url, "-mix", mix, "-batch", "3", "-n", "50", "-c", "2"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "requests   50") {
		t.Errorf("-mix with -batch: exit %d, %s", code, out.String())
	}
	if code := run(context.Background(), []string{"bench", "-params", "7"}, &out, &errOut); code != 2 {
		t.Errorf("bad -params: exit %d", code)
	}
	var keys map[string]json.RawMessage
	out.Reset()
	run(context.Background(), []string{"bench", "-url", url, "-n", "10", "-json"}, &out, &errOut)
	if err := json.Unmarshal([]byte(out.String()), &keys); err != nil {
		t.Errorf("-json report: %v %s", err, out.String())
	}
	// The keys other tools read stay; the new ones come beside them.
	for _, k := range []string{"requests", "errors", "duration_s", "rps", "latency_us", "errors_by_kind",
		"ok", "errors_per_second", "first_errors", "per_second", "histogram"} {
		if keys[k] == nil {
			t.Errorf("-json report has no %q: %s", k, out.String())
		}
	}
	var latency map[string]int64
	if err := json.Unmarshal(keys["latency_us"], &latency); err != nil || len(latency) != 5 || latency["p90"] <= 0 || latency["p999"] < latency["p90"] {
		t.Errorf("latency_us: %v %s", err, out.String())
	}
}

func TestBenchBodyAndProgress(t *testing.T) {
	url, stop := startServe(t)
	defer stop()
	body := t.TempDir() + "/batch.json"
	os.WriteFile(body, []byte(`[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"ping","id":"two"}]`), 0o600)
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"bench", "-url", url, "-body", body, "-c", "2", "-rate", "200", "-duration", "1500ms", "-progress"}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "errors     0") {
		t.Errorf("-body: exit %d, %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "ok/s") || !strings.Contains(errOut.String(), "p99") {
		t.Errorf("-progress printed %q", errOut.String())
	}
	if code := run(context.Background(), []string{"bench", "-url", url, "-H", "X-Trace: 1", "-H", "Authorization: Bearer x", "-n", "5"}, &out, &errOut); code != 0 {
		t.Errorf("-H: exit %d", code)
	}
	if code := run(context.Background(), []string{"bench", "-url", url, "-H", "no colon"}, &out, &errOut); code != 2 {
		t.Errorf("bad -H: exit %d", code)
	}
	if code := run(context.Background(), []string{"bench", "-url", url, "-body", body + ".missing"}, &out, &errOut); code != 2 {
		t.Errorf("missing -body file: exit %d", code)
	}
}

// TestBenchReportAndSearchFlags: -report writes the HTML page; -find-max
// without its bound is a usage error.
func TestBenchReportAndSearchFlags(t *testing.T) {
	url, stop := startServe(t)
	defer stop()
	file := t.TempDir() + "/r.html"
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"bench", "-url", url, "-n", "100", "-c", "2", "-report", file}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	page, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(page), `<svg id="latency"`) || !strings.Contains(string(page), "-n") {
		t.Errorf("report: %v %.300s", err, page)
	}
	if code := run(context.Background(), []string{"bench", "-url", url, "-find-max"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-slo-p99") {
		t.Errorf("-find-max without -slo-p99: exit %d, %s", code, errOut.String())
	}
}
