package client

import (
	"context"
	"fmt"

	"github.com/jetrpc/jetrpc/codec"
	"github.com/valyala/bytebufferpool"
)

// Batch collects calls and notifications to send in one request. Answers
// are matched to calls by id, in whatever order the server sends them. A
// Batch is not safe for concurrent use; build one per request.
type Batch struct {
	c     *Client
	items []*BatchCall
}

// BatchCall is one call or notification of a Batch. After Send, Err holds
// the call's own error (a *codec.Error for a JSON-RPC error) and Result
// its decoded result.
type BatchCall struct {
	Method string
	Result any
	Err    error

	params []byte
	id     uint64
	notify bool
	done   bool
}

// NewBatch returns an empty batch sending through c.
func (c *Client) NewBatch() *Batch { return &Batch{c: c} }

// Call adds a call whose result will be decoded into result (see
// Client.Call for params and result). An error encoding params is
// recorded in the returned BatchCall and returned by Send.
func (b *Batch) Call(method string, params, result any) *BatchCall {
	raw, err := appendParams(nil, params) // owned by the BatchCall until Send
	bc := &BatchCall{Method: method, Result: result, Err: err, params: raw, id: b.c.ids.Add(1)}
	b.items = append(b.items, bc)
	return bc
}

// Notify adds a notification, which the server answers with nothing.
func (b *Batch) Notify(method string, params any) *BatchCall {
	raw, err := appendParams(nil, params)
	bc := &BatchCall{Method: method, Err: err, params: raw, notify: true}
	b.items = append(b.items, bc)
	return bc
}

// Len returns the number of calls and notifications added.
func (b *Batch) Len() int { return len(b.items) }

// Send sends the batch and distributes the answers. It returns an error
// when the batch could not be sent or its answer not read; each call's
// own outcome is in its Err. A call the server did not answer gets
// ErrNoAnswer. A server that answers the whole batch with one error (it
// could not read it) gives every call that error.
func (b *Batch) Send(ctx context.Context) error {
	if len(b.items) == 0 {
		return fmt.Errorf("client: empty batch")
	}
	req := bytebufferpool.Get()
	defer bytebufferpool.Put(req)
	start := len(req.B)
	req.B = codec.AppendBatchOpen(req.B)
	calls := 0
	for _, bc := range b.items {
		if bc.Err != nil {
			return fmt.Errorf("client: batch item %q: %w", bc.Method, bc.Err)
		}
		req.B = appendRequest(codec.AppendBatchItem(req.B, start), bc.Method, bc.params, bc.id, !bc.notify)
		if !bc.notify {
			calls++
		}
	}
	req.B = append(req.B, ']')
	resp := bytebufferpool.Get()
	defer bytebufferpool.Put(resp)
	if m, ok := b.c.transport.(multiplexer); ok {
		ids := make([]uint64, 0, calls)
		for _, bc := range b.items {
			if !bc.notify {
				ids = append(ids, bc.id)
			}
		}
		var err error
		if resp.B, err = m.exchangeBatch(ctx, resp.B, req.B, ids); err != nil {
			return fmt.Errorf("client: transport: %w", err)
		}
	} else if err := b.c.roundTrip(ctx, req.B, 0, resp); err != nil {
		return err
	}
	if calls == 0 {
		return nil // notifications only: nothing is owed, whatever came back
	}
	if len(resp.B) == 0 {
		return ErrNoAnswer
	}
	rs := codec.AcquireResponses()
	defer codec.ReleaseResponses(rs)
	if err := rs.Parse(resp.B); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
	}
	if !rs.IsArray && len(rs.Items) == 1 && rs.Items[0].Error != nil && string(rs.Items[0].ID) == "null" {
		err := decodeError(rs.Items[0].Error)
		for _, bc := range b.items {
			if !bc.notify {
				bc.Err, bc.done = err, true
			}
		}
		return nil
	}
	for i := range rs.Items {
		r := &rs.Items[i]
		bc := b.callWithID(r.ID)
		if bc == nil || r.Invalid != "" {
			continue // an answer to no call of ours, or malformed: ignored
		}
		bc.done = true
		if r.Error != nil {
			bc.Err = decodeError(r.Error)
		} else {
			bc.Err = decodeResult(r.Result, bc.Result)
		}
	}
	for _, bc := range b.items {
		if !bc.notify && !bc.done {
			bc.Err = ErrNoAnswer
		}
	}
	return nil
}

// callWithID finds the unanswered call whose id the raw answer id names.
func (b *Batch) callWithID(raw []byte) *BatchCall {
	for _, bc := range b.items {
		if !bc.notify && !bc.done && idMatches(raw, bc.id) {
			return bc
		}
	}
	return nil
}
