package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/bench/peers"
)

func TestInProcessTable(t *testing.T) {
	in := `goos: linux
BenchmarkServers/ping/bare_fasthttp-2   	  100000	      1000 ns/op	   0.04 MB/s	       0 B/op	       0 allocs/op
BenchmarkServers/ping/bare_fasthttp-2   	  100000	      3000 ns/op	   0.04 MB/s	       0 B/op	       0 allocs/op
BenchmarkServers/ping/bare_fasthttp-2   	  100000	      2000 ns/op	   0.04 MB/s	       0 B/op	       0 allocs/op
BenchmarkServers/ping/go-ethereum/rpc-2 	   20000	     50000 ns/op	   0.01 MB/s	    6168 B/op	     100 allocs/op
BenchmarkServers/ping/go-ethereum/rpc-2 	   20000	     40000 ns/op	   0.01 MB/s	    6170 B/op	     100 allocs/op
BenchmarkServers/batch_10_adds/jetrpc_(net/http)-2 	   20000	     12345 ns/op	    2372 B/op	      27 allocs/op
PASS
`
	table, err := inProcessTable(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"-count 3",
		"| ping | bare fasthttp | 2,000 | 1.00 | 0 | 0 |",
		"| ping | go-ethereum/rpc | 45,000 | 22.50 | 6,169 | 100 |",
		"| ping | jetrpc | n/a | | | |",
		"| batch_10_adds | jetrpc (net/http) | 12,345 |  | 2,372 | 27 |",
		"| batch_10_adds | gorilla/rpc json2 | n/a | | | |",
		"- gorilla/rpc json2: no batches",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in\n%s", want, table)
		}
	}
	if _, err := inProcessTable(strings.NewReader("PASS\n")); err == nil {
		t.Error("no benchmark lines: no error")
	}
}

func TestLoopbackRatioIsTheMedianOfRounds(t *testing.T) {
	bare := &measured{rps: []float64{100, 200, 100}}
	for _, c := range []struct {
		name   string
		rps    []float64
		median float64
		rounds []float64
	}{
		// The means of the req/s would read 0.75 (300/400); the rounds' ratios are 0.9 0.6 0.9.
		{"odd", []float64{90, 120, 90}, 0.9, []float64{0.9, 0.6, 0.9}},
		{"even", []float64{80, 180}, 0.85, []float64{0.8, 0.9}},
		{"one", []float64{50}, 0.5, []float64{0.5}},
		{"none", nil, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			median, rounds := (&measured{rps: c.rps}).ratio(bare)
			if !near(median, c.median) || len(rounds) != len(c.rounds) {
				t.Fatalf("ratio = %v %v, want %v %v", median, rounds, c.median, c.rounds)
			}
			for i := range rounds {
				if !near(rounds[i], c.rounds[i]) {
					t.Errorf("round %d: %v, want %v", i, rounds[i], c.rounds[i])
				}
			}
		})
	}
	l := loopback{rounds: 3, conns: 64, serverCPU: "0", loadCPU: "1"}
	results := map[string]*measured{}
	for _, s := range peers.Servers {
		results[string(peers.Cases[0])+"/"+s.Name] = &measured{rps: []float64{100, 200, 100}, p50: 3, p99: 6}
	}
	results[string(peers.Cases[0])+"/jetrpc"] = &measured{rps: []float64{90, 120, 90}, p50: 3, p99: 6}
	table := l.table(results)
	for _, want := range []string{
		"the ratio the median of the rounds' ratios",
		"| " + string(peers.Cases[0]) + " | bare fasthttp | 133 | 1.00 ms | 2.00 ms | 1.00 |",
		"| " + string(peers.Cases[0]) + " | jetrpc | 100 | 1.00 ms | 2.00 ms | 0.90 (0.90 0.60 0.90) |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in\n%s", want, table)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestSplice(t *testing.T) {
	file := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(file, []byte("# x\n<!-- peers:loopback -->\nold\n<!-- /peers:loopback -->\nafter\n"), 0o644)
	if err := splice(file, "loopback", "new\n"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); string(got) != "# x\n<!-- peers:loopback -->\nnew\n<!-- /peers:loopback -->\nafter\n" {
		t.Errorf("%q", got)
	}
	if err := splice(file, "inprocess", "x"); err == nil {
		t.Error("no markers: no error")
	}
	if err := splice("", "inprocess", "x"); err != nil {
		t.Error(err)
	}
}

func TestBodyCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"body", "-server", "go-ethereum/rpc", "-case", "add"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	s, _ := peers.Lookup("go-ethereum/rpc")
	if out.String() != string(s.Body(peers.Add)) {
		t.Errorf("%s", out.String())
	}
	for _, args := range [][]string{
		{"body", "-server", "gorilla/rpc json2", "-case", "batch_10_adds"}, // a case it cannot serve
		{"body", "-server", "nope"},
		{"serve", "-server", "sourcegraph/jsonrpc2"}, // no HTTP
		{"loopback", "-addr", "10.0.0.1:80"},         // loopback addresses only
		{"frobnicate"},
		{},
	} {
		if code := run(context.Background(), args, nil, &out, &errOut); code == 0 {
			t.Errorf("%q: exit 0", args)
		}
	}
}
