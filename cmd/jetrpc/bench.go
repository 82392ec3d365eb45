package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jetrpc/jetrpc/bench"
	"github.com/jetrpc/jetrpc/fastserver"
)

const benchUsage = `usage: jetrpc bench [-url URL] [-method M [-params JSON] | -body FILE | -mix FILE] [-batch N]
                    [-c N | -rate R] [-pipeline P] [-duration D | -n N] [-warmup D] [-timeout D] [-H 'Name: value']... [-json] [-progress] [-allow-errors] [-insecure] [-cpuprofile FILE]

Loads a JSON-RPC endpoint and checks every answer (HTTP status, a valid
JSON-RPC answer, the request's id, result or error). The URL is HTTP
(http://, https://), or a persistent transport: ws://, wss://,
tcp://HOST:PORT (?framing=header for LSP headers), unix:///PATH, where each
of the -c connections carries -pipeline requests in flight. Exit status 1
when any call failed (unless -allow-errors), 2 on a usage error.

`

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", benchUsage, stderr)
	url := fs.String("url", "http://"+fastserver.DefaultAddr+fastserver.DefaultPath, "JSON-RPC endpoint: http(s)://, ws(s)://, tcp://, unix://")
	pipeline := fs.Int("pipeline", 1, "requests in flight per connection (persistent transports)")
	method := fs.String("method", "ping", "method to call")
	params := fs.String("params", "", "params of -method (a JSON array or object)")
	bodyFile := fs.String("body", "", "send this file's bytes as is (a request or a batch)")
	mixFile := fs.String("mix", "", `JSON lines of {"weight": N, "request": {…}} to mix`)
	batch := fs.Int("batch", 1, "wrap N calls in each request (a batch)")
	c := fs.Int("c", 64, "connections (closed loop)")
	rate := fs.Float64("rate", 0, "requests per second (open loop; latency from the intended send time)")
	duration := fs.Duration("duration", 0, "how long to run (default 10s unless -n)")
	n := fs.Int64("n", 0, "stop after N requests")
	warmup := fs.Duration("warmup", 0, "run this long before measuring")
	timeout := fs.Duration("timeout", 10*time.Second, "bound on one request")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	showProgress := fs.Bool("progress", false, "a progress line on stderr every second (default when stderr is a terminal)")
	allowErrors := fs.Bool("allow-errors", false, "exit 0 even when calls failed")
	headers := headerFlags{}
	fs.Var(headers, "H", "add the header 'Name: value' to every request (repeatable)")
	insecure := fs.Bool("insecure", false, "https: do not verify the server's certificate (a self-signed test server)")
	cpuProfile := fs.String("cpuprofile", "", "write the generator's own CPU profile to this file")
	reportFile := fs.String("report", "", "also write the report as one self-contained HTML page (SVG charts) to this file")
	findMax := fs.Bool("find-max", false, "search the highest open-loop rate with p99 under -slo-p99 and no errors (ramp, then bisect)")
	slo := fs.Duration("slo-p99", 0, "with -find-max: the p99 latency bound")
	step := fs.Duration("step", 2*time.Second, "with -find-max: how long each rate is measured (plus a quarter of it to warm up)")
	startRate := fs.Float64("start-rate", 1000, "with -find-max: the first rate tried (doubled until a step fails)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	load := bench.Load{URL: *url, Concurrency: *c, Rate: *rate, Duration: *duration, N: *n, Warmup: *warmup, Timeout: *timeout, Pipeline: *pipeline}
	if len(headers) > 0 {
		load.Header = headers
	}
	if *insecure {
		load.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	switch {
	case *bodyFile != "":
		body, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintf(stderr, "jetrpc: %v\n", err)
			return 2
		}
		load.Requests = []bench.Template{bench.Raw(body)}
	case *mixFile != "":
		var err error
		if load.Requests, load.Weights, err = readMix(*mixFile, *batch); err != nil {
			fmt.Fprintf(stderr, "jetrpc: -mix: %v\n", err)
			return 2
		}
	default:
		var p []byte
		if *params != "" {
			p = []byte(*params)
			if !json.Valid(p) || (p[0] != '[' && p[0] != '{') {
				fmt.Fprintf(stderr, "jetrpc: -params must be a JSON array or object\n")
				return 2
			}
		}
		load.Requests = []bench.Template{bench.Call(*method, p, *batch)}
	}
	if *showProgress || isTerminal(stderr) {
		load.Progress = stderr
	}
	stopProfile, ok := startCPUProfile(*cpuProfile, stderr)
	if !ok {
		return 2
	}
	defer stopProfile()
	runParams := paramsOf(fs, *url)
	if *findMax {
		return searchCmd(ctx, load, bench.Search{SLO: *slo, Step: *step, Start: *startRate}, *asJSON, *reportFile, runParams, stdout, stderr)
	}
	rep, err := load.Run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	if *reportFile != "" {
		if err := writeHTMLReport(*reportFile, runParams, rep, nil); err != nil {
			fmt.Fprintf(stderr, "jetrpc: -report: %v\n", err)
			return 2
		}
	}
	if *asJSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(b))
	} else {
		writeReport(stdout, rep)
	}
	if rep.Errors > 0 && !*allowErrors {
		return 1
	}
	return 0
}

// readMix reads JSON lines of {"weight": N, "request": {"method": …, "params": …}}.
func readMix(file string, batch int) ([]bench.Template, []int, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var templates []bench.Template
	var weights []int
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var entry struct {
			Weight  int `json:"weight"`
			Request struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			} `json:"request"`
		}
		if err := json.Unmarshal(text, &entry); err != nil || entry.Request.Method == "" {
			return nil, nil, fmt.Errorf("line %d: want {\"weight\": N, \"request\": {\"method\": …}}", line)
		}
		templates = append(templates, bench.Call(entry.Request.Method, entry.Request.Params, batch))
		weights = append(weights, max(entry.Weight, 1))
	}
	if len(templates) == 0 {
		return nil, nil, errors.New("no requests")
	}
	return templates, weights, sc.Err()
}

func writeReport(w io.Writer, r *bench.Report) {
	fmt.Fprintf(w, "requests   %d in %.2fs: %d ok, %.0f ok/s\n", r.Requests, r.DurationS, r.OK, r.RPS)
	fmt.Fprintf(w, "latency    p50 %.3fms  p90 %.3fms  p99 %.3fms  p99.9 %.3fms  max %.3fms  (successful calls)\n",
		ms(r.LatencyUS.P50), ms(r.LatencyUS.P90), ms(r.LatencyUS.P99), ms(r.LatencyUS.P999), ms(r.LatencyUS.Max))
	if l := r.SendLatenessUS; l != nil {
		fmt.Fprintf(w, "lateness   p50 %.3fms  p99 %.3fms  max %.3fms  (requests sent after their due time)\n", ms(l.P50), ms(l.P99), ms(l.Max))
		if time.Duration(l.P99)*time.Microsecond > bench.LatenessWarning {
			fmt.Fprintf(w, "warning    send lateness p99 is over %v: the generator, not the server, limits this run\n", bench.LatenessWarning)
		}
	}
	fmt.Fprintf(w, "errors     %d (%.0f/s)\n", r.Errors, r.ErrorsPerSecond)
	for _, k := range r.SortedKinds() {
		fmt.Fprintf(w, "  %-20s %d\n", k, r.ErrorsByKind[k])
	}
	for _, k := range r.SortedKinds() {
		if m := r.FirstErrors[k]; m != "" {
			fmt.Fprintf(w, "  first: %s\n", m)
		}
	}
}

// searchCmd runs -find-max and prints its steps and answer: exit 0 with a
// rate, 1 when even the slowest step failed, 2 on a usage error.
func searchCmd(ctx context.Context, load bench.Load, s bench.Search, asJSON bool, reportFile string, params []bench.Param, stdout, stderr io.Writer) int {
	if s.SLO <= 0 {
		fmt.Fprintln(stderr, "jetrpc: -find-max needs -slo-p99 D (the p99 latency bound)")
		return 2
	}
	if !asJSON {
		fmt.Fprintf(stdout, "searching the highest rate with p99 under %v and no errors (%v per step)\n", s.SLO, s.Step)
		fmt.Fprintf(stdout, "%4s  %10s  %10s  %9s  %9s  %7s  %9s  %s\n", "step", "rate/s", "ok/s", "p50", "p99", "errors", "lateness", "verdict")
		n := 0
		s.Progress = func(st bench.Step) {
			n++
			verdict := "pass"
			if !st.Pass {
				verdict = "fail (" + st.Why + ")"
			}
			fmt.Fprintf(stdout, "%4d  %10.0f  %10.0f  %7.3fms  %7.3fms  %7d  %7.3fms  %s\n", n, st.Rate, st.OKPerSecond,
				ms(st.P50US), ms(st.P99US), st.Errors, ms(st.LatenessUS), verdict)
		}
	}
	res, err := load.FindMax(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "jetrpc: %v\n", err)
		return 2
	}
	if reportFile != "" {
		if err := writeHTMLReport(reportFile, params, nil, res); err != nil {
			fmt.Fprintf(stderr, "jetrpc: -report: %v\n", err)
			return 2
		}
	}
	if asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(b))
	} else if res.Rate > 0 {
		fmt.Fprintf(stdout, "max rate   %.0f requests/s with p99 under %v\n", res.Rate, s.SLO)
	} else {
		fmt.Fprintf(stdout, "no rate from %.0f/s down passed\n", s.Start)
	}
	if res.Rate == 0 {
		return 1
	}
	return 0
}

// paramsOf lists the run's parameters for the HTML report: the URL and
// every flag given.
func paramsOf(fs *flag.FlagSet, url string) []bench.Param {
	params := []bench.Param{{Name: "url", Value: url}, {Name: "date", Value: time.Now().UTC().Format(time.RFC3339)}}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "url" && f.Name != "report" {
			params = append(params, bench.Param{Name: "-" + f.Name, Value: f.Value.String()})
		}
	})
	return params
}

// writeHTMLReport writes the HTML report to file.
func writeHTMLReport(file string, params []bench.Param, rep *bench.Report, search *bench.SearchResult) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := bench.WriteHTML(f, "jetrpc bench", params, rep, search); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ms(us int64) float64 { return float64(us) / 1000 }

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
