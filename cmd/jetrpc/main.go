// Command jetrpc is jetrpc's one binary.
//
//	jetrpc serve [-addr 127.0.0.1:8080] [-path /json-rpc] [-workers N] [-tls-cert F -tls-key F] [-unix P] … (-h lists all)
//	jetrpc call [-url URL] [-notify] [-v] [-timeout D] [-H 'Name: value'] METHOD [PARAMS]
//	jetrpc version
//	jetrpc bench [-url URL] [-method M [-params JSON] | -body F | -mix F] [-batch N] [-c N | -rate R] [-duration D | -n N] [-json] … (-h lists all)
//
// serve runs the load-test target: the demo methods ping, echo, add, sleep
// and fail, with GET /metrics, /healthz and /readyz beside them, until
// SIGINT or SIGTERM; it then drains (/readyz 503 for -drain-delay while
// calls are still answered), stops gracefully and exits 0.
// call calls one method from the shell, like curl for JSON-RPC: it prints
// the result and exits 0, prints a JSON-RPC error to stderr and exits 1,
// or exits 2 when the call could not be made. bench loads any JSON-RPC
// HTTP endpoint, checks every answer and reports requests/s and latency
// percentiles; it exits 1 when any call failed (unless -allow-errors).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

const usage = `usage: jetrpc <command> [flags]

commands:
  serve    serve the demo methods (ping, echo, add, sleep, fail, demo_subscribe) over HTTP, WebSocket and streams
  call     call one method and print its result
  subscribe  subscribe over ws://, tcp:// or unix:// and print each result
  bench    load a JSON-RPC endpoint and report requests/s and latency
  version  print jetrpc's version and the Go version it was built with

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
	case "subscribe":
		return subscribeCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "jetrpc: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// version reads the module version, the commit when known and the Go
// version from the binary's build info: "jetrpc v1.2.3 go1.26.0", or
// "jetrpc (devel) go1.26.0 (abc1234)" for a build from a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "jetrpc (unknown) " + runtime.Version()
	}
	v := "jetrpc " + info.Main.Version + " " + info.GoVersion
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " (" + rev + modified + ")"
	}
	return v
}

// startCPUProfile profiles the process into file until stop is called
// (nothing when file is ""); ok is false, with the reason on stderr, when
// the profile cannot be written.
func startCPUProfile(file string, stderr io.Writer) (stop func(), ok bool) {
	if file == "" {
		return func() {}, true
	}
	f, err := os.Create(file)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: -cpuprofile: %v\n", err)
		return nil, false
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, true
}
