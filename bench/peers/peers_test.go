package peers_test

import (
	"net"
	"testing"

	"github.com/jetrpc/jetrpc/bench/peers"
	"github.com/valyala/fasthttp/fasthttputil"
)

// serve starts s for case c on an in-memory listener and returns a
// client of it.
func serve(tb testing.TB, s peers.Server, c peers.Case) *peers.Client {
	tb.Helper()
	ln := fasthttputil.NewInmemoryListener()
	return serveOn(tb, s, c, ln, ln.Dial)
}

// serveLoopback is serve on 127.0.0.1, for the tests of what the servers
// answer: over the in-memory listener, net/http now and then ends the
// request context of a keep-alive connection's next request (the pipe's
// read deadline is not what it expects), and go-ethereum then answers a
// batch with an empty body (about 6 % of runs; none in 150 over TCP).
func serveLoopback(tb testing.TB, s peers.Server, c peers.Case) *peers.Client {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return serveOn(tb, s, c, ln, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
}

func serveOn(tb testing.TB, s peers.Server, c peers.Case, ln net.Listener, dial func() (net.Conn, error)) *peers.Client {
	tb.Helper()
	stop, err := s.Start(ln, c)
	if err != nil {
		tb.Fatal(err)
	}
	client := peers.NewClient(s, dial)
	tb.Cleanup(func() { client.Close(); stop() })
	return client
}

// TestServersAnswer: every server answers every case it serves right,
// so that the benchmarks below compare the same work.
func TestServersAnswer(t *testing.T) {
	for _, s := range peers.Servers {
		for _, c := range peers.Cases {
			body := s.Body(c)
			if body == nil {
				continue
			}
			t.Run(s.Name+"/"+string(c), func(t *testing.T) {
				client := serveLoopback(t, s, c)
				for range 3 { // the connection is reused
					answer, err := client.RoundTrip(body)
					if err != nil {
						t.Fatal(err)
					}
					if err := peers.CheckAnswer(c, answer); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// TestNoBatches: the servers whose Body leaves the batch out indeed cannot
// answer one, so the tables' "n/a" is the library's, not ours.
func TestNoBatches(t *testing.T) {
	for _, s := range peers.Servers {
		if s.Body(peers.Batch) != nil {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			batch := []byte("[" + string(s.Body(peers.Add)) + "," + string(s.Body(peers.Add)) + "]")
			if s.Stream {
				batch = append(batch, '\n')
			}
			client := serve(t, s, peers.Batch)
			answer, err := client.RoundTrip(batch)
			if err == nil && peers.CheckAnswer(peers.Batch, answer) == nil {
				t.Fatalf("answered a batch: %s", answer)
			}
			t.Logf("batch: %v %.200s", err, answer)
		})
	}
}

// BenchmarkServers measures one request at a time through each server on
// an in-memory connection, with the same fasthttp client for every HTTP
// server: ns/op is the round trip, B/op and allocs/op are the server's
// (the client allocates nothing).
func BenchmarkServers(b *testing.B) {
	for _, c := range peers.Cases {
		for _, s := range peers.Servers {
			body := s.Body(c)
			if body == nil {
				continue
			}
			b.Run(string(c)+"/"+s.Name, func(b *testing.B) {
				client := serve(b, s, c)
				answer, err := client.RoundTrip(body)
				if err != nil {
					b.Fatal(err)
				}
				if err := peers.CheckAnswer(c, answer); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := client.RoundTrip(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
