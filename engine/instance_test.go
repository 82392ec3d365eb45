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
func (c *calc) Helper(x int) int { return x } // not of the RPC shape: skipped

func TestRegisterStruct(t *testing.T) {
	e := engine.New(engine.WithIntrospection())
	must(t, engine.RegisterStruct(e, "calc", &calc{base: 100}, engine.Describe("calculator")))
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
	}
	for _, tt := range tests {
		if got := handle(e, tt.in); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.in, got, tt.want)
		}
	}
	if err := engine.RegisterStruct(e, "calc", &calc{}); !errors.Is(err, engine.ErrDuplicateMethod) {
		t.Errorf("registering twice: %v", err)
	}
	if err := engine.RegisterStruct(e, "x", struct{}{}); err == nil || !strings.Contains(err.Error(), "no exported method") {
		t.Errorf("no methods: %v", err)
	}
	if err := engine.RegisterStruct(e, "x", nil); err == nil {
		t.Error("nil accepted")
	}
}
