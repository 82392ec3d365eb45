//go:build !race

package client_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jetrpc/jetrpc/client"
)

// TestCallAllocations counts every allocation in the process during a
// call, the in-process server's included, so 0 means the whole round trip
// allocates nothing in steady state.
func TestCallAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for name, tr := range demoServer(t) {
		if name == "nethttp/loopback" {
			continue // net/http allocates per request by design
		}
		t.Run(name, func(t *testing.T) { checkCallAllocations(t, client.New(tr), 200) })
	}
}

// TestPersistentCallAllocations: a single call on a persistent connection
// (WebSocket, a TCP stream) allocates nothing in steady state, the
// server's side included.
func TestPersistentCallAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	servers := persistentServers(t)
	for _, name := range []string{"ws", "tcp/line", "tcp/header"} {
		t.Run(name, func(t *testing.T) { checkCallAllocations(t, servers[name](), 500) })
	}
}

// checkCallAllocations checks that CallRaw, and Call with
// *json.RawMessage params and result, allocate nothing on c, over runs
// calls each.
func checkCallAllocations(t *testing.T, c *client.Client, runs int) {
	ctx := context.Background()
	params := json.RawMessage(`["0123456789abcdef"]`)
	var result json.RawMessage
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(runs, func() {
		var err error
		if dst, err = c.CallRaw(ctx, dst[:0], "echo", params); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || string(dst) != `"0123456789abcdef"` {
		t.Errorf("CallRaw: %v allocs, result %s; want 0", allocs, dst)
	}
	allocs = testing.AllocsPerRun(runs, func() {
		if err := c.Call(ctx, "echo", &params, &result); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Call with *json.RawMessage params and result: %v allocs, want 0", allocs)
	}
}
