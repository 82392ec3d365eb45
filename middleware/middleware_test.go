package middleware_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/jetrpc/jetrpc/middleware"
)

func handle(e *engine.Engine, in string) string {
	return string(e.Append(context.Background(), nil, []byte(in)))
}

func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	e := engine.New(engine.WithMiddleware(middleware.Logging(l, slog.LevelInfo)))
	if err := demo.Register(e); err != nil {
		t.Fatal(err)
	}
	handle(e, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`)
	handle(e, `{"jsonrpc":"2.0","method":"fail","id":2}`)
	out := buf.String()
	if !strings.Contains(out, "method=add") || !strings.Contains(out, "duration=") ||
		!strings.Contains(out, "method=fail") || !strings.Contains(out, "code=1000") || !strings.Contains(out, "error=fail") {
		t.Errorf("log:\n%s", out)
	}
	// Below the logger's level: nothing logged, nothing allocated beyond the call.
	buf.Reset()
	quiet := engine.New(engine.WithMiddleware(middleware.Logging(l, slog.LevelDebug)))
	demo.Register(quiet)
	handle(quiet, `{"jsonrpc":"2.0","method":"ping","id":1}`)
	if buf.Len() != 0 {
		t.Errorf("logged below the level: %s", buf.String())
	}
}

func TestAuthOverHTTP(t *testing.T) {
	check := func(_ context.Context, authorization []byte) error {
		if string(authorization) != "Bearer s3cret" {
			return middleware.ErrUnauthorized
		}
		return nil
	}
	e := testserver.Demo(t, engine.WithMiddleware(middleware.Auth(check)))
	dial := testserver.InMemory(t, e)
	newClient := func(header map[string]string) *client.Client {
		opts := []client.Option{client.WithDial(func(string) (net.Conn, error) { return dial() })}
		for k, v := range header {
			opts = append(opts, client.WithHeader(k, v))
		}
		c, _ := client.Dial("http://x"+fastserver.DefaultPath, opts...)
		return c
	}
	var pong string
	if err := newClient(map[string]string{"Authorization": "Bearer s3cret"}).Call(context.Background(), "ping", nil, &pong); err != nil || pong != "pong" {
		t.Errorf("authorized: %q %v", pong, err)
	}
	err := newClient(nil).Call(context.Background(), "ping", nil, nil)
	if !codecIs(err, -32004) {
		t.Errorf("no header: %v", err)
	}
	err = newClient(map[string]string{"Authorization": "Bearer wrong"}).Call(context.Background(), "ping", nil, nil)
	if !codecIs(err, -32004) {
		t.Errorf("wrong token: %v", err)
	}
	// Without a transport there is no header: refused too.
	if got := handle(e, `{"jsonrpc":"2.0","method":"ping","id":1}`); !strings.Contains(got, "-32004") {
		t.Errorf("direct Handle: %s", got)
	}
}

func codecIs(err error, code codec.Code) bool {
	ce, ok := err.(*codec.Error)
	return ok && ce.Code == code
}

func TestMetrics(t *testing.T) {
	m := middleware.NewMetrics()
	e := engine.New(engine.WithMiddleware(m.Middleware()))
	demo.Register(e)
	for range 3 {
		handle(e, `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`)
	}
	handle(e, `{"jsonrpc":"2.0","method":"fail","id":1}`)
	handle(e, `{"jsonrpc":"2.0","method":"nope","id":1}`) // unknown methods never reach middleware
	var out bytes.Buffer
	m.WritePrometheus(&out)
	text := out.String()
	for _, want := range []string{
		`jetrpc_calls_total{method="add"} 3`,
		`jetrpc_calls_total{method="fail"} 1`,
		`jetrpc_errors_total{method="fail"} 1`,
		`jetrpc_errors_total{method="add"} 0`,
		`jetrpc_call_duration_seconds_count{method="add"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "nope") {
		t.Error("an unknown method made metrics")
	}
}
