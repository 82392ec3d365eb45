package bench

import (
	"context"
	"errors"
	"time"
)

// Search describes a capacity search: the highest open-loop rate at which
// the target answers with p99 latency under SLO, no errors, and the rate
// actually reached (within 5 %: a generator or server that falls behind
// does not pass).
type Search struct {
	// SLO is the p99 latency bound (required).
	SLO time.Duration
	// Step is how long each rate is measured, after a warm-up of a
	// quarter of it; 2 s when 0.
	Step time.Duration
	// Start is the first rate tried; 1,000 requests/s when 0.
	Start float64
	// Precision ends the bisection when the highest passing rate and the
	// lowest failing one are this close (relative); 0.05 when 0.
	Precision float64
	// MaxSteps bounds the steps; 20 when 0.
	MaxSteps int
	// Progress, when set, gets a line per step.
	Progress func(Step)
}

// Step is one rate tried.
type Step struct {
	Rate        float64 `json:"rate"`
	OKPerSecond float64 `json:"ok_per_second"`
	P50US       int64   `json:"p50_us"`
	P99US       int64   `json:"p99_us"`
	Errors      int64   `json:"errors"`
	LatenessUS  int64   `json:"send_lateness_p99_us"`
	Pass        bool    `json:"pass"`
	// Why says what failed: "p99", "errors" or "rate".
	Why string `json:"why,omitempty"`
}

// SearchResult is a search's answer and the steps that led to it.
type SearchResult struct {
	// Rate is the highest passing rate; 0 when none passed.
	Rate  float64 `json:"rate"`
	SLOUS int64   `json:"slo_p99_us"`
	Steps []Step  `json:"steps"`
}

// FindMax runs the search: it doubles the rate from Start until a step
// fails, then bisects between the highest passing and the lowest failing
// rate (halving, when Start itself fails, down to Start/64). l describes what to send and where (its Rate, Duration, N and
// Warmup are set per step).
func (l Load) FindMax(ctx context.Context, s Search) (*SearchResult, error) {
	if s.SLO <= 0 {
		return nil, errors.New("bench: the search needs a p99 bound (-slo-p99)")
	}
	if s.Step <= 0 {
		s.Step = 2 * time.Second
	}
	if s.Start <= 0 {
		s.Start = 1000
	}
	if s.Precision <= 0 {
		s.Precision = 0.05
	}
	if s.MaxSteps <= 0 {
		s.MaxSteps = 20
	}
	res := &SearchResult{SLOUS: s.SLO.Microseconds()}
	try := func(rate float64) (bool, error) {
		step := l
		step.Rate, step.Duration, step.N, step.Warmup, step.Progress = rate, s.Step, 0, s.Step/4, nil
		rep, err := step.Run(ctx)
		if err != nil {
			return false, err
		}
		st := Step{Rate: rate, OKPerSecond: rep.RPS, P50US: rep.LatencyUS.P50, P99US: rep.LatencyUS.P99, Errors: rep.Errors}
		if rep.SendLatenessUS != nil {
			st.LatenessUS = rep.SendLatenessUS.P99
		}
		switch {
		case rep.Errors > 0:
			st.Why = "errors"
		case rep.LatencyUS.P99 > s.SLO.Microseconds():
			st.Why = "p99"
		case rep.RPS < 0.95*rate:
			st.Why = "rate"
		default:
			st.Pass = true
		}
		res.Steps = append(res.Steps, st)
		if s.Progress != nil {
			s.Progress(st)
		}
		return st.Pass, ctx.Err()
	}
	lo, hi := 0.0, 0.0 // highest passing, lowest failing
	for rate := s.Start; len(res.Steps) < s.MaxSteps; rate *= 2 {
		ok, err := try(rate)
		if err != nil {
			return res, err
		}
		if !ok {
			hi = rate
			break
		}
		lo = rate
	}
	for hi > 0 && len(res.Steps) < s.MaxSteps && hi-lo > s.Precision*max(lo, hi/2) && hi > s.Start/64 {
		mid := (lo + hi) / 2
		if lo == 0 {
			mid = hi / 2 // nothing passed yet: halve
		}
		ok, err := try(mid)
		if err != nil {
			return res, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	res.Rate = lo
	return res, nil
}
