package nethttp_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/nethttp"
)

func TestDefaults(t *testing.T) {
	if nethttp.DefaultMaxBodySize != 4<<20 || nethttp.DefaultLingerTimeout != 5*time.Second || nethttp.DefaultLingerBytes != 128<<20 {
		t.Errorf("defaults: %d %v %d", nethttp.DefaultMaxBodySize, nethttp.DefaultLingerTimeout, nethttp.DefaultLingerBytes)
	}
}

// TestRefusedBodyDrainBounds: after a 413, which the client reads whole
// at once, the handler drains what the client still sends for at most
// LingerBytes and LingerTimeout; then net/http closes the connection.
func TestRefusedBodyDrainBounds(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  nethttp.Config
		send func(net.Conn)
	}{
		{"bytes", nethttp.Config{MaxBodySize: 1024, LingerBytes: 1 << 20, LingerTimeout: time.Minute}, func(c net.Conn) {
			chunk := make([]byte, 64<<10)
			for sent := 0; sent < 64<<20; sent += len(chunk) {
				if _, err := c.Write(chunk); err != nil {
					return // closed after 1 MiB drained
				}
			}
			t.Error("the handler drained 64 MiB, LingerBytes is 1 MiB")
		}},
		{"time", nethttp.Config{MaxBodySize: 1024, LingerTimeout: 200 * time.Millisecond}, func(c net.Conn) {
			c.Write([]byte("trickle")) // and then nothing
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(nethttp.New(engine.New(), tt.cfg))
			defer srv.Close()
			c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"))
			go tt.send(c)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("%v %v", resp, err)
			}
			if body, err := io.ReadAll(resp.Body); err != nil || string(body) != "request body too large\n" {
				t.Fatalf("the refusal's body: %q %v", body, err)
			}
			_, err = br.ReadByte()
			if ne, ok := err.(net.Error); err == nil || ok && ne.Timeout() {
				t.Errorf("the connection stayed open past the drain's bound: %v", err)
			}
		})
	}
}
