// Package conntest makes loopback TCP connections for tests.
package conntest

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// Pair returns both ends of a loopback TCP connection, closed as t ends.
func Pair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		client.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// SendUnread writes p from client and returns once it waits unread at
// server (httpsem.Unread), failing t after 5 s.
func SendUnread(t testing.TB, client, server net.Conn, p []byte) {
	t.Helper()
	if _, err := client.Write(p); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !httpsem.Unread(server); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bytes sent never arrived unread")
		}
	}
}

// Waiting returns both ends of a loopback TCP connection whose server end
// holds a request line that the client sent and nobody has read. It skips
// t where such bytes cannot be observed (httpsem.Unread: Linux only).
func Waiting(t testing.TB) (client, server net.Conn) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("unread bytes are observed on Linux only")
	}
	client, server = Pair(t)
	SendUnread(t, client, server, []byte("POST /json-rpc HTTP/1.1\r\n"))
	return client, server
}
