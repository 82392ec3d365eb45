package httpsem

import (
	"crypto/tls"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Unread reports whether bytes have arrived on c's socket that nobody has
// read yet (SIOCINQ): a connection that looks silent to a server that has
// not read it is not, if its client's request is waiting in the kernel.
// Over TLS it looks at the socket beneath. A connection without a socket
// (or any error) reports false. It costs one ioctl.
func Unread(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	if err := rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		return false
	}
	return n > 0
}
