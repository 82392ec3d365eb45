package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
)

// hostileServer serves the demo methods on 127.0.0.1 with a 16 MiB body
// limit and a 1 s read timeout, and returns its address.
func hostileServer(t *testing.T) string {
	t.Helper()
	e := newEngine(t)
	mustDo(t, engine.Register(e, "sleep", demo.Sleep))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := fastserver.New(e, fastserver.Config{MaxBodySize: 16 << 20, ReadTimeout: time.Second})
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func post(t *testing.T, addr, body string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Post("http://"+addr+fastserver.DefaultPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// stillServes checks that the server answers a ping normally.
func stillServes(t *testing.T, addr string) {
	t.Helper()
	if status, body := post(t, addr, `{"jsonrpc":"2.0","method":"ping","id":"after"}`); status != 200 || body != `{"jsonrpc":"2.0","result":"pong","id":"after"}` {
		t.Fatalf("server no longer serves: %d %s", status, body)
	}
}

// fastEnough bounds how long a hostile request may take to be refused: well
// under the read timeout of a real deployment, with room for -race.
const fastEnough = 5 * time.Second

// TestHostileInputs sends each entry of the catalogue through the HTTP
// server: each gets the right JSON-RPC error or HTTP status fast, and the
// server keeps serving after it.
func TestHostileInputs(t *testing.T) {
	addr := hostileServer(t)
	tests := []struct {
		name, body string
		status     int
		prefix     string // the answer starts with this
	}{
		{"1,000,000-deep nesting", strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000), 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":10000,"reason":"exceeded max depth"}},"id":null}`},
		{"10^6-digit number as a param", `{"jsonrpc":"2.0","method":"add","params":[` + strings.Repeat("7", 1_000_000) + `,1],"id":1}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"a\": cannot use `},
		{"10^6-digit number as the id", `{"jsonrpc":"2.0","method":"ping","id":` + strings.Repeat("7", 1_000_000) + `}`, 200,
			`{"jsonrpc":"2.0","result":"pong","id":` + strings.Repeat("7", 1_000_000) + `}`},
		{"invalid UTF-8 in a param", "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"a\xff\xfe\xed\xa0\x80z\"],\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":45,"reason":"invalid UTF-8 in string literal"}},"id":null}`},
		{"a UTF-8-encoded surrogate in a param", "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"a\xed\xa0\x80\"],\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":45,"reason":"invalid UTF-8 in string literal"}},"id":null}`},
		{"invalid UTF-8 in the id", "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":\"\xff\"}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":39,"reason":"invalid UTF-8 in string literal"}},"id":null}`},
		{"invalid UTF-8 in the method name", "{\"jsonrpc\":\"2.0\",\"method\":\"p\xffng\",\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":28,"reason":"invalid UTF-8 in string literal"}},"id":null}`},
		{"escaped lone surrogates, echoed byte for byte", `{"jsonrpc":"2.0","method":"echo","params":["\ud800z\udfff"],"id":1}`, 200,
			`{"jsonrpc":"2.0","result":"\ud800z\udfff","id":1}`},
		{"text in other scripts, echoed byte for byte", `{"jsonrpc":"2.0","method":"echo","params":["héllo 日本語 😀"],"id":"ü"}`, 200,
			`{"jsonrpc":"2.0","result":"héllo 日本語 😀","id":"ü"}`},
		{"NUL byte in a string", "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"a\x00\"],\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":45,"reason":"invalid character '\\x00' in string literal"}},"id":null}`},
		{"NUL byte between tokens", "{\"jsonrpc\":\"2.0\",\x00\"method\":\"ping\",\"id\":1}", 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":17,"reason":"invalid character '\\x00' looking for beginning of object key string"}},"id":null}`},
		{"escaped NUL echoed", `{"jsonrpc":"2.0","method":"echo","params":["\u0000"],"id":1}`, 200,
			`{"jsonrpc":"2.0","result":"\u0000","id":1}`},
		{"a million-key params object", `{"jsonrpc":"2.0","method":"add","params":{` + millionKeys() + `"a":1,"b":2},"id":1}`, 200,
			`{"jsonrpc":"2.0","result":3,"id":1}`},
		{"a 200,000-item batch", "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"ping"},`, 200_000) + `{"jsonrpc":"2.0","method":"ping","id":1}]`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"batch has 200001 items, more than the limit of 1000"},"id":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			status, body := post(t, addr, tt.body)
			if d := time.Since(start); d > fastEnough {
				t.Errorf("took %v", d)
			}
			if status != tt.status || !strings.HasPrefix(body, tt.prefix) {
				t.Errorf("got %d %.300s\nwant %d %.300s…", status, body, tt.status, tt.prefix)
			}
			stillServes(t, addr)
		})
	}
}

// TestBodyOverTheLimit: a body whose declared length is over the limit is
// refused with 413 from its headers alone, before a byte of it is read.
func TestBodyOverTheLimit(t *testing.T) {
	addr := hostileServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(fastEnough))
	conn.Write([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(17<<20) + "\r\n\r\n{"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	stillServes(t, addr)
}

func millionKeys() string {
	var b strings.Builder
	for i := range 1_000_000 {
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%3))
		b.WriteString(`":0,`)
	}
	return b.String()
}

// TestSlowloris: a client that sends one byte a second is cut off by the
// read timeout, while other clients are served meanwhile.
func TestSlowloris(t *testing.T) {
	addr := hostileServer(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		// The server's answer (408) or its closing the connection ends this read.
		io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	request := "POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n"
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for i := 0; i < len(request); i++ {
		if _, err := conn.Write([]byte{request[i]}); err != nil {
			break // the server has closed the connection
		}
		stillServes(t, addr) // others are served while the slow client dribbles
		select {
		case d := <-closed:
			if d > 4*time.Second {
				t.Errorf("slow client held its connection for %v with a 1s read timeout", d)
			}
			return
		case <-ticker.C:
		}
	}
	t.Fatal("the server never cut off a client sending one byte a second")
}

// TestDisconnects: clients that vanish mid-request or mid-answer leave the
// server serving.
func TestDisconnects(t *testing.T) {
	addr := hostileServer(t)
	send := func(raw string) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(raw))
		conn.Close()
	}
	// Mid-request: headers promise 100 bytes, 10 arrive.
	send("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
	stillServes(t, addr)
	// Mid-answer: the call is running when the client leaves.
	send("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 62\r\n\r\n" + `{"jsonrpc":"2.0","method":"sleep","params":{"ms":200},"id":1}`)
	stillServes(t, addr)
	time.Sleep(300 * time.Millisecond) // the abandoned answer has been written into a closed socket
	stillServes(t, addr)
	// Mid-answer with a large answer the client stops reading.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	big := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("y", 4<<20) + `"],"id":1}`
	var req bytes.Buffer
	req.WriteString("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ")
	req.WriteString(strconv.Itoa(len(big)) + "\r\n\r\n" + big)
	conn.Write(req.Bytes())
	br := bufio.NewReader(conn)
	br.Peek(100) // the answer has started
	conn.Close()
	stillServes(t, addr)
}
