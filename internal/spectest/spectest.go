// Package spectest holds the JSON-RPC 2.0 specification's examples
// (section 7), adapted to the demo methods, as one table that every
// transport's tests run.
package spectest

// Case is one request body and the exact answer owed; an empty Want means
// no answer at all (HTTP 204).
type Case struct {
	Name string
	In   string
	Want string
}

// Cases follows the specification's section 7 in order, with sum,
// subtract, update, notify_hello, get_data replaced by the demo methods,
// then the semantics the core slice pins down beyond it.
var Cases = []Case{
	{"positional params", `{"jsonrpc": "2.0", "method": "add", "params": [42, 23], "id": 1}`,
		`{"jsonrpc":"2.0","result":65,"id":1}`},
	{"positional params, other order", `{"jsonrpc": "2.0", "method": "add", "params": [23, 42], "id": 2}`,
		`{"jsonrpc":"2.0","result":65,"id":2}`},
	{"named params", `{"jsonrpc": "2.0", "method": "add", "params": {"a": 42, "b": 23}, "id": 3}`,
		`{"jsonrpc":"2.0","result":65,"id":3}`},
	{"named params, other order", `{"jsonrpc": "2.0", "method": "add", "params": {"b": 23, "a": 42}, "id": 4}`,
		`{"jsonrpc":"2.0","result":65,"id":4}`},
	{"notification", `{"jsonrpc": "2.0", "method": "echo", "params": [1,2,3,4,5]}`, ``},
	{"notification without params", `{"jsonrpc": "2.0", "method": "ping"}`, ``},
	{"non-existent method", `{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`,
		`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"1"}`},
	{"invalid JSON", `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
		`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":39,"reason":"invalid character 'p' after object key:value pair"}},"id":null}`},
	{"invalid Request object", `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"params must be an array or an object"},"id":null}`},
	{"batch, invalid JSON", `[
  {"jsonrpc": "2.0", "method": "add", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`, `{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":101,"reason":"invalid character ']' after object key"}},"id":null}`},
	{"empty array", `[]`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"batch is empty"},"id":null}`},
	{"invalid batch, not empty", `[1]`,
		`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request must be an object"},"id":null}]`},
	{"invalid batch", `[1,2,3]`,
		`[{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request must be an object"},"id":null},` +
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request must be an object"},"id":null},` +
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request must be an object"},"id":null}]`},
	{"batch", `[
        {"jsonrpc": "2.0", "method": "add", "params": [1,2], "id": "1"},
        {"jsonrpc": "2.0", "method": "ping", "params": [7]},
        {"jsonrpc": "2.0", "method": "add", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "echo", "params": ["data"], "id": "9"}
    ]`, `[{"jsonrpc":"2.0","result":3,"id":"1"},` +
		`{"jsonrpc":"2.0","result":65,"id":"2"},` +
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"method is missing"},"id":null},` +
		`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":"5"},` +
		`{"jsonrpc":"2.0","result":"data","id":"9"}]`},
	{"batch of notifications", `[
        {"jsonrpc": "2.0", "method": "ping", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "echo", "params": [7]}
    ]`, ``},

	// Beyond the specification's examples.
	{"ping", `{"jsonrpc":"2.0","method":"ping","id":0}`, `{"jsonrpc":"2.0","result":"pong","id":0}`},
	{"null id is a call", `{"jsonrpc":"2.0","method":"ping","id":null}`, `{"jsonrpc":"2.0","result":"pong","id":null}`},
	{"string id with escapes", `{"jsonrpc":"2.0","method":"ping","id":"a\"b\\c\u00e9\ud83d\ude00"}`,
		`{"jsonrpc":"2.0","result":"pong","id":"a\"b\\c\u00e9\ud83d\ude00"}`},
	{"id 2^64-1", `{"jsonrpc":"2.0","method":"ping","id":18446744073709551615}`,
		`{"jsonrpc":"2.0","result":"pong","id":18446744073709551615}`},
	{"30-digit id", `{"jsonrpc":"2.0","method":"ping","id":123456789012345678901234567890}`,
		`{"jsonrpc":"2.0","result":"pong","id":123456789012345678901234567890}`},
	{"fractional id", `{"jsonrpc":"2.0","method":"ping","id":-1.50e+3}`, `{"jsonrpc":"2.0","result":"pong","id":-1.50e+3}`},
	{"escaped method name", `{"jsonrpc":"2.0","method":"p\u0069ng","id":1}`, `{"jsonrpc":"2.0","result":"pong","id":1}`},
	{"failing notification", `{"jsonrpc":"2.0","method":"fail"}`, ``},
	{"unknown notification", `{"jsonrpc":"2.0","method":"nope","params":{}}`, ``},
	{"method names are case-sensitive", `{"jsonrpc":"2.0","method":"PING","id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}`},
	{"jsonrpc missing", `{"method":"ping","id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":1}`},
	{"jsonrpc not 2.0", `{"jsonrpc":"1.0","method":"ping","id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":1}`},
	{"jsonrpc a number", `{"jsonrpc":2.0,"method":"ping","id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":1}`},
	{"method not a string", `{"jsonrpc":"2.0","method":{},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"method must be a string"},"id":1}`},
	{"scalar params", `{"jsonrpc":"2.0","method":"echo","params":7,"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"params must be an array or an object"},"id":1}`},
	{"object id", `{"jsonrpc":"2.0","method":"ping","id":{"a":1}}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}`},
	{"array id", `{"jsonrpc":"2.0","method":"ping","id":[1]}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}`},
	{"bool id", `{"jsonrpc":"2.0","method":"ping","id":true}`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}`},
	{"echo by position", `{"jsonrpc":"2.0","method":"echo","params":[{"k":[1,"\u00e9"]}],"id":1}`,
		`{"jsonrpc":"2.0","result":{"k":[1,"\u00e9"]},"id":1}`},
	{"echo by name", `{"jsonrpc":"2.0","method":"echo","params":{"message":"hi\n"},"id":1}`,
		`{"jsonrpc":"2.0","result":"hi\n","id":1}`},
	{"echo of null", `{"jsonrpc":"2.0","method":"echo","params":[null],"id":1}`,
		`{"jsonrpc":"2.0","result":null,"id":1}`},
	{"add floats", `{"jsonrpc":"2.0","method":"add","params":[1.5,2.25],"id":1}`,
		`{"jsonrpc":"2.0","result":3.75,"id":1}`},
	{"add large", `{"jsonrpc":"2.0","method":"add","params":{"a":1e300,"b":-1e-7},"id":1}`,
		`{"jsonrpc":"2.0","result":1e+300,"id":1}`},
	{"add wrong type", `{"jsonrpc":"2.0","method":"add","params":["1",2],"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"param \"a\": cannot use string as float64"},"id":1}`},
	{"add too few", `{"jsonrpc":"2.0","method":"add","params":[1],"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"missing param \"b\""},"id":1}`},
	{"add too many", `{"jsonrpc":"2.0","method":"add","params":[1,2,3],"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"too many params: want at most 2, got 3"},"id":1}`},
	{"add missing name", `{"jsonrpc":"2.0","method":"add","params":{"a":1},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"missing param \"b\""},"id":1}`},
	{"add without params", `{"jsonrpc":"2.0","method":"add","id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"missing param \"a\""},"id":1}`},
	{"ping with empty array", `{"jsonrpc":"2.0","method":"fail","params":[],"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":1000,"message":"fail"},"id":1}`},
	{"fail with empty object", `{"jsonrpc":"2.0","method":"fail","params":{},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":1000,"message":"fail"},"id":1}`},
	{"sleep", `{"jsonrpc":"2.0","method":"sleep","params":{"ms":1},"id":1}`, `{"jsonrpc":"2.0","result":null,"id":1}`},
	{"sleep out of range", `{"jsonrpc":"2.0","method":"sleep","params":{"ms":-1},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"ms must be between 0 and 60000"},"id":1}`},
	{"top-level scalar", `"x"`,
		`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"request must be an object"},"id":null}`},
	{"empty body", ``,
		`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error","data":{"offset":0,"reason":"unexpected end of JSON input"}},"id":null}`},
}
