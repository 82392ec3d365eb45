package codec

import (
	"bytes"
	"sync"
)

// Version says which protocol a request's "jsonrpc" member names.
type Version uint8

const (
	// VersionNone: the request has no "jsonrpc" member (JSON-RPC 1.0 form).
	VersionNone Version = iota
	// Version2: "jsonrpc" is exactly "2.0".
	Version2
	// VersionOther: "jsonrpc" is present with any other value.
	VersionOther
)

// Reasons a batch item is not a valid Request object (see Request.Invalid).
const (
	InvalidNotObject     = "request must be an object"
	InvalidMethodMissing = "method is missing"
	InvalidMethodType    = "method must be a string"
	InvalidParamsType    = "params must be an array or an object"
	InvalidIDType        = "id must be a string, a number or null"
	InvalidVersion       = `jsonrpc must be "2.0"`
	InvalidEmptyBatch    = "batch is empty"
	InvalidMethodLength  = "method name is longer than the limit"
	InvalidParamsDepth   = "params are nested deeper than the limit"
)

// Limits bound what Parse collects, so that a hostile body cannot make
// the server do or keep unbounded work; a zero field means no bound. The
// whole body is still validated as JSON.
type Limits struct {
	// MaxItems bounds the items of a batch: past it, Parse keeps counting
	// (see Batch.Items) but collects nothing more.
	MaxItems int
	// MaxMethodLength bounds a method name, in bytes as sent: a longer one
	// makes its item invalid (InvalidMethodLength).
	MaxMethodLength int
	// MaxParamsDepth bounds the nesting of params: 1 is a flat array or
	// object. Deeper params make their item invalid (InvalidParamsDepth).
	MaxParamsDepth int
	// AcceptV1 accepts JSON-RPC 1.0 requests (no "jsonrpc" member): they
	// get Version VersionNone instead of InvalidVersion, and one whose id
	// is null is a notification, as 1.0 has it.
	AcceptV1 bool
}

// Request is one item of a parsed body: a JSON-RPC request or the reason it
// is not one.
//
// Method, ID and Params are sub-slices of the parsed body (Method is a copy
// only when the name contains escapes). They are valid until the Batch is
// released or parses again. Copy them to keep them. They are capped, so
// appending to them never writes into the body.
type Request struct {
	// Method is the method name, unescaped.
	Method []byte
	// ID is the raw JSON id: a string with its quotes, a number or null.
	// It is nil when the request has no id member: a notification.
	ID []byte
	// Params is the raw JSON array or object, or nil when params are
	// absent or null.
	Params []byte
	// Version is what the "jsonrpc" member says.
	Version Version
	// Invalid is empty for a well-formed request, and otherwise one of the
	// Invalid* constants, saying why the item is not a Request object.
	// ID is still set when the item had a valid id.
	Invalid string

	methodOff, methodLen int // the name's place in Batch.scratch when escaped
	methodEscaped        bool
	// firstEnd is where the first element of Params ends, when the parse
	// found it a long string (see Iter.ResetParams), else 0. It fits in
	// the padding after methodEscaped: a Request is no larger for it.
	firstEnd int32
}

// IsNotification reports whether r is a well-formed request without an id,
// which the server must not answer. An invalid item is always answered.
func (r *Request) IsNotification() bool { return r.ID == nil && r.Invalid == "" }

// Batch is the parsed form of a request body: one request, or the items of
// a batch. Acquire one with AcquireBatch and give it back with ReleaseBatch.
//
// A Batch is not safe for concurrent use. It must not be copied.
type Batch struct {
	noCopy noCopy //nolint:unused

	// Requests holds the parsed items in body order. For a body that is a
	// single request it has one element.
	Requests []Request
	// IsArray reports whether the body was an array (a batch), in which
	// case the answer is an array too.
	IsArray bool
	// Items is the number of items in the body, which exceeds
	// len(Requests) when a batch is over Limits.MaxItems.
	Items int
	// Limits bound what Parse collects; set them before Parse.
	Limits Limits

	scratch []byte // unescaped method names
	scan    scanner
	small   smallStack // scan's depth stack up to 256 levels
}

// Pool caps: a batch that held more than this is dropped, not pooled, so
// one huge request does not pin its memory forever.
const (
	maxPooledRequests = 1024
	maxPooledScratch  = 64 << 10
)

var batchPool = sync.Pool{New: func() any {
	b := new(Batch)
	b.scan.stack = b.small[:]
	return b
}}

// AcquireBatch returns an empty Batch, without limits, from a pool. It
// allocates only when the pool is empty.
func AcquireBatch() *Batch { return batchPool.Get().(*Batch) }

// ReleaseBatch resets b and returns it to the pool. b and every slice taken
// from its Requests must not be used after the call.
func ReleaseBatch(b *Batch) {
	b.Reset()
	b.Limits = Limits{} // the next user starts without this one's limits
	if cap(b.Requests) > maxPooledRequests || cap(b.scratch) > maxPooledScratch {
		return
	}
	batchPool.Put(b)
}

// Reset empties b, dropping its references to the last body.
func (b *Batch) Reset() {
	b.Items = 0
	clear(b.Requests)
	b.Requests = b.Requests[:0]
	b.scratch = b.scratch[:0]
	b.IsArray = false
	b.scan.data = nil
}

// Parse parses body, a JSON-RPC request or batch, into b in a single
// forward pass that also validates the whole body as strict JSON in UTF-8:
// it rejects what encoding/json.Valid rejects, and invalid UTF-8 in a
// string (RFC 8259 §8.1), so that nothing copied from it into an answer
// can make the answer invalid.
//
// A body that is not valid JSON yields a *SyntaxError (answer it with
// AppendParseError). A body that is valid JSON but not a request yields
// items whose Invalid field says why (answer each with -32600); an empty
// array yields one such item. Parse allocates nothing once b has held a
// batch of the same size. The returned error is valid until b is
// released or parses again.
func (b *Batch) Parse(body []byte) error {
	b.Reset()
	isArray, ok := b.scan.walk(body, b)
	if !ok {
		clear(b.Requests)
		b.Requests = b.Requests[:0]
		return &b.scan.err
	}
	b.IsArray = isArray
	for k := range b.Requests {
		if r := &b.Requests[k]; r.methodEscaped {
			r.Method = b.scratch[r.methodOff : r.methodOff+r.methodLen : r.methodOff+r.methodLen]
		}
	}
	return nil
}

// object records the request object whose members the scanner collected.
func (b *Batch) object() {
	if !b.count() {
		return
	}
	m := &b.scan.members
	b.Requests = append(b.Requests, Request{})
	r := &b.Requests[len(b.Requests)-1]
	if b.scan.vouched {
		// What usual vouched for needs no classifying (fill would find
		// the same): ~5 % of Handle of a batch of ten adds.
		r.Params, r.ID, r.Version = m[memberParams], m[memberID], Version2
		if method := m[memberMethod]; b.methodTooLong(method) {
			r.setInvalid(InvalidMethodLength)
		} else {
			r.Method = unquoted(method)
		}
	} else {
		b.fill(r, m[memberJSONRPC], m[memberMethod], m[memberParams], m[memberID])
	}
	if max := b.Limits.MaxParamsDepth; max > 0 && b.scan.paramsDepth > max {
		r.setInvalidFirst(InvalidParamsDepth)
	}
	r.firstEnd = int32(b.scan.firstEnd)
}

// count counts an item and reports whether it is within Limits.MaxItems.
func (b *Batch) count() bool {
	b.Items++
	return b.Limits.MaxItems <= 0 || b.Items <= b.Limits.MaxItems
}

// nonObject records an item that is valid JSON but not an object.
func (b *Batch) nonObject() {
	if b.count() {
		b.Requests = append(b.Requests, Request{Invalid: InvalidNotObject})
	}
}

// emptyArray records an empty batch, which is answered with one error.
func (b *Batch) emptyArray() { b.Requests = append(b.Requests, Request{Invalid: InvalidEmptyBatch}) }

// fill classifies the members of a request object into r.
func (b *Batch) fill(r *Request, version, method, params, id []byte) {
	r.Version = versionOf(version)
	if id != nil {
		switch c := id[0]; {
		case c == '"' || c == '-' || isDigit(c) || c == 'n':
			r.ID = id
		default:
			r.Invalid = InvalidIDType
		}
	}
	if params != nil {
		switch params[0] {
		case '[', '{':
			r.Params = params
		case 'n':
			// "params": null is read as absent: several Go and JavaScript
			// clients send it for a method without parameters.
		default:
			r.setInvalid(InvalidParamsType)
		}
	}
	switch {
	case method == nil:
		r.setInvalid(InvalidMethodMissing)
	case method[0] != '"':
		r.setInvalid(InvalidMethodType)
	case b.methodTooLong(method):
		r.setInvalid(InvalidMethodLength)
	default:
		raw := unquoted(method)
		if !needsUnescape(raw) {
			r.Method = raw
			break
		}
		r.methodOff = len(b.scratch)
		b.scratch = AppendUnescaped(b.scratch, raw)
		r.methodLen = len(b.scratch) - r.methodOff
		r.methodEscaped = true
	}
	// Checked last, so that a more specific reason wins. The Version field
	// keeps what was sent, for a caller that accepts JSON-RPC 1.0.
	switch {
	case r.Version == VersionNone && b.Limits.AcceptV1:
		if string(r.ID) == "null" {
			r.ID = nil // a 1.0 notification
		}
	case r.Version != Version2:
		r.setInvalid(InvalidVersion)
	}
}

// methodTooLong reports whether method, a raw JSON string, names more
// bytes (as sent) than Limits.MaxMethodLength allows.
func (b *Batch) methodTooLong(method []byte) bool {
	return b.Limits.MaxMethodLength > 0 && len(method)-2 > b.Limits.MaxMethodLength
}

// unquoted returns the contents of the raw JSON string s, capped so that
// appending to them never writes into the body.
func unquoted(s []byte) []byte { return s[1 : len(s)-1 : len(s)-1] }

// setInvalidFirst makes reason the item's reason, whatever it had.
func (r *Request) setInvalidFirst(reason string) { r.Invalid = reason }

func (r *Request) setInvalid(reason string) {
	if r.Invalid == "" {
		r.Invalid = reason
	}
}

// versionOf classifies the raw value of a "jsonrpc" member (nil when absent).
func versionOf(v []byte) Version {
	switch {
	case v == nil:
		return VersionNone
	// What every request sends, compared at once: through stringEquals
	// (a call, then the escape scan) ping's Handle took 18 % longer.
	case string(v) == `"2.0"` || stringEquals(v, "2.0"):
		return Version2
	}
	return VersionOther
}

// stringEquals reports whether the raw JSON value v is a string equal to s.
func stringEquals(v []byte, s string) bool {
	if len(v) < 2 || v[0] != '"' {
		return false
	}
	raw := v[1 : len(v)-1]
	if !needsUnescape(raw) {
		return string(raw) == s
	}
	if len(raw) > 64 {
		return false
	}
	var buf [64]byte
	return string(AppendUnescaped(buf[:0], raw)) == s
}

// needsUnescape reports whether the raw contents of a validated string
// differ from their decoded form: they hold an escape (the scanner has
// already refused invalid UTF-8).
func needsUnescape(raw []byte) bool {
	if len(raw) <= 16 { // method names: a loop beats the call to IndexByte
		for _, c := range raw {
			if c == '\\' {
				return true
			}
		}
		return false
	}
	return bytes.IndexByte(raw, '\\') >= 0
}
