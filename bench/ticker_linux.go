package bench

import (
	"runtime"
	"time"

	"github.com/jetrpc/jetrpc/internal/clock"
	"golang.org/x/sys/unix"
)

// preciseSleeps readies the calling goroutine's thread for sleepUntil:
// it locks the goroutine to it and sets its timer slack to 1 ns (Linux
// lets a sleeping thread wake up to 50 µs late by default).
func preciseSleeps() {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
}

// sleepUntil sleeps in clock_nanosleep(2) until the monotonic time mono
// (clock.Nanotime's clock, which is CLOCK_MONOTONIC): the kernel's timer
// wakes it within microseconds here, where Go's timers are ~0.6 ms late
// (the netpoller sleeps in whole milliseconds). The goroutine holds its
// thread, not a P, while it sleeps.
func sleepUntil(mono int64) {
	ts := unix.NsecToTimespec(mono)
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}

// monoOf maps t to the monotonic clock.
func monoOf(t time.Time) int64 { return clock.Nanotime() + int64(time.Until(t)) }
