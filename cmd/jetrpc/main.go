// Command jetrpc is jetrpc's one binary.
//
//	jetrpc serve [-addr 127.0.0.1:8080] [-path /json-rpc] [-workers N] [-tls-cert F -tls-key F] [-unix P] … (-h lists all)
//	jetrpc call [-url URL] [-notify] [-v] [-timeout D] [-H 'Name: value'] METHOD [PARAMS]
//	jetrpc version
//	jetrpc bench [-url URL] [-method M [-params JSON] | -body F | -mix F] [-batch N] [-c N | -rate R] [-duration D | -n N] [-json] … (-h lists all)
//
// serve runs the load-test target: the demo methods ping, echo, add, sleep
// and fail, until SIGINT or SIGTERM, then stops gracefully and exits 0.
// call calls one method from the shell, like curl for JSON-RPC: it prints
// the result and exits 0, prints a JSON-RPC error to stderr and exits 1,
// or exits 2 when the call could not be made. bench loads any JSON-RPC
// HTTP endpoint, checks every answer and reports requests/s and latency
// percentiles; it exits 1 when any call failed (unless -allow-errors).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/nethttp"
	"github.com/valyala/fasthttp"
)

const usage = `usage: jetrpc <command> [flags]

commands:
  serve    serve the demo methods (ping, echo, add, sleep, fail) over HTTP
  call     call one method and print its result
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

// defaultGrace bounds how long serve lets in-flight calls finish on a
// signal before it cancels them.
const defaultGrace = 10 * time.Second

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg fastserver.Config
	fs.StringVar(&cfg.Addr, "addr", fastserver.DefaultAddr, "TCP address to listen on")
	fs.StringVar(&cfg.Unix, "unix", "", "listen on this unix socket path instead of -addr")
	fs.StringVar(&cfg.Path, "path", fastserver.DefaultPath, "URL path to serve JSON-RPC on")
	fs.IntVar(&cfg.MaxBodySize, "max-body", fastserver.DefaultMaxBodySize, "largest request body in bytes (413 above)")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", fastserver.DefaultMaxHeaderBytes, "largest request line and headers in bytes (414 or 431 above); each connection's read buffer")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", fastserver.DefaultReadTimeout, "time allowed to read one request")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", fastserver.DefaultWriteTimeout, "time allowed to write one answer")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", fastserver.DefaultIdleTimeout, "how long an idle keep-alive connection is kept")
	fs.IntVar(&cfg.MaxConns, "max-conns", fastserver.DefaultMaxConns, "most open connections")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", 0, "most open connections from one IP (0: no bound)")
	fs.IntVar(&cfg.MaxInFlight, "max-inflight", fastserver.DefaultMaxInFlight, "most requests handled or being answered at once (503 above)")
	fs.IntVar(&cfg.MaxBufferedBytes, "max-buffered", fastserver.DefaultMaxBufferedBytes, "most bytes of large request bodies and unwritten answers held at once (503 above)")
	fs.DurationVar(&cfg.LingerTimeout, "linger-timeout", fastserver.DefaultLingerTimeout, "how long a connection closed after a refusal drains what its client still sends (negative: none)")
	fs.IntVar(&cfg.LingerBytes, "linger-bytes", fastserver.DefaultLingerBytes, "most bytes such a connection drains")
	grace := fs.Duration("grace", defaultGrace, "on SIGINT or SIGTERM, how long in-flight calls may run before they are cancelled")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate file: serve HTTPS (with -tls-key)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key file for -tls-cert")
	fs.IntVar(&cfg.Workers, "workers", 1, "SO_REUSEPORT listeners on -addr, spreading connections over cores")
	fs.StringVar(&cfg.CORSOrigin, "cors", "", `allow browsers from this origin ("*" for any) to call`)
	transport := fs.String("transport", "fasthttp", "fasthttp, or nethttp to serve through the net/http adapter")
	introspection := fs.Bool("introspection", true, "serve system.listMethods, system.methodHelp and system.methodSignature")
	v1compat := fs.Bool("v1compat", false, `also accept JSON-RPC 1.0 requests (no "jsonrpc" member) and answer them in 1.0 form`)
	baseline := fs.Bool("baseline", false, "serve a fixed answer without parsing requests (the bare fasthttp ceiling, for load-test comparisons)")
	baselineAnswer := fs.String("baseline-answer", "", "with -baseline, the file whose bytes are the fixed answer (default: a ping answer)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for go tool pprof)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	stopProfile, ok := startCPUProfile(*cpuProfile, stderr)
	if !ok {
		return 2
	}
	defer stopProfile()
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		fmt.Fprintln(stderr, "jetrpc: -tls-cert and -tls-key go together")
		return 2
	}
	if *transport != "fasthttp" && *transport != "nethttp" {
		fmt.Fprintf(stderr, "jetrpc: -transport must be fasthttp or nethttp, not %q\n", *transport)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Logger = logger
	opts := []engine.Option{engine.WithLogger(logger)}
	if *v1compat {
		opts = append(opts, engine.WithV1Compat())
	}
	if *introspection {
		opts = append(opts, engine.WithIntrospection())
	}
	e := engine.New(opts...)
	if err := demo.Register(e); err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	srv := fastserver.New(e, cfg)
	cfg = srv.Config()
	// run serves the listeners until ctx is done and returns once drained.
	run := func(lns []net.Listener) error { return srv.RunOn(ctx, *grace, lns...) }
	mode := ""
	switch {
	case *baseline:
		answer := bench.BareAnswer
		if *baselineAnswer != "" {
			var err error
			if answer, err = os.ReadFile(*baselineAnswer); err != nil {
				fmt.Fprintf(stderr, "jetrpc: %v\n", err)
				return 1
			}
		}
		hs := fastserver.NewFastHTTPServer(bench.FixedHandler(answer), cfg)
		run = func(lns []net.Listener) error { return runBaseline(ctx, hs, *grace, lns) }
		mode = " (baseline: fixed answer, no parsing)"
	case *transport == "nethttp":
		mux := http.NewServeMux()
		mux.Handle(cfg.Path, nethttp.New(e, nethttp.Config{MaxBodySize: cfg.MaxBodySize, CORSOrigin: cfg.CORSOrigin,
			LingerTimeout: cfg.LingerTimeout, LingerBytes: cfg.LingerBytes}))
		hs := &http.Server{Handler: mux, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
			MaxHeaderBytes: cfg.MaxHeaderBytes}
		if cfg.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
			if err != nil {
				fmt.Fprintf(stderr, "jetrpc: %v\n", err)
				return 1
			}
			hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		run = func(lns []net.Listener) error { return nethttp.Run(ctx, hs, *grace, lns...) }
		mode = " (net/http)"
	}
	lns, err := srv.Listen()
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	scheme := "http"
	if cfg.TLSCertFile != "" && !*baseline { // the baseline serves plain HTTP
		scheme = "https"
	}
	fmt.Fprintf(stderr, "jetrpc: serving JSON-RPC on %s://%s%s%s\n", scheme, lns[0].Addr(), cfg.Path, mode)
	stop := context.AfterFunc(ctx, func() { fmt.Fprintln(stderr, "jetrpc: shutting down") })
	defer stop()
	if err := run(lns); err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	return 0
}

// runBaseline serves the baseline's bare fasthttp server on lns until ctx
// is done, then shuts it down within grace.
func runBaseline(ctx context.Context, hs *fasthttp.Server, grace time.Duration, lns []net.Listener) error {
	served := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { served <- hs.Serve(ln) }()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return hs.ShutdownWithContext(sctx)
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
