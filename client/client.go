package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	gojson "github.com/goccy/go-json"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/internal/jsonenc"
	"github.com/valyala/bytebufferpool"
)

// Transport carries one JSON-RPC request body to a server and its answer
// back. RoundTrip sends req (a request or a batch, valid until it returns)
// and appends the answer body to dst, returning the extended dst; an
// answer with no body (HTTP 204, or 200 with an empty body) appends
// nothing. It returns an error only when the exchange itself failed
// (an *HTTPError for an HTTP status other than 200 and 204); JSON-RPC
// errors travel in the body.
//
// A new transport is a type with this one method; TransportFunc adapts a
// function. Implementations must be safe for concurrent use.
type Transport interface {
	RoundTrip(ctx context.Context, dst, req []byte) ([]byte, error)
}

// TransportFunc adapts a function to a Transport.
type TransportFunc func(ctx context.Context, dst, req []byte) ([]byte, error)

// RoundTrip calls f.
func (f TransportFunc) RoundTrip(ctx context.Context, dst, req []byte) ([]byte, error) {
	return f(ctx, dst, req)
}

// Client calls JSON-RPC 2.0 methods through a Transport. It is safe for
// concurrent use: ids come from one atomic counter, so calls from many
// goroutines never share one.
type Client struct {
	transport Transport
	ids       atomic.Uint64
}

// New returns a Client sending through t; Dial makes the transport from a
// URL.
func New(t Transport) *Client { return &Client{transport: t} }

// Close releases what the transport holds: its idle connections. Calls
// made after Close open new ones.
func (c *Client) Close() error {
	switch t := c.transport.(type) {
	case interface{ Close() error }:
		return t.Close()
	case interface{ CloseIdleConnections() }:
		t.CloseIdleConnections()
	}
	return nil
}

// roundTrip sends req, a call with id (0 for a notification), through the
// transport, appending the answer to resp. A persistent connection routes
// the answer by that id; HTTP pairs it with its request.
func (c *Client) roundTrip(ctx context.Context, req []byte, id uint64, resp *bytebufferpool.ByteBuffer) error {
	var b []byte
	var err error
	if m, ok := c.transport.(multiplexer); ok {
		b, err = m.exchangeOne(ctx, resp.B, req, id)
	} else {
		b, err = c.transport.RoundTrip(ctx, resp.B, req)
	}
	resp.B = b
	if err != nil {
		return fmt.Errorf("client: transport: %w", err)
	}
	return nil
}

// Errors of the client itself; transport errors are wrapped as
// "client: transport: …".
var (
	ErrNoAnswer      = errors.New("client: the server sent no answer for the call")
	ErrIDMismatch    = errors.New("client: the answer's id is not the call's")
	ErrInvalidAnswer = errors.New("client: invalid answer")
	ErrInvalidParams = errors.New("client: params must encode to a JSON array or object")
)

// Call calls method with params and decodes its result into result. It
// returns a *codec.Error when the server answers with an error (use
// errors.As), and a wrapped transport or decoding error otherwise.
//
// params is nil (no params), raw JSON (json.RawMessage, *json.RawMessage
// or []byte: an array or object, sent as is), or any value go-json encodes
// to an array or object. result is nil (the result is discarded), a
// *json.RawMessage (the raw result is copied into it, reusing its
// capacity), or any pointer go-json decodes into.
//
// With *json.RawMessage params and result over the fasthttp transport and
// a context that cannot be cancelled, a call allocates nothing in steady
// state; a json.RawMessage passed by value costs the interface conversion.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	raw, err := appendParams(buf, params)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, method, raw, result, nil, false)
	return err
}

// CallRaw calls method with the raw JSON params (an array, an object, or
// nil for none) and appends the raw result to dst, returning the extended
// dst. It allocates nothing in steady state over the fasthttp transport.
func (c *Client) CallRaw(ctx context.Context, dst []byte, method string, params []byte) ([]byte, error) {
	if params != nil && !validParams(params) {
		return dst, ErrInvalidParams
	}
	return c.call(ctx, method, params, nil, dst, true)
}

// call sends one call and either appends its raw result to dst
// (appendRaw) or decodes it into result.
func (c *Client) call(ctx context.Context, method string, params []byte, result any, dst []byte, appendRaw bool) ([]byte, error) {
	req := bytebufferpool.Get()
	defer bytebufferpool.Put(req)
	id := c.ids.Add(1)
	req.B = appendRequest(req.B, method, params, id, true)
	resp := bytebufferpool.Get()
	defer bytebufferpool.Put(resp)
	if err := c.roundTrip(ctx, req.B, id, resp); err != nil {
		return dst, err
	}
	if len(resp.B) == 0 {
		return dst, ErrNoAnswer
	}
	rs := codec.AcquireResponses()
	defer codec.ReleaseResponses(rs)
	if err := rs.Parse(resp.B); err != nil {
		return dst, fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
	}
	if len(rs.Items) != 1 {
		return dst, fmt.Errorf("%w: %d answers to one call", ErrInvalidAnswer, len(rs.Items))
	}
	r := &rs.Items[0]
	if r.Invalid != "" {
		return dst, fmt.Errorf("%w: %s", ErrInvalidAnswer, r.Invalid)
	}
	if r.Error != nil {
		// An error with a null id answers a request the server could not read.
		if !idMatches(r.ID, id) && string(r.ID) != "null" {
			return dst, ErrIDMismatch
		}
		return dst, decodeError(r.Error)
	}
	if !idMatches(r.ID, id) {
		return dst, ErrIDMismatch
	}
	if appendRaw {
		return append(dst, r.Result...), nil
	}
	return dst, decodeResult(r.Result, result)
}

// Notify sends method with params as a notification: the server runs it
// and answers nothing. params is as for Call.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	raw, err := appendParams(buf, params)
	if err != nil {
		return err
	}
	req := bytebufferpool.Get()
	defer bytebufferpool.Put(req)
	req.B = appendRequest(req.B, method, raw, 0, false)
	resp := bytebufferpool.Get()
	defer bytebufferpool.Put(resp)
	return c.roundTrip(ctx, req.B, 0, resp)
}

// Pending is a call in flight, started by Go.
type Pending struct {
	Method string
	// Result is the result argument given to Go (a pointer, or nil), into
	// which the result is decoded; read what it points to after Done is
	// closed, never before: the call writes it from its own goroutine.
	Result any
	// Err is the call's error; read it after Done is closed.
	Err error
	// Done is closed when the call has completed.
	Done <-chan struct{}
}

// Wait blocks until the call completes and returns its error.
func (p *Pending) Wait() error {
	<-p.Done
	return p.Err
}

// Go starts a call and returns at once; the call completes in its own
// goroutine, and Done is closed when it has. Many calls can be in flight
// from one goroutine. Costs a goroutine and a few allocations per call.
func (c *Client) Go(ctx context.Context, method string, params, result any) *Pending {
	done := make(chan struct{})
	p := &Pending{Method: method, Result: result, Done: done}
	go func() {
		p.Err = c.Call(ctx, method, params, result)
		close(done)
	}()
	return p
}

// CallFor calls method with params, as Client.Call does, and returns the
// result decoded into an R, so that no type assertion is needed:
//
//	sum, err := client.CallFor[float64](ctx, c, "add", []int{1, 2})
//
// It costs what Call costs with a pointer to an R, which escapes.
func CallFor[R any](ctx context.Context, c *Client, method string, params any) (R, error) {
	var r R
	err := c.Call(ctx, method, params, &r)
	return r, err
}

// decodeError turns a raw error object into a *codec.Error.
func decodeError(raw []byte) error {
	e, err := codec.DecodeError(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
	}
	return e
}

// decodeResult stores the raw result into result.
func decodeResult(raw []byte, result any) error {
	switch r := result.(type) {
	case nil:
		return nil
	case *json.RawMessage:
		*r = append((*r)[:0], raw...)
		return nil
	}
	if err := gojson.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("client: decoding the result: %w", err)
	}
	return nil
}

// appendParams returns the raw JSON of params (see Call): raw kinds as
// they are (the caller's own bytes), nil for none, anything else encoded
// by go-json into buf, which then holds the result; a nil buf gets a new
// slice.
func appendParams(buf *bytebufferpool.ByteBuffer, params any) ([]byte, error) {
	var raw []byte
	switch p := params.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = p
	case *json.RawMessage:
		raw = *p
	case []byte:
		raw = p
	default:
		var dst []byte
		if buf != nil {
			dst = buf.B[:0]
		}
		b, err := jsonenc.Append(dst, params)
		if err != nil {
			return nil, fmt.Errorf("client: encoding params: %w", err)
		}
		if buf != nil {
			buf.B = b // only ever bytes of our own: never the caller's params
		}
		raw = b
	}
	if !validParams(raw) {
		return nil, ErrInvalidParams
	}
	return raw, nil
}

// validParams reports whether raw is one JSON array or object.
func validParams(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '[' || raw[0] == '{') && codec.Valid(raw)
}

// appendRequest appends the request envelope for a call (withID) or a
// notification to dst; params is raw JSON or nil.
func appendRequest(dst []byte, method string, params []byte, id uint64, withID bool) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","method":`...)
	dst = codec.AppendString(dst, method)
	if params != nil {
		dst = append(append(dst, `,"params":`...), params...)
	}
	if withID {
		dst = strconv.AppendUint(append(dst, `,"id":`...), id, 10)
	}
	return append(dst, '}')
}

// idMatches reports whether the raw answer id is id, sent as a number;
// servers that turn ids into strings ("7") are understood too.
func idMatches(raw []byte, id uint64) bool {
	n, ok := numericID(raw)
	return ok && n == id
}

// numericID reads a raw JSON id that is a non-negative integer, or a
// string of one ("7": servers that turn ids into strings).
func numericID(raw []byte) (uint64, bool) {
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if len(raw) == 0 || len(raw) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
