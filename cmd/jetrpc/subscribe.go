package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/fastserver"
)

const subscribeUsage = `usage: jetrpc subscribe [-url URL] [-n N] [-timeout D] [-H 'Name: value']... NAMESPACE [PARAMS]

Subscribes to NAMESPACE with PARAMS (a JSON array: the subscription's name,
then its params, e.g. '["ticks", 5]'), in go-ethereum's convention
(NAMESPACE_subscribe, NAMESPACE_subscription, NAMESPACE_unsubscribe), and
prints each notification's result as one JSON line. It needs a persistent
connection: ws://, wss://, tcp://HOST:PORT (?framing=header) or
unix:///PATH. Exit status: 0 after N results, on Ctrl-C (after
unsubscribing) or, without -n, when -timeout ends the watch; 1 on a
JSON-RPC error, or when -timeout passes before N results; 2 when the
connection could not be made or was lost.

`

// subscribeCmd implements `jetrpc subscribe`.
func subscribeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("subscribe", subscribeUsage, stderr)
	url := fs.String("url", "ws://"+fastserver.DefaultAddr+fastserver.DefaultPath, "JSON-RPC endpoint: ws(s)://, tcp://, unix://")
	n := fs.Int("n", 0, "exit after this many results (0: until Ctrl-C or -timeout)")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: never)")
	headers := headerFlags{}
	fs.Var(headers, "H", "extra handshake header 'Name: value' (repeatable, WebSocket)")
	positional, code, ok := parseMixed(fs, args)
	if !ok {
		return code
	}
	if len(positional) == 0 || len(positional) > 2 {
		fmt.Fprintln(stderr, "jetrpc: subscribe needs NAMESPACE and at most one PARAMS")
		fmt.Fprint(stderr, subscribeUsage)
		return 2
	}
	var params []any
	if len(positional) == 2 {
		if err := checkParams(positional[1]); err != nil {
			fmt.Fprintf(stderr, "jetrpc: PARAMS %v\n", err)
			return 2
		}
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(positional[1]), &raw); err != nil {
			fmt.Fprintln(stderr, "jetrpc: PARAMS must be a JSON array: the subscription's name, then its params")
			return 2
		}
		for _, r := range raw {
			params = append(params, r)
		}
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	c, err := dialURL(*url, headers, client.WithTimeout(30*time.Second))
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	defer c.Close()
	sub, err := client.Subscribe[json.RawMessage](ctx, c, positional[0], params...)
	var rpcErr *codec.Error
	switch {
	case errors.As(err, &rpcErr):
		printRPCError(stderr, rpcErr)
		return 1
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		fmt.Fprintf(stderr, "jetrpc: timed out after %v while subscribing\n", *timeout)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	unsubscribe := func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sub.Unsubscribe(uctx)
	}
	got := 0
	var line bytes.Buffer
	for {
		select {
		case v, open := <-sub.Values():
			if !open {
				err := <-sub.Err()
				fmt.Fprintf(stderr, "jetrpc: subscription ended: %v\n", err)
				if errors.Is(err, client.ErrConnectionLost) {
					return 2
				}
				return 1
			}
			line.Reset()
			if json.Compact(&line, v) != nil {
				line.Write(v)
			}
			line.WriteByte('\n')
			stdout.Write(line.Bytes())
			if got++; *n > 0 && got >= *n {
				unsubscribe()
				return 0
			}
		case <-ctx.Done():
			unsubscribe()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && *n > 0 {
				fmt.Fprintf(stderr, "jetrpc: timed out after %v with %d of %d results\n", *timeout, got, *n)
				return 1
			}
			return 0
		}
	}
}
