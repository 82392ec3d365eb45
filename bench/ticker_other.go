//go:build !linux

package bench

import (
	"time"

	"github.com/jetrpc/jetrpc/internal/clock"
)

// sleeper waits with Go's timers where there is no timerfd.
type sleeper struct{}

func newSleeper() *sleeper { return &sleeper{} }

func (*sleeper) until(mono int64) { time.Sleep(time.Duration(mono - clock.Nanotime())) }

func (*sleeper) close() {}
