package codec

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a document may have,
// counting the request envelope itself. It is encoding/json's limit, so that
// the codec accepts exactly the documents encoding/json.Valid accepts.
const MaxDepth = 10000

// Messages of syntax errors; constants, so the error path allocates nothing.
const (
	msgEOF           = "unexpected end of JSON input"
	msgBeginValue    = "looking for beginning of value"
	msgBeginKey      = "looking for beginning of object key string"
	msgAfterKey      = "after object key"
	msgAfterObjValue = "after object key:value pair"
	msgAfterArrValue = "after array element"
	msgAfterTopValue = "after top-level value"
	msgInString      = "in string literal"
	msgInEscape      = "in string escape code"
	msgInNumber      = "in numeric literal"
	msgInLiteral     = "in literal"
	msgExceededDepth = "exceeded max depth"
	msgAfterDecimal  = "after decimal point in numeric literal"
	msgInExponent    = "in exponent of numeric literal"
	msgInvalidUTF8   = "invalid UTF-8 in string literal"
)

// scanner validates JSON in a single forward pass. It keeps the first
// error it meets; its methods return -1 once it has one.
//
// A scanner is not safe for concurrent use; it lives in a pooled Batch.
type scanner struct {
	data []byte
	err  SyntaxError
	// stack holds one bit per open container, 1 for an object, so that
	// nesting costs no recursion. Its owner starts it on a small array
	// (256 levels without allocating); it grows only for deeper documents.
	// It never points into the scanner itself: that would move a scanner
	// on the stack to the heap.
	stack []uint64
	// fixed scanners (Valid's) never grow their stack: they set outgrown
	// and fail, and Valid scans again with a full one.
	fixed, outgrown bool
	// members collects an envelope's known members (see envelope).
	members members
	// deepest is the deepest nesting the last value reached below its
	// start; paramsDepth is deepest for the envelope's params member.
	deepest, paramsDepth int
	// firstEnd is where the first element of the envelope's params ends,
	// as an offset into them, when flat found it a long string; else 0.
	firstEnd int
	// vouched says that usual read every known member of the
	// envelope, none of them repeated: "jsonrpc" is "2.0", the method a
	// string without escapes or non-ASCII bytes, params an array or object
	// and the id a number or string, when present (see Batch.object).
	vouched bool
	// noUsual turns usual off: tests hold it to envelope's loop.
	noUsual bool
}

// smallStack is the depth stack a scanner starts with: 256 levels.
type smallStack [4]uint64

// push records whether the container at nesting level d is an object; it
// reports false when a fixed stack is too small.
func (s *scanner) push(d int, object bool) bool {
	if d>>6 >= len(s.stack) && !s.grow(d) {
		return false
	}
	if object {
		s.stack[d>>6] |= 1 << (d & 63)
	} else {
		s.stack[d>>6] &^= 1 << (d & 63)
	}
	return true
}

// grow makes room for level d, past the small stack: the deep-nesting slow
// path of a Batch, which keeps what it gets (1.3 KiB, once). A scanner on
// a fixed stack reports that it outgrew it instead.
func (s *scanner) grow(int) bool {
	if s.fixed {
		s.outgrown = true
		return false
	}
	bigger := make([]uint64, MaxDepth/64+1)
	copy(bigger, s.stack)
	s.stack = bigger
	return true
}

func (s *scanner) fail(i int, msg string) int {
	s.err = SyntaxError{msg: msg, Offset: i}
	return -1
}

// failChar records "invalid character 'c' msg" at i, or the end-of-input
// error when i is past the end.
func (s *scanner) failChar(i int, msg string) int {
	if i >= len(s.data) {
		return s.fail(len(s.data), msgEOF)
	}
	s.err = SyntaxError{msg: msg, char: s.data[i], hasChar: true, Offset: i}
	return -1
}

// isSpace reports whether c is JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the index of the first non-whitespace byte at or after i.
// The check before the loop lets the common no-whitespace case inline.
func skipSpace(data []byte, i int) int {
	if i < len(data) && data[i] > ' ' {
		return i
	}
	return skipSpaceSlow(data, i)
}

func skipSpaceSlow(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// value scans the JSON value that starts at data[i] (after whitespace) and
// returns the index just past it. depth is the number of containers already
// open around the value.
func (s *scanner) value(i, depth int) int {
	data := s.data
	base := depth
	for {
		// Here a value is expected at i.
		i = skipSpace(data, i)
		if i >= len(data) {
			return s.fail(i, msgEOF)
		}
		switch c := data[i]; c {
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return s.fail(i, msgExceededDepth)
			}
			if !s.push(depth-base-1, c == '{') {
				return s.fail(i, msgExceededDepth)
			}
			s.deepest = max(s.deepest, depth-base)
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
				depth--
				i++
				break
			}
			if c == '{' {
				if i = s.objectKey(i); i < 0 {
					return i
				}
			}
			continue
		case '"':
			if i = s.str(i); i < 0 {
				return i
			}
		case 't':
			if i = s.literal(i, "true"); i < 0 {
				return i
			}
		case 'f':
			if i = s.literal(i, "false"); i < 0 {
				return i
			}
		case 'n':
			if i = s.literal(i, "null"); i < 0 {
				return i
			}
		default:
			if c == '-' || (c >= '0' && c <= '9') {
				if i = s.number(i); i < 0 {
					return i
				}
				break
			}
			return s.failChar(i, msgBeginValue)
		}
		// Here a value ended at i: close containers or find the next element.
		for {
			if depth == base {
				return i
			}
			d := depth - base - 1
			inObject := s.stack[d>>6]&(1<<(d&63)) != 0
			i = skipSpace(data, i)
			if i >= len(data) {
				return s.fail(i, msgEOF)
			}
			c := data[i]
			if c == ',' {
				i++
				if inObject {
					if i = s.objectKey(skipSpace(data, i)); i < 0 {
						return i
					}
				}
				break
			}
			if inObject && c == '}' || !inObject && c == ']' {
				depth--
				i++
				continue
			}
			if inObject {
				return s.failChar(i, msgAfterObjValue)
			}
			return s.failChar(i, msgAfterArrValue)
		}
	}
}

// objectKey scans `"key" :` at i and returns the index after the colon.
func (s *scanner) objectKey(i int) int {
	if i >= len(s.data) || s.data[i] != '"' {
		return s.failChar(i, msgBeginKey)
	}
	if i = s.str(i); i < 0 {
		return i
	}
	i = skipSpace(s.data, i)
	if i >= len(s.data) || s.data[i] != ':' {
		return s.failChar(i, msgAfterKey)
	}
	return i + 1
}

// Masks for the word-at-a-time string scan (Bit Twiddling Hacks,
// "Determine if a word has a byte less than n" and "... equal to n").
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask flags, in the top bit of each byte, the bytes of w that are
// a quote, a backslash or a control character: the only bytes that end the
// fast scan of a string. A flag can be wrong only above a right one (a
// borrow runs upward), so the lowest flag is exact and its trailing zeros
// count the plain bytes before it. Measured: 5-6x faster than a byte loop
// on long strings, and it finds the closing quote of a short key in one step.
func specialMask(w uint64) uint64 {
	q := w ^ (lsb * '"')
	b := w ^ (lsb * '\\')
	return ((q-lsb)&^q | (b-lsb)&^b | (w-lsb*0x20)&^w) & msb
}

func hasSpecial(w uint64) bool { return specialMask(w) != 0 }

// stopMask flags the bytes that end the fast scan of a string: those of
// specialMask, and every byte of 0x80 and up (multi-byte UTF-8, which str
// validates). Flagging high bytes anyway lets it drop specialMask's &^
// terms, which only cleared false flags on them: (x&^w | w) == (x | w),
// per byte once masked. Borrows still start only at a flagged byte, so
// the lowest flag stays exact, and it costs fewer operations than
// specialMask.
func stopMask(w uint64) uint64 {
	return (((w ^ (lsb * '"')) - lsb) | ((w ^ (lsb * '\\')) - lsb) | (w - lsb*0x20) | w) & msb
}

// skipPlain returns the index of the first quote, backslash, control
// character or non-ASCII byte at or after i, or a position from which
// fewer than 8 bytes remain. Two words per step halve the loop's branches on long strings
// (with the engine skipping a second validation, 1 MiB echo went from
// 0.94-1.3 to 1.34-1.45 GB/s on this machine).
func skipPlain(data []byte, i int) int {
	// Keys and most values end within a word: test one before the loop.
	if i+8 <= len(data) {
		if m := stopMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i+16 <= len(data) {
		m1 := stopMask(binary.LittleEndian.Uint64(data[i:]))
		m2 := stopMask(binary.LittleEndian.Uint64(data[i+8:]))
		if m1|m2 != 0 {
			if m1 != 0 {
				return i + bits.TrailingZeros64(m1)>>3
			}
			return i + 8 + bits.TrailingZeros64(m2)>>3
		}
		i += 16
	}
	if i+8 <= len(data) {
		if m := stopMask(binary.LittleEndian.Uint64(data[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}

// str scans the string literal whose opening quote is at data[i] and
// returns the index after its closing quote. Unlike encoding/json.Valid it
// checks UTF-8: JSON exchanged between systems must be UTF-8 (RFC 8259
// §8.1), and a raw invalid byte copied into an answer would make the
// answer invalid for strict parsers. Escapes such as "\ud800" are JSON
// text, not bytes, and stay legal.
func (s *scanner) str(i int) int {
	data := s.data
	i++
	for {
		i = skipPlain(data, i)
		if i >= len(data) {
			return s.fail(len(data), msgEOF)
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i = s.escape(i); i < 0 {
				return i
			}
		case c < 0x20:
			return s.failChar(i, msgInString)
		case c < utf8.RuneSelf: // a plain byte of a tail shorter than a word
			i++
		default:
			if i = s.utf8Run(i); i < 0 {
				return i
			}
		}
	}
}

// utf8Run checks the run of non-ASCII bytes that starts at data[i] as
// UTF-8 and returns the index after it. Staying in this loop for a whole
// run keeps text in other scripts from bouncing through skipPlain.
func (s *scanner) utf8Run(i int) int {
	data := s.data
	for i < len(data) && data[i] >= utf8.RuneSelf {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return s.fail(i, msgInvalidUTF8)
		}
		i += n
	}
	return i
}

// escape checks the escape sequence at data[i] == '\\' and returns the
// index after it.
func (s *scanner) escape(i int) int {
	data := s.data
	i++
	if i >= len(data) {
		return s.fail(i, msgEOF)
	}
	switch data[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1
	case 'u':
		for k := 1; k <= 4; k++ {
			if i+k >= len(data) {
				return s.fail(len(data), msgEOF)
			}
			if hexValue(data[i+k]) < 0 {
				return s.failChar(i+k, msgInEscape)
			}
		}
		return i + 5
	}
	return s.failChar(i, msgInEscape)
}

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// literal checks that data[i:] starts with lit (true, false or null).
func (s *scanner) literal(i int, lit string) int {
	for k := 1; k < len(lit); k++ {
		if i+k >= len(s.data) {
			return s.fail(len(s.data), msgEOF)
		}
		if s.data[i+k] != lit[k] {
			return s.failChar(i+k, msgInLiteral)
		}
	}
	return i + len(lit)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans a number with JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// What follows it is checked by the caller, as encoding/json does.
func (s *scanner) number(i int) int {
	data := s.data
	if data[i] == '-' {
		i++
		if i >= len(data) {
			return s.fail(i, msgEOF)
		}
		if !isDigit(data[i]) {
			return s.failChar(i, msgInNumber)
		}
	}
	if data[i] == '0' {
		i++
	} else {
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) {
			return s.fail(i, msgEOF)
		}
		if !isDigit(data[i]) {
			return s.failChar(i, msgAfterDecimal)
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) {
			return s.fail(i, msgEOF)
		}
		if !isDigit(data[i]) {
			return s.failChar(i, msgInExponent)
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	return i
}

// Valid reports whether data is one valid JSON value in UTF-8, surrounded
// by optional whitespace: the documents encoding/json.Valid accepts, less
// those with invalid UTF-8 in a string. It allocates nothing.
func Valid(data []byte) bool {
	var small smallStack
	s := scanner{stack: small[:], fixed: true}
	if s.document(data) >= 0 {
		return true
	}
	return s.outgrown && validDeep(data)
}

// validDeep is Valid for documents nested deeper than a smallStack holds;
// its full stack lives on the goroutine stack, zeroed only on this path.
func validDeep(data []byte) bool {
	var full [MaxDepth/64 + 1]uint64
	s := scanner{stack: full[:], fixed: true}
	return s.document(data) >= 0
}

// document scans a whole document and returns len(data), or -1.
func (s *scanner) document(data []byte) int {
	s.data = data
	i := s.value(0, 0)
	if i < 0 {
		return i
	}
	if i = skipSpace(data, i); i < len(data) {
		return s.failChar(i, msgAfterTopValue)
	}
	return i
}

// Check is Valid with the reason: nil for one valid JSON value, or a
// *SyntaxError saying what is wrong and at which offset. It allocates only
// the error.
func Check(data []byte) error {
	var small smallStack
	s := scanner{stack: small[:], fixed: true}
	if s.document(data) >= 0 {
		return nil
	}
	if s.outgrown {
		var full [MaxDepth/64 + 1]uint64
		s = scanner{stack: full[:], fixed: true}
		if s.document(data) >= 0 {
			return nil
		}
	}
	err := s.err
	return &err
}
