package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jetrpc/jetrpc/internal/clock"
)

// run is what the workers of one Run share: the clock (start, warm-up,
// deadline), the schedule of the open loop, the N bound, the per-second
// series, and the workers' recorders.
type run struct {
	l            *Load
	start        time.Time
	measureStart time.Time
	deadline     time.Time
	measuring    atomic.Bool
	sent         atomic.Int64 // requests started after warm-up (for N)
	sched        schedule
	pick         picker
	recorders    []*recorder
	series       series
	// dues hands the open loop's requests to the HTTP workers as they
	// fall due (see schedule.tick).
	dues chan time.Time
}

// begin starts the clock of a run: ctx ends at the deadline.
func (l *Load) begin(ctx context.Context, workers int) (*run, context.Context, context.CancelFunc) {
	r := &run{l: l, start: time.Now(), pick: newPicker(l.Weights, len(l.Requests))}
	r.measureStart = r.start.Add(l.Warmup)
	r.sched = schedule{start: r.start, rate: l.Rate}
	runCtx, cancel := context.WithCancel(ctx)
	if l.Duration > 0 {
		r.deadline = r.measureStart.Add(l.Duration)
		var cancelDeadline context.CancelFunc
		runCtx, cancelDeadline = context.WithDeadline(runCtx, r.deadline)
		stop := cancel
		cancel = func() { cancelDeadline(); stop() }
	}
	if l.Warmup <= 0 {
		r.measuring.Store(true)
	} else {
		time.AfterFunc(l.Warmup, func() { r.measuring.Store(true) })
	}
	r.series.start = r.measureStart
	if l.Rate > 0 && !isPersistent(l.URL) {
		r.dues = make(chan time.Time, workers)
		go r.sched.tick(runCtx, r.dues)
	}
	for range workers {
		r.recorders = append(r.recorders, newRecorder(r))
	}
	return r, runCtx, cancel
}

// admit reports whether one more request may start, and whether it is
// measured (sent after the warm-up); false once N requests were measured.
func (r *run) admit() (ok, counted bool) {
	counted = r.measuring.Load()
	if counted && r.l.N > 0 && r.sent.Add(1) > r.l.N {
		return false, counted
	}
	return true, counted
}

// wait runs the progress lines while the workers run, then builds the
// report.
func (r *run) wait(workers *sync.WaitGroup) *Report {
	stop, done := make(chan struct{}), make(chan struct{})
	if r.l.Progress != nil {
		go func() { r.progress(r.l.Progress, stop); close(done) }()
	} else {
		close(done)
	}
	workers.Wait()
	close(stop)
	<-done // its last line is written before Run returns and the caller writes the report
	elapsed := time.Since(r.measureStart)
	if !r.deadline.IsZero() && time.Now().After(r.deadline) {
		elapsed = r.l.Duration
	}
	return r.report(elapsed)
}

// schedule says when each request is due. Closed loop: at once. Open
// loop: request k is due at start + k/rate, whatever happened to the
// others (no coordinated omission).
type schedule struct {
	start time.Time
	rate  float64
	seq   atomic.Uint64
}

// next takes the next request and returns when it is due (the zero time
// in the closed loop).
func (s *schedule) next() time.Time {
	if s.rate <= 0 {
		return time.Time{}
	}
	k := s.seq.Add(1) - 1
	return s.start.Add(time.Duration(float64(k) / s.rate * float64(time.Second)))
}

// tick hands out the open loop's due times on out, each when it falls
// due, until ctx ends. One goroutine waits on a kernel timer (sleeper)
// until spinWindow before each, then polls the clock (with more than one
// P), and the workers wait on out: Go's timers are ~0.6 ms late here, the
// kernel's 30–40 µs at p50 and up to ~100 µs at p99, and workers spinning
// each on its own kept the scheduler from polling the network (answers
// came ~1 ms late). Measured in TestOpenLoopTiming.
func (s *schedule) tick(ctx context.Context, out chan<- time.Time) {
	sl := newSleeper()
	defer sl.close()
	spin := spinBefore()
	for {
		due := s.next()
		if time.Until(due) > 0 {
			sl.wait(monoOf(due), spin)
		}
		select {
		case out <- due:
		case <-ctx.Done():
			return
		}
		runtime.Gosched() // the worker just woken sends before this goroutine sleeps again
	}
}

// spinWindow is how long before a due time the ticker stops sleeping and
// polls the clock: the kernel's p99 wake-up lateness on this machine.
const spinWindow = 100 * time.Microsecond

// spinBefore is the ticker's polling window: spinWindow, or none with one
// P, where a goroutine polling the clock keeps the scheduler from polling
// the network (answers waited for sysmon, up to 10 ms, at 4,000/s) and the
// kernel's wake-up alone decides.
func spinBefore() time.Duration {
	if runtime.GOMAXPROCS(0) == 1 {
		return 0
	}
	return spinWindow
}

// wait returns at the monotonic time mono: asleep on the kernel's timer
// until spin before it, then polling the clock, yielding between reads.
func (s *sleeper) wait(mono int64, spin time.Duration) {
	s.until(mono - int64(spin))
	for clock.Nanotime() < mono {
		runtime.Gosched()
	}
}

// recorder is one worker's measurements: latency of successful calls,
// send lateness (open loop), failures by kind with the first message of
// each, and the current second of the per-second series.
type recorder struct {
	r      *run
	mu     sync.Mutex // against the progress reader and the final merge
	hist   *hdrhistogram.Histogram
	late   *hdrhistogram.Histogram
	kinds  map[string]int64
	first  map[string]string
	ok     atomic.Int64
	failed atomic.Int64
	// The second being counted (since measureStart), merged into the
	// run's series when the next one begins.
	sec     int
	secHist *hdrhistogram.Histogram
	secOK   int64
	secErr  map[string]int64
}

func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// newSecondHistogram has 2 significant digits: enough for a second's p50
// and p99, a tenth of the memory.
func newSecondHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 2) }

func newRecorder(r *run) *recorder {
	return &recorder{r: r, hist: newHistogram(), late: newHistogram(), kinds: map[string]int64{},
		first: map[string]string{}, secHist: newSecondHistogram(), secErr: map[string]int64{}}
}

// record counts one measured request that ended at now, sent at due:
// a success (kind "") or a failure of kind, whose message (from err, or
// else from answer) is kept when it is the first of its kind.
func (rec *recorder) record(due, now time.Time, kind string, err error, answer []byte) {
	sec := int(now.Sub(rec.r.measureStart) / time.Second)
	rec.mu.Lock()
	if sec != rec.sec {
		rec.flushSecond()
		rec.sec = sec
	}
	if kind == "" {
		us := max(now.Sub(due).Microseconds(), 1)
		_ = rec.hist.RecordValue(us)
		_ = rec.secHist.RecordValue(us)
		rec.secOK++
	} else {
		rec.kinds[kind]++
		rec.secErr[kind]++
		if _, seen := rec.first[kind]; !seen {
			rec.first[kind] = message(kind, err, answer)
		}
	}
	rec.mu.Unlock()
	if kind == "" {
		rec.ok.Add(1)
	} else {
		rec.failed.Add(1)
	}
}

// lateBy records how late a request left (open loop).
func (rec *recorder) lateBy(d time.Duration) {
	rec.mu.Lock()
	_ = rec.late.RecordValue(max(d.Microseconds(), 0))
	rec.mu.Unlock()
}

// flushSecond merges the current second into the run's series, with
// rec.mu held.
func (rec *recorder) flushSecond() {
	if rec.secOK == 0 && len(rec.secErr) == 0 {
		return
	}
	rec.r.series.add(rec.sec, rec.secHist, rec.secOK, rec.secErr)
	rec.secHist.Reset()
	rec.secOK = 0
	clear(rec.secErr)
}

// message is the text of a failure: the transport's error, or the answer
// (cut to 200 bytes).
func message(kind string, err error, answer []byte) string {
	if err != nil {
		return kind + ": " + err.Error()
	}
	if len(answer) > 200 {
		answer = answer[:200]
	}
	if len(answer) == 0 {
		return kind
	}
	return kind + ": " + string(answer)
}

// series is the run's per-second figures.
type series struct {
	start time.Time
	mu    sync.Mutex
	secs  []*second
}

type second struct {
	hist *hdrhistogram.Histogram
	ok   int64
	errs map[string]int64
}

func (s *series) add(sec int, h *hdrhistogram.Histogram, ok int64, errs map[string]int64) {
	if sec < 0 {
		return // the warm-up is not part of the series
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.secs) <= sec {
		s.secs = append(s.secs, &second{hist: newSecondHistogram(), errs: map[string]int64{}})
	}
	x := s.secs[sec]
	x.hist.Merge(h)
	x.ok += ok
	for k, v := range errs {
		x.errs[k] += v
	}
}

// Report is the outcome of a run. Requests/s and latency count the
// successful calls only; failures have their own count, rate and kinds.
type Report struct {
	// Requests is every measured request, successful or not.
	Requests int64 `json:"requests"`
	// Errors is the failed ones.
	Errors    int64   `json:"errors"`
	DurationS float64 `json:"duration_s"`
	// RPS is successful requests per second.
	RPS float64 `json:"rps"`
	// LatencyUS is the latency of successful requests, from when each
	// was due (open loop) or sent (closed loop).
	LatencyUS    Latency          `json:"latency_us"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	// OK is the successful requests; ErrorsPerSecond the failures' rate.
	OK              int64   `json:"ok"`
	ErrorsPerSecond float64 `json:"errors_per_second"`
	// FirstErrors is the message of the first failure of each kind.
	FirstErrors map[string]string `json:"first_errors"`
	// SendLatenessUS (open loop) is how late requests left after their
	// due time: the generator's own delay, already part of LatencyUS.
	SendLatenessUS *Latency `json:"send_lateness_us,omitempty"`
	// Seconds is the run second by second.
	Seconds []Second `json:"per_second"`
	// Histogram is the latency distribution of successful requests at
	// the percentiles an HDR plot shows (50 … 99.999 %).
	Histogram []Percentile `json:"histogram"`
}

// Latency holds latency percentiles in microseconds.
type Latency struct {
	P50  int64 `json:"p50"`
	P90  int64 `json:"p90"`
	P99  int64 `json:"p99"`
	P999 int64 `json:"p999"`
	Max  int64 `json:"max"`
}

// Second is one second of a run.
type Second struct {
	T      int              `json:"t"`
	OK     int64            `json:"ok"`
	P50US  int64            `json:"p50_us"`
	P99US  int64            `json:"p99_us"`
	Errors map[string]int64 `json:"errors,omitempty"`
}

// Percentile is one point of the latency distribution.
type Percentile struct {
	Percentile float64 `json:"percentile"`
	US         int64   `json:"us"`
}

// LatenessWarning is the send lateness (p99) past which the generator,
// not the server, limits an open-loop run.
const LatenessWarning = 100 * time.Microsecond

// snapshot merges the recorders.
func (r *run) snapshot() (h, late *hdrhistogram.Histogram, ok, failed int64, kinds map[string]int64, first map[string]string) {
	h, late = newHistogram(), newHistogram()
	kinds, first = map[string]int64{}, map[string]string{}
	for _, rec := range r.recorders {
		rec.mu.Lock()
		h.Merge(rec.hist)
		late.Merge(rec.late)
		for k, v := range rec.kinds {
			kinds[k] += v
		}
		for k, m := range rec.first {
			if _, ok := first[k]; !ok {
				first[k] = m
			}
		}
		rec.mu.Unlock()
		ok += rec.ok.Load()
		failed += rec.failed.Load()
	}
	return
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	return Latency{P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max()}
}

// HDRPercentiles are the points of Report.Histogram.
var HDRPercentiles = []float64{50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999}

func (r *run) report(elapsed time.Duration) *Report {
	for _, rec := range r.recorders {
		rec.mu.Lock()
		rec.flushSecond()
		rec.mu.Unlock()
	}
	h, late, ok, failed, kinds, first := r.snapshot()
	rep := &Report{
		Requests: ok + failed, Errors: failed, OK: ok, DurationS: elapsed.Seconds(),
		RPS: float64(ok) / elapsed.Seconds(), ErrorsPerSecond: float64(failed) / elapsed.Seconds(),
		LatencyUS: latencyOf(h), ErrorsByKind: kinds, FirstErrors: first,
	}
	if r.l.Rate > 0 {
		l := latencyOf(late)
		rep.SendLatenessUS = &l
	}
	for _, p := range HDRPercentiles {
		rep.Histogram = append(rep.Histogram, Percentile{p, h.ValueAtQuantile(p)})
	}
	r.series.mu.Lock()
	whole := int(math.Ceil(elapsed.Seconds() - 1e-9)) // a last second past the run's end is its tail, not a second
	for i, s := range r.series.secs {
		if i >= whole {
			break
		}
		x := Second{T: i, OK: s.ok, P50US: s.hist.ValueAtQuantile(50), P99US: s.hist.ValueAtQuantile(99)}
		if len(s.errs) > 0 {
			x.Errors = s.errs
		}
		rep.Seconds = append(rep.Seconds, x)
	}
	r.series.mu.Unlock()
	return rep
}

// progress writes a line a second until stop is closed.
func (r *run) progress(out io.Writer, stop chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			h, _, ok, failed, _, _ := r.snapshot()
			fmt.Fprintf(out, "%5.0fs  %8d ok/s  p50 %6.2fms  p99 %7.2fms  errors %d\n",
				now.Sub(r.measureStart).Seconds(), ok-last, float64(h.ValueAtQuantile(50))/1000, float64(h.ValueAtQuantile(99))/1000, failed)
			last = ok
		}
	}
}

// SortedKinds returns the report's error kinds in order.
func (rep *Report) SortedKinds() []string {
	kinds := make([]string, 0, len(rep.ErrorsByKind))
	for k := range rep.ErrorsByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// errNoRequests is Run's error without templates.
var errNoRequests = errors.New("bench: no requests to send")

// monoOf maps t to the monotonic clock the sleepers wait on.
func monoOf(t time.Time) int64 { return clock.Nanotime() + int64(time.Until(t)) }
