package codec

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// The fixed parts of a response envelope.
const (
	resultPrefix = `{"jsonrpc":"2.0","result":`
	errorPrefix  = `{"jsonrpc":"2.0","error":`
	idPrefix     = `,"id":`
)

// AppendResultPrefix appends the start of a result answer,
// `{"jsonrpc":"2.0","result":`, to dst and returns the extended dst. The
// caller then appends the result value and AppendResponseEnd.
func AppendResultPrefix(dst []byte) []byte { return append(dst, resultPrefix...) }

// AppendResponseEnd appends `,"id":ID}` to dst and returns the extended
// dst. id is raw JSON copied byte for byte; an empty id is written as null.
func AppendResponseEnd(dst, id []byte) []byte {
	dst = append(dst, idPrefix...)
	if len(id) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, id...)
	}
	return append(dst, '}')
}

// AppendResult appends a whole result answer with the raw JSON result and
// id to dst and returns the extended dst. result must be valid JSON.
func AppendResult(dst, id, result []byte) []byte {
	dst = append(AppendResultPrefix(dst), result...)
	return AppendResponseEnd(dst, id)
}

// AppendError appends a whole error answer for e with the raw JSON id
// (empty means null) to dst and returns the extended dst.
func AppendError(dst, id []byte, e *Error) []byte {
	dst = AppendErrorObject(append(dst, errorPrefix...), e)
	return AppendResponseEnd(dst, id)
}

// AppendErrorObject appends the error object
// {"code":…,"message":…,"data":…} to dst and returns the extended dst. The
// data member is written only when e.Data is not empty.
func AppendErrorObject(dst []byte, e *Error) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	if len(e.Data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	return append(dst, '}')
}

// AppendResultPrefixV1 is AppendResultPrefix for a JSON-RPC 1.0 answer:
// it appends `{"result":`; end it with AppendResponseEndV1.
func AppendResultPrefixV1(dst []byte) []byte { return append(dst, `{"result":`...) }

// AppendResponseEndV1 appends `,"error":null,"id":ID}`, the end of a 1.0
// result answer, to dst and returns the extended dst.
func AppendResponseEndV1(dst, id []byte) []byte {
	return AppendResponseEnd(append(dst, `,"error":null`...), id)
}

// AppendErrorV1 appends a JSON-RPC 1.0 error answer,
// {"result":null,"error":{…},"id":ID}, to dst and returns the extended dst.
func AppendErrorV1(dst, id []byte, e *Error) []byte {
	dst = AppendErrorObject(append(dst, `{"result":null,"error":`...), e)
	return AppendResponseEnd(dst, id)
}

// AppendBatchOpen starts the answer to a batch: it appends '[' to dst and
// returns the extended dst. Remember len(dst) before the call as start.
func AppendBatchOpen(dst []byte) []byte { return append(dst, '[') }

// AppendBatchItem prepares dst for one more answer of the batch begun at
// start: it appends the separator unless the answer is the first.
func AppendBatchItem(dst []byte, start int) []byte {
	if len(dst) > start+1 {
		return append(dst, ',')
	}
	return dst
}

// AppendBatchClose ends the batch answer begun at start and returns the
// extended dst: with ']' when it holds answers, and truncated back to start
// when it holds none, since a batch of notifications is answered with
// nothing at all.
func AppendBatchClose(dst []byte, start int) []byte {
	if len(dst) == start+1 {
		return dst[:start]
	}
	return append(dst, ']')
}

// AppendInvalidRequest appends a -32600 answer whose data is the reason
// (one of the Invalid* constants) to dst and returns the extended dst.
func AppendInvalidRequest(dst, id []byte, reason string) []byte {
	dst = append(dst, errorPrefix+`{"code":-32600,"message":"Invalid Request","data":`...)
	dst = AppendString(dst, reason)
	return AppendResponseEnd(append(dst, '}'), id)
}

// AppendParseError appends the -32700 answer for err to dst and returns the
// extended dst. Its data member says what is wrong and where:
// {"offset":N,"reason":"…"}. It allocates nothing.
func AppendParseError(dst []byte, err *SyntaxError) []byte {
	dst = append(dst, errorPrefix+`{"code":-32700,"message":"Parse error","data":{"offset":`...)
	dst = strconv.AppendInt(dst, int64(err.Offset), 10)
	dst = append(dst, `,"reason":`...)
	var buf [128]byte // longer than any message; stays on the stack
	dst = AppendStringBytes(dst, err.AppendMessage(buf[:0]))
	return AppendResponseEnd(append(dst, "}}"...), nil)
}

// AppendString appends s to dst as a JSON string and returns the extended
// dst. It escapes as encoding/json does without HTML escaping: quotes,
// backslashes, control characters, U+2028 and U+2029; invalid UTF-8 becomes
// U+FFFD. It allocates only to grow dst.
func AppendString(dst []byte, s string) []byte { return AppendStringBytes(dst, bytesOf(s)) }

// AppendStringBytes is AppendString for a byte slice.
func AppendStringBytes(dst, s []byte) []byte {
	dst = append(dst, '"')
	i := 0
	// Fast path: skip 8 plain ASCII bytes at a time, then copy them at once.
	for i+8 <= len(s) && !needsEscape8(binary.LittleEndian.Uint64(s[i:])) {
		i += 8
	}
	return appendStringSlow(dst, s, i)
}

// needsEscape8 reports whether any byte of w is not plain printable ASCII
// or is a quote or a backslash.
func needsEscape8(w uint64) bool {
	return hasSpecial(w) || w&msb != 0
}

func appendStringSlow(dst, s []byte, i int) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += n
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
