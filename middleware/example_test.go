package middleware_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/middleware"
)

// Logging logs every call with its outcome; Auth refuses calls whose
// Authorization header check fails (here: calls that came through no
// transport, which have no header at all).
func Example() {
	// A logger without the time and the duration, so that the output is
	// the same on every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{}
			}
			return a
		},
	}))
	requireToken := func(_ context.Context, authorization []byte) error {
		if len(authorization) == 0 {
			return middleware.ErrUnauthorized
		}
		return nil
	}
	e := engine.New()
	engine.RegisterNoParams(e, "hello", func(context.Context) (string, error) { return "Hello", nil })
	engine.RegisterNoParams(e, "secret", func(context.Context) (string, error) { return "42", nil },
		engine.Use(middleware.Logging(logger, slog.LevelInfo), middleware.Auth(requireToken)))
	engine.RegisterNoParams(e, "open", func(context.Context) (string, error) { return "hi", nil },
		engine.Use(middleware.Logging(logger, slog.LevelInfo)))

	ctx := context.Background()
	fmt.Printf("%s\n", e.Append(ctx, nil, []byte(`{"jsonrpc":"2.0","method":"open","id":1}`)))
	fmt.Printf("%s\n", e.Append(ctx, nil, []byte(`{"jsonrpc":"2.0","method":"secret","id":2}`)))
	// Output:
	// level=INFO msg="jetrpc call" method=open id=1 code=0
	// {"jsonrpc":"2.0","result":"hi","id":1}
	// level=INFO msg="jetrpc call" method=secret id=2 code=-32004 error=unauthorized
	// {"jsonrpc":"2.0","error":{"code":-32004,"message":"unauthorized"},"id":2}
}
