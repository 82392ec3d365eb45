package bench

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scripted serves each connection's requests with the given raw answers,
// in turn, then closes it; it returns the address. An answer that starts
// with "close:" closes the connection right after it.
func scripted(t *testing.T, answers ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for _, a := range answers {
					req, err := http.ReadRequest(r)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if a == "hang" {
						time.Sleep(time.Second)
						return
					}
					a, closing := strings.CutPrefix(a, "close:")
					conn.Write([]byte(a))
					if closing {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestHTTPConnAnswers(t *testing.T) {
	long := strings.Repeat("y", 40<<10) // beyond the first read buffer
	for _, tc := range []struct {
		name, answer string
		status       int
		body         string
		reuse        bool // the connection stays open for the next request
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]", 200, "[]", true},
		{"header names any case", "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 2\r\nconnection: Keep-Alive\r\n\r\n{}", 200, "{}", true},
		{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n1", 200, "1", true},
		{"long body", "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(long)) + "\r\n\r\n" + long, 200, long, true},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n[1,\r\n2\r\n2]\r\n0\r\nX-Trailer: a\r\n\r\n", 200, "[1,2]", true},
		{"chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 200, "{}", true},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", true},
		{"connection close", "close:HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 200, "{}", false},
		{"HTTP/1.0", "close:HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", 200, "{}", false},
		{"until close", "close:HTTP/1.1 200 OK\r\n\r\n{\"a\":1}", 200, `{"a":1}`, false},
		{"error status", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", 503, "busy", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := parseEndpoint("http://" + scripted(t, tc.answer, tc.answer))
			if err != nil {
				t.Fatal(err)
			}
			c := &httpConn{dial: dialer(ep, nil, nil)}
			defer c.close()
			req, _ := ep.request([]byte(`{"jsonrpc":"2.0","method":"ping","id":1}`))
			for i := range 2 {
				status, body, err := c.roundTrip(req, time.Second)
				if err != nil || status != tc.status || string(body) != tc.body {
					t.Fatalf("request %d: %d %.50q %v", i, status, body, err)
				}
				if open := c.conn != nil; open != tc.reuse {
					t.Fatalf("request %d: connection open %v", i, open)
				}
			}
		})
	}
}

func TestHTTPConnFailures(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		timeout      bool
	}{
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", false},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", false},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab0\r\n\r\n", false},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", false},
		{"larger than the bound", "HTTP/1.1 200 OK\r\nContent-Length: 70000000\r\n\r\n{}", false},
		{"no answer", "hang", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, _ := parseEndpoint("http://" + scripted(t, tc.answer))
			c := &httpConn{dial: dialer(ep, nil, nil)}
			req, _ := ep.request([]byte(`{}`))
			_, _, err := c.roundTrip(req, 200*time.Millisecond)
			if err == nil || isTimeout(err) != tc.timeout || (tc.name == "larger than the bound") != errors.Is(err, errAnswerTooLarge) {
				t.Fatalf("err %v, want a failure (timeout %v)", err, tc.timeout)
			}
			if c.conn != nil {
				t.Fatal("a failed connection stays open")
			}
		})
	}
}

// TestHTTPConnRedialsClosedKeepAlive: a server that closes a keep-alive
// connection after one answer costs no failed request.
func TestHTTPConnRedialsClosedKeepAlive(t *testing.T) {
	ep, _ := parseEndpoint("http://" + scripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"))
	c := &httpConn{dial: dialer(ep, nil, nil)}
	defer c.close()
	req, _ := ep.request([]byte(`{}`))
	for i := range 3 {
		if _, _, err := c.roundTrip(req, time.Second); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond) // the server closes meanwhile
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct{ url, addr, head string }{
		{"http://127.0.0.1:8080/json-rpc", "127.0.0.1:8080", "POST /json-rpc HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"},
		{"http://localhost/rpc?x=1", "localhost:80", "POST /rpc?x=1 HTTP/1.1\r\nHost: localhost\r\n"},
		{"https://[::1]/", "[::1]:443", "POST / HTTP/1.1\r\nHost: [::1]\r\n"},
		{"http://h", "h:80", "POST / HTTP/1.1\r\nHost: h\r\n"},
	} {
		ep, err := parseEndpoint(tc.url)
		if err != nil || ep.addr != tc.addr || !strings.HasPrefix(string(ep.head), tc.head) {
			t.Errorf("%s: %+v %v", tc.url, ep, err)
		}
	}
	for _, bad := range []string{"ftp://h/", "127.0.0.1:8080", "http:///path", "://"} {
		if _, err := parseEndpoint(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	ep, _ := parseEndpoint("http://h/p")
	req, at := ep.request([]byte("{}"))
	if !strings.HasSuffix(string(req), "Content-Length: 2\r\n\r\n{}") || string(req[at:]) != "{}" {
		t.Errorf("%q %d", req, at)
	}
}

// TestHTTPConnLargeRequest: a request larger than the socket's buffer (the
// write cannot finish at once) still goes out whole, and is answered.
func TestHTTPConnLargeRequest(t *testing.T) {
	ep, _ := parseEndpoint("http://" + scripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"))
	c := &httpConn{dial: dialer(ep, nil, nil)}
	defer c.close()
	req, _ := ep.request([]byte(`"` + strings.Repeat("z", 8<<20) + `"`))
	for i, want := range []string{"{}", "[]"} {
		status, body, err := c.roundTrip(req, 5*time.Second)
		if err != nil || status != 200 || string(body) != want {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
}
