package bench

import (
	"time"

	"github.com/jetrpc/jetrpc/internal/clock"
)

// SetSendDelay plants d in the open loop's send path, to show that the
// timing test notices a generator that sends late.
func SetSendDelay(l *Load, d time.Duration) { l.sendDelay = d }

// HDRX is hdrX, for tests that read the charts back.
func HDRX(p float64) float64 { return hdrX(p) }

// WakeLateness is the open loop's wait alone, with nothing sent: it waits
// for the due times of rate requests/s over d as the ticker does, and
// returns how late each wait returned, in µs. That is the machine's share
// of the send lateness at that moment: its timer and its scheduler, with
// whatever else runs on it.
func WakeLateness(rate float64, d time.Duration) Latency {
	sl := newSleeper()
	defer sl.close()
	spin := spinBefore()
	period := int64(float64(time.Second) / rate)
	start := clock.Nanotime() + period
	late := newHistogram() // as the generator's own: the same quantiles
	for due := start; due < start+int64(d); due += period {
		if clock.Nanotime() < due {
			sl.wait(due, spin)
		}
		_ = late.RecordValue(time.Duration(clock.Nanotime() - due).Microseconds())
	}
	return latencyOf(late)
}

// BusyRoundsFor is busyRoundsFor: the calibrated rounds of the working
// handler's loop.
func BusyRoundsFor(d time.Duration) int { return busyRoundsFor(d) }
