package bench_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/jetrpc/jetrpc/bench"
	"golang.org/x/net/html"
)

// TestHTMLReport: the report is one self-contained page whose SVG series
// are the report's numbers: each polyline's data-values are the figures,
// and its points are where those figures are drawn on the chart's scale.
func TestHTMLReport(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Call("ping", nil, 1), bench.Call("fail", nil, 1)}
	l.N = 300
	rep, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	search := &bench.SearchResult{Rate: 2000, SLOUS: 2000, Steps: []bench.Step{
		{Rate: 1000, P99US: 300, Pass: true}, {Rate: 2000, P99US: 900, Pass: true}, {Rate: 4000, P99US: 5000, Why: "p99"}}}
	var out strings.Builder
	if err := bench.WriteHTML(&out, "jetrpc bench <test>", []bench.Param{{"url", l.URL}}, rep, search); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, bad := range []string{"<script", "http://", "https://", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(page, l.URL, ""), bad) {
			t.Errorf("the page is not self-contained: it contains %q", bad)
		}
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	charts := map[string]map[string][][2]float64{}
	var walk func(n *html.Node, svg map[string]string)
	walk = func(n *html.Node, svg map[string]string) {
		if n.Type == html.ElementNode && n.Data == "svg" {
			svg = attrs(n)
			charts[svg["id"]] = map[string][][2]float64{}
		}
		if n.Type == html.ElementNode && n.Data == "polyline" {
			a := attrs(n)
			vals := pairs(t, a["data-values"], ",", ":")
			pts := pairs(t, a["points"], " ", ",")
			checkDrawn(t, svg, vals, pts)
			charts[svg["id"]][a["data-series"]] = vals
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, svg)
		}
	}
	walk(doc, nil)
	lat := charts["latency"]["latency"]
	if len(lat) != len(rep.Histogram) {
		t.Fatalf("latency series %v, report %v", lat, rep.Histogram)
	}
	for i, p := range rep.Histogram {
		if math.Abs(lat[i][0]-bench.HDRX(p.Percentile)) > 1e-9 || lat[i][1] != float64(p.US)/1000 {
			t.Errorf("latency point %d: %v, want %v", i, lat[i], p)
		}
	}
	var ok float64
	for _, v := range charts["rps"]["ok/s"] {
		ok += v[1]
	}
	if ok != float64(rep.OK) || len(charts["latency-per-second"]["p99"]) != len(rep.Seconds) {
		t.Errorf("per-second series: %v ok, report %d", ok, rep.OK)
	}
	if e := charts["errors"]["rpc_error_1000"]; len(e) == 0 {
		t.Errorf("no errors series: %v", charts["errors"])
	}
	if s := charts["search"]["p99"]; len(s) != 3 || s[2] != [2]float64{4000, 5} {
		t.Errorf("search series %v", s)
	}
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

func pairs(t *testing.T, s, sep, inner string) [][2]float64 {
	var out [][2]float64
	for _, f := range strings.Split(s, sep) {
		a, b, ok := strings.Cut(f, inner)
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("pair %q in %q", f, s)
		}
		out = append(out, [2]float64{x, y})
	}
	return out
}

// checkDrawn checks that each value is drawn where the chart's scale puts
// it (the inverse of bench's mapping, to the pixel).
func checkDrawn(t *testing.T, svg map[string]string, vals, pts [][2]float64) {
	num := func(k string) float64 { v, _ := strconv.ParseFloat(svg[k], 64); return v }
	xmin, xmax, ymax := num("data-xmin"), num("data-xmax"), num("data-ymax")
	const w, h, left, right, top, bottom = 900.0, 260.0, 60.0, 30.0, 14.0, 30.0
	if len(vals) != len(pts) {
		t.Fatalf("%d values, %d points", len(vals), len(pts))
	}
	for i, v := range vals {
		x := left + (v[0]-xmin)/(xmax-xmin)*(w-left-right)
		y := top + (1-v[1]/ymax)*(h-top-bottom)
		if math.Abs(x-pts[i][0]) > 0.06 || math.Abs(y-pts[i][1]) > 0.06 {
			t.Errorf("%s: value %v drawn at %v, want (%.1f, %.1f)", svg["id"], v, pts[i], x, y)
		}
	}
}
