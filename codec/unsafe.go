package codec

import "unsafe"

// bytesOf returns the bytes of s without a copy. Safe because every caller
// only reads the slice, and only while s is alive.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
