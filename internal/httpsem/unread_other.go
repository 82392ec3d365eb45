//go:build !linux

package httpsem

import "net"

// Unread reports false where the bytes waiting on a socket are not
// observed: a connection is then silent until the server reads from it.
func Unread(net.Conn) bool { return false }
