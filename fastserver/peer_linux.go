package fastserver

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// peerGone reports whether the client of sock has closed its side or
// reset the connection, without reading: a non-blocking poll(2) for
// POLLRDHUP, which the kernel raises on the peer's FIN even while
// unread bytes wait (pipelined requests, a TLS close_notify). Like
// net/http, which cancels a request's context when its background read
// sees EOF, it takes a client that half-closes after its request for
// gone.
func peerGone(sock net.Conn) bool {
	sc, ok := sock.(syscall.Conn)
	if !ok {
		return false // an in-memory connection
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	rc.Control(func(fd uintptr) {
		fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		n, err := unix.Poll(fds[:], 0)
		gone = err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
	})
	return gone
}
