// Command jetrpc is jetrpc's one binary.
//
//	jetrpc serve [-addr 127.0.0.1:8080] [-path /json-rpc]
//	jetrpc call [-url URL] [-notify] [-timeout D] [-H 'Name: value'] METHOD [PARAMS]
//
// serve runs the load-test target: the demo methods ping, echo, add, sleep
// and fail, until SIGINT or SIGTERM, then stops gracefully and exits 0.
// call calls one method from the shell, like curl for JSON-RPC: it prints
// the result and exits 0, prints a JSON-RPC error to stderr and exits 1,
// or exits 2 when the call could not be made.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
)

const usage = `usage: jetrpc <command> [flags]

commands:
  serve    serve the demo methods (ping, echo, add, sleep, fail) over HTTP
  call     call one method and print its result

Run 'jetrpc <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "call":
		return call(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "jetrpc: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// shutdownGrace bounds how long serve waits for in-flight calls on a signal.
const shutdownGrace = 10 * time.Second

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", fastserver.DefaultAddr, "TCP address to listen on")
	path := fs.String("path", fastserver.DefaultPath, "URL path to serve JSON-RPC on")
	baseline := fs.Bool("baseline", false, "serve a fixed answer without parsing requests (the bare fasthttp ceiling, for load-test comparisons)")
	baselineAnswer := fs.String("baseline-answer", "", "with -baseline, the file whose bytes are the fixed answer (default: a ping answer)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	e := engine.New(engine.WithLogger(logger))
	if err := demo.Register(e); err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	srv := fastserver.New(e, fastserver.Config{Addr: *addr, Path: *path, Logger: logger})
	serveOn, shutdown := srv.Serve, srv.Shutdown
	if *baseline {
		answer := bench.BareAnswer
		if *baselineAnswer != "" {
			var err error
			if answer, err = os.ReadFile(*baselineAnswer); err != nil {
				fmt.Fprintf(stderr, "jetrpc: %v\n", err)
				return 1
			}
		}
		hs := fastserver.NewFastHTTPServer(bench.FixedHandler(answer), srv.Config())
		serveOn, shutdown = hs.Serve, hs.ShutdownWithContext
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	mode := ""
	if *baseline {
		mode = " (baseline: fixed answer, no parsing)"
	}
	fmt.Fprintf(stderr, "jetrpc: serving JSON-RPC on http://%s%s%s\n", ln.Addr(), srv.Config().Path, mode)
	done := make(chan error, 1)
	go func() { done <- serveOn(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "jetrpc: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "jetrpc: shutdown: %v\n", err)
		return 1
	}
	<-done
	return 0
}
