package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jetrpc/jetrpc/bench/peers"
)

// sample is one benchmark's runs: ns/op, B/op and allocs/op of each.
type sample struct{ ns, bytes, allocs []float64 }

// inProcessTable reads `go test -bench BenchmarkServers -benchmem` output
// (any -count) and writes the medians as markdown.
func inProcessTable(in io.Reader) (string, error) {
	samples := map[string]*sample{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		name, s, ok := parseBenchLine(sc.Text())
		if !ok {
			continue
		}
		have := samples[name]
		if have == nil {
			have = &sample{}
			samples[name] = have
		}
		have.ns = append(have.ns, s.ns...)
		have.bytes = append(have.bytes, s.bytes...)
		have.allocs = append(have.allocs, s.allocs...)
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if len(samples) == 0 {
		return "", errors.New("no BenchmarkServers lines with -benchmem in the input")
	}
	runs := 0
	for _, s := range samples {
		runs = max(runs, len(s.ns))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s with `make peers`: `go test -bench BenchmarkServers -benchmem -count %d` in bench/peers, medians. "+
		"One request at a time over an in-memory connection, with the same fasthttp client for every HTTP server; "+
		"B/op and allocs/op are the server's (the client allocates nothing: the bare row shows what the harness itself costs).\n\n",
		time.Now().UTC().Format("2006-01-02"), machine(), runs)
	b.WriteString("| case | server | ns/op | ÷ bare fasthttp | B/op | allocs/op |\n| --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, c := range peers.Cases {
		bare := samples[benchName(c, peers.Servers[0])]
		for _, s := range peers.Servers {
			m := samples[benchName(c, s)]
			if m == nil {
				fmt.Fprintf(&b, "| %s | %s | n/a | | | |\n", c, s.Name)
				continue
			}
			ratio := ""
			if bare != nil {
				ratio = fmt.Sprintf("%.2f", median(m.ns)/median(bare.ns))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", c, s.Name,
				thousands(median(m.ns)), ratio, thousands(median(m.bytes)), thousands(median(m.allocs)))
		}
	}
	b.WriteString(notes(false))
	return b.String(), nil
}

// benchName is how the testing package names the benchmark of s on c.
func benchName(c peers.Case, s peers.Server) string {
	return string(c) + "/" + strings.ReplaceAll(s.Name, " ", "_")
}

// parseBenchLine reads "BenchmarkServers/CASE/SERVER-P  N  X ns/op  [Y MB/s]  Z B/op  W allocs/op".
func parseBenchLine(line string) (string, sample, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkServers/") {
		return "", sample{}, false
	}
	name := strings.TrimPrefix(f[0], "BenchmarkServers/")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the GOMAXPROCS suffix
		}
	}
	var s sample
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", sample{}, false
		}
		switch f[i+1] {
		case "ns/op":
			s.ns = append(s.ns, v)
		case "B/op":
			s.bytes = append(s.bytes, v)
		case "allocs/op":
			s.allocs = append(s.allocs, v)
		}
	}
	if len(s.ns) != 1 || len(s.bytes) != 1 || len(s.allocs) != 1 {
		return "", sample{}, false
	}
	return name, s, true
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// thousands formats v rounded, with commas between thousands.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// machine names the CPU, its count and the Go release.
func machine() string {
	model := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s", model, runtime.NumCPU(), runtime.Version())
}

// notes lists how each server differs from the others.
func notes(loopback bool) string {
	var b strings.Builder
	b.WriteString("\n")
	for _, s := range peers.Servers {
		if s.Note == "" || (loopback && s.Stream) {
			continue
		}
		fmt.Fprintf(&b, "- %s: %s.\n", s.Name, s.Note)
	}
	return b.String()
}

// splice replaces the text between <!-- peers:NAME --> and
// <!-- /peers:NAME --> in file with text; nothing when file is "".
func splice(file, name, text string) error {
	if file == "" {
		return nil
	}
	old, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	begin, end := []byte("<!-- peers:"+name+" -->\n"), []byte("<!-- /peers:"+name+" -->")
	i, j := bytes.Index(old, begin), bytes.Index(old, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %s … %s markers", file, bytes.TrimSpace(begin), end)
	}
	var b bytes.Buffer
	b.Write(old[:i+len(begin)])
	b.WriteString(text)
	b.Write(old[j:])
	return os.WriteFile(file, b.Bytes(), 0o644)
}
