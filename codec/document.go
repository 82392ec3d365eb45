package codec

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
	s.paramsDepth = 0
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return s.failChar(i, msgBeginKey)
		}
		keyStart := i + 1
		if i = s.str(i); i < 0 {
			return i
		}
		key := data[keyStart : i-1]
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ':' {
			return s.failChar(i, msgAfterKey)
		}
		valStart := skipSpace(data, i+1)
		s.deepest = 0
		// Envelope members are mostly strings and numbers: scan them
		// directly, without the container machinery of value.
		switch {
		case valStart < len(data) && data[valStart] == '"':
			i = s.str(valStart)
		case valStart < len(data) && (isDigit(data[valStart]) || data[valStart] == '-'):
			i = s.number(valStart)
		default:
			i = s.value(valStart, depth+1)
		}
		if i < 0 {
			return i
		}
		if m := memberOf(key); m != memberOther {
			s.members[m] = data[valStart:i:i]
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
