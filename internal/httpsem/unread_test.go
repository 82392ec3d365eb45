package httpsem_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// Unread sees bytes that arrived on a socket and were not read, and
// nothing once they are read; a connection without a socket has none.
func TestUnread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIOCINQ: Linux only; elsewhere Unread reports false")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if httpsem.Unread(server) {
		t.Error("unread bytes before the client sent any")
	}
	client.Write([]byte("POST / HTTP/1.1\r\n"))
	for deadline := time.Now().Add(5 * time.Second); !httpsem.Unread(server); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no unread bytes after the client sent some")
		}
	}
	server.Read(make([]byte, 64))
	if httpsem.Unread(server) {
		t.Error("unread bytes after they were read")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go a.Write([]byte("x"))
	if httpsem.Unread(b) {
		t.Error("a pipe has no socket, so no unread bytes to see")
	}
}
