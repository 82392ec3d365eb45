package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/jetrpc/jetrpc/bench"
)

// TestFindMax: the search ramps while steps pass, and its answer is the
// highest passing rate; a bound nothing meets answers 0.
func TestFindMax(t *testing.T) {
	l := inMemory(t)
	l.Requests = []bench.Template{bench.Call("ping", nil, 1)}
	res, err := l.FindMax(context.Background(), bench.Search{SLO: time.Second, Step: 100 * time.Millisecond, Start: 200, MaxSteps: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 3 || res.Rate != 800 || res.Steps[1].Rate != 400 || !res.Steps[2].Pass {
		t.Errorf("ramp: %+v", res)
	}
	l.Requests = []bench.Template{bench.Call("sleep", []byte(`[5]`), 1)}
	res, err = l.FindMax(context.Background(), bench.Search{SLO: time.Millisecond, Step: 100 * time.Millisecond, Start: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rate != 0 || res.Steps[0].Pass || res.Steps[0].Why != "p99" {
		t.Errorf("unreachable bound: %+v", res)
	}
	if _, err := l.FindMax(context.Background(), bench.Search{}); err == nil {
		t.Error("a search without a bound ran")
	}
}
