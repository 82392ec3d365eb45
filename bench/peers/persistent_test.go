package peers_test

import (
	"context"
	"net"
	"testing"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/bench/peers"
)

// TestPersistentServersAnswer: `jetrpc bench`'s load path, pipelined,
// gets right answers from every persistent server for every case it
// serves, so that the loopback table compares the same work.
func TestPersistentServersAnswer(t *testing.T) {
	for _, s := range peers.PersistentServers {
		for _, c := range peers.Cases {
			method, params, batch, ok := s.Call(c)
			if !ok {
				continue
			}
			t.Run(s.Name+"/"+s.Transport+"/"+string(c), func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				stop, err := s.Start(ln)
				if err != nil {
					t.Fatal(err)
				}
				defer stop()
				var raw []byte
				if params != "" {
					raw = []byte(params)
				}
				l := bench.Load{URL: s.URL(ln.Addr().String()), Concurrency: 2, Pipeline: 8, N: 200,
					Requests: []bench.Template{bench.Call(method, raw, batch)}}
				rep, err := l.Run(context.Background())
				if err != nil || rep.Errors != 0 || rep.Requests != 200 {
					t.Fatalf("%+v %v", rep, err)
				}
			})
		}
	}
}
