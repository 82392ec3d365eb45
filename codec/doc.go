// Package codec is jetrpc's wire format: it parses JSON-RPC 2.0 request
// bodies and appends response envelopes. It knows nothing of methods or
// transports.
//
// Parsing is a single forward pass over the body that validates it as strict
// JSON in UTF-8 (what encoding/json.Valid accepts, less invalid UTF-8 in
// strings, which RFC 8259 §8.1 forbids between systems) and fills a pooled
// Batch:
//
//	b := codec.AcquireBatch()
//	defer codec.ReleaseBatch(b)
//	if err := b.Parse(body); err != nil {
//		out = codec.AppendParseError(out, err.(*codec.SyntaxError))
//		return
//	}
//	for i := range b.Requests { … }
//
// # Ownership
//
// Request.Method, ID and Params are sub-slices of the body, never copies
// (a method name with escapes is unescaped into the Batch's own memory).
// They are valid until the Batch is released or parses again, and only while
// the body itself is unchanged. Copy them to keep them. They are capped, so
// appending to one reallocates instead of writing into the body.
//
// # Writers
//
// Responses are written with append-style functions (AppendResult,
// AppendError, AppendParseError, …) that append to a caller's buffer and
// allocate only to grow it. IDs are copied byte for byte.
//
// # Limits
//
// Nesting deeper than MaxDepth (10000, encoding/json's limit) is a syntax
// error. Batches that held more than 1024 items, or 64 KiB of unescaped
// method names, are not kept by the pool.
package codec
