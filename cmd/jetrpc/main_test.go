package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startServe runs `jetrpc serve args...` in-process and returns its URL and
// a function that stops it (as SIGINT does) and returns the exit status.
func startServe(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	return startServeLogging(t, io.Discard, args...)
}

// startServeLogging is startServe with what serve writes to stderr after
// its first line copied to log.
func startServeLogging(t *testing.T, log io.Writer, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), io.Discard, pw)
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v", err)
	}
	go io.Copy(log, r)
	_, rest, _ := strings.Cut(line, "http://")
	url := "http://" + strings.Fields(rest)[0]
	return url, func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeDemoMethods(t *testing.T) {
	url, stop := startServe(t)
	tests := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"ping","id":1}`, `{"jsonrpc":"2.0","result":"pong","id":1}`},
		{`{"jsonrpc":"2.0","method":"echo","params":{"message":[1,"é"]},"id":2}`, `{"jsonrpc":"2.0","result":[1,"é"],"id":2}`},
		{`{"jsonrpc":"2.0","method":"add","params":{"a":0.5,"b":2},"id":3}`, `{"jsonrpc":"2.0","result":2.5,"id":3}`},
		{`{"jsonrpc":"2.0","method":"add","params":[1,"x"],"id":4}`, `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"b\": cannot use string as float64"},"id":4}`},
		{`{"jsonrpc":"2.0","method":"sleep","params":{"ms":5},"id":5}`, `{"jsonrpc":"2.0","result":null,"id":5}`},
		{`{"jsonrpc":"2.0","method":"fail","id":6}`, `{"jsonrpc":"2.0","error":{"code":1000,"message":"fail"},"id":6}`},
	}
	for _, tt := range tests {
		if status, got := post(t, url, tt.in); status != 200 || got != tt.want {
			t.Errorf("%s:\ngot  %d %s\nwant 200 %s", tt.in, status, got, tt.want)
		}
	}
	if status, got := post(t, url, `{"jsonrpc":"2.0","method":"ping"}`); status != http.StatusNoContent || got != "" {
		t.Errorf("notification: %d %q, want 204", status, got)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit status %d after shutdown, want 0", code)
	}
}

// TestServeShutdownAnswersEveryCall: on a signal, calls longer than -grace
// are cancelled, and serve exits (0) only after their "call cancelled"
// answers were written: no client sees a dropped connection.
func TestServeShutdownAnswersEveryCall(t *testing.T) {
	const clients = 20
	url, stop := startServe(t, "-grace", "300ms", "-max-inflight", strconv.Itoa(clients))
	answers := make(chan string, clients)
	for range clients {
		go func() {
			for { // a 503 (a probing ping held the last slot) says retry
				resp, err := (&http.Client{Timeout: 20 * time.Second}).Post(url, "application/json",
					strings.NewReader(`{"jsonrpc":"2.0","method":"sleep","params":{"ms":60000},"id":1}`))
				if err != nil {
					answers <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					answers <- string(b)
					return
				}
			}
		}()
	}
	// Every slot is taken by a sleep once the server answers a ping 503.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if status, _ := post(t, url, `{"jsonrpc":"2.0","method":"ping","id":1}`); status == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sleeps never filled the server")
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("exit status %d, want 0: every call was answered", code)
	}
	for range clients {
		if got := <-answers; got != `{"jsonrpc":"2.0","error":{"code":-32000,"message":"call cancelled"},"id":1}` {
			t.Errorf("a long call got %q, want its cancellation", got)
		}
	}
}

func TestServeBaseline(t *testing.T) {
	url, stop := startServe(t, "-baseline", "-path", "/x")
	if status, got := post(t, url, `anything`); status != 200 || got != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("baseline: %d %s", status, got)
	}
	if !strings.HasSuffix(url, "/x") {
		t.Errorf("url %s does not end in the -path", url)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit status %d", code)
	}
}

func TestServeBaselineAnswerFile(t *testing.T) {
	file := t.TempDir() + "/answer.json"
	if err := os.WriteFile(file, []byte(`{"jsonrpc":"2.0","result":42,"id":7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, "-baseline", "-baseline-answer", file)
	if status, got := post(t, url, `{}`); status != 200 || got != `{"jsonrpc":"2.0","result":42,"id":7}` {
		t.Errorf("baseline answer: %d %s", status, got)
	}
	stop()
	var errOut strings.Builder
	if code := run(context.Background(), []string{"serve", "-baseline", "-baseline-answer", file + ".missing"}, io.Discard, &errOut); code != 1 {
		t.Errorf("missing answer file: exit %d", code)
	}
}

// TestServeBaselineWork checks that a working baseline answers as the
// bare one does, and that -baseline-work is refused where it means
// nothing.
func TestServeBaselineWork(t *testing.T) {
	url, stop := startServe(t, "-baseline", "-baseline-work", "2us")
	if status, got := post(t, url, `{}`); status != 200 || got != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("working baseline: %d %s", status, got)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit status %d", code)
	}
	// Cancelled: a serve that wrongly accepted its flags stops at once.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{
		{"-baseline-work", "1us"},               // without -baseline
		{"-baseline-work", "0s"},                // even when 0
		{"-baseline", "-baseline-work", "-1us"}, // negative
		{"-baseline", "-baseline-work", "fast"}, // not a duration
	} {
		var errOut strings.Builder
		if code := run(done, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), io.Discard, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("serve %v: exit %d, %q", args, code, errOut.String())
		}
	}
}

func TestServeNetHTTPTransport(t *testing.T) {
	url, stop := startServe(t, "-transport", "nethttp")
	if status, got := post(t, url, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`); status != 200 || got != `{"jsonrpc":"2.0","result":3,"id":1}` {
		t.Errorf("net/http transport: %d %s", status, got)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestServeV1Compat(t *testing.T) {
	url, stop := startServe(t, "-v1compat")
	if status, got := post(t, url, `{"method":"echo","params":["x"],"id":7}`); status != 200 || got != `{"result":"x","error":null,"id":7}` {
		t.Errorf("1.0 request: %d %s", status, got)
	}
	if status, got := post(t, url, `{"jsonrpc":"2.0","method":"ping","id":8}`); status != 200 || got != `{"jsonrpc":"2.0","result":"pong","id":8}` {
		t.Errorf("2.0 request beside: %d %s", status, got)
	}
	stop()
	url, stop = startServe(t)
	if _, got := post(t, url, `{"method":"echo","params":["x"],"id":7}`); !strings.Contains(got, "-32600") {
		t.Errorf("without -v1compat a 1.0 request is -32600: %s", got)
	}
	stop()
}

func TestServeIntrospection(t *testing.T) {
	url, stop := startServe(t)
	defer stop()
	tests := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"system.listMethods","id":1}`,
			`{"jsonrpc":"2.0","result":["add","demo_subscribe","demo_unsubscribe","echo","fail","ping","rpc.discover","sleep","system.listMethods","system.methodHelp","system.methodSignature"],"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":["add"],"id":2}`,
			`{"jsonrpc":"2.0","result":"Returns a+b: [a, b] or {\"a\": a, \"b\": b}.","id":2}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":{"name":"add"},"id":3}`,
			`{"jsonrpc":"2.0","result":[["number","number","number"]],"id":3}`},
	}
	for _, tt := range tests {
		if status, got := post(t, url, tt.in); status != 200 || got != tt.want {
			t.Errorf("%s:\ngot  %d %s\nwant %s", tt.in, status, got, tt.want)
		}
	}
	if status, got := post(t, url, `{"jsonrpc":"2.0","method":"rpc.discover","id":4}`); status != 200 ||
		!strings.HasPrefix(got, `{"jsonrpc":"2.0","result":{"openrpc":"1.3.2","info":{"title":"jetrpc"`) || !strings.Contains(got, `"name":"add"`) {
		t.Errorf("rpc.discover: %d %.300s", status, got)
	}
}

func TestServeWorkers(t *testing.T) {
	url, stop := startServe(t, "-workers", "2", "-max-inflight", "100", "-read-timeout", "5s")
	for range 5 {
		if status, _ := post(t, url, `{"jsonrpc":"2.0","method":"ping","id":1}`); status != 200 {
			t.Errorf("status %d", status)
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

func TestServeFlagsDocumented(t *testing.T) {
	var out strings.Builder
	run(context.Background(), []string{"serve", "-h"}, io.Discard, &out)
	for _, f := range []string{"-addr", "-path", "-max-body", "-read-timeout", "-write-timeout", "-idle-timeout", "-max-conns",
		"-max-conns-per-ip", "-max-inflight", "-tls-cert", "-tls-key", "-unix", "-workers", "-cors", "-transport", "-baseline", "-baseline-answer", "-baseline-work", "-v1compat", "-introspection",
		"-max-header-bytes", "-max-buffered", "-linger-timeout", "-linger-bytes", "-grace", "-drain-delay", "-metrics", "-log-level", "-log-format"} {
		if !strings.Contains(out.String(), "  "+f+" ") && !strings.Contains(out.String(), "  "+f+"\n") {
			t.Errorf("serve -h does not document %s", f)
		}
	}
	var errOut strings.Builder
	if code := run(context.Background(), []string{"serve", "-tls-cert", "x"}, io.Discard, &errOut); code != 2 {
		t.Errorf("-tls-cert without -tls-key: exit %d", code)
	}
	if code := run(context.Background(), []string{"serve", "-transport", "grpc"}, io.Discard, &errOut); code != 2 {
		t.Errorf("unknown transport: exit %d", code)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage: jetrpc") {
		t.Errorf("no command: %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"nope"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "nope"`) {
		t.Errorf("unknown command: %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"serve", "-addr", "256.0.0.1:1"}, &out, &errOut); code != 1 {
		t.Errorf("bad address: exit %d, stderr %q", code, errOut.String())
	}
}

func TestServeCPUProfile(t *testing.T) {
	file := t.TempDir() + "/cpu.prof"
	url, stop := startServe(t, "-cpuprofile", file)
	post(t, url, `{"jsonrpc":"2.0","method":"ping","id":1}`)
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Errorf("profile: %v %v", fi, err)
	}
	if code := run(context.Background(), []string{"serve", "-cpuprofile", t.TempDir() + "/no/such/dir/cpu.prof"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unwritable profile: exit %d", code)
	}
}
