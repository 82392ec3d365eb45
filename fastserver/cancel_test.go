package fastserver_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/fastserver"
)

// sleepBatch is a batch of n sleeps of ms milliseconds each.
func sleepBatch(n, ms int) string {
	calls := make([]string, n)
	for i := range calls {
		calls[i] = `{"jsonrpc":"2.0","method":"sleep","params":{"ms":` + strconv.Itoa(ms) + `},"id":` + strconv.Itoa(i) + `}`
	}
	return "[" + strings.Join(calls, ",") + "]"
}

// TestDisconnectCancelsCalls: a client that leaves while its batch of
// sleeps runs frees its in-flight slot within a second: the running sleep
// is cancelled and the rest does not start.
func TestDisconnectCancelsCalls(t *testing.T) {
	srv, _, addr := serve(t, fastserver.Config{MaxInFlight: 1})
	url := "http://" + addr + fastserver.DefaultPath
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte(post("/json-rpc", "", sleepBatch(100, 200)))) // 20 s if it all ran
	waitFor(t, "the batch to start", func() bool { return srv.InFlight() == 1 })
	if status, _, _ := postTo(http.DefaultClient, url, pingBody); status != http.StatusServiceUnavailable {
		t.Fatalf("while the batch runs: %d, want 503 (MaxInFlight is 1)", status)
	}
	c.Close()
	left := time.Now()
	waitFor(t, "the slot to be freed", func() bool { return srv.InFlight() == 0 })
	if d := time.Since(left); d > time.Second {
		t.Errorf("the slot was freed %v after the client left", d)
	}
	if status, body, err := postTo(http.DefaultClient, url, pingBody); status != 200 || body != pongAnswer {
		t.Errorf("after the client left: %d %s %v", status, body, err)
	}
}

// TestRequestDeadline: a request's calls have WriteTimeout to end. A batch
// of 1,000 sleeps (100 s) is answered soon after it: the calls that ran
// answer null, the running one and the rest -32001.
func TestRequestDeadline(t *testing.T) {
	_, _, addr := serve(t, fastserver.Config{WriteTimeout: time.Second})
	url := "http://" + addr + fastserver.DefaultPath
	start := time.Now()
	status, body, err := postTo(&http.Client{Timeout: 20 * time.Second}, url, sleepBatch(1000, 100))
	d := time.Since(start)
	if err != nil || status != 200 {
		t.Fatalf("%d %v", status, err)
	}
	var answers []struct {
		Result any
		Error  *struct{ Code int }
		ID     int
	}
	if err := json.Unmarshal([]byte(body), &answers); err != nil || len(answers) != 1000 {
		t.Fatalf("%d answers (%v): %.300s", len(answers), err, body)
	}
	ran, timedOut := 0, 0
	for i, a := range answers {
		switch {
		case a.ID != i:
			t.Fatalf("answer %d has id %d", i, a.ID)
		case a.Error == nil:
			ran++
		case a.Error.Code == -32001:
			timedOut++
		default:
			t.Errorf("answer %d: error %d", i, a.Error.Code)
		}
	}
	if ran == 0 || ran > 15 || ran+timedOut != 1000 {
		t.Errorf("%d calls ran and %d timed out, want about 10 and the rest", ran, timedOut)
	}
	if d > 5*time.Second {
		t.Errorf("answered after %v, WriteTimeout is 1s", d)
	}
	// A single call past the deadline is cancelled while it runs.
	if _, body, _ := postTo(http.DefaultClient, url, `{"jsonrpc":"2.0","method":"sleep","params":{"ms":60000},"id":1}`); body != `{"jsonrpc":"2.0","error":{"code":-32001,"message":"call timed out"},"id":1}` {
		t.Errorf("a call past the deadline: %s", body)
	}
}
