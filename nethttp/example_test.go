package nethttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/nethttp"
)

func Example() {
	e := engine.New()
	_ = engine.Register(e, "greet", func(_ context.Context, p struct {
		Name string `json:"name"`
	}) (string, error) {
		return "hello, " + p.Name, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/json-rpc", nethttp.New(e, nethttp.Config{}))
	srv := httptest.NewServer(mux) // http.ListenAndServe(addr, mux) in production
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/json-rpc", "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","method":"greet","params":{"name":"Ada"},"id":1}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), string(body))
	// Output:
	// 200 application/json {"jsonrpc":"2.0","result":"hello, Ada","id":1}
}
