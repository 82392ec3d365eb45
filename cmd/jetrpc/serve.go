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
	"sort"
	"strings"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/engine"
	"github.com/jetrpc/jetrpc/fastserver"
	"github.com/jetrpc/jetrpc/internal/demo"
	"github.com/jetrpc/jetrpc/metrics"
	"github.com/jetrpc/jetrpc/middleware"
	"github.com/jetrpc/jetrpc/nethttp"
	"github.com/jetrpc/jetrpc/stream"
	"github.com/valyala/fasthttp"
)

// defaultGrace bounds how long serve lets in-flight calls finish on a
// signal before it cancels them.
const defaultGrace = 10 * time.Second

// Paths served beside the JSON-RPC path.
const (
	metricsPath = "/metrics"
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// serveFlags are serve's flags, parsed.
type serveFlags struct {
	cfg            fastserver.Config
	grace          time.Duration
	drainDelay     time.Duration
	transport      string
	introspection  bool
	v1compat       bool
	baseline       bool
	baselineAnswer string
	baselineWork   time.Duration
	metrics        bool
	logLevel       slog.Level
	logFormat      string
	cpuProfile     string
	ws             bool
	streamAddr     string
	streamUnix     string
	streamFraming  string
	stdio          bool
	set            map[string]bool // the flags given on the command line
}

// A serveMode is one way to serve (fasthttp, net/http, or the baseline):
// it knows how to serve listeners until its context ends and then shut
// down gracefully, and how to begin a drain.
type serveMode interface {
	// describe is what the banner says after the URL.
	describe() string
	// run serves lns until ctx is done, then shuts down within grace and
	// returns once every call accepted was answered.
	run(ctx context.Context, lns []net.Listener, grace time.Duration) error
	// drain makes /readyz answer 503 and keep-alive connections close
	// after their next answer, while calls are still served.
	drain()
	// streams is the server of the mode's persistent connections (nil
	// for the baseline); run shuts it down with the HTTP server.
	streams() *stream.Server
}

// ignoredBy lists, per mode, the flags it does not use: serve refuses
// them rather than silently ignoring them.
var ignoredBy = map[string][]string{
	"nethttp": {"max-conns", "max-conns-per-ip", "max-inflight", "max-buffered"},
	"baseline": {"transport", "introspection", "v1compat", "metrics", "drain-delay", "cors", "max-conns-per-ip", "max-inflight", "max-buffered", "linger-timeout", "linger-bytes", "tls-cert", "tls-key",
		"ws", "stream-addr", "stream-unix", "stream-framing", "stdio"},
	"stdio": {"addr", "unix", "path", "transport", "workers", "tls-cert", "tls-key", "cors", "metrics", "drain-delay", "stream-addr", "stream-unix", "ws",
		"max-conns", "max-conns-per-ip", "max-header-bytes", "linger-timeout", "linger-bytes"},
}

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	f, code := parseServeFlags(args, stderr)
	if f == nil {
		return code
	}
	stopProfile, ok := startCPUProfile(f.cpuProfile, stderr)
	if !ok {
		return 2
	}
	defer stopProfile()
	logger := newLogger(stderr, f.logLevel, f.logFormat)
	f.cfg.Logger = logger
	mode, err := newServeMode(f, logger)
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	if f.stdio {
		return serveStdio(ctx, mode, f.grace, stderr)
	}
	// The listeners are opened as fastserver would for every mode (Addr or
	// Unix, Workers SO_REUSEPORT listeners), so that all accept the same
	// flags.
	lns, err := fastserver.New(nil, f.cfg).Listen()
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	scheme := "http"
	if f.cfg.TLSCertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(stderr, "jetrpc: serving JSON-RPC on %s://%s%s%s\n", scheme, lns[0].Addr(), f.cfg.Path, mode.describe())
	if f.ws {
		fmt.Fprintf(stderr, "jetrpc: serving JSON-RPC over WebSocket on %s://%s%s\n", strings.Replace(scheme, "http", "ws", 1), lns[0].Addr(), f.cfg.Path)
	}
	streamLns, err := listenStreams(f)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	for _, ln := range streamLns {
		fmt.Fprintf(stderr, "jetrpc: serving JSON-RPC streams (%s framing) on %s://%s\n", f.cfg.Stream.Framing, ln.Addr().Network(), ln.Addr())
		go func() { _ = mode.streams().Serve(ln) }() // ends when run shuts the streams down
	}
	runCtx, cleanup := drainFirst(ctx, mode, f.drainDelay, stderr)
	defer cleanup()
	if err := mode.run(runCtx, lns, f.grace); err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	return 0
}

// drainFirst returns a context that ends delay after ctx does: when ctx
// ends (a signal), the mode begins its drain at once, and the server stops
// accepting only when the delay is over, so that a load balancer whose
// health checks see /readyz fail has moved the traffic away by then.
func drainFirst(ctx context.Context, mode serveMode, delay time.Duration, stderr io.Writer) (context.Context, func()) {
	stopCtx, stop := context.WithCancel(context.Background())
	unhook := context.AfterFunc(ctx, func() {
		mode.drain()
		if delay > 0 {
			fmt.Fprintf(stderr, "jetrpc: draining for %v (/readyz answers 503)\n", delay)
			time.Sleep(delay)
		}
		fmt.Fprintln(stderr, "jetrpc: shutting down")
		stop()
	})
	return stopCtx, func() { unhook(); stop() }
}

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, int) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &serveFlags{}
	cfg := &f.cfg
	fs.StringVar(&cfg.Addr, "addr", fastserver.DefaultAddr, "TCP address to listen on")
	fs.StringVar(&cfg.Unix, "unix", "", "listen on this unix socket path instead of -addr")
	fs.StringVar(&cfg.Path, "path", fastserver.DefaultPath, "URL path to serve JSON-RPC on")
	fs.IntVar(&cfg.MaxBodySize, "max-body", fastserver.DefaultMaxBodySize, "largest request body in bytes (413 above)")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", fastserver.DefaultMaxHeaderBytes, "largest request line and headers in bytes (414 or 431 above); each connection's read buffer")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", fastserver.DefaultReadTimeout, "time allowed to read one request")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", fastserver.DefaultWriteTimeout, "time allowed to write one answer")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", fastserver.DefaultIdleTimeout, "how long an idle keep-alive connection is kept")
	fs.IntVar(&cfg.MaxConns, "max-conns", fastserver.DefaultMaxConns, "most open connections (fasthttp only)")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", 0, "most open connections from one IP (0: no bound; fasthttp only)")
	fs.IntVar(&cfg.MaxInFlight, "max-inflight", fastserver.DefaultMaxInFlight, "most requests handled, or answered with over 16 KiB not yet written, at once (503 above; fasthttp only)")
	fs.IntVar(&cfg.MaxBufferedBytes, "max-buffered", fastserver.DefaultMaxBufferedBytes, "most bytes of large request bodies and unwritten answers held at once (503 above; fasthttp only)")
	fs.DurationVar(&cfg.LingerTimeout, "linger-timeout", fastserver.DefaultLingerTimeout, "how long a connection closed after a refusal drains what its client still sends (negative: none)")
	fs.IntVar(&cfg.LingerBytes, "linger-bytes", fastserver.DefaultLingerBytes, "most bytes such a connection drains")
	fs.DurationVar(&f.grace, "grace", defaultGrace, "on SIGINT or SIGTERM, after -drain-delay, how long in-flight calls may run before they are cancelled")
	fs.DurationVar(&f.drainDelay, "drain-delay", 0, "on SIGINT or SIGTERM, how long /readyz answers 503 while calls are still served, before the listener closes (behind a load balancer: a few health-check intervals)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate file: serve HTTPS (with -tls-key)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key file for -tls-cert")
	fs.IntVar(&cfg.Workers, "workers", 1, "SO_REUSEPORT listeners on -addr, spreading connections over cores")
	fs.StringVar(&cfg.CORSOrigin, "cors", "", `allow browsers from this origin ("*" for any) to call`)
	fs.StringVar(&f.transport, "transport", "fasthttp", "fasthttp, or nethttp to serve through the net/http adapter")
	fs.BoolVar(&f.introspection, "introspection", true, "serve system.listMethods, system.methodHelp and system.methodSignature")
	fs.BoolVar(&f.v1compat, "v1compat", false, `also accept JSON-RPC 1.0 requests (no "jsonrpc" member) and answer them in 1.0 form`)
	fs.BoolVar(&f.metrics, "metrics", true, "serve Prometheus metrics on GET "+metricsPath)
	fs.TextVar(&f.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error; debug logs every call (method, id, code, duration, remote address)")
	fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
	fs.BoolVar(&f.baseline, "baseline", false, "serve a fixed answer without parsing requests (the bare fasthttp ceiling, for load-test comparisons)")
	fs.StringVar(&f.baselineAnswer, "baseline-answer", "", "with -baseline, the file whose bytes are the fixed answer (default: a ping answer)")
	fs.DurationVar(&f.baselineWork, "baseline-work", 0, "with -baseline, CPU to spend on each request before answering (e.g. 500ns): a bare server that costs that much more, to see how a load-test ratio falls with a server's cost")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (for go tool pprof)")
	fs.BoolVar(&f.ws, "ws", true, "serve WebSocket (GET with Upgrade: websocket) on the JSON-RPC path")
	fs.StringVar(&f.streamAddr, "stream-addr", "", "also serve JSON-RPC streams on this TCP address (HOST:PORT)")
	fs.StringVar(&f.streamUnix, "stream-unix", "", "also serve JSON-RPC streams on this unix socket path")
	fs.StringVar(&f.streamFraming, "stream-framing", "line", "framing of -stream-addr, -stream-unix and -stdio: line (newline-delimited JSON) or header (LSP Content-Length)")
	fs.BoolVar(&f.stdio, "stdio", false, "serve one stream on standard input and output instead of listening (logs go to stderr); exits at the end of input")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jetrpc: serve takes no arguments, got %q\n", fs.Args())
		return nil, 2
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		fmt.Fprintln(stderr, "jetrpc: -tls-cert and -tls-key go together")
		return nil, 2
	}
	if f.transport != "fasthttp" && f.transport != "nethttp" {
		fmt.Fprintf(stderr, "jetrpc: -transport must be fasthttp or nethttp, not %q\n", f.transport)
		return nil, 2
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		fmt.Fprintf(stderr, "jetrpc: -log-format must be text or json, not %q\n", f.logFormat)
		return nil, 2
	}
	if f.baselineAnswer != "" && !f.baseline {
		fmt.Fprintln(stderr, "jetrpc: -baseline-answer goes with -baseline")
		return nil, 2
	}
	if f.set["baseline-work"] && !f.baseline {
		fmt.Fprintln(stderr, "jetrpc: -baseline-work goes with -baseline")
		return nil, 2
	}
	if f.baselineWork < 0 {
		fmt.Fprintf(stderr, "jetrpc: -baseline-work must not be negative, got %v\n", f.baselineWork)
		return nil, 2
	}
	framing, err := stream.ParseFraming(f.streamFraming)
	if err != nil || framing.String() == "websocket" {
		fmt.Fprintf(stderr, "jetrpc: -stream-framing must be line or header, not %q\n", f.streamFraming)
		return nil, 2
	}
	f.cfg.Stream.Framing = framing
	f.cfg.NoWebSocket = !f.ws
	mode := f.transport
	if f.baseline {
		mode = "baseline"
	} else if f.stdio {
		mode = "stdio"
	}
	var ignored []string
	for _, name := range ignoredBy[mode] {
		if f.set[name] {
			ignored = append(ignored, "-"+name)
		}
	}
	if len(ignored) > 0 {
		sort.Strings(ignored)
		fmt.Fprintf(stderr, "jetrpc: %s does not use %s\n", describeMode(mode), strings.Join(ignored, ", "))
		return nil, 2
	}
	return f, 0
}

func describeMode(mode string) string {
	switch mode {
	case "nethttp":
		return "-transport nethttp"
	case "baseline":
		return "-baseline"
	case "stdio":
		return "-stdio"
	}
	return mode
}

// newLogger is serve's logger, on stderr.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newServeMode builds the mode the flags ask for.
func newServeMode(f *serveFlags, logger *slog.Logger) (serveMode, error) {
	if f.baseline {
		answer := bench.BareAnswer
		if f.baselineAnswer != "" {
			var err error
			if answer, err = os.ReadFile(f.baselineAnswer); err != nil {
				return nil, err
			}
		}
		return &baselineMode{hs: fastserver.NewFastHTTPServer(bench.WorkingHandler(answer, f.baselineWork), f.cfg), work: f.baselineWork}, nil
	}
	var m *metrics.Metrics
	opts := []engine.Option{engine.WithLogger(logger)}
	if f.metrics {
		m = metrics.New()
		opts = append(opts, engine.WithMiddleware(m.Middleware()), engine.WithObserver(m))
	}
	// Every call logged at Debug: the level is fixed for the run, so that
	// above Debug the middleware is left out instead of checked per call.
	if logger.Enabled(context.Background(), slog.LevelDebug) {
		opts = append(opts, engine.WithMiddleware(middleware.Logging(logger, slog.LevelDebug)),
			engine.WithObserver(middleware.LoggingObserver(logger, slog.LevelDebug)))
	}
	if f.v1compat {
		opts = append(opts, engine.WithV1Compat())
	}
	if f.introspection {
		opts = append(opts, engine.WithIntrospection())
	}
	e := engine.New(opts...)
	if err := demo.Register(e); err != nil {
		return nil, err
	}
	if f.transport == "nethttp" {
		return newNetHTTPMode(f, e, m)
	}
	cfg := f.cfg
	if m != nil {
		cfg.Observer = m
	}
	srv := fastserver.New(e, cfg)
	srv.Handle(healthzPath, fastserver.Healthz)
	srv.Handle(readyzPath, srv.Readyz)
	if m != nil {
		srv.Handle(metricsPath, m.FastHTTPHandler())
	}
	return &fastMode{srv: srv}, nil
}

// fastMode serves with fastserver.
type fastMode struct{ srv *fastserver.Server }

func (m *fastMode) describe() string        { return "" }
func (m *fastMode) drain()                  { m.srv.Drain() }
func (m *fastMode) streams() *stream.Server { return m.srv.Streams() }
func (m *fastMode) run(ctx context.Context, lns []net.Listener, grace time.Duration) error {
	return m.srv.RunOn(ctx, grace, lns...)
}

// netHTTPMode serves with net/http and the nethttp adapter.
type netHTTPMode struct {
	h  *nethttp.Handler
	hs *http.Server
}

func newNetHTTPMode(f *serveFlags, e *engine.Engine, m *metrics.Metrics) (*netHTTPMode, error) {
	cfg := f.cfg
	ncfg := nethttp.Config{MaxBodySize: cfg.MaxBodySize, CORSOrigin: cfg.CORSOrigin, LingerTimeout: cfg.LingerTimeout, LingerBytes: cfg.LingerBytes,
		NoWebSocket: cfg.NoWebSocket, Stream: cfg.Stream}
	ncfg.Stream.Logger = cfg.Logger
	if m != nil {
		ncfg.Observer = m
	}
	h := nethttp.New(e, ncfg)
	mux := http.NewServeMux()
	mux.Handle(cfg.Path, h)
	mux.Handle("GET "+healthzPath, nethttp.Healthz)
	mux.Handle("GET "+readyzPath, h.Readyz())
	hs := &http.Server{Handler: mux, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
		MaxHeaderBytes: cfg.MaxHeaderBytes, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
	if m != nil {
		mux.Handle("GET "+metricsPath, m.Handler())
		hs.ConnState = m.ConnState
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, err
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return &netHTTPMode{h: h, hs: hs}, nil
}

func (m *netHTTPMode) describe() string        { return " (net/http)" }
func (m *netHTTPMode) drain()                  { m.h.Drain() }
func (m *netHTTPMode) streams() *stream.Server { return m.h.Streams() }

// run serves with nethttp.Run; net/http does not track hijacked
// (WebSocket) connections, so the streams are shut down beside it.
func (m *netHTTPMode) run(ctx context.Context, lns []net.Listener, grace time.Duration) error {
	streamsDone := make(chan error, 1)
	m.hs.RegisterOnShutdown(func() {
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		streamsDone <- m.h.Streams().Shutdown(sctx)
	})
	err := nethttp.Run(ctx, m.hs, grace, lns...)
	if serr := <-streamsDone; err == nil && serr != nil {
		err = serr
	}
	return err
}

// baselineMode serves a fixed answer with a bare fasthttp server: the
// ceiling load tests compare with. It has no probes and no metrics.
type baselineMode struct {
	hs   *fasthttp.Server
	work time.Duration // spent on each request before answering
}

func (m *baselineMode) describe() string {
	if m.work > 0 {
		return fmt.Sprintf(" (baseline: fixed answer, no parsing, %v of work a request)", m.work)
	}
	return " (baseline: fixed answer, no parsing)"
}
func (m *baselineMode) drain()                  {}
func (m *baselineMode) streams() *stream.Server { return nil }

// run serves until ctx is done, then shuts the server down within grace.
func (m *baselineMode) run(ctx context.Context, lns []net.Listener, grace time.Duration) error {
	served := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { served <- m.hs.Serve(ln) }()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return m.hs.ShutdownWithContext(sctx)
}

// listenStreams opens the -stream-addr and -stream-unix listeners.
func listenStreams(f *serveFlags) ([]net.Listener, error) {
	var lns []net.Listener
	if f.streamAddr != "" {
		ln, err := net.Listen("tcp", f.streamAddr)
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
	}
	if f.streamUnix != "" {
		ln, err := net.Listen("unix", f.streamUnix)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// stdio is the stream -stdio serves: the process's standard input and
// output (tests give their own pipes).
var stdio = func() io.ReadWriteCloser { return stream.Pipe(os.Stdin, os.Stdout) }

// serveStdio serves one stream on standard input and output until the
// input ends or ctx does (then calls read so far answer within grace).
func serveStdio(ctx context.Context, mode serveMode, grace time.Duration, stderr io.Writer) int {
	fmt.Fprintln(stderr, "jetrpc: serving JSON-RPC on standard input and output")
	srv := mode.streams()
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(stdio()) }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(stderr, "jetrpc: %v\n", err)
			return 1
		}
		return 0
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 1
	}
	<-done
	return 0
}
