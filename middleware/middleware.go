// Package middleware holds engine.Middleware for production servers:
// structured logging with log/slog, an authorization check on transport
// metadata, and per-method metrics in Prometheus text format.
//
//	e := engine.New(engine.WithMiddleware(
//		middleware.Logging(slog.Default(), slog.LevelInfo),
//		middleware.Auth(checkToken),
//		metrics.Middleware(),
//	))
//
// Each is composed once, at registration (see engine.Middleware).
package middleware

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
)

// Logging logs every call at level: method, duration, and the error's
// code and message when it failed. When the logger does not log at level
// it costs one Enabled check per call; when it does, what slog allocates.
func Logging(l *slog.Logger, level slog.Level) engine.Middleware {
	return func(next engine.Handler) engine.Handler {
		return func(c *engine.Call) error {
			if !l.Enabled(c.Context(), level) {
				return next(c)
			}
			start := time.Now()
			err := next(c)
			attrs := []slog.Attr{
				slog.String("method", string(c.Method())),
				slog.Duration("duration", time.Since(start)),
				slog.Bool("notification", c.IsNotification()),
			}
			if err != nil {
				code, msg := codeOf(err)
				attrs = append(attrs, slog.Int("code", int(code)), slog.String("error", msg))
			}
			l.LogAttrs(c.Context(), level, "jetrpc call", attrs...)
			return err
		}
	}
}

// codeOf is the JSON-RPC code the engine will answer err with, and the
// message to log: the answer's, or for an internal error (which the client
// sees without detail) the error's own text.
func codeOf(err error) (codec.Code, string) {
	ce := engine.ErrorOf(err)
	if ce == codec.ErrInternal {
		return ce.Code, err.Error()
	}
	return ce.Code, ce.Message
}

// ErrUnauthorized answers a call that Auth refused (code -32004, in the
// range the specification leaves to implementations).
var ErrUnauthorized = &codec.Error{Code: -32004, Message: "unauthorized"}

// Auth runs check on the request's Authorization header (nil when absent,
// or when the call came through no transport) before the call. A nil
// error lets the call through; a *codec.Error is the answer; any other
// error answers ErrUnauthorized. It costs what check costs.
func Auth(check func(ctx context.Context, authorization []byte) error) engine.Middleware {
	return func(next engine.Handler) engine.Handler {
		return func(c *engine.Call) error {
			var authorization []byte
			if md := engine.MetadataFrom(c.Context()); md != nil {
				authorization = md.Header("Authorization")
			}
			if err := check(c.Context(), authorization); err != nil {
				var ce *codec.Error
				if errors.As(err, &ce) {
					return ce
				}
				return ErrUnauthorized
			}
			return next(c)
		}
	}
}

// Metrics counts calls and errors and times them, per method, in a
// VictoriaMetrics metrics.Set, exposed in Prometheus text format with
// WritePrometheus:
//
//	jetrpc_calls_total{method="add"}
//	jetrpc_errors_total{method="add"}
//	jetrpc_call_duration_seconds{method="add"} (a histogram)
//
// It is safe for concurrent use. A call costs a lookup of its method's
// metrics, without allocating once the method has been seen.
type Metrics struct {
	set     *metrics.Set
	mu      sync.RWMutex
	methods map[string]*methodMetrics
}

type methodMetrics struct {
	calls, errors *metrics.Counter
	duration      *metrics.Histogram
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{set: metrics.NewSet(), methods: map[string]*methodMetrics{}}
}

// Middleware returns the middleware that records into m.
func (m *Metrics) Middleware() engine.Middleware {
	return func(next engine.Handler) engine.Handler {
		return func(c *engine.Call) error {
			mm := m.forMethod(c.Method())
			start := time.Now()
			err := next(c)
			mm.duration.UpdateDuration(start)
			mm.calls.Inc()
			if err != nil {
				mm.errors.Inc()
			}
			return err
		}
	}
}

// forMethod returns the metrics of a method, creating them once.
func (m *Metrics) forMethod(name []byte) *methodMetrics {
	m.mu.RLock()
	mm := m.methods[string(name)] // no allocation: the compiler reads the bytes in place
	m.mu.RUnlock()
	if mm != nil {
		return mm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := string(name)
	if mm = m.methods[key]; mm == nil {
		label := `{method="` + escapeLabel(key) + `"}`
		mm = &methodMetrics{
			calls:    m.set.NewCounter("jetrpc_calls_total" + label),
			errors:   m.set.NewCounter("jetrpc_errors_total" + label),
			duration: m.set.NewHistogram("jetrpc_call_duration_seconds" + label),
		}
		m.methods[key] = mm
	}
	return mm
}

// escapeLabel escapes a Prometheus label value.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WritePrometheus writes the metrics in Prometheus text format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	m.set.WritePrometheus(w)
}
