package engine_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/internal/demo"
)

func TestIntrospection(t *testing.T) {
	e := newDemo(t, engine.WithIntrospection())
	must(t, engine.Register(e, "shapes", func(context.Context, struct {
		Name  string            `json:"name"`
		Tags  []string          `json:"tags"`
		Opts  map[string]any    `json:"opts"`
		Raw   json.RawMessage   `json:"raw"`
		Ptr   *bool             `json:"ptr"`
		Bytes []byte            `json:"bytes"`
		Skip  int               `json:"-"`
		Deep  struct{ A int }   `json:"deep"`
		List  [2]demo.AddParams `json:"list"`
	}) (map[string]int, error) {
		return nil, nil
	}, engine.Describe("all the shapes")))
	tests := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":["echo"],"id":1}`,
			`{"jsonrpc":"2.0","result":[["any","any"]],"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":["shapes"],"id":1}`,
			`{"jsonrpc":"2.0","result":[["object","string","array","object","any","boolean","string","object","array"]],"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":["ping"],"id":1}`,
			`{"jsonrpc":"2.0","result":"undef","id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":["shapes"],"id":1}`,
			`{"jsonrpc":"2.0","result":"all the shapes","id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodHelp","params":["nope"],"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"no such method"},"id":1}`},
		{`{"jsonrpc":"2.0","method":"system.methodSignature","params":[],"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"missing param \"name\""},"id":1}`},
	}
	for _, tt := range tests {
		if got := handle(e, tt.in); got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.in, got, tt.want)
		}
	}
	if got := handle(newDemo(t), `{"jsonrpc":"2.0","method":"system.listMethods","id":1}`); got != `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}` {
		t.Errorf("introspection is opt-in: %s", got)
	}
}
