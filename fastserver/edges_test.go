package fastserver_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
)

// post is a raw POST of body to path with extra header lines.
func post(path, headers, body string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// TestHeaderLimits: the request line and headers share MaxHeaderBytes. An
// 8 KB bearer token passes by default; headers past the limit get 431 and
// a request line past it 414 (not 400), at once; the server serves on.
func TestHeaderLimits(t *testing.T) {
	for _, limit := range []int{0, 4096} { // the default, and a small one
		_, _, addr := serve(t, fastserver.Config{MaxHeaderBytes: limit})
		max := limit
		if max == 0 {
			max = fastserver.DefaultMaxHeaderBytes
		}
		tests := []struct {
			name, raw string
			status    int
		}{
			{"headers just within", post("/json-rpc", "X-Pad: "+strings.Repeat("p", max-200)+"\r\n", pingBody), 200},
			{"headers over", post("/json-rpc", "X-Pad: "+strings.Repeat("p", max)+"\r\n", pingBody), 431},
			{"many headers over", post("/json-rpc", strings.Repeat("X-Pad: "+strings.Repeat("p", 100)+"\r\n", max/100), pingBody), 431},
			{"request line over", post("/json-rpc?q="+strings.Repeat("q", max), "", pingBody), 414},
			{"request line over, headers too", post("/json-rpc?q="+strings.Repeat("q", max), "X-Pad: "+strings.Repeat("p", max)+"\r\n", pingBody), 414},
		}
		if limit == 0 {
			tests = append(tests, struct {
				name, raw string
				status    int
			}{"an 8 KB bearer token", post("/json-rpc", "Authorization: Bearer "+strings.Repeat("t", 8000)+"\r\n", pingBody), 200})
		}
		for _, tt := range tests {
			resp, body, _ := rawExchange(t, addr, tt.raw)
			if resp.StatusCode != tt.status {
				t.Errorf("limit %d, %s: %d %s, want %d", max, tt.name, resp.StatusCode, body, tt.status)
			}
		}
		if resp, _, _ := rawExchange(t, addr, post("/json-rpc", "", pingBody)); resp.StatusCode != 200 {
			t.Errorf("after the refusals: %d", resp.StatusCode)
		}
	}
}

// TestBareLF: a header block that ends with a bare LF is answered 400 at
// once, not after the read timeout (fasthttp's header scanner waits for
// CRLF CRLF); bare LFs inside the block are accepted.
func TestBareLF(t *testing.T) {
	_, _, addr := serve(t, fastserver.Config{ReadTimeout: time.Minute})
	tests := []struct {
		name, raw string
		status    int
	}{
		{"LF LF", "POST /json-rpc HTTP/1.1\nHost: x\nContent-Length: 40\n\n" + pingBody, 400},
		{"CRLF LF", "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\n" + pingBody, 400},
		{"LF CRLF", "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\n\r\n" + pingBody, 400},
		{"no headers, LF LF", "POST /json-rpc HTTP/1.1\n\n", 400},
		{"bare LF inside, CRLF CRLF at the end", "POST /json-rpc HTTP/1.1\nHost: x\nContent-Length: 40\r\n\r\n" + pingBody, 200},
	}
	for _, tt := range tests {
		start := time.Now()
		resp, body, _ := rawExchange(t, addr, tt.raw)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.status)
		}
		if d := time.Since(start); d > 5*time.Second { // the read timeout is a minute
			t.Errorf("%s: answered after %v", tt.name, d)
		}
	}
}

// TestExpectContinue: a request with Expect: 100-continue that would be
// refused is refused before its body is sent, without 100 Continue (RFC
// 9110 §10.1.1); one that is taken gets 100 Continue, then its answer.
func TestExpectContinue(t *testing.T) {
	_, _, addr := serve(t, fastserver.Config{MaxBodySize: 1024})
	refused := []struct {
		name, head string
		status     int
	}{
		{"body over the limit", "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n", 413},
		{"other path", "POST /other HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n", 404},
		{"other content type", "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n", 415},
		{"other method", "PUT /json-rpc HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n", 405},
	}
	for _, tt := range refused {
		resp, _, _ := rawExchange(t, addr, tt.head)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: first answer %d, want %d without 100 Continue", tt.name, resp.StatusCode, tt.status)
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n"))
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("a request within the limits: %q %v, want 100 Continue", line, err)
	}
	br.ReadString('\n') // the empty line that ends the interim answer
	c.Write([]byte(pingBody))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != pongAnswer {
		t.Errorf("after 100 Continue: %d %s", resp.StatusCode, body)
	}
}

// TestCORSOnEveryAnswer: with CORS on, every answer carries
// Access-Control-Allow-Origin, refusals included, or a browser shows
// "Failed to fetch" instead of the status (503 included, so that it can
// back off).
func TestCORSOnEveryAnswer(t *testing.T) {
	const origin = "https://app.example"
	_, h, addr := serve(t, fastserver.Config{CORSOrigin: origin, MaxBodySize: 1024, MaxHeaderBytes: 4096, MaxInFlight: 1})
	held := make(chan struct{})
	go func() {
		postTo(http.DefaultClient, "http://"+addr+fastserver.DefaultPath, holdBody)
		close(held)
	}()
	<-h.started // one call in flight: the next one is past MaxInFlight
	tests := []struct {
		name, raw string
		status    int
	}{
		{"preflight", "OPTIONS /json-rpc HTTP/1.1\r\nHost: x\r\nOrigin: " + origin + "\r\n\r\n", 204},
		{"other path", post("/other", "", pingBody), 404},
		{"other method", "GET /json-rpc HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"other content type", post("/json-rpc", "Content-Type: text/plain\r\n", pingBody), 415},
		{"body over the limit", post("/json-rpc", "", strings.Repeat("x", 2000)), 413},
		{"headers over the limit", post("/json-rpc", "X-Pad: "+strings.Repeat("p", 5000)+"\r\n", pingBody), 431},
		{"request line over the limit", post("/json-rpc?"+strings.Repeat("q", 5000), "", pingBody), 414},
		{"bare LF", "POST /json-rpc HTTP/1.1\nHost: x\n\n", 400},
		{"past MaxInFlight", post("/json-rpc", "", pingBody), 503},
	}
	for _, tt := range tests {
		resp, body, _ := rawExchange(t, addr, tt.raw)
		if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("%s: %d %q Access-Control-Allow-Origin=%q, want %d and %q", tt.name, resp.StatusCode, body,
				resp.Header.Get("Access-Control-Allow-Origin"), tt.status, origin)
		}
	}
	close(h.release)
	<-held
	// Refused at accept, past MaxConns or MaxConnsPerIP.
	for _, cfg := range []fastserver.Config{{CORSOrigin: origin, MaxConns: 1}, {CORSOrigin: origin, MaxConnsPerIP: 1}} {
		_, _, addr := serve(t, cfg)
		_, resp, err := pastTheBound(t, addr)
		if err != nil || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("past a connection bound: %v %v", resp, err)
		}
	}
}

// TestLingerBounds: a connection draining a refused body stops at
// LingerBytes, or at LingerTimeout for a client that keeps sending slowly,
// and then closes.
func TestLingerBounds(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		srv, _, addr := serve(t, fastserver.Config{MaxBodySize: 1024, LingerBytes: 1 << 20, LingerTimeout: time.Minute})
		resp, _, c := rawExchange(t, addr, "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		// Keep sending: the server drains 1 MiB, then closes.
		chunk := make([]byte, 64<<10)
		sent := 0
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for ; sent < 64<<20; sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				break
			}
		}
		if sent >= 64<<20 {
			t.Errorf("the server drained %d bytes, LingerBytes is 1 MiB", sent)
		}
		waitFor(t, "the connection to close", func() bool { return srv.OpenConns() == 0 })
	})
	t.Run("time", func(t *testing.T) {
		srv, _, addr := serve(t, fastserver.Config{MaxBodySize: 1024, LingerTimeout: 300 * time.Millisecond})
		resp, _, c := rawExchange(t, addr, "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		start := time.Now()
		c.Write([]byte("trickle")) // and then nothing: the server gives up after LingerTimeout
		waitFor(t, "the connection to close", func() bool { return srv.OpenConns() == 0 })
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("closed after %v, LingerTimeout is 300ms", d)
		}
	})
	t.Run("off", func(t *testing.T) {
		srv, _, addr := serve(t, fastserver.Config{MaxBodySize: 1024, LingerTimeout: -1})
		resp, _, _ := rawExchange(t, addr, "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		waitFor(t, "the connection to close at once", func() bool { return srv.OpenConns() == 0 })
	})
}
