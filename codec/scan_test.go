package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// differentialCorpus holds valid and invalid documents, with the nasty
// ones: truncations, bad escapes, lone surrogates, deep nesting, huge
// numbers and invalid UTF-8.
func differentialCorpus() []string {
	docs := []string{
		``, ` `, `null`, `true`, `false`, `nul`, `tru`, `fals`, `nulll`, `True`, `NULL`,
		`0`, `-0`, `01`, `-01`, `1.`, `.1`, `1.5`, `-1.5e10`, `1e`, `1e+`, `1e-5`, `1E5`, `+1`, `-`, `--1`,
		`1.0e+`, `0x10`, `Infinity`, `NaN`, `1 2`, `18446744073709551615`, `123456789012345678901234567890`,
		strings.Repeat("9", 100000), "1." + strings.Repeat("0", 1000), `1e999999999`,
		`""`, `"`, `"abc`, `"\"`, `"\\"`, `"\u"`, `"\u12"`, `"\u12g4"`, `"\uD800"`, `"\uDC00\uD800"`,
		`"\uD83D\uDE00"`, `"\x"`, `"\'"`, `"\/"`, `"\b\f\n\r\t"`, "\"\t\"", "\"\n\"", "\"\x00\"", "\"\x1f\"", "\"\x7f\"",
		"\"\xff\"", "\"\xc3\x28\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"héllo\"", "\"\xe2\x80\xa8\"",
		"\xff", "\x00", "\"a\"\x00", " \t\r\n1\n", "\v1", "\f1", "\u00a01",
		`[]`, `[`, `]`, `[1`, `[1,`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`, `[[[]]]`, `[[[]]`, `[{}]`, `[{]`,
		`{}`, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1`, `{a:1}`, `{'a':1}`, `{"a":1 "b":2}`, `{"a" 1}`,
		`{"a":1}x`, `{"a":[1,{"b":null}]}`, `{"\u0061":1}`, `{1:1}`, `{"a":1}}`, `{"a":1}]`,
		`{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"}`,
		`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
		`[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]`,
		"[1,2,3]", "[\n]", "[ 1 , 2 ]", "{ \"a\" : 1 }",
		// The known-key fast path of envelopes, and its look-alikes.
		`{"jsonrpc":"2.0"}`, `{"jsonrpc":"2.0`, `{"jsonrpc":"2.0"`, `{"jsonrpc":"2.0",}`, `{"jsonrpc":`, `{"jsonrpc"`,
		`{"id":}`, `{"id":1`, `{"id"1}`, `{"method":"m`, `{"params":[1,}`, `{"error":}`, `{"result":`,
		`[{"jsonrpc":"2.0","method":"a","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"a","params":{"a":1,"b":2},"id":2}]`,
	}
	// Nesting around encoding/json's limit of 10000, and far past it.
	for _, n := range []int{9999, 10000, 10001, 100000} {
		docs = append(docs, strings.Repeat("[", n)+strings.Repeat("]", n))
		docs = append(docs, strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n))
		docs = append(docs, strings.Repeat("[", n)) // truncated
	}
	// Every truncation of a valid request.
	full := `{"jsonrpc":"2.0","method":"e\u0063ho","params":{"s":"\ud83d\ude00 x","n":[-1.5e3,true,null]},"id":"x"}`
	for i := range len(full) {
		docs = append(docs, full[:i])
	}
	// Long strings that cross the 8-byte fast path at every alignment, with
	// UTF-8 valid and not: 2-, 3- and 4-byte sequences, truncated ones,
	// overlong forms, surrogates, code points past U+10FFFF, a lone
	// continuation byte, U+FFFD itself, and raw bytes in keys and ids.
	for n := range 20 {
		a := strings.Repeat("a", n)
		docs = append(docs, `"`+a+`"`, `"`+a+"\x01\"", `"`+a+`\"`+`"`, `"`+a)
		for _, seq := range []string{"é", "€", "😀", "\uFFFD", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc0\xaf", "\xe0\x80\xaf",
			"\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xfe", "héllo wörld ünïcödé", "日本語のテキスト"} {
			docs = append(docs, `"`+a+seq+`"`, `"`+seq+a+`"`, `"`+a+seq, `{"`+a+seq+`":1}`,
				`{"jsonrpc":"2.0","method":"m","id":"`+a+seq+`"}`)
		}
	}
	return docs
}

// strictValid is the reference the codec must match: encoding/json's
// grammar, in UTF-8. Outside strings JSON is ASCII, so checking the whole
// document is checking its strings.
func strictValid(doc []byte) bool { return json.Valid(doc) && utf8.Valid(doc) }

func TestValidMatchesStrictReference(t *testing.T) {
	for _, doc := range differentialCorpus() {
		want := strictValid([]byte(doc))
		if got := Valid([]byte(doc)); got != want {
			t.Errorf("Valid(%.60q) = %v, the strict reference says %v", doc, got, want)
		}
		b := AcquireBatch()
		err := b.Parse([]byte(doc))
		if (err == nil) != want {
			t.Errorf("Parse(%.60q) error = %v, the strict reference says %v", doc, err, want)
		}
		ReleaseBatch(b)
	}
}

func TestSyntaxErrorOffsets(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "codec: unexpected end of JSON input at offset 0"},
		{`{"a":1,}`, 7, `codec: invalid character '}' looking for beginning of object key string at offset 7`},
		{`[1 2]`, 3, `codec: invalid character '2' after array element at offset 3`},
		{`{"a" 1}`, 5, `codec: invalid character '1' after object key at offset 5`},
		{"\"a\x00\"", 2, `codec: invalid character '\x00' in string literal at offset 2`},
		{`01`, 1, `codec: invalid character '1' after top-level value at offset 1`},
		{`"\x"`, 2, `codec: invalid character 'x' in string escape code at offset 2`},
		{`[1,2`, 4, `codec: unexpected end of JSON input at offset 4`},
		{strings.Repeat("[", 10001), 10000, `codec: exceeded max depth at offset 10000`},
		{"\"bad \xff\xfe\"", 5, `codec: invalid UTF-8 in string literal at offset 5`},
		{`{"jsonrpc":"2.0","method":"m","id":"` + "\xff" + `"}`, 36, `codec: invalid UTF-8 in string literal at offset 36`},
		{"[\"" + strings.Repeat("é", 20) + "\xe2\x82\"]", 42, `codec: invalid UTF-8 in string literal at offset 42`},
		{"\"\xed\xa0\x80\"", 1, `codec: invalid UTF-8 in string literal at offset 1`},
	}
	for _, tt := range tests {
		b := AcquireBatch()
		err := b.Parse([]byte(tt.in))
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Fatalf("Parse(%.40q) = %v, want a *SyntaxError", tt.in, err)
		}
		if se.Offset != tt.offset || se.Error() != tt.msg {
			t.Errorf("Parse(%.40q): offset %d %q, want %d %q", tt.in, se.Offset, se.Error(), tt.offset, tt.msg)
		}
		ReleaseBatch(b)
		if tt.offset == 10000 {
			continue // Check allows codec.MaxDepth; the parser's bound is its Limits'
		}
		if err := Check([]byte(tt.in)); err == nil || err.Error() != tt.msg {
			t.Errorf("Check(%.40q) = %v, want %q", tt.in, err, tt.msg)
		}
	}
	if err := Check([]byte(` {"a":[1,"x",null]} `)); err != nil {
		t.Errorf("Check of valid JSON: %v", err)
	}
}

func TestHasSpecial(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			var w [8]byte
			for k := range w {
				w[k] = 'a'
			}
			w[pos] = byte(c)
			word := uint64(0)
			for k := 7; k >= 0; k-- {
				word = word<<8 | uint64(w[k])
			}
			want := c == '"' || c == '\\' || c < 0x20
			if got := hasSpecial(word); got != want {
				t.Fatalf("hasSpecial with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

// TestSpecialMaskLowestFlagIsExact pins what the string scan relies on: the
// lowest flagged byte is the first special byte (or, for stopMask, the
// first special or non-ASCII byte), even when others follow.
func TestSpecialMaskLowestFlagIsExact(t *testing.T) {
	alphabet := []byte{'"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x21, 'a', 0x7f, 0x80, 0xff, 0x5b, 0x5d}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for k := range w {
			w[k] = alphabet[rng.IntN(len(alphabet))]
		}
		word := binary.LittleEndian.Uint64(w[:])
		first := 8
		for k, c := range w {
			if c == '"' || c == '\\' || c < 0x20 {
				first = k
				break
			}
		}
		m := specialMask(word)
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != first {
			t.Fatalf("word % x: first special at %d, mask says %d", w, first, got)
		}
		firstStop := first
		for k, c := range w[:first] {
			if c >= 0x80 {
				firstStop = k
				break
			}
		}
		got = 8
		if m := stopMask(word); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != firstStop {
			t.Fatalf("word % x: first special or non-ASCII at %d, stopMask says %d", w, firstStop, got)
		}
		qm := quoteOrBackslashMask(word)
		firstQ := bytes.IndexAny(w[:], "\"\\")
		gotQ := -1
		if qm != 0 {
			gotQ = bits.TrailingZeros64(qm) >> 3
		}
		if gotQ != firstQ {
			t.Fatalf("word % x: first quote or backslash at %d, mask says %d", w, firstQ, gotQ)
		}
	}
}
