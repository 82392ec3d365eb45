// Package jsonenc appends go-json encodings to byte slices through pooled
// encoders, so that encoding a value costs only what go-json needs for it
// (nothing for a pointer to plain data), not a fresh result slice.
package jsonenc

import (
	"errors"
	"sync"
	"unicode/utf8"

	"github.com/goccy/go-json"
)

// sink is an io.Writer appending to b, with a go-json Encoder bound to it.
type sink struct {
	b   []byte
	enc *json.Encoder
}

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

var sinks = sync.Pool{New: func() any {
	s := new(sink)
	s.enc = json.NewEncoder(s)
	s.enc.SetEscapeHTML(false)
	return s
}}

// ErrInvalidUTF8 is returned for a value whose encoding would hold
// invalid UTF-8: go-json replaces invalid bytes in strings with U+FFFD, but
// copies json.RawMessage values as they are.
var ErrInvalidUTF8 = errors.New("jsonenc: encoding holds invalid UTF-8 (from a json.RawMessage)")

// Append appends the go-json encoding of v, without HTML escaping, to dst
// and returns the extended dst; on error dst is returned unchanged. The
// encoding is checked to be valid UTF-8 (a pass that costs little on
// ASCII). Pass a pointer: a non-pointer value costs an allocation to
// become an interface.
func Append(dst []byte, v any) ([]byte, error) {
	s := sinks.Get().(*sink)
	s.b = dst
	err := s.enc.Encode(v)
	out := s.b
	s.b = nil
	sinks.Put(s)
	if err != nil {
		return dst, err
	}
	out = out[:len(out)-1] // Encode ends the value with a newline
	if !utf8.Valid(out[len(dst):]) {
		return dst, ErrInvalidUTF8
	}
	return out, nil
}
