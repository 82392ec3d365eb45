package fuzz

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/testserver"
	"github.com/valyala/bytebufferpool"
)

// Pieces of JSON string contents: escapes, raw UTF-8 and plain text, so
// that messages of every length exercise every path of the scanner.
var stringPieces = []string{`a`, `bcdefgh`, `\"`, `\\`, `\/`, `\n`, `\u00e9`, `\ud83d\ude00`, `é`, `😀`, `\u0000`, ` `, `0123456789abcdef`}

func randomString(rng *rand.Rand, maxPieces int) string {
	var b bytes.Buffer
	for range rng.IntN(maxPieces + 1) {
		b.WriteString(stringPieces[rng.IntN(len(stringPieces))])
	}
	return b.String()
}

// call is one request of a stress batch and the answer it must get.
type call struct{ req, want string }

// randomCall makes a call whose params and id are unique to (g, i, k).
func randomCall(rng *rand.Rand, g, i, k int) call {
	tag := strconv.Itoa(g) + "-" + strconv.Itoa(i) + "-" + strconv.Itoa(k)
	id := `"` + randomString(rng, 3) + tag + `"`
	if rng.IntN(3) == 0 {
		id = strconv.Itoa(g*1_000_000 + i*100 + k)
	}
	switch rng.IntN(4) {
	case 0: // add of unique integers: the answer is their exact sum
		a, b := rng.IntN(1<<40), g*100_000+i
		return call{
			`{"jsonrpc":"2.0","method":"add","params":[` + strconv.Itoa(a) + `,` + strconv.Itoa(b) + `],"id":` + id + `}`,
			`{"jsonrpc":"2.0","result":` + strconv.Itoa(a+b) + `,"id":` + id + `}`,
		}
	case 1: // a notification: no answer
		return call{`{"jsonrpc":"2.0","method":"echo","params":["` + tag + `"]}`, ""}
	}
	pieces := 200
	if rng.IntN(32) == 0 {
		pieces = 4000 // ~20 KiB: answers past 16 KiB go out as counted streams whose buffers are recycled
	}
	msg := `"` + randomString(rng, pieces) + tag + `"`
	return call{
		`{"jsonrpc":"2.0","method":"echo","params":{"message":` + msg + `},"id":` + id + `}`,
		`{"jsonrpc":"2.0","result":` + msg + `,"id":` + id + `}`,
	}
}

// TestStressNoCrossTalk has many goroutines, over many connections, send
// calls whose params and ids are unique per call, singly and in batches,
// and checks every answer byte for byte against its own request: any
// sharing of pooled memory between calls fails it. Bounded in calls and
// time; run under -race by `make test` and with GOGC=1 by `make stress`.
func TestStressNoCrossTalk(t *testing.T) {
	const goroutines, perGoroutine, budget = 16, 2000, 8 * time.Second
	e := newEngine(t)
	mem, tcp := testserver.InMemory(t, e), testserver.Loopback(t, e)
	deadline := time.Now().Add(budget)
	var calls, requests atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		// Each goroutine has its own transport, so its own connections.
		url := "http://" + tcp + fastserver.DefaultPath
		opts := []client.Option{client.WithTimeout(10 * time.Second)}
		if g%2 == 0 {
			opts = append(opts, client.WithDial(func(string) (net.Conn, error) { return mem() }))
		}
		tr, err := client.NewFastHTTP(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			resp := bytebufferpool.Get()
			defer bytebufferpool.Put(resp)
			for i := 0; i < perGoroutine && time.Now().Before(deadline); i++ {
				n := 1
				if rng.IntN(3) == 0 {
					n = 1 + rng.IntN(8)
				}
				var req, want bytes.Buffer
				var answers []string
				for k := range n {
					c := randomCall(rng, g, i, k)
					if k > 0 {
						req.WriteByte(',')
					}
					req.WriteString(c.req)
					if c.want != "" {
						answers = append(answers, c.want)
					}
				}
				body := req.String()
				if n > 1 {
					body = "[" + body + "]"
					if len(answers) > 0 {
						want.WriteString("[" + strings.Join(answers, ",") + "]")
					}
				} else if len(answers) == 1 {
					want.WriteString(answers[0])
				}
				resp.Reset()
				var err error
				if resp.B, err = tr.RoundTrip(context.Background(), resp.B, []byte(body)); err != nil {
					t.Errorf("goroutine %d request %d: %v", g, i, err)
					return
				}
				if !bytes.Equal(resp.B, want.Bytes()) {
					t.Errorf("goroutine %d request %d: cross-talk or wrong answer\nsent %s\ngot  %s\nwant %s", g, i, body, resp.B, want.Bytes())
					return
				}
				requests.Add(1)
				calls.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	t.Logf("%d requests, %d calls checked byte for byte", requests.Load(), calls.Load())
	if requests.Load() < goroutines*10 {
		t.Errorf("only %d requests ran within %v", requests.Load(), budget)
	}
}
