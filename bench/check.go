package bench

import (
	"errors"
	"strconv"

	"github.com/jetrpc/jetrpc/codec"
)

// checker checks each answer against its request. Its bitset, sized once
// for the largest template, marks the calls answered, so that every call
// of a batch of any size is checked for a duplicate answer without
// allocating.
type checker struct {
	answers *codec.Responses
	seen    []uint64
}

func newChecker(templates []Template) checker {
	calls := 1
	for _, t := range templates {
		calls = max(calls, t.calls)
	}
	return checker{answers: new(codec.Responses), seen: make([]uint64, (calls+63)/64)}
}

// check classifies the answer to one request: "" when right, else the
// kind of failure.
func (c *checker) check(t *Template, body []byte, status int, answer []byte, err error) string {
	switch {
	case isTimeout(err):
		return "timeout"
	case errors.Is(err, errAnswerTooLarge):
		return "answer_too_large"
	case err != nil:
		return "transport"
	case status == 204:
		if t.known && t.calls > 0 {
			return "no_answer"
		}
		return ""
	case status != 200:
		return "http_" + strconv.Itoa(status)
	}
	if t.known && t.calls == 0 && len(answer) == 0 {
		return "" // notifications only: an empty 200 is an answer too
	}
	if c.answers.Parse(answer) != nil {
		return "invalid_json"
	}
	return c.items(t, body)
}

// items is check for an answer already parsed into c.answers: one answer
// per call, each with one of the request's ids, none twice, none an
// error.
func (c *checker) items(t *Template, body []byte) string {
	answers := c.answers
	if t.known && len(answers.Items) != t.calls {
		return "wrong_count"
	}
	clear(c.seen)
	for i := range answers.Items {
		a := &answers.Items[i]
		if a.Invalid != "" {
			return "invalid_answer"
		}
		if t.known {
			k := t.idIndex(a.ID, body)
			if k < 0 {
				return "wrong_id"
			}
			if t.distinct {
				if c.seen[k/64]&(1<<(k%64)) != 0 {
					return "duplicate_id"
				}
				c.seen[k/64] |= 1 << (k % 64)
			}
		}
		if a.Error != nil {
			return "rpc_error" + errorCode(a.Error)
		}
	}
	return ""
}

// idIndex returns which of the request's calls id answers (body is t's
// body with the ids patched in), or -1 when it answers none of them. A
// patched id names its call by its value (see patch), so that a batch of
// any size is checked in time proportional to its answers.
func (t *Template) idIndex(id, body []byte) int {
	if len(t.idAt) == 0 {
		for k, want := range t.ids {
			if string(id) == string(want) {
				return k
			}
		}
		return -1
	}
	v, ok := patchedValue(id)
	if !ok {
		return -1
	}
	if k := int(v / slotDigits % uint64(len(t.idAt))); string(id[1:idWidth+1]) == string(body[t.idAt[k]:t.idAt[k]+idWidth]) {
		return k
	}
	return -1
}

// patchedValue reads the value of an id patch wrote ("000000010003"); false
// for any other id.
func patchedValue(id []byte) (uint64, bool) {
	if len(id) != idWidth+2 || id[0] != '"' {
		return 0, false
	}
	var v uint64
	for _, ch := range id[1 : idWidth+1] {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	return v, true
}

// patch writes the ids of request n sent on slot (0 over HTTP, where a
// connection has one request in flight): call k gets (n*calls + k) *
// slotDigits + slot, n wrapping within the id's 12 digits, so that an id
// names its call and, on a persistent connection, its slot.
func (t *Template) patch(body []byte, n uint64, slot int) {
	calls := uint64(len(t.idAt))
	n %= 1e12 / slotDigits / max(calls, 1)
	for k, at := range t.idAt {
		patchID(body[at:at+idWidth], (n*calls+uint64(k))*slotDigits+uint64(slot))
	}
}

// errorCode returns "_CODE" for a raw error object, without allocating
// on the way to the code.
func errorCode(raw []byte) string {
	for it := codec.Iterate(raw); it.Next(); {
		if string(it.Key()) == "code" {
			return "_" + string(it.Value())
		}
	}
	return ""
}

// patchID writes n as idWidth decimal digits into b.
func patchID(b []byte, n uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}
