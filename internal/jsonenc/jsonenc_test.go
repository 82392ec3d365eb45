package jsonenc

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
		err  error
	}{
		{"no HTML escaping", &struct{ S string }{"<&>"}, `prefix:{"S":"<&>"}`, nil},
		{"invalid UTF-8 in a string becomes U+FFFD", &struct{ S string }{"a\xffb"}, `prefix:{"S":"a\ufffdb"}`, nil},
		{"invalid UTF-8 in raw JSON is refused", &struct{ R json.RawMessage }{json.RawMessage("\"\xff\"")}, "prefix:", ErrInvalidUTF8},
		{"valid UTF-8 in raw JSON passes", &struct{ R json.RawMessage }{json.RawMessage(`"é"`)}, `prefix:{"R":"é"}`, nil},
		{"an encoding error leaves dst as it was", &struct{ C chan int }{}, "prefix:", errAny},
	}
	for _, tt := range tests {
		got, err := Append([]byte("prefix:"), tt.v)
		wrongErr := (err != nil) != (tt.err != nil) || tt.err != errAny && !errors.Is(err, tt.err)
		if string(got) != tt.want || wrongErr {
			t.Errorf("%s: Append = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

// errAny stands for any non-nil error in the table.
var errAny = errors.New("any error")
