package httpsem

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Quiesce stops a TCP listener from taking new connections without
// resetting those its clients believe open, before it is closed: closing a
// listener resets the connections still in its accept queue, although
// their clients may have sent a request already. Where the kernel allows
// socket filters, it first drops new SYNs (their clients retry a second
// later and find the port closed: refused, never sent). It then waits, up
// to wait, until the queue is empty (TCP_INFO's tcpi_unacked is a
// listener's accept-queue length) while the server goes on accepting, and
// in the same breath shuts the listener down for reading: the kernel then
// refuses new connections. Without filters, a connection completing in
// the microseconds between the last look at the queue and the shutdown
// can still be reset. Accept fails afterwards; the caller closes the
// listener as before. Anything but a *net.TCPListener returns at once.
func Quiesce(ln net.Listener, wait time.Duration) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &dropSYN)
	})
	done := false
	for deadline := time.Now().Add(wait); !done && time.Now().Before(deadline); {
		rc.Control(func(fd uintptr) {
			info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
			if err != nil || info.Unacked == 0 {
				unix.Shutdown(int(fd), unix.SHUT_RD)
				done = true
			}
		})
		if !done {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// dropSYNFilter drops TCP segments with SYN set and ACK clear (new
// connections) and passes the rest, so that handshakes under way complete.
// A TCP socket's filter sees the segment from its TCP header: flags are
// byte 13.
var dropSYNFilter = []unix.SockFilter{
	{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 13},
	{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: 0x12}, // SYN | ACK
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: 0x02, Jt: 0, Jf: 1},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0xffffffff},
}

var dropSYN = unix.SockFprog{Len: uint16(len(dropSYNFilter)), Filter: &dropSYNFilter[0]}
