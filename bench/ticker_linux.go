package bench

import (
	"os"
	"time"

	"github.com/jetrpc/jetrpc/internal/clock"
	"golang.org/x/sys/unix"
)

// sleeper waits for absolute monotonic times with a timerfd read through
// Go's netpoller: the goroutine parks holding no P and wakes when the
// kernel's timer fires (tens of microseconds late here), where Go's own
// timers are ~0.6 ms late (the netpoller sleeps in whole milliseconds) and
// a goroutine sleeping in clock_nanosleep holds its P until sysmon takes it
// back (answers then waited up to 10 ms).
type sleeper struct {
	f   *os.File
	buf [8]byte
}

func newSleeper() *sleeper {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &sleeper{}
	}
	return &sleeper{f: os.NewFile(uintptr(fd), "timerfd")}
}

// until waits until the monotonic time mono (clock.Nanotime's clock,
// which is CLOCK_MONOTONIC).
func (s *sleeper) until(mono int64) {
	if s.f == nil {
		time.Sleep(time.Duration(mono - clock.Nanotime()))
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(mono)}
	if unix.TimerfdSettime(int(s.f.Fd()), unix.TFD_TIMER_ABSTIME, &spec, nil) != nil {
		time.Sleep(time.Duration(mono - clock.Nanotime()))
		return
	}
	_, _ = s.f.Read(s.buf[:])
}

func (s *sleeper) close() {
	if s.f != nil {
		s.f.Close()
	}
}
