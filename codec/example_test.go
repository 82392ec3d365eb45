package codec_test

import (
	"fmt"

	"github.com/jetrpc/jetrpc/codec"
)

func ExampleBatch_Parse() {
	body := []byte(`[{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":"a"},{"jsonrpc":"2.0","method":"log"},7]`)
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	if err := b.Parse(body); err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range b.Requests {
		fmt.Printf("method=%s id=%s params=%s notification=%v invalid=%q\n", r.Method, r.ID, r.Params, r.IsNotification(), r.Invalid)
	}
	// Output:
	// method=sum id="a" params=[1,2] notification=false invalid=""
	// method=log id= params= notification=true invalid=""
	// method= id= params= notification=false invalid="request must be an object"
}

func ExampleAppendParseError() {
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	err := b.Parse([]byte(`{"jsonrpc":"2.0","method":"sum",}`))
	fmt.Println(string(codec.AppendParseError(nil, err.(*codec.SyntaxError))))
	// Output:
	// {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":32,"reason":"invalid character '}' looking for beginning of object key string"}},"id":null}
}

func ExampleAppendResult() {
	fmt.Println(string(codec.AppendResult(nil, []byte(`1`), []byte(`"pong"`))))
	// Output:
	// {"jsonrpc":"2.0","result":"pong","id":1}
}
