package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jetrpc/jetrpc/client"
	"github.com/jetrpc/jetrpc/codec"
	"github.com/jetrpc/jetrpc/fastserver"
)

// headerFlags collects repeated -H 'Name: value' flags.
type headerFlags map[string]string

func (h headerFlags) String() string { return "" }

func (h headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q is not 'Name: value'", s)
	}
	h[strings.TrimSpace(name)] = strings.TrimSpace(value)
	return nil
}

const callUsage = `usage: jetrpc call [-url URL] [-notify] [-timeout D] [-H 'Name: value']... METHOD [PARAMS]

Calls METHOD with PARAMS (a JSON array or object) and prints the result as
JSON. Exit status: 0 with a result, 1 on a JSON-RPC error (printed to
stderr), 2 when the call could not be made.

`

// call implements `jetrpc call`.
func call(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, callUsage); fs.PrintDefaults() }
	url := fs.String("url", "http://"+fastserver.DefaultAddr+fastserver.DefaultPath, "JSON-RPC endpoint")
	notify := fs.Bool("notify", false, "send a notification and print nothing")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	headers := headerFlags{}
	fs.Var(headers, "H", "extra request header 'Name: value' (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return 2
	}
	method := fs.Arg(0)
	var params json.RawMessage
	if fs.NArg() == 2 {
		params = json.RawMessage(fs.Arg(1))
		if !codec.Valid(params) || (params[0] != '[' && params[0] != '{') {
			fmt.Fprintf(stderr, "jetrpc: PARAMS must be a JSON array or object, not %s\n", fs.Arg(1))
			return 2
		}
	}
	tr, err := client.NewFastHTTP(*url, client.FastHTTPConfig{Timeout: *timeout, Header: headers})
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	c := client.New(tr)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var p any
	if params != nil {
		p = params
	}
	if *notify {
		if err := c.Notify(ctx, method, p); err != nil {
			fmt.Fprintf(stderr, "jetrpc: %v\n", err)
			return 2
		}
		return 0
	}
	var result json.RawMessage
	err = c.Call(ctx, method, p, &result)
	var rpcErr *codec.Error
	switch {
	case errors.As(err, &rpcErr):
		fmt.Fprintf(stderr, "error %d: %s\n", rpcErr.Code, rpcErr.Message)
		if len(rpcErr.Data) > 0 {
			fmt.Fprintf(stderr, "data: %s\n", appendPretty(nil, rpcErr.Data, 0))
		}
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	stdout.Write(append(appendPretty(nil, result, 0), '\n'))
	return 0
}

// appendPretty appends the valid JSON raw to dst for people to read:
// objects and arrays indented by two spaces, strings with their escapes
// decoded (UTF-8 as is; only what JSON requires stays escaped), numbers and
// member order as sent.
func appendPretty(dst, raw []byte, indent int) []byte {
	switch raw[0] {
	case '"':
		return codec.AppendStringBytes(dst, codec.AppendUnescaped(nil, raw[1:len(raw)-1]))
	case '{', '[':
		it := codec.Iterate(raw)
		n := 0
		for it.Next() {
			if n == 0 {
				dst = append(dst, raw[0])
			} else {
				dst = append(dst, ',')
			}
			dst = append(append(dst, '\n'), strings.Repeat("  ", indent+1)...)
			if it.IsObject() {
				dst = codec.AppendStringBytes(dst, codec.AppendUnescaped(nil, it.Key()))
				dst = append(dst, ": "...)
			}
			dst = appendPretty(dst, it.Value(), indent+1)
			n++
		}
		if n == 0 {
			return append(dst, raw[0], raw[0]+2) // {} or []
		}
		dst = append(append(dst, '\n'), strings.Repeat("  ", indent)...)
		return append(dst, raw[0]+2)
	}
	return append(dst, raw...)
}
