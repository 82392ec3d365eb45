package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Param is one line of a report's parameters table.
type Param struct{ Name, Value string }

// WriteHTML writes rep (and search, when the run was a capacity search)
// as one self-contained HTML page: no script, no font, no network; the
// charts are SVG drawn here. Each plotted series is a <polyline> whose
// data-values attribute holds the numbers it draws ("x:y" pairs), so
// that a test, or a reader, can check the picture against the report.
func WriteHTML(w io.Writer, title string, params []Param, rep *Report, search *SearchResult) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>`)
	b.WriteString(html.EscapeString(title))
	b.WriteString(`</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}
svg{background:#fafafa;border:1px solid #ddd}
.axis{stroke:#999;stroke-width:1}.grid{stroke:#e4e4e4;stroke-width:1}
text{font-size:11px;fill:#555}
.s0{stroke:#1f77b4;border-color:#1f77b4}.s1{stroke:#d62728;border-color:#d62728}.s2{stroke:#2ca02c;border-color:#2ca02c}
.s3{stroke:#9467bd;border-color:#9467bd}.s4{stroke:#ff7f0e;border-color:#ff7f0e}.s5{stroke:#8c564b;border-color:#8c564b}
polyline{fill:none;stroke-width:2}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:14px;border-top-width:3px;border-top-style:solid;vertical-align:middle;margin-right:4px}
</style></head><body>`)
	fmt.Fprintf(&b, "<h1>%s</h1>", html.EscapeString(title))
	b.WriteString("<h2>Parameters</h2><table>")
	for _, p := range params {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>", html.EscapeString(p.Name), html.EscapeString(p.Value))
	}
	b.WriteString("</table>")
	if rep != nil {
		writeSummary(&b, rep)
		if len(rep.Histogram) > 0 {
			b.WriteString("<h2>Latency by percentile (successful calls)</h2>")
			var pts []point
			for _, p := range rep.Histogram {
				pts = append(pts, point{hdrX(p.Percentile), float64(p.US) / 1000})
			}
			chart(&b, "latency", "ms", []series1{{"latency", pts}}, hdrTicks())
		}
		if len(rep.Seconds) > 0 {
			var ok, p50, p99 []point
			kinds := map[string][]point{}
			for _, s := range rep.Seconds {
				t := float64(s.T)
				ok = append(ok, point{t, float64(s.OK)})
				p50 = append(p50, point{t, float64(s.P50US) / 1000})
				p99 = append(p99, point{t, float64(s.P99US) / 1000})
			}
			for _, k := range rep.SortedKinds() {
				for _, s := range rep.Seconds {
					kinds[k] = append(kinds[k], point{float64(s.T), float64(s.Errors[k])})
				}
			}
			b.WriteString("<h2>Successful requests per second</h2>")
			chart(&b, "rps", "requests/s", []series1{{"ok/s", ok}}, nil)
			b.WriteString("<h2>Latency per second</h2>")
			chart(&b, "latency-per-second", "ms", []series1{{"p50", p50}, {"p99", p99}}, nil)
			if len(kinds) > 0 {
				b.WriteString("<h2>Errors per second, by kind</h2>")
				var ss []series1
				for _, k := range rep.SortedKinds() {
					ss = append(ss, series1{k, kinds[k]})
				}
				chart(&b, "errors", "errors/s", ss, nil)
			}
		}
	}
	if search != nil {
		fmt.Fprintf(&b, "<h2>Capacity search: %s requests/s with p99 under %.3f ms</h2>", strconv.FormatFloat(search.Rate, 'f', 0, 64), float64(search.SLOUS)/1000)
		steps := append([]Step(nil), search.Steps...)
		sort.Slice(steps, func(i, j int) bool { return steps[i].Rate < steps[j].Rate })
		var p99, slo []point
		for _, s := range steps {
			p99 = append(p99, point{s.Rate, float64(s.P99US) / 1000})
			slo = append(slo, point{s.Rate, float64(search.SLOUS) / 1000})
		}
		chart(&b, "search", "p99 ms", []series1{{"p99", p99}, {"bound", slo}}, nil)
		b.WriteString("<table><tr><th>step</th><th>rate/s</th><th>ok/s</th><th>p50 ms</th><th>p99 ms</th><th>errors</th><th>verdict</th></tr>")
		for i, s := range search.Steps {
			verdict := "pass"
			if !s.Pass {
				verdict = "fail (" + s.Why + ")"
			}
			fmt.Fprintf(&b, "<tr><td>%d</td><td>%.0f</td><td>%.0f</td><td>%.3f</td><td>%.3f</td><td>%d</td><td>%s</td></tr>",
				i+1, s.Rate, s.OKPerSecond, float64(s.P50US)/1000, float64(s.P99US)/1000, s.Errors, verdict)
		}
		b.WriteString("</table>")
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSummary(b *strings.Builder, rep *Report) {
	b.WriteString("<h2>Summary</h2><table>")
	row := func(k, v string) { fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td></tr>", k, html.EscapeString(v)) }
	row("requests", fmt.Sprintf("%d in %.2f s", rep.Requests, rep.DurationS))
	row("successful", fmt.Sprintf("%d, %.0f/s", rep.OK, rep.RPS))
	l := rep.LatencyUS
	row("latency", fmt.Sprintf("p50 %.3f ms, p90 %.3f, p99 %.3f, p99.9 %.3f, max %.3f", ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max)))
	if s := rep.SendLatenessUS; s != nil {
		row("send lateness", fmt.Sprintf("p50 %.3f ms, p99 %.3f, max %.3f", ms(s.P50), ms(s.P99), ms(s.Max)))
	}
	row("errors", fmt.Sprintf("%d, %.0f/s", rep.Errors, rep.ErrorsPerSecond))
	for _, k := range rep.SortedKinds() {
		row("&nbsp;&nbsp;"+html.EscapeString(k), fmt.Sprintf("%d — first: %s", rep.ErrorsByKind[k], rep.FirstErrors[k]))
	}
	b.WriteString("</table>")
}

func ms(us int64) float64 { return float64(us) / 1000 }

// hdrX places percentile p on an HDR axis: 50 % at 0.3, 90 % at 1, 99 %
// at 2, 99.9 % at 3…
func hdrX(p float64) float64 { return math.Log10(100 / (100 - p)) }

func hdrTicks() []tick {
	var ts []tick
	for _, p := range []float64{50, 90, 99, 99.9, 99.99, 99.999} {
		ts = append(ts, tick{hdrX(p), strconv.FormatFloat(p, 'f', -1, 64) + "%"})
	}
	return ts
}

type point struct{ x, y float64 }

type series1 struct {
	name   string
	points []point
}

type tick struct {
	at    float64
	label string
}

// chart draws series as polylines in an SVG of its own, with axes from 0
// (y) and from the smallest x, and a legend.
func chart(b *strings.Builder, id, unit string, ss []series1, xticks []tick) {
	const w, h, left, right, top, bottom = 900.0, 260.0, 60.0, 30.0, 14.0, 30.0
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range ss {
		for _, p := range s.points {
			xmin, xmax, ymax = min(xmin, p.x), max(xmax, p.x), max(ymax, p.y)
		}
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	if ymax <= 0 {
		ymax = 1
	}
	ymax = niceCeil(ymax)
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*(w-left-right) }
	py := func(y float64) float64 { return top + (1-y/ymax)*(h-top-bottom) }
	fmt.Fprintf(b, `<svg id="%s" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" data-xmin="%g" data-xmax="%g" data-ymax="%g">`,
		id, w, h, w, h, xmin, xmax, ymax)
	for i := 0; i <= 4; i++ {
		y := ymax * float64(i) / 4
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			left, w-right, py(y), py(y), left-6, py(y)+4, label(y))
	}
	if xticks == nil {
		for i := 0; i <= 5; i++ {
			x := xmin + (xmax-xmin)*float64(i)/5
			xticks = append(xticks, tick{x, strconv.FormatFloat(x, 'f', 0, 64)})
		}
	}
	for _, t := range xticks {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px(t.at), h-10, html.EscapeString(t.label))
	}
	fmt.Fprintf(b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/>`, left, w-right, py(0), py(0))
	fmt.Fprintf(b, `<text x="12" y="%.1f" transform="rotate(-90 12 %.1f)" text-anchor="middle">%s</text>`, h/2, h/2, html.EscapeString(unit))
	for i, s := range ss {
		var pts, vals strings.Builder
		for j, p := range s.points {
			if j > 0 {
				pts.WriteByte(' ')
				vals.WriteByte(',')
			}
			fmt.Fprintf(&pts, "%.1f,%.1f", px(p.x), py(p.y))
			fmt.Fprintf(&vals, "%g:%g", p.x, p.y)
		}
		fmt.Fprintf(b, `<polyline class="s%d" data-series="%s" data-values="%s" points="%s"/>`, i%6, html.EscapeString(s.name), vals.String(), pts.String())
	}
	b.WriteString("</svg><div class=\"legend\">")
	for i, s := range ss {
		fmt.Fprintf(b, `<span><i class="s%d"></i>%s</span>`, i%6, html.EscapeString(s.name))
	}
	b.WriteString("</div>")
}

// label writes an axis value: thousands grouped, at most 3 decimals.
func label(v float64) string {
	if v >= 1000 {
		s := strconv.FormatFloat(v, 'f', 0, 64)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
