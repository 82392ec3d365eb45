package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// histogram is a histogram of integers (nanoseconds, bytes, items) recorded
// without client_golang's Histogram, whose Observe (a binary search, hot
// and cold counts, a float CAS loop for the sum) cost twice as much as
// this: one bucket found by a comparison of integers from the bottom
// (values are mostly small), two atomic additions. The count is the sum
// of the buckets, the last of which is +Inf. Collected as a standard
// Prometheus histogram by its collector.
type histogram struct {
	bounds []int64         // upper bounds, ascending, in the unit observed
	counts []atomic.Uint64 // per bucket (not cumulative); len(bounds)+1
	sum    atomic.Int64
	_      [0]func() // not comparable
}

func newHistogram(bounds []int64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// observe records one observation.
func (h *histogram) observe(v int64) { h.observeRun(1, v) }

// observeRun records n observations of at most total each, totalling
// total, in the bucket of total: exactly when n is 1 or that is the first
// bucket, an upper bound of each otherwise. It reports whether it was the
// first bucket.
func (h *histogram) observeRun(n int, total int64) bool {
	i := 0
	for i < len(h.bounds) && total > h.bounds[i] {
		i++
	}
	h.counts[i].Add(uint64(n))
	h.sum.Add(total)
	return i == 0
}

// total returns the observations so far.
func (h *histogram) total() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// snapshot returns the count, the sum divided by unit, and the cumulative
// bucket counts by upper bound (upper: the bounds divided by unit), as
// prometheus.MustNewConstHistogram takes them. Buckets read one by one
// may be an observation apart; the count is their sum, so that the
// histogram is always consistent.
func (h *histogram) snapshot(upper []float64, unit float64) (uint64, float64, map[float64]uint64) {
	buckets := make(map[float64]uint64, len(upper))
	var cumulative uint64
	for i, b := range upper {
		cumulative += h.counts[i].Load()
		buckets[b] = cumulative
	}
	cumulative += h.counts[len(upper)].Load()
	return cumulative, float64(h.sum.Load()) / unit, buckets
}

// histogramCollector exposes one histogram without labels.
type histogramCollector struct {
	desc  *prometheus.Desc
	h     *histogram
	upper []float64
	unit  float64
}

func newHistogramCollector(name, help string, upper []float64, unit float64) *histogramCollector {
	bounds := make([]int64, len(upper))
	for i, b := range upper {
		bounds[i] = int64(b * unit)
	}
	return &histogramCollector{
		desc:  prometheus.NewDesc(name, help, nil, nil),
		h:     newHistogram(bounds),
		upper: upper,
		unit:  unit,
	}
}

func (c *histogramCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *histogramCollector) Collect(ch chan<- prometheus.Metric) {
	count, sum, buckets := c.h.snapshot(c.upper, c.unit)
	ch <- prometheus.MustNewConstHistogram(c.desc, count, sum, buckets)
}

// callCollector exposes the per-method call counts and durations.
type callCollector struct {
	m            *Metrics
	calls, spent *prometheus.Desc
}

func newCallCollector(m *Metrics) *callCollector {
	return &callCollector{
		m: m,
		calls: prometheus.NewDesc("jetrpc_calls_total",
			"JSON-RPC requests by the method they named, answered or not (notifications included).", []string{"method"}, nil),
		spent: prometheus.NewDesc("jetrpc_call_duration_seconds",
			"Time a method took to run, middleware included, for the calls that ran.", []string{"method"}, nil),
	}
}

func (c *callCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.calls
	ch <- c.spent
}

func (c *callCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	methods := make([]*methodMetrics, 0, len(m.methods)+1)
	methods = append(methods, m.unknown)
	for _, mm := range m.methods {
		methods = append(methods, mm)
	}
	m.mu.Unlock()
	for _, mm := range methods {
		count, sum, buckets := mm.duration.snapshot(m.boundsSeconds, float64(time.Second))
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(count+mm.rejected.Load()), mm.label)
		if mm != m.unknown { // requests that reached no method never ran
			ch <- prometheus.MustNewConstHistogram(c.spent, count, sum, buckets, mm.label)
		}
	}
}
