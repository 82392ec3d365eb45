//go:build !race

package codec

import (
	"strings"
	"testing"
)

func TestParseAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	bodies := map[string]string{
		"single":  `{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1}`,
		"escaped": `{"jsonrpc":"2.0","method":"\u0061dd","params":[1,2],"id":"x"}`,
		"batch":   "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},`, 9) + `{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}]`,
		"invalid": `{"jsonrpc":"2.0","method":"add",`,
	}
	for name, body := range bodies {
		in := []byte(body)
		var out []byte
		allocs := testing.AllocsPerRun(100, func() {
			b := AcquireBatch()
			if err := b.Parse(in); err != nil {
				out = AppendParseError(out[:0], err.(*SyntaxError))
			} else {
				out = AppendResult(out[:0], b.Requests[0].ID, b.Requests[0].Params)
			}
			ReleaseBatch(b)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Parse, want 0", name, allocs)
		}
	}
}

func TestValidAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for _, depth := range []int{1, 256, 300, MaxDepth} {
		doc := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		if allocs := testing.AllocsPerRun(20, func() {
			if !Valid(doc) {
				t.Fatal("not valid")
			}
		}); allocs != 0 {
			t.Errorf("Valid of %d levels: %v allocs, want 0", depth, allocs)
		}
	}
	if Valid([]byte(strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1))) {
		t.Error("Valid accepts more than MaxDepth levels")
	}
}
