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
	handle(e, `{"jsonrpc":"2.0","method":"fail","id":"b"}`)
	handle(e, `{"jsonrpc":"2.0","method":"ping"}`)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for i, want := range [][]string{
		{"method=add", "id=1", "code=0", "duration="},
		{"method=fail", `id="\"b\""`, "code=1000", "error=fail"},
		{"method=ping", "code=0"},
	} {
		if i >= len(lines) {
			t.Fatalf("%d lines logged:\n%s", len(lines), buf.String())
		}
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d: no %s in %s", i, w, lines[i])
			}
		}
	}
	if strings.Contains(lines[2], "id=") {
		t.Errorf("a notification logged with an id: %s", lines[2])
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

func TestLoggingRemoteAddrAndRejected(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	e := testserver.Demo(t, engine.WithMiddleware(middleware.Logging(l, slog.LevelInfo)),
		engine.WithObserver(middleware.LoggingObserver(l, slog.LevelInfo)))
	url := testserver.Loopback(t, e)
	c, err := client.Dial("http://" + url + fastserver.DefaultPath)
	if err != nil {
		t.Fatal(err)
	}
	c.Call(context.Background(), "ping", nil, nil)
	c.Call(context.Background(), "nope", nil, nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log:\n%s", buf.String())
	}
	for i, want := range [][]string{{"method=ping", "remote=127.0.0.1:"}, {"method=nope", "code=-32601", "remote=127.0.0.1:", `error="Method not found"`}} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d: no %s in %s", i, w, lines[i])
			}
		}
	}
}
