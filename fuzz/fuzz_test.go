package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/memconn"
	"github.com/jetrpc/jetrpc/internal/spectest"
	"github.com/valyala/fasthttp"
)

// requestSeeds are the committed seed corpus of the request-side targets:
// the specification's examples and the nasty cases.
func requestSeeds() []string {
	seeds := []string{
		`{"jsonrpc":"2.0","method":"echo","params":["a\u0000\ud800\"\\"],"id":"\ud83d\ude00"}`,
		`{"jsonrpc":"2.0","method":"add","params":{"a":1e400,"b":-0},"id":-0.0e-0}`,
		`{"jsonrpc":"2.0","method":"e\u0063ho","params":{"message":{"x":[[[]]]}},"id":18446744073709551616}`,
		`[{"jsonrpc":"2.0","method":"ping"},{"jsonrpc":"2.0","method":"ping","id":null},7,[],{}]`,
		`{"jsonrpc":"2.0","method":"ping","id":1,"id":{"a":1}}`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"ok \xff\"],\"id\":\"\xfe\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"message\":\"日本\xe8\xaa\"},\"id\":1}",
		"\"\xed\xa0\x80\"", "[\"\x00\"]", `{"a":"\x"}`, `[1,]`, `{"jsonrpc":"2.0","method":"ping","id":1`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		`{"jsonrpc":"2.0","method":"add","params":[` + strings.Repeat("9", 400) + `,1],"id":1}`,
		`{"jsonrpc":"2.0","method":"echo","params":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `,"id":1}`,
		// The batch fast paths: known keys read by one word, the method
		// remembered from item to item, small structs' names compared in turn.
		`[{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":2},"id":1},{"jsonrpc":"2.0","method":"add","params":{"A":1,"b":2,"a":3},"id":2},` +
			`{"jsonrpc":"2.0","method":"nope","id":3},{"jsonrpc":"2.0","method":"add","params":[1],"id":4},{"jsonrpc":"2.0","method":"ad","id":5}]`,
		`{"jsonrpcx":"2.0","jsonrpc" :"2.0","method":"add","params":{"\u0061":1,"b":2.5e0},"id":1}`,
		`{"id":1,"params":[123456789012345678,-0.5],"method":"add","jsonrpc":"2.0"}`,
		// Flat params (strings and numbers, scanned without the container
		// stack) and where the generic scanner takes over from them.
		`[{"jsonrpc":"2.0","method":"add","params":[ 1 , 2 ],"id":1},{"jsonrpc":"2.0","method":"add","params":{ "a" : 1 , "b" : "2" },"id":2}]`,
		`{"jsonrpc":"2.0","method":"add","params":[1,[2],{"a":true}],"id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":{"a":1,"b":null},"id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":[1,],"id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":{"a":1,"b"},"id":1}`,
		`{"jsonrpc":"2.0","method":"add","params":[1}` + `,"id":1}`,
		// A long first string, whose end the parse records for the decoder.
		`[{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat(`ab\"c`, 20) + `"],"id":1},` +
			`{"jsonrpc":"2.0","method":"echo","params":{"message":"` + strings.Repeat("é", 40) + `","x":1},"id":2},` +
			`{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 70) + `",[1]],"params":["` + strings.Repeat("y", 70) + `"],"id":3}]`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[\"\xff\",1],\"id\":1}",
		// The usual layout read by fixed comparisons, and where the loop
		// over members takes over; integer params read in one pass, and
		// what they leave to the general decoder (-0, 16 digits, fractions).
		`[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"add","params":[ -0 , 5 ],"id":"x"},` +
			`{"jsonrpc":"2.0","method":"add","params":[1234567890123456,1],"id":2},{"jsonrpc":"2.0","method":"add","params":[1.5,2e3]}]`,
		`{"jsonrpc":"2.0","method":"a\u0064d","params":[1,2],"id":1,"method":"add","params":[-0,-0]}`,
		`{"jsonrpc":"2.0","method":"add","params":[123456789012345,-123456789012345],"id":1,"jsonrpc":"1.0"}`,
		`[{"jsonrpc": "2.0", "method": "add", "params": {"a": 1, "b": 2}, "id": 1}, {"jsonrpc": "2.0", "method": "add", "params": [3, -4], "id": "x"}, ` +
			`{"jsonrpc": "2.0", "method": "ping"}, {"jsonrpc": "2.0", "method": "p\u0069ng", "id": 2}]`,
	}
	for _, c := range spectest.Cases {
		seeds = append(seeds, c.In)
	}
	return seeds
}

// FuzzParse checks the codec against a strict reference, encoding/json's
// grammar in UTF-8 (RFC 8259 §8.1): the same documents are valid, and the
// members extracted are what encoding/json decodes.
func FuzzParse(f *testing.F) {
	for _, s := range requestSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b := codec.AcquireBatch()
		defer codec.ReleaseBatch(b)
		err := b.Parse(in)
		if valid := json.Valid(in) && utf8.Valid(in); valid != (err == nil) {
			t.Fatalf("Parse(%q) error = %v, the strict reference says valid = %v", in, err, valid)
		}
		if err != nil {
			return
		}
		items := []json.RawMessage{json.RawMessage(bytes.TrimSpace(in))}
		if b.IsArray {
			items = nil // a fresh slice: Unmarshal would write into the one aliasing in
			if err := json.Unmarshal(in, &items); err != nil {
				t.Fatal(err)
			}
			if len(items) == 0 {
				if len(b.Requests) != 1 || b.Requests[0].Invalid != codec.InvalidEmptyBatch {
					t.Fatalf("empty batch parsed as %+v", b.Requests)
				}
				return
			}
		}
		if len(items) != len(b.Requests) {
			t.Fatalf("%d items, encoding/json sees %d", len(b.Requests), len(items))
		}
		for i, item := range items {
			r := &b.Requests[i]
			var m map[string]json.RawMessage
			if json.Unmarshal(item, &m) != nil {
				if r.Invalid != codec.InvalidNotObject {
					t.Fatalf("item %s: Invalid = %q, want %q", item, r.Invalid, codec.InvalidNotObject)
				}
				continue
			}
			if id, ok := m["id"]; ok && r.ID != nil && !bytes.Equal(r.ID, id) {
				t.Fatalf("item %s: id %s, encoding/json %s", item, r.ID, id)
			}
			if _, ok := m["id"]; !ok && r.ID != nil {
				t.Fatalf("item %s: id %s without an id member", item, r.ID)
			}
			var method string
			if raw, ok := m["method"]; ok && json.Unmarshal(raw, &method) == nil && string(r.Method) != method {
				t.Fatalf("item %s: method %q, encoding/json %q", item, r.Method, method)
			}
			if raw, ok := m["params"]; ok && (raw[0] == '[' || raw[0] == '{') && !bytes.Equal(r.Params, raw) {
				t.Fatalf("item %s: params %s, encoding/json %s", item, r.Params, raw)
			}
			// What the parse recorded about the params (the end of a long
			// first string) must read them as a fresh scan does.
			scanned := codec.Iterate(r.Params)
			var recorded codec.Iter
			recorded.ResetParams(r)
			for {
				more := scanned.Next()
				if recorded.Next() != more || !bytes.Equal(recorded.Key(), scanned.Key()) || !bytes.Equal(recorded.Value(), scanned.Value()) {
					t.Fatalf("item %s: params read from the parse %q:%q, scanned %q:%q", item, recorded.Key(), recorded.Value(), scanned.Key(), scanned.Value())
				}
				if !more {
					break
				}
			}
		}
	})
}

// FuzzHandle checks every answer of Engine.Handle: strict JSON in valid
// UTF-8, made of Response objects, one for exactly each call that is not a notification,
// in order, with its id byte for byte. On every input that parses, a
// second Handle through an engine of raw handlers allocates nothing.
func FuzzHandle(f *testing.F) {
	for _, s := range requestSeeds() {
		f.Add([]byte(s))
	}
	e := newEngine(f)
	guard := engine.New()
	mustDo(f, guard.RegisterRaw("ping", func(c *engine.Call) error { return c.ResultString("pong") }))
	mustDo(f, guard.RegisterRaw("echo", func(c *engine.Call) error { return c.ResultRaw(c.Params()) }))
	var buf []byte
	f.Fuzz(func(t *testing.T, in []byte) {
		out := e.Append(context.Background(), nil, in)
		checkAnswer(t, in, out)
		b := codec.AcquireBatch()
		defer codec.ReleaseBatch(b)
		// Batches over the engine's limit are refused with a formatted
		// message (an error path that allocates by design).
		if raceEnabled || b.Parse(in) != nil || b.Items > engine.DefaultMaxBatchItems {
			return
		}
		if allocs := testing.AllocsPerRun(3, func() { buf = guard.Append(context.Background(), buf[:0], in) }); allocs != 0 {
			t.Fatalf("Handle(%q) allocates %v times in steady state", in, allocs)
		}
	})
}

// engineLimits are the limits an engine applies by default.
var engineLimits = codec.Limits{
	MaxItems:        engine.DefaultMaxBatchItems,
	MaxMethodLength: engine.DefaultMaxMethodNameLength,
	MaxParamsDepth:  engine.DefaultMaxParamsDepth,
}

// checkAnswer checks out, the engine's answer to in.
func checkAnswer(t *testing.T, in, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("answer to %q is not valid UTF-8: %q", in, out)
	}
	b := codec.AcquireBatch()
	defer codec.ReleaseBatch(b)
	b.Limits = engineLimits
	if b.Parse(in) != nil {
		var resp struct{ Error struct{ Code int } }
		if json.Unmarshal(out, &resp) != nil || resp.Error.Code != -32700 {
			t.Fatalf("answer to invalid JSON %q: %s", in, out)
		}
		return
	}
	if b.Items > len(b.Requests) && b.Items > 1 { // over the batch limit: one error
		var resp struct{ Error struct{ Code int } }
		if json.Unmarshal(out, &resp) != nil || resp.Error.Code != -32600 {
			t.Fatalf("answer to a batch over the limit: %.200s", out)
		}
		return
	}
	var wantIDs [][]byte
	var calls []*codec.Request
	for k := range b.Requests {
		r := &b.Requests[k]
		if r.IsNotification() {
			continue
		}
		id := r.ID
		if id == nil {
			id = []byte("null")
		}
		wantIDs = append(wantIDs, id)
		calls = append(calls, r)
	}
	if len(wantIDs) == 0 {
		if len(out) != 0 {
			t.Fatalf("answer %s to notifications only %q", out, in)
		}
		return
	}
	if !json.Valid(out) {
		t.Fatalf("answer is not valid JSON: %q", out)
	}
	answers := []json.RawMessage{out}
	if b.IsArray && b.Requests[0].Invalid != codec.InvalidEmptyBatch {
		if err := json.Unmarshal(out, &answers); err != nil {
			t.Fatalf("batch answer is not an array: %s", out)
		}
	}
	if len(answers) != len(wantIDs) {
		t.Fatalf("%d answers for %d calls: in %q, out %s", len(answers), len(wantIDs), in, out)
	}
	for i, a := range answers {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(a, &m); err != nil {
			t.Fatalf("answer %s is not an object", a)
		}
		_, hasResult := m["result"]
		_, hasError := m["error"]
		if string(m["jsonrpc"]) != `"2.0"` || hasResult == hasError || len(m) != 3 {
			t.Fatalf("answer %s is not a Response object", a)
		}
		if !bytes.Equal(m["id"], wantIDs[i]) {
			t.Fatalf("answer %d has id %s, the call had %s", i, m["id"], wantIDs[i])
		}
		checkSum(t, calls[i], m["result"])
	}
}

// checkSum holds the answer of a call to add with positional params to
// encoding/json: when it decodes them as two numbers whose sum is finite,
// the result is that sum, bit for bit (the sign of zero included).
func checkSum(t *testing.T, r *codec.Request, result json.RawMessage) {
	t.Helper()
	var nums []float64
	if string(r.Method) != "add" || r.Invalid != "" || len(r.Params) == 0 || r.Params[0] != '[' ||
		json.Unmarshal(r.Params, &nums) != nil || len(nums) != 2 || math.IsInf(nums[0]+nums[1], 0) {
		return
	}
	var got float64
	if err := json.Unmarshal(result, &got); err != nil || math.Float64bits(got) != math.Float64bits(nums[0]+nums[1]) {
		t.Fatalf("add%s answered %s, want %v", r.Params, result, nums[0]+nums[1])
	}
}

// FuzzHTTP feeds raw bytes to the fasthttp transport: it never panics,
// and whatever it writes back is well-formed HTTP with bodies in UTF-8.
func FuzzHTTP(f *testing.F) {
	for _, s := range requestSeeds() {
		f.Add(memconn.PostRequest(fastserver.DefaultPath, s))
	}
	f.Add([]byte("GET /json-rpc HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n"))
	f.Add([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{}"))
	f.Add([]byte("POST /json-rpc HTTP/1.1\r\nContent-Length: -1\r\n\r\n"))
	f.Add([]byte("\x00\x01garbage\r\n\r\n"))
	f.Add([]byte("POST /json-rpc HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}"))
	f.Add([]byte("POST /json-rpc HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n"))
	f.Add([]byte("POST /json-rpc?" + strings.Repeat("q", 5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
	// Through ServeConn, as the server serves every connection it accepts
	// (its read-buffer observer included), with a small header buffer.
	srv := fastserver.New(newEngine(f), fastserver.Config{MaxBodySize: 64 << 10, MaxHeaderBytes: 4096, LingerTimeout: -1})
	f.Fuzz(func(t *testing.T, in []byte) {
		conn := &memconn.Conn{}
		conn.In.Write(in)
		_ = srv.ServeConn(conn) // an error just closes the connection
		br := bufio.NewReader(&conn.Out)
		for n := 0; br.Buffered() > 0 || conn.Out.Len() > 0; n++ {
			var resp fasthttp.Response
			if bytes.Contains(bytes.ToUpper(in), []byte("HEAD")) {
				resp.SkipBody = true
			}
			if err := resp.Read(br); err != nil {
				t.Fatalf("answer %d to %q is not well-formed HTTP: %v\n%q", n, in, err, conn.Out.Bytes())
			}
			if !utf8.Valid(resp.Body()) {
				t.Fatalf("answer %d to %q is not valid UTF-8: %q", n, in, resp.Body())
			}
			if resp.SkipBody {
				return // what follows a HEAD answer cannot be framed from outside
			}
		}
	})
}

// FuzzClientAnswer gives the client's answer parser any server answer:
// calls and batches fail cleanly, never panic.
func FuzzClientAnswer(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","result":{"a":1},"id":1}`,
		`[{"jsonrpc":"2.0","result":1,"id":"2"},{"jsonrpc":"2.0","error":{"code":1,"message":"m","data":[1]},"id":1}]`,
		`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`,
		`{"result":7,"error":null,"id":1}`, `{"id":1}`, `[]`, `[1,"x",null]`, ``, `{`, `{"error":{"code":"x"},"id":1}`,
		`{"jsonrpc":"2.0","result":"\ud800","id":18446744073709551616}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		tr := client.TransportFunc(func(_ context.Context, dst, _ []byte) ([]byte, error) {
			return append(dst, answer...), nil
		})
		c := client.New(tr)
		ctx := context.Background()
		var raw json.RawMessage
		_ = c.Call(ctx, "m", nil, &raw)
		var typed struct {
			A int
			B []string
		}
		_ = c.Call(ctx, "m", []int{1}, &typed)
		_, _ = c.CallRaw(ctx, nil, "m", nil)
		b := c.NewBatch()
		b.Call("a", nil, &raw)
		b.Call("b", nil, &typed)
		b.Notify("c", nil)
		_ = b.Send(ctx)
	})
}
