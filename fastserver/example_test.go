package fastserver_test

import (
	"context"
	"fmt"
	"net"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

func Example() {
	e := engine.New()
	_ = engine.Register(e, "double", func(_ context.Context, p struct {
		N int `json:"n"`
	}) (int, error) {
		return 2 * p.N, nil
	})
	srv := fastserver.New(e, fastserver.Config{Path: "/rpc"})
	ln := fasthttputil.NewInmemoryListener() // srv.ListenAndServe() in production
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://localhost/rpc")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.SetBodyString(`{"jsonrpc":"2.0","method":"double","params":[21],"id":1}`)
	if err := c.Do(req, resp); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode(), string(resp.Header.ContentType()), string(resp.Body()))
	// Output:
	// 200 application/json {"jsonrpc":"2.0","result":42,"id":1}
}
