// Package middleware holds engine.Middleware for production servers:
// per-call logging with log/slog and an authorization check on transport
// metadata. (Prometheus metrics are in package metrics.)
//
//	e := engine.New(
//		engine.WithMiddleware(middleware.Logging(slog.Default(), slog.LevelInfo), middleware.Auth(checkToken)),
//		engine.WithObserver(middleware.LoggingObserver(slog.Default(), slog.LevelInfo)),
//	)
//
// Each is composed once, at registration (see engine.Middleware).
package middleware

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
)

// Logging logs every call that runs at level, one record "jetrpc call"
// each: method, id (absent for a notification), code (0 when it
// succeeded), duration, remote (the client's address, when the call came
// through a transport), and error, the message, when it failed. Requests
// that never reach a method are logged by LoggingObserver. When the
// logger does not log at level (per-call logging is off) it costs one
// Enabled check per call and allocates nothing; when it does, what slog
// allocates.
func Logging(l *slog.Logger, level slog.Level) engine.Middleware {
	return func(next engine.Handler) engine.Handler {
		return func(c *engine.Call) error {
			if !l.Enabled(c.Context(), level) {
				return next(c)
			}
			start := time.Now()
			err := next(c)
			logCall(c.Context(), l, level, c.Method(), c.ID(), err, time.Since(start))
			return err
		}
	}
}

// LoggingObserver logs, as Logging does and with the same attributes
// (the duration aside), the requests the engine answers without running a
// method (see engine.Observer); method is then the name as sent, or absent
// when none could be read. Pass it to engine.WithObserver beside Logging.
// When the logger does not log at level it costs an Enabled check.
func LoggingObserver(l *slog.Logger, level slog.Level) engine.Observer {
	return loggingObserver{l, level}
}

type loggingObserver struct {
	l     *slog.Logger
	level slog.Level
}

func (o loggingObserver) ObserveBatch(int) {}

func (o loggingObserver) ObserveRejected(ctx context.Context, r engine.Rejection) {
	if o.l.Enabled(ctx, o.level) {
		logCall(ctx, o.l, o.level, r.Method, r.ID, r.Error, -1)
	}
}

// logCall writes one record; a negative duration is left out.
func logCall(ctx context.Context, l *slog.Logger, level slog.Level, method, id []byte, err error, d time.Duration) {
	attrs := make([]slog.Attr, 0, 7)
	if method != nil {
		attrs = append(attrs, slog.String("method", string(method)))
	}
	if id != nil {
		attrs = append(attrs, slog.String("id", string(id)))
	}
	code, msg := codeOf(err)
	attrs = append(attrs, slog.Int("code", int(code)))
	if d >= 0 {
		attrs = append(attrs, slog.Duration("duration", d))
	}
	if md := engine.MetadataFrom(ctx); md != nil {
		attrs = append(attrs, slog.String("remote", md.RemoteAddr().String()))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", msg))
	}
	l.LogAttrs(ctx, level, "jetrpc call", attrs...)
}

// codeOf is the JSON-RPC code the engine answers err with (0 for nil), and
// the message to log: the answer's, or for an internal error (which the
// client sees without detail) the error's own text.
func codeOf(err error) (codec.Code, string) {
	ce := engine.ErrorOf(err)
	switch {
	case ce == nil:
		return 0, ""
	case ce == codec.ErrInternal:
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
