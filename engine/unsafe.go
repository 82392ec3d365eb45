package engine

import "unsafe"

// stringOf returns a string view of b without a copy. Safe because every
// caller passes the view to a parser (strconv) that does not keep it.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
