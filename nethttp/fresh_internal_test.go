package nethttp

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/internal/conntest"
)

// As Run stops, a connection whose request waits unread in the kernel is
// not silent: it is left open to be answered, while a silent one closes.
func TestWaitClosedKeepsUnreadRequests(t *testing.T) {
	sentClient, sentSock := conntest.Waiting(t)
	silentClient, silentSock := conntest.Pair(t)
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
