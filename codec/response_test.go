package codec

import (
	"errors"
	"testing"
)

func TestParseResponses(t *testing.T) {
	type want struct{ id, result, err, invalid string }
	tests := []struct {
		in      string
		isArray bool
		want    []want
	}{
		{`{"jsonrpc":"2.0","result":19,"id":1}`, false, []want{{id: "1", result: "19"}}},
		{`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}`, false,
			[]want{{id: `"1"`, err: `{"code":-32601,"message":"Method not found"}`}}},
		{` [ {"id":2,"result":[1]} , {"result":null,"id":1,"jsonrpc":"2.0"} ] `, true,
			[]want{{id: "2", result: "[1]"}, {id: "1", result: "null"}}},
		{`{"result":7,"error":null,"id":3}`, false, []want{{id: "3", result: "7"}}}, // JSON-RPC 1.0
		{`{"result":null,"error":{"code":1,"message":"m"},"id":3}`, false, []want{{id: "3", err: `{"code":1,"message":"m"}`}}},
		{`{"id":1}`, false, []want{{id: "1", invalid: InvalidResponseShape}}},
		{`{"id":1,"result":1,"error":{"code":1,"message":"m"}}`, false, []want{{id: "1", result: "1", err: `{"code":1,"message":"m"}`, invalid: InvalidResponseShape}}},
		{`[1]`, true, []want{{invalid: InvalidResponseNotObject}}},
		{`[]`, true, nil},
	}
	for _, tt := range tests {
		r := AcquireResponses()
		if err := r.Parse([]byte(tt.in)); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if r.IsArray != tt.isArray || len(r.Items) != len(tt.want) {
			t.Fatalf("%s: IsArray %v, %d items", tt.in, r.IsArray, len(r.Items))
		}
		for i, w := range tt.want {
			it := r.Items[i]
			if string(it.ID) != w.id || string(it.Result) != w.result || string(it.Error) != w.err || it.Invalid != w.invalid {
				t.Errorf("%s item %d: id %s result %s error %s invalid %q", tt.in, i, it.ID, it.Result, it.Error, it.Invalid)
			}
		}
		ReleaseResponses(r)
	}
	r := AcquireResponses()
	defer ReleaseResponses(r)
	var se *SyntaxError
	if err := r.Parse([]byte(`{"result":1,`)); !errors.As(err, &se) {
		t.Errorf("invalid JSON: %v", err)
	}
}

func TestDecodeError(t *testing.T) {
	e, err := DecodeError([]byte(`{"message":"n\u00e9e","data":{"x":[1]},"code":-32000,"extra":1}`))
	if err != nil || e.Code != -32000 || e.Message != "née" || string(e.Data) != `{"x":[1]}` {
		t.Errorf("DecodeError = %+v, %v", e, err)
	}
	for _, bad := range []string{`{"code":1}`, `{"message":"m"}`, `{"code":"1","message":"m"}`, `{"code":1.5,"message":"m"}`,
		`{"code":1,"message":2}`, `[]`, `null`, ``} {
		if _, err := DecodeError([]byte(bad)); !errors.Is(err, ErrInvalidErrorObject) {
			t.Errorf("DecodeError(%s) = %v, want ErrInvalidErrorObject", bad, err)
		}
	}
}
