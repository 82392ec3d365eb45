package fastserver

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// As shutdown closes silent connections, one whose request waits unread
// in the kernel (the server has not got to it yet) is not silent: it
// stays open to be answered.
func TestCloseFreshKeepsUnreadRequests(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("unread bytes are observed on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := New(engine.New(), Config{})
	silentClient, silentSock := tcpPair(t, ln)
	sentClient, sentSock := tcpPair(t, ln)
	if _, err := sentClient.Write([]byte("POST /json-rpc HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !httpsem.Unread(sentSock); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never arrived")
		}
	}
	long := time.Now().Add(-time.Second) // accepted longer than freshGrace ago
	silent := &conn{Conn: silentSock, sock: silentSock, s: s, ip: "127.0.0.1", accepted: long}
	sent := &conn{Conn: sentSock, sock: sentSock, s: s, ip: "127.0.0.1", accepted: long}
	s.mu.Lock()
	s.conns[silent], s.conns[sent] = struct{}{}, struct{}{}
	s.perIP["127.0.0.1"] = 2
	s.mu.Unlock()

	if open := s.closeFresh(); open != 1 {
		t.Errorf("%d connections stay open, want 1", open)
	}
	if !silent.closed.Load() || sent.closed.Load() {
		t.Errorf("closed: silent %v, with a request waiting %v; want true, false", silent.closed.Load(), sent.closed.Load())
	}
	silentClient.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silentClient.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("silent client: read %v, want EOF", err)
	}
}
