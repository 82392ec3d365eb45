package codec

import (
	"unicode/utf16"
	"unicode/utf8"
)

// AppendUnescaped appends the contents of the JSON string literal raw
// (without its quotes, already validated) to dst, with escapes decoded as
// encoding/json decodes them: a lone surrogate becomes U+FFFD, and so does
// each byte of invalid UTF-8. It returns the extended dst.
func AppendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			i++
			switch raw[i] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, n := decodeU(raw[i-1:])
				dst = utf8.AppendRune(dst, r)
				i += n - 2
			default: // '"', '\\', '/'
				dst = append(dst, raw[i])
			}
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, raw[i:i+n]...)
		}
		i += n
	}
	return dst
}

// decodeU decodes the \uXXXX escape at the start of b, joined with a
// following \uXXXX when the two form a surrogate pair, and returns the rune
// and the number of bytes used (6 or 12).
func decodeU(b []byte) (rune, int) {
	r := hex4(b[2:6])
	if utf16.IsSurrogate(r) {
		if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
			if r2 := utf16.DecodeRune(r, hex4(b[8:12])); r2 != utf8.RuneError {
				return r2, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r = r<<4 | rune(hexValue(c))
	}
	return r
}
