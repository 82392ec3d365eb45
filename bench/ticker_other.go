//go:build !linux

package bench

import (
	"time"

	"github.com/jetrpc/jetrpc/internal/clock"
)

// preciseSleeps does nothing here.
func preciseSleeps() {}

// sleepUntil sleeps until the monotonic time mono with Go's timers.
func sleepUntil(mono int64) { time.Sleep(time.Duration(mono - clock.Nanotime())) }

// monoOf maps t to the monotonic clock.
func monoOf(t time.Time) int64 { return clock.Nanotime() + int64(time.Until(t)) }
