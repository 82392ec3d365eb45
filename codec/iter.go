package codec

import (
	"encoding/binary"
	"math/bits"
)

// Iter walks the elements of a JSON array or the members of a JSON object
// that has already been validated (such as Request.Params), without
// validating again:
//
//	it := codec.Iterate(params)
//	for it.Next() {
//		use(it.Key(), it.Value())
//	}
//
// It allocates nothing. Key and Value are sub-slices of the container,
// valid as long as it is. Feeding it JSON that was not validated gives
// unspecified results but never panics. An Iter is not safe for concurrent
// use.
type Iter struct {
	data       []byte
	i          int
	key, value []byte
	object     bool
	firstEnd   int32 // see ResetParams; in object's padding
	n          int
}

// Iterate returns an Iter over container, a validated JSON array or
// object. Any other value yields no elements.
func Iterate(container []byte) Iter {
	var it Iter
	it.Reset(container)
	return it
}

// Reset makes it iterate over container, as Iterate does, in place: a hot
// loop that reuses or declares an Iter avoids copying a returned one (a
// wide load of what narrow stores just wrote stalls the CPU: 6 ns an item
// in a batch of ten adds).
func (it *Iter) Reset(container []byte) {
	*it = Iter{data: container, i: len(container)}
	if len(container) >= 2 && (container[0] == '[' || container[0] == '{') {
		it.object = container[0] == '{'
		it.i = 1
	}
}

// ResetParams makes it iterate over r.Params, as Reset does, taking the
// end of their first element from r when the parse recorded it (a long
// string) instead of scanning it again: an echoed 1 KiB string is read
// once, not twice.
func (it *Iter) ResetParams(r *Request) {
	it.Reset(r.Params)
	it.firstEnd = r.firstEnd
}

// IsObject reports whether the container is an object.
func (it *Iter) IsObject() bool { return it.object }

// Next advances to the next element or member and reports whether there is
// one.
func (it *Iter) Next() bool {
	data := it.data
	i := skipSpace(data, it.i)
	if i < len(data) && data[i] == ',' {
		i = skipSpace(data, i+1)
	}
	if i >= len(data) || data[i] == ']' || data[i] == '}' {
		it.i = len(data)
		it.key, it.value = nil, nil
		return false
	}
	if it.object {
		end := skipValidString(data, i)
		if end-1 < i+1 { // an unterminated key: only unvalidated input gets here
			it.i = len(data)
			it.key, it.value = nil, nil
			return false
		}
		it.key = data[i+1 : end-1 : end-1]
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // the colon
		if i >= len(data) {      // a key without a value: only unvalidated input gets here
			it.i = len(data)
			it.key, it.value = nil, nil
			return false
		}
	}
	var end int
	if it.n == 0 && it.firstEnd > 0 {
		end = int(it.firstEnd)
	} else {
		end = skipValidValue(data, i)
	}
	it.value = data[i:end:end]
	it.i = end
	it.n++
	return true
}

// Key returns the current member's raw key, without quotes and with any
// escapes left in (see AppendUnescaped). It is nil for arrays.
func (it *Iter) Key() []byte { return it.key }

// Value returns the current element's or member's raw JSON.
func (it *Iter) Value() []byte { return it.value }

// Index returns the 0-based position of the current element or member.
func (it *Iter) Index() int { return it.n - 1 }

// skipValidString returns the index after the validated string at data[i].
func skipValidString(data []byte, i int) int {
	i++
	// Keys and most values end within a word: test one before the loop,
	// as skipPlain does (the second word of the loop is wasted on them).
	if i+8 <= len(data) {
		if m := quoteOrBackslashMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			if j := i + bits.TrailingZeros64(m)>>3; data[j] == '"' {
				return j + 1
			}
		} else {
			i += 8
		}
	}
	for i < len(data) {
		for i+16 <= len(data) { // two words per step, as in skipPlain
			m1 := quoteOrBackslashMask(binary.LittleEndian.Uint64(data[i:]))
			m2 := quoteOrBackslashMask(binary.LittleEndian.Uint64(data[i+8:]))
			if m1|m2 != 0 {
				if m1 != 0 {
					i += bits.TrailingZeros64(m1) >> 3 // the lowest flag is exact, see specialMask
				} else {
					i += 8 + bits.TrailingZeros64(m2)>>3
				}
				break
			}
			i += 16
		}
		if i >= len(data) {
			break
		}
		switch data[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return len(data)
}

func quoteOrBackslashMask(w uint64) uint64 {
	q := w ^ (lsb * '"')
	b := w ^ (lsb * '\\')
	return ((q-lsb)&^q | (b-lsb)&^b) & msb
}

// skipValidValue returns the index after the validated value at data[i].
func skipValidValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipValidString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipValidString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
