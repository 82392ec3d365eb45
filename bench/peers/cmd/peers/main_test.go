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
