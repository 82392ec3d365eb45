package bench

import "time"

// SetSendDelay plants d in the open loop's send path, to show that the
// timing test notices a generator that sends late.
func SetSendDelay(l *Load, d time.Duration) { l.sendDelay = d }

// HDRX is hdrX, for tests that read the charts back.
func HDRX(p float64) float64 { return hdrX(p) }
