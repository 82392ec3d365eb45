// Package bench holds jetrpc's benchmarks and the baselines they are
// measured against.
package bench

import "github.com/valyala/fasthttp"

// BareAnswer is what BareHandler sends: a ping answer.
var BareAnswer = []byte(`{"jsonrpc":"2.0","result":"pong","id":1}`)

var strApplicationJSON = []byte("application/json")

// BareHandler answers every request with BareAnswer without reading it:
// the ceiling a JSON-RPC server on fasthttp can reach, against which
// jetrpc's figures are quoted. It allocates nothing.
func BareHandler(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentTypeBytes(strApplicationJSON)
	ctx.Response.SetBody(BareAnswer)
}
