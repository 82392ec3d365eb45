package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAppendString(t *testing.T) {
	inputs := []string{"", "pong", "a\"b\\c", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "héllo wörld", "\u2028\u2029",
		"\xff\xfe", "bad \xc3\x28 utf8", "\U0001F600 emoji", strings.Repeat("abcdefg\"", 9), "<html>&'"}
	for _, s := range inputs {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("AppendString(%q) = %s: invalid JSON: %v", s, got, err)
			continue
		}
		std, _ := json.Marshal(s)
		// encoding/json escapes <, > and & for HTML; we do not.
		stdText := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(std))
		if string(got) != stdText {
			t.Errorf("AppendString(%q) = %s, encoding/json (without HTML escaping) %s", s, got, stdText)
		}
	}
}

func TestAppendResponses(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(AppendResult(nil, []byte(`"x"`), []byte(`19`))), `{"jsonrpc":"2.0","result":19,"id":"x"}`},
		{string(AppendResult(nil, nil, []byte(`null`))), `{"jsonrpc":"2.0","result":null,"id":null}`},
		{string(AppendError(nil, []byte("1"), ErrMethodNotFound)), `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}`},
		{string(AppendError(nil, nil, &Error{Code: 1000, Message: "fail", Data: json.RawMessage(`{"a":1}`)})),
			`{"jsonrpc":"2.0","error":{"code":1000,"message":"fail","data":{"a":1}},"id":null}`},
		{string(AppendInvalidRequest(nil, nil, InvalidNotObject)),
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request must be an object"},"id":null}`},
		{string(AppendParseError(nil, &SyntaxError{msg: msgBeginValue, char: 'x', hasChar: true, Offset: 3})),
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":3,"reason":"invalid character 'x' looking for beginning of value"}},"id":null}`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got  %s\nwant %s", tt.got, tt.want)
		}
		if !json.Valid([]byte(tt.got)) {
			t.Errorf("invalid JSON: %s", tt.got)
		}
	}
}

func TestErrors(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes, cut at 256 on a rune boundary
	for _, tt := range []struct {
		err  *Error
		want string
	}{
		{ErrMethodNotFound, "jsonrpc error -32601: Method not found"},
		{ErrInvalidParams.WithData(`param "A": cannot use string as float64`), `jsonrpc error -32602: Invalid params: param "A": cannot use string as float64`},
		{ErrInternal.WithRawData([]byte(`{"retry":true}`)), `jsonrpc error -32603: Internal error: {"retry":true}`},
		{&Error{Code: 7, Message: "no", Data: []byte(`"` + long + `"`)}, "jsonrpc error 7: no: " + long[:256] + "…"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	wrapped := fmt.Errorf("lookup: %w", NewError(CodeMethodNotFound, ""))
	if !errors.Is(wrapped, ErrMethodNotFound) {
		t.Error("errors.Is does not match by code through wrapping")
	}
	var e *Error
	if !errors.As(wrapped, &e) || e.Message != "Method not found" {
		t.Errorf("errors.As = %v", e)
	}
	if d := ErrInvalidParams.WithData(`bad "a"`); string(d.Data) != `"bad \"a\""` || ErrInvalidParams.Data != nil {
		t.Errorf("WithData = %s, and must not modify the shared error", d.Data)
	}
	for code, s := range map[Code]string{-32700: "Parse error", -32600: "Invalid Request", -32601: "Method not found",
		-32602: "Invalid params", -32603: "Internal error", -32000: "Server error", -32099: "Server error", 7: "error 7"} {
		if code.String() != s {
			t.Errorf("Code(%d).String() = %q, want %q", code, code.String(), s)
		}
	}
	if !Code(-32050).IsServerError() || Code(-32100).IsServerError() || !Code(-32768).IsReserved() {
		t.Error("code ranges are wrong")
	}
}

func TestAppendBatch(t *testing.T) {
	dst := []byte("x")
	start := len(dst)
	dst = AppendBatchOpen(dst)
	if got := string(AppendBatchClose(dst, start)); got != "x" {
		t.Errorf("empty batch answer = %q, want nothing appended", got)
	}
	for _, id := range []string{"1", `"b"`} {
		dst = AppendResult(AppendBatchItem(dst, start), []byte(id), []byte("true"))
	}
	want := `x[{"jsonrpc":"2.0","result":true,"id":1},{"jsonrpc":"2.0","result":true,"id":"b"}]`
	if got := string(AppendBatchClose(dst, start)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
