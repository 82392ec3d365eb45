package fastserver

import "unsafe"

// offsetIn reports whether p starts inside buf, and at which index. It
// only compares addresses: no pointer is ever made from an integer, and
// heap memory does not move, so the comparison is sound while both slices
// are live, as they are during the call.
func offsetIn(buf, p []byte) (int, bool) {
	if len(p) == 0 || len(buf) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	if at < base || at >= base+uintptr(len(buf)) {
		return 0, false
	}
	return int(at - base), true
}
