package codec

import (
	"errors"
	"strconv"
	"sync"
)

// Reasons an item of an answer body is not a valid Response object (see
// Response.Invalid).
const (
	InvalidResponseNotObject = "response must be an object"
	InvalidResponseShape     = "response must have either result or error"
)

// Response is one answer parsed from a response body: a result or an
// error for the request with the same id.
//
// ID, Result and Error are sub-slices of the parsed body, valid until the
// Responses is released or parses again. Copy them to keep them.
type Response struct {
	// ID is the raw JSON id; nil when the member is absent.
	ID []byte
	// Result is the raw JSON result; nil for an error answer.
	Result []byte
	// Error is the raw JSON error object; nil for a result answer. Decode
	// it with DecodeError.
	Error []byte
	// Version is what the "jsonrpc" member says; servers in JSON-RPC 1.0
	// form omit it (and may send "error": null beside a result).
	Version Version
	// Invalid is empty for a well-formed answer, and otherwise says why the
	// item is not one (InvalidResponse* constants).
	Invalid string
}

// Responses is the parsed form of a response body: one answer, or the
// answers of a batch. Acquire one with AcquireResponses and give it back
// with ReleaseResponses.
//
// A Responses is not safe for concurrent use. It must not be copied.
type Responses struct {
	noCopy noCopy //nolint:unused

	// Items holds the answers in body order.
	Items []Response
	// IsArray reports whether the body was an array (a batch answer).
	IsArray bool

	scan  scanner
	small smallStack
}

var responsesPool = sync.Pool{New: func() any {
	r := new(Responses)
	r.scan.stack = r.small[:]
	return r
}}

// AcquireResponses returns an empty Responses from a pool.
func AcquireResponses() *Responses { return responsesPool.Get().(*Responses) }

// ReleaseResponses resets r and returns it to the pool. r and every slice
// taken from its Items must not be used after the call.
func ReleaseResponses(r *Responses) {
	r.Reset()
	if cap(r.Items) > maxPooledRequests {
		return
	}
	responsesPool.Put(r)
}

// Reset empties r, dropping its references to the last body.
func (r *Responses) Reset() {
	clear(r.Items)
	r.Items = r.Items[:0]
	r.IsArray = false
	r.scan.data = nil
}

// Parse parses body, a JSON-RPC response or batch of responses, in one
// forward pass that validates the whole body as strict JSON; invalid JSON
// yields a *SyntaxError valid until r is released or parses again. An
// empty array yields no items. It allocates nothing once r has held as
// many items.
func (r *Responses) Parse(body []byte) error {
	r.Reset()
	isArray, ok := r.scan.walk(body, r)
	if !ok {
		clear(r.Items)
		r.Items = r.Items[:0]
		return &r.scan.err
	}
	r.IsArray = isArray
	return nil
}

func (r *Responses) object() {
	m := &r.scan.members
	resp := Response{ID: m[memberID], Result: m[memberResult], Error: m[memberError], Version: versionOf(m[memberJSONRPC])}
	// A JSON-RPC 1.0 answer carries both members, the unused one null.
	if resp.Result != nil && resp.Error != nil {
		if string(resp.Error) == "null" {
			resp.Error = nil
		} else if string(resp.Result) == "null" {
			resp.Result = nil
		}
	}
	if (resp.Result == nil) == (resp.Error == nil) {
		resp.Invalid = InvalidResponseShape
	}
	r.Items = append(r.Items, resp)
}

func (r *Responses) nonObject() {
	r.Items = append(r.Items, Response{Invalid: InvalidResponseNotObject})
}

func (r *Responses) emptyArray() {}

// ErrInvalidErrorObject is returned by DecodeError for an error member that
// is not an object with an integer code and a string message.
var ErrInvalidErrorObject = errors.New("codec: invalid error object")

// DecodeError decodes the raw error object of a Response (already
// validated by Parse) into an Error. It allocates the Error, its message
// and a copy of its data.
func DecodeError(raw []byte) (*Error, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, ErrInvalidErrorObject
	}
	e := &Error{}
	var haveCode, haveMessage bool
	for it := Iterate(raw); it.Next(); {
		v := it.Value()
		switch string(AppendUnescaped(nil, it.Key())) {
		case "code":
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, ErrInvalidErrorObject
			}
			e.Code, haveCode = Code(n), true
		case "message":
			if v[0] != '"' {
				return nil, ErrInvalidErrorObject
			}
			e.Message, haveMessage = string(AppendUnescaped(nil, v[1:len(v)-1])), true
		case "data":
			e.Data = append([]byte(nil), v...)
		}
	}
	if !haveCode || !haveMessage {
		return nil, ErrInvalidErrorObject
	}
	return e, nil
}
