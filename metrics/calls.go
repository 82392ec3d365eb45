package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// durations is one method's call-duration histogram, recorded without
// client_golang's Histogram, whose Observe (hot and cold counts, a float
// CAS loop for the sum) cost twice as much per call as this: one bucket
// found by a comparison of integers from the bottom (calls are mostly
// fast), two atomic additions. The count is the sum of the buckets, the
// last of which is +Inf. Exposed through callCollector as a standard
// Prometheus histogram.
type durations struct {
	bounds []int64         // upper bounds in nanoseconds, ascending
	counts []atomic.Uint64 // per bucket (not cumulative); len(bounds)+1
	sum    atomic.Int64    // nanoseconds
	_      [0]func()       // not comparable
}

func newDurations(bounds []int64) *durations {
	return &durations{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (d *durations) observe(ns int64) {
	i := 0
	for i < len(d.bounds) && ns > d.bounds[i] {
		i++
	}
	d.counts[i].Add(1)
	d.sum.Add(ns)
}

// snapshot returns the count, the sum in seconds, and the cumulative
// bucket counts by upper bound in seconds, as prometheus.MustNewConstHistogram
// takes them. Buckets read one by one may be a call apart; the count is
// their sum, so that the histogram is always consistent.
func (d *durations) snapshot(boundsSeconds []float64) (uint64, float64, map[float64]uint64) {
	buckets := make(map[float64]uint64, len(boundsSeconds))
	var cumulative uint64
	for i, b := range boundsSeconds {
		cumulative += d.counts[i].Load()
		buckets[b] = cumulative
	}
	cumulative += d.counts[len(boundsSeconds)].Load()
	return cumulative, float64(d.sum.Load()) / float64(time.Second), buckets
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
		count, sum, buckets := mm.duration.snapshot(m.boundsSeconds)
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(count+mm.rejected.Load()), mm.label)
		if mm != m.unknown { // requests that reached no method never ran
			ch <- prometheus.MustNewConstHistogram(c.spent, count, sum, buckets, mm.label)
		}
	}
}
