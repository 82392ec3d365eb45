// Package bench is the load generator behind `jetrpc bench` (Load: closed
// or open loop against any JSON-RPC HTTP endpoint, every answer checked,
// latency in an HDR histogram, nothing allocated per request), jetrpc's
// in-process benchmarks, and the bare fasthttp handler they are measured
// against.
package bench

import "github.com/valyala/fasthttp"

// BareAnswer is what BareHandler sends: a ping answer.
var BareAnswer = []byte(`{"jsonrpc":"2.0","result":"pong","id":1}`)

var strApplicationJSON = []byte("application/json")

// BareHandler answers every request with BareAnswer without reading it.
var BareHandler = FixedHandler(BareAnswer)

// FixedHandler returns a handler that answers every request with answer,
// as application/json, without reading the request: the ceiling a JSON-RPC
// server on fasthttp can reach for a case whose answer is answer, against
// which jetrpc's figures are quoted. It allocates nothing.
func FixedHandler(answer []byte) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
		ctx.Response.SetBody(answer)
	}
}
