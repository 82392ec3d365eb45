package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
)

type calc struct{ base float64 }

func (c *calc) Add(_ context.Context, p demo.AddParams) (float64, error) {
	return c.base + p.A + p.B, nil
}
func (c *calc) Sum(_ context.Context, xs []float64) (float64, error) {
	total := c.base
	for _, x := range xs {
		total += x
	}
	return total, nil
}
func (c *calc) Fail(context.Context, struct{}) (any, error) {
	return nil, &codec.Error{Code: 7, Message: "no"}
}
func (c *calc) Hello(context.Context) (string, error)     { return "Hello", nil }
func (c *calc) Reset(context.Context) error               { c.base = 0; return nil }
func (c *calc) Set(_ context.Context, base float64) error { c.base = base; return nil }
func (c *calc) Helper(x int) int                          { return x } // not of an RPC shape
func (c *calc) Greeting() string                          { return "hi" }
func (c *calc) Chan(context.Context) (chan int, error)    { return nil, nil }

func TestRegisterStruct(t *testing.T) {
	e := engine.New(engine.WithIntrospection())
	err := engine.RegisterStruct(e, "calc", &calc{base: 100})
	for _, says := range []string{
		"engine: RegisterStruct: ",
		"*engine_test.calc.Helper: func(int) int is not a supported shape",
		"*engine_test.calc.Greeting: func() string is not a supported shape",
		"*engine_test.calc.Chan: result type chan int",
	} {
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("RegisterStruct with unsupported methods: %v, want it to say %q", err, says)
		}
	}
	if len(e.Methods()) != 4 { // the introspection methods: nothing of calc was registered
		t.Errorf("a failed RegisterStruct registered %v", e.Methods())
	}
	must(t, engine.RegisterStruct(e, "calc", &calc{base: 100}, engine.Describe("calculator"), engine.SkipUnsupported()))
	tests := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"calc.add","params":[1,2],"id":1}`, `{"jsonrpc":"2.0","result":103,"id":1}`},
		{`{"jsonrpc":"2.0","method":"calc.add","params":{"a":1,"b":2},"id":2}`, `{"jsonrpc":"2.0","result":103,"id":2}`},
		{`{"jsonrpc":"2.0","method":"calc.add","params":["x",2],"id":3}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"a\": cannot use string as float64"},"id":3}`},
		{`{"jsonrpc":"2.0","method":"calc.sum","params":[1,2,3],"id":4}`, `{"jsonrpc":"2.0","result":106,"id":4}`},
		{`{"jsonrpc":"2.0","method":"calc.fail","id":5}`, `{"jsonrpc":"2.0","error":{"code":7,"message":"no"},"id":5}`},
		{`{"jsonrpc":"2.0","method":"calc.helper","id":6}`, `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":6}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":["calc.add"],"id":7}`, `{"jsonrpc":"2.0","result":[["number","number","number"]],"id":7}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":["calc.sum"],"id":8}`, `{"jsonrpc":"2.0","result":"calculator","id":8}`},
		{`{"jsonrpc":"2.0","method":"calc.hello","id":9}`, `{"jsonrpc":"2.0","result":"Hello","id":9}`},
		{`{"jsonrpc":"2.0","method":"calc.set","params":[5],"id":10}`, `{"jsonrpc":"2.0","result":null,"id":10}`},
		{`{"jsonrpc":"2.0","method":"calc.add","params":[1,2],"id":11}`, `{"jsonrpc":"2.0","result":8,"id":11}`},
		{`{"jsonrpc":"2.0","method":"calc.reset","id":12}`, `{"jsonrpc":"2.0","result":null,"id":12}`},
		{`{"jsonrpc":"2.0","method":"calc.add","params":[1,2],"id":13}`, `{"jsonrpc":"2.0","result":3,"id":13}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":["calc.set"],"id":14}`, `{"jsonrpc":"2.0","result":[["null","number"]],"id":14}`},
		{`{"jsonrpc":"2.0","method":"calc.hello","params":[1],"id":15}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"too many params: want at most 0, got 1"},"id":15}`},
	}
	for _, tt := range tests {
		if got := handle(e, tt.in); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.in, got, tt.want)
		}
	}
	if err := engine.RegisterStruct(e, "calc", &calc{}, engine.SkipUnsupported()); !errors.Is(err, engine.ErrDuplicateMethod) {
		t.Errorf("registering twice: %v", err)
	}
	if err := engine.RegisterStruct(e, "x", struct{}{}); err == nil || !strings.Contains(err.Error(), "no exported method") {
		t.Errorf("no methods: %v", err)
	}
	if err := engine.RegisterStruct(e, "x", nil); err == nil {
		t.Error("nil accepted")
	}
}
