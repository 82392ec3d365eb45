package fastserver

import (
	"io"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/conntest"
)

// As shutdown closes silent connections, one whose request waits unread
// in the kernel (the server has not got to it yet) is not silent: it
// stays open to be answered.
func TestCloseFreshKeepsUnreadRequests(t *testing.T) {
	s := New(engine.New(), Config{})
	_, sentSock := conntest.Waiting(t)
	silentClient, silentSock := conntest.Pair(t)
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
