//go:build !linux

package httpsem

import (
	"net"
	"time"
)

// Quiesce is a no-op where the accept queue cannot be observed: closing
// the listener may reset connections still queued in it.
func Quiesce(net.Listener, time.Duration) {}
