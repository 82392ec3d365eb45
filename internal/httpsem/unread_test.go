package httpsem_test

import (
	"net"
	"runtime"
	"testing"

	"github.com/jetrpc/jetrpc/internal/conntest"
	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// Unread sees bytes that arrived on a socket and were not read, and
// nothing once they are read; a connection without a socket has none.
func TestUnread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIOCINQ: Linux only; elsewhere Unread reports false")
	}
	client, server := conntest.Pair(t)
	if httpsem.Unread(server) {
		t.Error("unread bytes before the client sent any")
	}
	conntest.SendUnread(t, client, server, []byte("POST / HTTP/1.1\r\n")) // fails t unless Unread sees them
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
