package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
)

// demoServer serves the demo methods with fastserver on an in-memory
// listener and over loopback, and returns a transport for each way in.
func demoServer(t testing.TB) map[string]client.Transport {
	t.Helper()
	e := testserver.Demo(t)
	mem, tcp := testserver.InMemory(t, e), testserver.Loopback(t, e)
	url := "http://" + tcp + fastserver.DefaultPath
	inmem, err := client.NewFastHTTP("http://inmemory"+fastserver.DefaultPath, client.WithDial(func(string) (net.Conn, error) { return mem() }))
	if err != nil {
		t.Fatal(err)
	}
	loop, err := client.NewFastHTTP(url, client.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	// Its spare connections, never used, would hold the server's shutdown
	// for 5 s (see testserver.Serve); cleanups run last-in first.
	t.Cleanup(hc.CloseIdleConnections)
	return map[string]client.Transport{
		"fasthttp/inmemory": inmem,
		"fasthttp/loopback": loop,
		"nethttp/loopback":  mustHTTP(t, url, client.WithHTTPClient(hc)),
	}
}

func TestCalls(t *testing.T) {
	for name, tr := range demoServer(t) {
		t.Run(name, func(t *testing.T) {
			c := client.New(tr)
			ctx := context.Background()
			var sum float64
			if err := c.Call(ctx, "add", []float64{1.5, 2}, &sum); err != nil || sum != 3.5 {
				t.Errorf("add by position: %v %v", sum, err)
			}
			if err := c.Call(ctx, "add", map[string]int{"a": 40, "b": 2}, &sum); err != nil || sum != 42 {
				t.Errorf("add by name: %v %v", sum, err)
			}
			var pong string
			if err := c.Call(ctx, "ping", nil, &pong); err != nil || pong != "pong" {
				t.Errorf("ping: %q %v", pong, err)
			}
			raw := json.RawMessage(`["h\u00e9llo"]`)
			var echoed json.RawMessage
			if err := c.Call(ctx, "echo", &raw, &echoed); err != nil || string(echoed) != `"h\u00e9llo"` {
				t.Errorf("echo raw: %s %v", echoed, err)
			}
			out, err := c.CallRaw(ctx, []byte("prefix:"), "echo", []byte(`{"message":{"k":[1]}}`))
			if err != nil || string(out) != `prefix:{"k":[1]}` {
				t.Errorf("CallRaw: %s %v", out, err)
			}
			if err := c.Call(ctx, "ping", nil, nil); err != nil {
				t.Errorf("discarded result: %v", err)
			}

			// JSON-RPC errors come back as *codec.Error.
			err = c.Call(ctx, "fail", nil, nil)
			var rpcErr *codec.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != 1000 || rpcErr.Message != "fail" {
				t.Errorf("fail: %v", err)
			}
			err = c.Call(ctx, "add", []any{"x", 1}, &sum)
			if !errors.As(err, &rpcErr) || rpcErr.Code != codec.CodeInvalidParams || string(rpcErr.Data) != `"param \"a\": cannot use string as float64"` {
				t.Errorf("invalid params: %v (data %s)", err, rpcErr.Data)
			}
			if err := c.Call(ctx, "nope", nil, nil); !errors.Is(err, codec.ErrMethodNotFound) {
				t.Errorf("unknown method: %v", err)
			}
			// Params that are no array or object are refused before sending.
			if err := c.Call(ctx, "echo", 7, nil); !errors.Is(err, client.ErrInvalidParams) {
				t.Errorf("scalar params: %v", err)
			}
			if err := c.Notify(ctx, "add", []int{1, 2}); err != nil {
				t.Errorf("notify: %v", err)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	for name, tr := range demoServer(t) {
		t.Run(name, func(t *testing.T) {
			c := client.New(tr)
			b := c.NewBatch()
			var s1, s2 float64
			var pong string
			add1 := b.Call("add", []int{1, 2}, &s1)
			b.Notify("ping", nil)
			fail := b.Call("fail", nil, nil)
			add2 := b.Call("add", map[string]float64{"a": 0.5, "b": 0.25}, &s2)
			ping := b.Call("ping", nil, &pong)
			if err := b.Send(context.Background()); err != nil {
				t.Fatal(err)
			}
			if add1.Err != nil || s1 != 3 || add2.Err != nil || s2 != 0.75 || ping.Err != nil || pong != "pong" {
				t.Errorf("results: %v %v %v %v %v %q", add1.Err, s1, add2.Err, s2, ping.Err, pong)
			}
			if !errors.Is(fail.Err, &codec.Error{Code: 1000}) {
				t.Errorf("fail in batch: %v", fail.Err)
			}
			// Notifications only: the server owes nothing (204).
			nb := c.NewBatch()
			nb.Notify("ping", nil)
			nb.Notify("add", []int{1, 1})
			if err := nb.Send(context.Background()); err != nil {
				t.Errorf("notifications-only batch: %v", err)
			}
		})
	}
}

func TestGoManyInFlight(t *testing.T) {
	for name, tr := range demoServer(t) {
		t.Run(name, func(t *testing.T) {
			c := client.New(tr)
			results := make([]float64, 50)
			pending := make([]*client.Pending, len(results))
			for i := range pending {
				pending[i] = c.Go(context.Background(), "add", []int{i, i}, &results[i])
			}
			for i, p := range pending {
				<-p.Done
				if p.Err != nil || results[i] != float64(2*i) {
					t.Errorf("call %d: %v %v", i, results[i], p.Err)
				}
			}
			// Wait and a select on Done both work.
			p := c.Go(context.Background(), "sleep", map[string]int{"ms": 1}, nil)
			select {
			case <-p.Done:
			case <-time.After(5 * time.Second):
				t.Fatal("Go did not complete")
			}
			if err := p.Wait(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSharedClient has many goroutines share one client, each checking
// that its own unique params come back: ids and buffers never mix.
func TestSharedClient(t *testing.T) {
	for name, tr := range demoServer(t) {
		t.Run(name, func(t *testing.T) {
			c := client.New(tr)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						msg := strings.Repeat(strconv.Itoa(g), 1+i) + "/" + strconv.Itoa(i)
						var got string
						if err := c.Call(context.Background(), "echo", []string{msg}, &got); err != nil || got != msg {
							t.Errorf("goroutine %d call %d: %q %v", g, i, got, err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

func TestCancellationAndTimeouts(t *testing.T) {
	for name, tr := range demoServer(t) {
		t.Run(name, func(t *testing.T) {
			c := client.New(tr)
			ctx, cancel := context.WithCancel(context.Background())
			go func() { time.Sleep(50 * time.Millisecond); cancel() }()
			start := time.Now()
			err := c.Call(ctx, "sleep", map[string]int{"ms": 5000}, nil)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled call: %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("cancelled call returned after %v", d)
			}
			ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start = time.Now()
			if err := c.Call(ctx, "sleep", map[string]int{"ms": 5000}, nil); err == nil {
				t.Error("call past its deadline succeeded")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("timed-out call returned after %v", d)
			}
			// An already-cancelled context sends nothing.
			done, cancelDone := context.WithCancel(context.Background())
			cancelDone()
			if err := c.Call(done, "ping", nil, nil); !errors.Is(err, context.Canceled) {
				t.Errorf("call with a done context: %v", err)
			}
		})
	}
}

// quirkyServer answers like servers seen in the wild: batches reversed,
// string ids, extra whitespace, 200 with an empty body for notifications,
// and slow answers.
func quirkyServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var batch []map[string]json.RawMessage
		single := false
		if err := json.Unmarshal(body, &batch); err != nil {
			var one map[string]json.RawMessage
			if err := json.Unmarshal(body, &one); err != nil {
				http.Error(w, "bad", http.StatusBadRequest)
				return
			}
			batch, single = []map[string]json.RawMessage{one}, true
		}
		var answers []string
		for i := len(batch) - 1; i >= 0; i-- { // reversed
			req := batch[i]
			id, ok := req["id"]
			if !ok {
				continue
			}
			var method string
			json.Unmarshal(req["method"], &method)
			if method == "slow" {
				time.Sleep(300 * time.Millisecond)
			}
			strID := `"` + strings.Trim(string(id), `"`) + `"`
			if method == "broken" {
				answers = append(answers, `{"jsonrpc":"2.0","error":{"code":"x"},"id":`+strID+`}`)
				continue
			}
			answers = append(answers, "\n  { \"id\" : "+strID+" ,\t\"result\" : { \"method\" : \""+method+"\" } , \"jsonrpc\" : \"2.0\" }  ")
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case len(answers) == 0:
			// 200 with an empty body for notifications
		case single:
			io.WriteString(w, answers[0])
		default:
			io.WriteString(w, " [ "+strings.Join(answers, " , ")+" ] ")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestQuirkyServer(t *testing.T) {
	url := quirkyServer(t)
	fast, err := client.NewFastHTTP(url, client.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for name, tr := range map[string]client.Transport{"fasthttp": fast, "nethttp": mustHTTP(t, url)} {
		t.Run(name, func(t *testing.T) {
			c := client.New(tr)
			ctx := context.Background()
			var res struct{ Method string }
			if err := c.Call(ctx, "one", nil, &res); err != nil || res.Method != "one" {
				t.Errorf("string id, whitespace: %+v %v", res, err)
			}
			if err := c.Notify(ctx, "note", nil); err != nil {
				t.Errorf("200 with an empty body for a notification: %v", err)
			}
			b := c.NewBatch()
			var r1, r2, r3 struct{ Method string }
			c1, c2, c3 := b.Call("a", nil, &r1), b.Call("slow", nil, &r2), b.Call("c", nil, &r3)
			b.Notify("n", nil)
			if err := b.Send(ctx); err != nil {
				t.Fatal(err)
			}
			if c1.Err != nil || c2.Err != nil || c3.Err != nil || r1.Method != "a" || r2.Method != "slow" || r3.Method != "c" {
				t.Errorf("reversed batch: %v %v %v %+v %+v %+v", c1.Err, c2.Err, c3.Err, r1, r2, r3)
			}
			nb := c.NewBatch()
			nb.Notify("x", nil)
			if err := nb.Send(ctx); err != nil {
				t.Errorf("notifications-only batch, empty 200: %v", err)
			}
			if err := c.Call(ctx, "broken", nil, nil); !errors.Is(err, client.ErrInvalidAnswer) {
				t.Errorf("malformed error object: %v", err)
			}
			tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if err := c.Call(tctx, "slow", nil, nil); err == nil {
				t.Error("slow answer past the deadline succeeded")
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/json-rpc"
	ln.Close() // nothing listens there any more
	fast, _ := client.NewFastHTTP(url, client.WithTimeout(time.Second))
	for name, tr := range map[string]client.Transport{"fasthttp": fast, "nethttp": mustHTTP(t, url)} {
		err := client.New(tr).Call(context.Background(), "ping", nil, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "client: transport: ") {
			t.Errorf("%s: connection refused gave %v", name, err)
		}
	}
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"jsonrpc":"2.0","result":"ok","id":1}`)
	}))
	defer status.Close()
	fast, _ = client.NewFastHTTP(status.URL)
	err = client.New(fast).Call(context.Background(), "ping", nil, nil)
	var httpErr *client.HTTPError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != 401 || !strings.Contains(httpErr.Body, "who are you") {
		t.Errorf("401: %v", err)
	}
	authed, _ := client.NewFastHTTP(status.URL, client.WithHeader("Authorization", "Bearer s3cret"))
	var ok string
	if err := client.New(authed).Call(context.Background(), "ping", nil, &ok); err != nil || ok != "ok" {
		t.Errorf("header per client (fasthttp): %q %v", ok, err)
	}
	nh := mustHTTP(t, status.URL, client.WithHeader("Authorization", "Bearer s3cret"))
	if err := client.New(nh).Call(context.Background(), "ping", nil, &ok); err != nil || ok != "ok" {
		t.Errorf("header per client (net/http): %q %v", ok, err)
	}
	for _, bad := range []string{"ftp://x", "127.0.0.1:8080/json-rpc", "://"} {
		if _, err := client.NewFastHTTP(bad); err == nil {
			t.Errorf("NewFastHTTP(%q) accepted", bad)
		}
		if _, err := client.NewHTTP(bad); err == nil {
			t.Errorf("NewHTTP(%q) accepted", bad)
		}
		if _, err := client.Dial(bad); err == nil {
			t.Errorf("Dial(%q) accepted", bad)
		}
	}
}

func TestTransportFunc(t *testing.T) {
	// A transport in a few lines: answer every call with its own id.
	tr := client.TransportFunc(func(_ context.Context, dst, req []byte) ([]byte, error) {
		var r struct{ ID json.RawMessage }
		json.Unmarshal(req, &r)
		return append(dst, `{"jsonrpc":"2.0","result":`+string(r.ID)+`,"id":`+string(r.ID)+`}`...), nil
	})
	c := client.New(tr)
	var first, second int
	c.Call(context.Background(), "x", nil, &first)
	c.Call(context.Background(), "x", nil, &second)
	if second != first+1 {
		t.Errorf("ids %d then %d, want consecutive", first, second)
	}
}

// TestCallerParamsUntouched pins that raw params stay the caller's: the
// client never keeps them in a pooled buffer that a later call writes into.
func TestCallerParamsUntouched(t *testing.T) {
	tr := demoServer(t)["fasthttp/inmemory"]
	c := client.New(tr)
	params := append(make(json.RawMessage, 0, 256), `[1,2]`...)
	var sum float64
	for range 20 {
		if err := c.Call(context.Background(), "add", &params, &sum); err != nil || sum != 3 {
			t.Fatalf("raw add: %v %v", sum, err)
		}
		if err := c.Call(context.Background(), "echo", map[string]string{"message": strings.Repeat("z", 100)}, nil); err != nil {
			t.Fatal(err)
		}
		if string(params) != `[1,2]` || string(params[:cap(params)][5:10]) != "\x00\x00\x00\x00\x00" {
			t.Fatalf("the caller's params changed: %q", params[:cap(params)][:20])
		}
	}
}

// TestInvalidUTF8 refuses invalid UTF-8 both ways: params holding it are
// not sent, and an answer holding it (which strict parsers reject whole)
// is an invalid answer, not a result.
func TestInvalidUTF8(t *testing.T) {
	sent := 0
	c := client.New(client.TransportFunc(func(_ context.Context, dst, _ []byte) ([]byte, error) {
		sent++
		return append(dst, "{\"jsonrpc\":\"2.0\",\"result\":\"\xff\",\"id\":1}"...), nil
	}))
	ctx := context.Background()
	if err := c.Call(ctx, "echo", json.RawMessage("[\"\xfe\"]"), nil); !errors.Is(err, client.ErrInvalidParams) || sent != 0 {
		t.Errorf("raw params with invalid UTF-8: %v, %d sent", err, sent)
	}
	var raw json.RawMessage
	if err := c.Call(ctx, "echo", nil, &raw); !errors.Is(err, client.ErrInvalidAnswer) || raw != nil {
		t.Errorf("an answer with invalid UTF-8: %v, result %q", err, raw)
	}
}

// mustHTTP returns a net/http transport for url.
func mustHTTP(t testing.TB, url string, opts ...client.Option) *client.HTTP {
	t.Helper()
	tr, err := client.NewHTTP(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
