package httpsem_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/nethttp"
)

const origin = "https://app.example"

// transports serves one engine through fastserver and through nethttp,
// with the same limits, and returns each one's URL.
func transports(t *testing.T) map[string]string {
	t.Helper()
	e := engine.New()
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	// whoami answers with transport metadata: a header and whether the
	// remote address is known.
	if err := e.RegisterRaw("whoami", func(c *engine.Call) error {
		md := engine.MetadataFrom(c.Context())
		if md == nil || md.RemoteAddr() == nil || md.RemoteAddr().String() == "" {
			return c.ResultString("no metadata")
		}
		return c.ResultString("user=" + string(md.Header("X-User")))
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := fastserver.New(e, fastserver.Config{MaxBodySize: 1024, CORSOrigin: origin})
	go fs.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fs.Shutdown(ctx)
	})
	mux := http.NewServeMux()
	mux.Handle(fastserver.DefaultPath, nethttp.New(e, nethttp.Config{MaxBodySize: 1024, CORSOrigin: origin}))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return map[string]string{
		"fastserver": "http://" + ln.Addr().String() + fastserver.DefaultPath,
		"nethttp":    hs.URL + fastserver.DefaultPath,
	}
}

const ping = `{"jsonrpc":"2.0","method":"ping","id":1}`
const pong = `{"jsonrpc":"2.0","result":"pong","id":1}`

// TestHTTPSemantics is the one table both transports must pass.
func TestHTTPSemantics(t *testing.T) {
	tests := []struct {
		name, method, contentType, body string
		header                          map[string]string
		chunked                         bool
		status                          int
		wantBody, wantCT                string
		wantHeader                      map[string]string
	}{
		{name: "call", method: "POST", contentType: "application/json", body: ping, status: 200, wantBody: pong, wantCT: "application/json"},
		{name: "jsonrpclib's content type", method: "POST", contentType: "application/json-rpc", body: ping, status: 200, wantBody: pong},
		{name: "jsonrequest", method: "POST", contentType: "application/jsonrequest", body: ping, status: 200, wantBody: pong},
		{name: "charset parameter", method: "POST", contentType: "Application/JSON; charset=utf-8", body: ping, status: 200, wantBody: pong},
		{name: "no content type", method: "POST", body: ping, status: 200, wantBody: pong},
		{name: "other content type", method: "POST", contentType: "text/plain", body: ping, status: 415},
		{name: "form content type", method: "POST", contentType: "application/x-www-form-urlencoded", body: ping, status: 415},
		{name: "GET", method: "GET", status: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "PUT", method: "PUT", contentType: "application/json", body: ping, status: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "DELETE", method: "DELETE", status: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "notification", method: "POST", contentType: "application/json", body: `{"jsonrpc":"2.0","method":"ping"}`, status: 204, wantBody: ""},
		{name: "JSON-RPC error with 200", method: "POST", contentType: "application/json", body: `{"jsonrpc":"2.0","method":"nope","id":1}`, status: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}`},
		{name: "parse error with 200", method: "POST", contentType: "application/json", body: `{`, status: 200,
			wantBody: `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":1,"reason":"unexpected end of JSON input"}},"id":null}`},
		{name: "over the body limit", method: "POST", contentType: "application/json", body: `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 2000) + `"],"id":1}`, status: 413},
		{name: "chunked request body", method: "POST", contentType: "application/json", body: ping, chunked: true, status: 200, wantBody: pong},
		{name: "chunked body over the limit", method: "POST", contentType: "application/json", body: `["` + strings.Repeat("x", 2000) + `"]`, chunked: true, status: 413},
		{name: "CORS preflight", method: "OPTIONS", status: 204,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "POST, OPTIONS"}},
		{name: "CORS on answers", method: "POST", contentType: "application/json", body: ping, status: 200, wantBody: pong,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": origin}},
		{name: "transport metadata", method: "POST", contentType: "application/json", body: `{"jsonrpc":"2.0","method":"whoami","id":1}`,
			header: map[string]string{"X-User": "ada"}, status: 200, wantBody: `{"jsonrpc":"2.0","result":"user=ada","id":1}`},
	}
	for name, url := range transports(t) {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				var body io.Reader = strings.NewReader(tt.body)
				if tt.chunked {
					body = io.MultiReader(body) // hides the length: net/http sends it chunked
				}
				req, _ := http.NewRequest(tt.method, url, body)
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("%s: status %d, want %d (%s)", tt.name, resp.StatusCode, tt.status, got)
				}
				if (tt.wantBody != "" || tt.status == 204) && string(got) != tt.wantBody {
					t.Errorf("%s: body %s, want %s", tt.name, got, tt.wantBody)
				}
				if tt.wantCT != "" && resp.Header.Get("Content-Type") != tt.wantCT {
					t.Errorf("%s: Content-Type %q, want %q", tt.name, resp.Header.Get("Content-Type"), tt.wantCT)
				}
				for k, v := range tt.wantHeader {
					if resp.Header.Get(k) != v {
						t.Errorf("%s: header %s = %q, want %q", tt.name, k, resp.Header.Get(k), v)
					}
				}
				// CORS is on: every answer carries it, refusals included, or a
				// browser sees "Failed to fetch" instead of the status.
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
					t.Errorf("%s: Access-Control-Allow-Origin = %q, want %q", tt.name, got, origin)
				}
			}
		})
	}
}

// TestKeepAlive checks that consecutive calls reuse one connection.
func TestKeepAlive(t *testing.T) {
	for name, url := range transports(t) {
		reused := 0
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused++
			}
		}}
		for range 3 {
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "POST", url, strings.NewReader(ping))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if reused != 2 {
			t.Errorf("%s: %d of 3 calls reused the connection, want 2", name, reused)
		}
	}
}

// The real clients that TestOversizeBodiesReadable runs besides Go's: each
// posts a body of 5, 16 and 64 MiB and prints the size and the status it
// read (or the error it got instead) on a line.
const (
	pythonClient = `
import sys, urllib.request, urllib.error
for mb in (5, 16, 64):
    req = urllib.request.Request(sys.argv[1], data=b"x" * (mb << 20), headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=30)
        print(mb, 200)
    except urllib.error.HTTPError as e:
        print(mb, e.code)
    except Exception as e:
        print(mb, type(e).__name__, e)
`
	nodeClient = `
const url = process.argv[process.argv.length - 1];
for (const mb of [5, 16, 64]) {
  try {
    const r = await fetch(url, {method: "POST", body: new Uint8Array(mb << 20).fill(120), headers: {"Content-Type": "application/json"}});
    await r.text();
    console.log(mb, r.status);
  } catch (e) {
    console.log(mb, e.cause ? e.cause.code : e.message);
  }
}
`
)

// TestOversizeBodiesReadable: a client that posts a body over the limit
// reads the 413, whatever it is and however far into sending the body the
// server refuses it, from both transports; and the server answers a ping
// right after. Go's net/http client runs in process; Python's urllib and
// Node's fetch run when they are installed (make test needs neither).
func TestOversizeBodiesReadable(t *testing.T) {
	const want = "5 413\n16 413\n64 413\n"
	for name, url := range transports(t) {
		t.Run(name+"/go", func(t *testing.T) {
			var got strings.Builder
			for _, mb := range []int{5, 16, 64} {
				for try := range 3 { // the failure this guards against came and went
					resp, err := http.Post(url, "application/json", bytes.NewReader(bytes.Repeat([]byte("x"), mb<<20)))
					if err != nil {
						t.Fatalf("%d MiB, try %d: %v", mb, try, err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusRequestEntityTooLarge {
						t.Fatalf("%d MiB, try %d: status %d", mb, try, resp.StatusCode)
					}
				}
				fmt.Fprintf(&got, "%d 413\n", mb)
			}
			pingAfter(t, url)
		})
		for client, cmd := range map[string][]string{
			"python": {"python3", "-c", pythonClient, url},
			"node":   {"node", "--input-type=module", "-e", nodeClient, url},
		} {
			t.Run(name+"/"+client, func(t *testing.T) {
				if _, err := exec.LookPath(cmd[0]); err != nil {
					t.Skipf("%s is not installed", cmd[0])
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput()
				if client == "node" && bytes.Contains(out, []byte("fetch is not defined")) {
					t.Skip("this Node has no fetch")
				}
				if err != nil || string(out) != want {
					t.Errorf("%s read:\n%s(%v), want:\n%s", client, out, err, want)
				}
				pingAfter(t, url)
			})
		}
	}
}

// pingAfter checks that the server at url answers a ping.
func pingAfter(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(ping))
	if err != nil {
		t.Fatalf("ping after: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != pong {
		t.Errorf("ping after: %d %s", resp.StatusCode, got)
	}
}
