package engine_test

import (
	"testing"

	"github.com/jetrpc/jetrpc/engine"
)

func TestV1Compat(t *testing.T) {
	v1 := newDemo(t, engine.WithV1Compat())
	v2 := newDemo(t)
	tests := []struct{ in, wantV1, wantV2 string }{
		{`{"method":"add","params":[1,2],"id":1}`,
			`{"result":3,"error":null,"id":1}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":1}`},
		{`{"method":"fail","params":[],"id":"a"}`,
			`{"result":null,"error":{"code":1000,"message":"fail"},"id":"a"}`, ""},
		{`{"method":"nope","params":[],"id":2}`,
			`{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":2}`, ""},
		{`{"method":"add","params":[1,2],"id":null}`, ``, ""}, // a 1.0 notification
		{`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":null}`,
			`{"jsonrpc":"2.0","result":3,"id":null}`, `{"jsonrpc":"2.0","result":3,"id":null}`}, // 2.0 keeps null as a call
		{`{"jsonrpc":"1.0","method":"ping","id":3}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":3}`, ""},
	}
	for _, tt := range tests {
		if got := handle(v1, tt.in); got != tt.wantV1 {
			t.Errorf("v1 compat %s:\ngot  %s\nwant %s", tt.in, got, tt.wantV1)
		}
		if tt.wantV2 != "" {
			if got := handle(v2, tt.in); got != tt.wantV2 {
				t.Errorf("2.0 only %s:\ngot  %s\nwant %s", tt.in, got, tt.wantV2)
			}
		}
	}
}
