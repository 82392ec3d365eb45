// Package jsonenc appends go-json encodings to byte slices through pooled
// encoders, so that encoding a value costs only what go-json needs for it
// (nothing for a pointer to plain data), not a fresh result slice.
package jsonenc

import (
	"sync"

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

// Append appends the go-json encoding of v, without HTML escaping, to dst
// and returns the extended dst; on error dst is returned unchanged. Pass a
// pointer: a non-pointer value costs an allocation to become an interface.
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
	return out[:len(out)-1], nil // Encode ends the value with a newline
}
