package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
)

func TestDefaultLimits(t *testing.T) {
	if engine.DefaultMaxBatchItems != 1000 || engine.DefaultMaxMethodNameLength != 256 ||
		engine.DefaultMaxParamsDepth != 128 || engine.DefaultMaxBatchResponseBytes != 16<<20 {
		t.Error("default limits changed: update the docs and this test together")
	}
}

func TestBatchItemLimit(t *testing.T) {
	e := newDemo(t)
	ping := `{"jsonrpc":"2.0","method":"ping","id":1}`
	at := "[" + strings.Repeat(ping+",", engine.DefaultMaxBatchItems-1) + ping + "]"
	if got := handle(e, at); !strings.HasPrefix(got, `[{"jsonrpc":"2.0","result":"pong","id":1}`) {
		t.Errorf("a batch at the limit: %.100s", got)
	}
	// 200,000 items: refused with one error, fast, none run.
	huge := "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"fail","id":1},`, 200_000) + ping + "]"
	start := time.Now()
	got := handle(e, huge)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a 200,000-item batch took %v to refuse", d)
	}
	want := `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"batch has 200001 items, more than the limit of 1000"},"id":null}`
	if got != want {
		t.Errorf("got  %.300s\nwant %s", got, want)
	}
	if got := handle(engine.New(engine.WithMaxBatchItems(2)), "[1,2,3]"); !strings.Contains(got, "batch has 3 items, more than the limit of 2") {
		t.Errorf("WithMaxBatchItems(2): %s", got)
	}
}

func TestMethodNameLengthLimit(t *testing.T) {
	e := newDemo(t)
	long := strings.Repeat("m", engine.DefaultMaxMethodNameLength+1)
	got := handle(e, `{"jsonrpc":"2.0","method":"`+long+`","id":1}`)
	if want := `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"method name is longer than the limit"},"id":1}`; got != want {
		t.Errorf("got %s", got)
	}
	if got := handle(e, `{"jsonrpc":"2.0","method":"`+long[1:]+`","id":1}`); !strings.Contains(got, "-32601") {
		t.Errorf("a name at the limit is looked up: %s", got)
	}
}

func TestParamsDepthLimit(t *testing.T) {
	e := newDemo(t)
	params := func(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
	if got := handle(e, `{"jsonrpc":"2.0","method":"echo","params":`+params(engine.DefaultMaxParamsDepth)+`,"id":1}`); !strings.Contains(got, `"result"`) {
		t.Errorf("params at the limit: %.200s", got)
	}
	got := handle(e, `{"jsonrpc":"2.0","method":"echo","params":`+params(engine.DefaultMaxParamsDepth+1)+`,"id":1}`)
	if want := `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"params are nested deeper than the limit"},"id":1}`; got != want {
		t.Errorf("got %s", got)
	}
	// 100,000 deep: refused fast (past encoding/json's 10,000 it is a parse error).
	start := time.Now()
	got = handle(e, `{"jsonrpc":"2.0","method":"echo","params":`+params(100_000)+`,"id":1}`)
	if d := time.Since(start); d > time.Second || !strings.Contains(got, `"code":-32700`) {
		t.Errorf("100,000-deep params: %v, %.200s", d, got)
	}
	if got := handle(engine.New(engine.WithMaxParamsDepth(-1)), `{"jsonrpc":"2.0","method":"x","params":`+params(5000)+`,"id":1}`); !strings.Contains(got, "-32601") {
		t.Errorf("without the bound: %.200s", got)
	}
}

func TestBatchResponseBudget(t *testing.T) {
	e := newDemo(t, engine.WithMaxBatchResponseBytes(100))
	big := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 80) + `"],"id":1}`
	got := handle(e, "["+big+`,{"jsonrpc":"2.0","method":"ping","id":2},{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"fail","id":3}]`)
	want := `[{"jsonrpc":"2.0","result":"` + strings.Repeat("x", 80) + `","id":1},` +
		`{"jsonrpc":"2.0","error":{"code":-32003,"message":"batch response too large"},"id":2},` +
		`{"jsonrpc":"2.0","error":{"code":-32003,"message":"batch response too large"},"id":3}]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCallTimeouts(t *testing.T) {
	e := newDemo(t, engine.WithCallTimeout(50*time.Millisecond))
	must(t, engine.Register(e, "patient", demo.Sleep, engine.Timeout(time.Second)))
	must(t, engine.Register(e, "stubborn", func(context.Context, struct{}) (string, error) {
		time.Sleep(80 * time.Millisecond) // ignores its context
		return "late", nil
	}))
	timeout := `{"jsonrpc":"2.0","error":{"code":-32001,"message":"call timed out"},"id":1}`
	start := time.Now()
	if got := handle(e, `{"jsonrpc":"2.0","method":"sleep","params":{"ms":5000},"id":1}`); got != timeout {
		t.Errorf("engine timeout: %s", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a call that watches its context outlived its 50ms timeout by %v", d)
	}
	if got := handle(e, `{"jsonrpc":"2.0","method":"stubborn","id":1}`); got != timeout {
		t.Errorf("a late result is replaced by the timeout: %s", got)
	}
	if got := handle(e, `{"jsonrpc":"2.0","method":"patient","params":{"ms":100},"id":1}`); got != `{"jsonrpc":"2.0","result":null,"id":1}` {
		t.Errorf("per-method timeout overrides the engine's: %s", got)
	}
	if got := handle(e, `{"jsonrpc":"2.0","method":"ping","id":1}`); got != `{"jsonrpc":"2.0","result":"pong","id":1}` {
		t.Errorf("a fast call under a timeout: %s", got)
	}
}

func TestReservedNames(t *testing.T) {
	e := engine.New()
	for _, err := range []error{
		e.RegisterRaw("rpc.discover", func(*engine.Call) error { return nil }),
		engine.Register(e, "rpc.x", demo.Add),
	} {
		if !errors.Is(err, engine.ErrReservedName) {
			t.Errorf("rpc. name registered: %v", err)
		}
	}
	if err := e.RegisterRaw("rpcx", func(*engine.Call) error { return nil }, engine.Describe("fine"), engine.ParamNames("a")); err != nil {
		t.Errorf("rpcx: %v", err)
	}
}
