package codec

import (
	"encoding/binary"
	"math"
)

// The envelope members the codec collects, requests' and responses'.
const (
	memberOther = iota
	memberJSONRPC
	memberMethod
	memberParams
	memberID
	memberResult
	memberError
	memberCount
)

// members holds the raw values of an envelope object's known members,
// indexed by member; an absent member is nil.
type members [memberCount][]byte

// itemParser receives the items of a document as the scanner walks it:
// the body's single value, or each element of a batch. Its methods read
// the members from the scanner it owns (passing them through the interface
// would move them to the heap).
type itemParser interface {
	object()     // an object, whose members are in scanner.members
	nonObject()  // valid JSON that is not an object
	emptyArray() // the body is []
}

// walk scans body, a JSON-RPC document, in one forward pass: it validates
// all of it and hands each top-level item to p. It reports whether the
// body is an array, and false in ok on a syntax error (in s.err).
func (s *scanner) walk(body []byte, p itemParser) (isArray, ok bool) {
	s.data = body
	i := skipSpace(body, 0)
	if i < len(body) && body[i] == '[' {
		isArray = true
		i = skipSpace(body, i+1)
		if i < len(body) && body[i] == ']' {
			i++
			p.emptyArray()
		} else {
			for {
				if i = s.item(i, 1, p); i < 0 {
					return true, false
				}
				i = skipSpace(body, i)
				if i < len(body) && body[i] == ',' {
					i = skipSpace(body, i+1)
					continue
				}
				if i < len(body) && body[i] == ']' {
					i++
					break
				}
				s.failChar(i, msgAfterArrValue)
				return true, false
			}
		}
	} else if i = s.item(i, 0, p); i < 0 {
		return false, false
	}
	if i = skipSpace(body, i); i < len(body) {
		s.failChar(i, msgAfterTopValue)
		return isArray, false
	}
	return isArray, true
}

// item scans the top-level item or batch element at i.
func (s *scanner) item(i, depth int, p itemParser) int {
	if i < len(s.data) && s.data[i] == '{' {
		if i = s.envelope(i, depth); i >= 0 {
			p.object()
		}
		return i
	}
	if i = s.value(i, depth); i >= 0 {
		p.nonObject()
	}
	return i
}

// envelope scans the object at data[i] == '{' and collects its known
// members into s.members; the last of duplicate members wins, as in
// encoding/json.
func (s *scanner) envelope(i, depth int) int {
	data := s.data
	s.members = members{}
	s.vouched = false
	s.paramsDepth = 0
	s.firstEnd = 0
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	if j := s.usual(i, depth); j != i {
		if j < 0 {
			return j
		}
		switch i = skipSpace(data, j); {
		case i < len(data) && data[i] == '}':
			return i + 1
		case i < len(data) && data[i] == ',':
			i = skipSpace(data, i+1)
		default:
			return s.failChar(i, msgAfterObjValue)
		}
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return s.failChar(i, msgBeginKey)
		}
		// Fast path: a known key written plainly, closing quote and colon
		// included, is read by one comparison instead of a string scan and
		// a lookup (a batch of ten adds parses 1.2x faster).
		m, valStart := knownKeyAt(data, i)
		if m == memberOther {
			keyStart := i + 1
			if i = s.str(i); i < 0 {
				return i
			}
			m = memberOf(data[keyStart : i-1])
			i = skipSpace(data, i)
			if i >= len(data) || data[i] != ':' {
				return s.failChar(i, msgAfterKey)
			}
			valStart = skipSpace(data, i+1)
		} else {
			valStart = skipSpace(data, valStart)
		}
		s.deepest = 0
		if m == memberParams {
			s.firstEnd = 0 // a later params member wins: forget an earlier one's
		}
		// Envelope members are mostly strings and numbers: scan them
		// directly, without the container machinery of value.
		switch {
		case m == memberJSONRPC && isVersion20At(data, valStart):
			i = valStart + len(`"2.0"`)
		case valStart >= len(data):
			i = s.value(valStart, depth+1)
		case data[valStart] == '"':
			i = s.str(valStart)
		case isDigit(data[valStart]) || data[valStart] == '-':
			i = s.number(valStart)
		case m == memberParams && (data[valStart] == '[' || data[valStart] == '{'):
			i = s.flat(valStart, depth+1)
		default:
			i = s.value(valStart, depth+1)
		}
		if i < 0 {
			return i
		}
		if m != memberOther {
			s.members[m] = data[valStart:i:i]
			s.vouched = false // Batch.object classifies the members again
			if m == memberParams {
				s.paramsDepth = s.deepest
			}
		}
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return i + 1
		}
		return s.failChar(i, msgAfterObjValue)
	}
}

// The members' usual layouts, as little-endian words, for usual: compact,
// and spaced as Python's json.dumps writes (", " and ": ").
var (
	wordVersionComma  = wordOf(`":"2.0",`) // after "jsonrpc
	wordMethodQuote   = wordOf(`ethod":"`) // the end of "method":"
	wordCommaParams   = wordOf(`,"params`) // then ":
	wordCommaID       = wordOf(`,"id":`)   // six bytes: mask6
	wordVersionSpaced = wordOf(`": "2.0"`) // after "jsonrpc
	wordCommaMethod   = wordOf(`, "metho`) // then d": "
	wordThodQuote     = wordOf(`thod": "`) // the end of "method": "
	wordCommaParam    = wordOf(`, "param`) // then s":
	wordAramsColon    = wordOf(`arams": `) // the end of "params":
	wordCommaIDSpaced = wordOf(`, "id": `)
)

// mask6 keeps the low six bytes of a word.
const mask6 = 1<<48 - 1

// usual reads, at data[i] (the first key of an envelope), the members in
// the layout nearly every client writes: {"jsonrpc":"2.0","method":"…"
// followed by "params" (an array or object) and "id" (a number or string),
// either or both, in that order, without spaces or, as Python's json.dumps
// writes, with a space after each comma and colon. It compares each fixed
// run of bytes at once instead of reading keys one by one (Handle of a
// batch of ten adds ~9 % faster) and returns the index after the last
// member's value, for envelope to go on from; i itself when the body does
// not start so, or -1 on a syntax error. Values are scanned by the
// functions envelope's loop uses, so an error is the same error at the
// same offset.
func (s *scanner) usual(i, depth int) int {
	data := s.data
	if i+26 > len(data) || s.noUsual || binary.LittleEndian.Uint64(data[i:]) != wordJSONRPC {
		return i
	}
	var method int // the method's opening quote
	spaced := false
	switch w := binary.LittleEndian.Uint64(data[i+8:]); {
	case w == wordVersionComma && binary.LittleEndian.Uint64(data[i+16:]) == wordMethod &&
		binary.LittleEndian.Uint64(data[i+18:]) == wordMethodQuote:
		method = i + 25
	case w == wordVersionSpaced && i+29 <= len(data) && binary.LittleEndian.Uint64(data[i+16:]) == wordCommaMethod &&
		binary.LittleEndian.Uint64(data[i+21:]) == wordThodQuote:
		method, spaced = i+28, true
	default:
		return i
	}
	end := skipPlain(data, method+1)
	if s.vouched = end < len(data) && data[end] == '"'; s.vouched {
		end++ // the usual name, ASCII without escapes: read in one step
	} else if end = s.str(method); end < 0 {
		return end
	}
	version := i + len(`"jsonrpc":`)
	if spaced {
		version++
	}
	s.members[memberJSONRPC] = data[version : version+5 : version+5]
	s.members[memberMethod] = data[method:end:end]
	v := -1 // where params' value starts, if they come next
	switch {
	case spaced && end+12 < len(data) && binary.LittleEndian.Uint64(data[end:]) == wordCommaParam &&
		binary.LittleEndian.Uint64(data[end+4:]) == wordAramsColon:
		v = end + 12
	case !spaced && end+10 < len(data) && binary.LittleEndian.Uint64(data[end:]) == wordCommaParams &&
		data[end+8] == '"' && data[end+9] == ':':
		v = end + 10
	}
	if v >= 0 {
		if data[v] != '[' && data[v] != '{' {
			return end // envelope reads and classifies it
		}
		s.deepest = 0
		if end = s.flat(v, depth+1); end < 0 {
			return end
		}
		s.members[memberParams] = data[v:end:end]
		s.paramsDepth = s.deepest
	}
	v = -1 // where the id's value starts, if it comes next
	switch {
	case spaced && end+8 < len(data) && binary.LittleEndian.Uint64(data[end:]) == wordCommaIDSpaced:
		v = end + 8
	case !spaced && end+8 <= len(data) && binary.LittleEndian.Uint64(data[end:])&mask6 == wordCommaID:
		v = end + 6
	}
	if v >= 0 {
		switch c := data[v]; {
		case isDigit(c) || c == '-':
			end = s.number(v)
		case c == '"':
			end = s.str(v)
		default:
			return end
		}
		if end < 0 {
			return end
		}
		s.members[memberID] = data[v:end:end]
	}
	return end
}

// longString is the length, quotes included, from which the end of a
// first params element that is a string is recorded (see firstEnd).
const longString = 64

// flat scans the array or object at data[i] whose elements are all
// strings and numbers, the shape of most params, without value's container
// stack (a batch of ten adds parses ~1.1x faster). When the first element
// is a long string, it records where it ends (Request.firstEnd), so that
// the typed decoder does not scan it again: the echo of a 1 KiB string is
// the common case. At anything else (a nested container, a literal, a
// syntax error past a string or number) it scans the whole value again
// with value, which then fails, if it does, exactly as it would have
// alone; a string or number that fails fails the same way in both.
func (s *scanner) flat(start, depth int) int {
	data := s.data
	object := data[start] == '{'
	end := data[start] + 2 // '['+2 == ']', '{'+2 == '}'
	i := skipSpace(data, start+1)
	if i < len(data) && data[i] == end {
		s.deepest = max(s.deepest, 1)
		return i + 1
	}
	for first := true; ; {
		if object {
			if i >= len(data) || data[i] != '"' {
				return s.value(start, depth)
			}
			if i = s.str(i); i < 0 {
				return i
			}
			i = skipSpace(data, i)
			if i >= len(data) || data[i] != ':' {
				return s.value(start, depth)
			}
			i = skipSpace(data, i+1)
		}
		switch {
		case i >= len(data):
			return s.value(start, depth)
		case data[i] == '"':
			j := s.str(i)
			if first && j-i >= longString && j-start <= math.MaxInt32 {
				s.firstEnd = j - start
			}
			i = j
		case isDigit(data[i]) || data[i] == '-':
			i = s.number(i)
		default:
			return s.value(start, depth)
		}
		if i < 0 {
			return i
		}
		first = false
		i = skipSpace(data, i)
		switch {
		case i >= len(data):
			return s.value(start, depth)
		case data[i] == ',':
			i = skipSpace(data, i+1)
		case data[i] == end:
			s.deepest = max(s.deepest, 1)
			return i + 1
		default:
			return s.value(start, depth)
		}
	}
}

// Known keys as little-endian words, for knownKeyAt.
var (
	wordJSONRPC = wordOf(`"jsonrpc`) // then `":`
	wordMethod  = wordOf(`"method"`) // then `:`
	wordParams  = wordOf(`"params"`)
	wordResult  = wordOf(`"result"`)
	wordError   = wordOf(`"error":`)
	wordID      = wordOf(`"id":`)
	word20      = wordOf(`"2.0"`)
)

// wordOf returns the first (up to) 8 bytes of s as a little-endian word.
func wordOf(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.LittleEndian.Uint64(b[:])
}

// mask5 keeps the low five bytes of a word.
const mask5 = 1<<40 - 1

// knownKeyAt reports which known member the key at data[i] == '"' names
// when it is written plainly and followed at once by its colon, and the
// index after the colon; memberOther when it is not (the general path
// then reads it, escapes and spaces included). One word compares a key.
func knownKeyAt(data []byte, i int) (int, int) {
	if i+10 > len(data) {
		return memberOther, i // near the end: the general path
	}
	w := binary.LittleEndian.Uint64(data[i:])
	switch {
	case w&mask5 == wordID:
		return memberID, i + 5
	case w == wordMethod && data[i+8] == ':':
		return memberMethod, i + 9
	case w == wordParams && data[i+8] == ':':
		return memberParams, i + 9
	case w == wordJSONRPC && data[i+8] == '"' && data[i+9] == ':':
		return memberJSONRPC, i + 10
	case w == wordResult && data[i+8] == ':':
		return memberResult, i + 9
	case w == wordError:
		return memberError, i + 8
	}
	return memberOther, i
}

// isVersion20At reports whether data[i:] starts with "2.0", quotes
// included.
func isVersion20At(data []byte, i int) bool {
	return i+8 <= len(data) && binary.LittleEndian.Uint64(data[i:])&mask5 == word20
}

// memberOf names the envelope member whose raw key (without quotes) is key.
func memberOf(key []byte) int {
	if m := knownMember(key); m != memberOther || len(key) > 64 {
		return m // "\u006a\u0073..." spells a 7-letter key in at most 42 bytes
	}
	// Only an escaped key can still name a member.
	for _, c := range key {
		if c == '\\' {
			var buf [64]byte
			return knownMember(AppendUnescaped(buf[:0], key))
		}
	}
	return memberOther
}

// knownMember names the member whose unescaped key is key.
func knownMember(key []byte) int {
	// The compiler turns switch string(b) into comparisons without a copy.
	switch string(key) {
	case "jsonrpc":
		return memberJSONRPC
	case "method":
		return memberMethod
	case "params":
		return memberParams
	case "id":
		return memberID
	case "result":
		return memberResult
	case "error":
		return memberError
	}
	return memberOther
}
