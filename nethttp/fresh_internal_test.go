package nethttp

import (
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/httpsem"
)

// As Run stops, a connection whose request waits unread in the kernel is
// not silent: it is left open to be answered, while a silent one closes.
func TestWaitClosedKeepsUnreadRequests(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("unread bytes are observed on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (client, server net.Conn) {
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
	silentClient, silentSock := pair()
	sentClient, sentSock := pair()
	if _, err := sentClient.Write([]byte("POST /json-rpc HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !httpsem.Unread(sentSock); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never arrived")
		}
	}
	long := time.Now().Add(-time.Second) // accepted longer than freshGrace ago
	tr := &connTracker{fresh: map[net.Conn]time.Time{silentSock: long, sentSock: long}, open: 2}
	done := make(chan struct{})
	time.AfterFunc(50*time.Millisecond, func() { close(done) })
	tr.waitClosed(done) // neither closing reports to the tracker here: it returns on done

	silentClient.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silentClient.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("silent client: read %v, want EOF", err)
	}
	if _, fresh := tr.fresh[sentSock]; !fresh {
		t.Error("the connection with a request waiting was taken as silent")
	}
	sentClient.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := sentClient.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("the connection with a request waiting: read %v, want a timeout (still open)", err)
	}
}
