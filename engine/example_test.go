package engine_test

import (
	"context"
	"fmt"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
)

type greetParams struct {
	Name string `json:"name"`
	Loud bool   `json:"loud,omitempty"`
}

func ExampleRegister() {
	e := engine.New()
	err := engine.Register(e, "greet", func(_ context.Context, p greetParams) (string, error) {
		if p.Loud {
			return "HELLO, " + p.Name + "!", nil
		}
		return "hello, " + p.Name, nil
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	// Params by name, then by position (fields in declaration order).
	fmt.Println(string(e.Append(ctx, nil, []byte(`{"jsonrpc":"2.0","method":"greet","params":{"name":"Ada"},"id":1}`))))
	fmt.Println(string(e.Append(ctx, nil, []byte(`{"jsonrpc":"2.0","method":"greet","params":["Ada",true],"id":2}`))))
	fmt.Println(string(e.Append(ctx, nil, []byte(`{"jsonrpc":"2.0","method":"greet","params":[],"id":3}`))))
	// Output:
	// {"jsonrpc":"2.0","result":"hello, Ada","id":1}
	// {"jsonrpc":"2.0","result":"HELLO, Ada!","id":2}
	// {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"missing param \"name\""},"id":3}
}

func ExampleEngine_RegisterRaw() {
	e := engine.New()
	_ = e.RegisterRaw("length", func(c *engine.Call) error {
		// Raw params are the request's own bytes: no decoding unless asked.
		return c.ResultRaw(fmt.Appendf(nil, "%d", len(c.Params())))
	})
	_ = e.RegisterRaw("teapot", func(*engine.Call) error {
		return &codec.Error{Code: 418, Message: "I'm a teapot"}
	})
	batch := `[{"jsonrpc":"2.0","method":"length","params":[1,2,3],"id":"a"},
	           {"jsonrpc":"2.0","method":"teapot","id":"b"},
	           {"jsonrpc":"2.0","method":"length"}]`
	fmt.Println(string(e.Append(context.Background(), nil, []byte(batch))))
	// Output:
	// [{"jsonrpc":"2.0","result":7,"id":"a"},{"jsonrpc":"2.0","error":{"code":418,"message":"I'm a teapot"},"id":"b"}]
}
