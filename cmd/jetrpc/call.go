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

const callUsage = `usage: jetrpc call [-url URL] [-notify] [-v] [-timeout D] [-H 'Name: value']... METHOD [PARAMS]

Calls METHOD with PARAMS (a JSON array or object) and prints the result as
JSON. Flags may come before or after METHOD. A URL without a scheme means
http://; ws://, wss://, tcp://HOST:PORT (?framing=header for LSP headers)
and unix:///PATH use a persistent connection. -v prints the request (-->) and the answer (<--, with the HTTP
status) to stderr. Exit status: 0 with a result, 1 on a JSON-RPC error
(printed to stderr), 2 when the call could not be made.

`

// call implements `jetrpc call`.
func call(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("call", callUsage, stderr)
	url := fs.String("url", "http://"+fastserver.DefaultAddr+fastserver.DefaultPath, "JSON-RPC endpoint: http(s)://, ws(s)://, tcp://, unix:// (http:// when no scheme is given)")
	notify := fs.Bool("notify", false, "send a notification and print nothing")
	verbose := fs.Bool("v", false, "print the request and the answer, with its HTTP status, to stderr")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	headers := headerFlags{}
	fs.Var(headers, "H", "extra request header 'Name: value' (repeatable)")
	positional, code, ok := parseMixed(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(positional) == 0:
		fmt.Fprintln(stderr, "jetrpc: call needs a METHOD")
		fmt.Fprint(stderr, callUsage)
		return 2
	case len(positional) > 2:
		fmt.Fprintf(stderr, "jetrpc: unexpected argument %q after METHOD and PARAMS (quote PARAMS as one argument)\n", positional[2])
		return 2
	}
	method := positional[0]
	var params json.RawMessage
	if len(positional) == 2 {
		if err := checkParams(positional[1]); err != nil {
			fmt.Fprintf(stderr, "jetrpc: PARAMS %v\n", err)
			return 2
		}
		params = json.RawMessage(positional[1])
	}
	opts := []client.Option{client.WithTimeout(*timeout)}
	if *verbose {
		opts = append(opts, client.WithTrace(stderr))
	}
	c, err := dialURL(*url, headers, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	defer c.Close()
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
		printRPCError(stderr, rpcErr)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	stdout.Write(append(appendPretty(nil, result, 0), '\n'))
	return 0
}

// printRPCError prints a JSON-RPC error answer: its code and message, and
// its data for people to read.
func printRPCError(w io.Writer, e *codec.Error) {
	fmt.Fprintf(w, "error %d: %s\n", e.Code, e.Message)
	if len(e.Data) > 0 {
		fmt.Fprintf(w, "data: %s\n", appendPretty(nil, e.Data, 0))
	}
}

// newFlagSet returns the flag set of a command that prints usage, then
// its flags' defaults, to stderr on -h or a flag error.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	return fs
}

// parseMixed parses fs's flags mixed with positional arguments (flags may
// come before or after them) and returns the positional ones; ok false
// with the exit status when parsing ends the command (-h: 0, an error: 2).
func parseMixed(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		if fs.NArg() == 0 {
			return positional, 0, true
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// dialURL dials url (http:// when it has no scheme) with headers and
// opts.
func dialURL(url string, headers headerFlags, opts ...client.Option) (*client.Client, error) {
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	for name, value := range headers {
		opts = append(opts, client.WithHeader(name, value))
	}
	return client.Dial(url, opts...)
}

// checkParams says what is wrong with PARAMS, or returns nil: it must be
// one JSON array or object.
func checkParams(params string) error {
	if err := codec.Check([]byte(params)); err != nil {
		var se *codec.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("is not valid JSON: %s at offset %d of %q", se.AppendMessage(nil), se.Offset, params)
		}
		return err
	}
	p := strings.TrimSpace(params)
	switch p[0] {
	case '[', '{':
		return nil
	case '"':
		return fmt.Errorf("must be a JSON array or object, not the string %s (for one param, write [%s])", p, p)
	case 't', 'f':
		return fmt.Errorf("must be a JSON array or object, not the boolean %s (for one param, write [%s])", p, p)
	case 'n':
		return errors.New("must be a JSON array or object, not null (for no params, leave PARAMS out)")
	}
	return fmt.Errorf("must be a JSON array or object, not the number %s (for one param, write [%s])", p, p)
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
