package codec

import (
	"reflect"
	"testing"
)

func TestIter(t *testing.T) {
	tests := []struct {
		in         string
		keys, vals []string
	}{
		{`[]`, nil, nil},
		{`{ }`, nil, nil},
		{`[1, "a\"]", [2,[3]] ,{"x":"}"},null,-1.5e3]`, nil, []string{`1`, `"a\"]"`, `[2,[3]]`, `{"x":"}"}`, `null`, `-1.5e3`}},
		{`{ "a" : 1 , "b\"c":{"d":[]}, "e":"` + "xxxxxxxxxxxxxxxxxxxxxxxxxx" + `" } `, []string{"a", `b\"c`, "e"}, []string{"1", `{"d":[]}`, `"xxxxxxxxxxxxxxxxxxxxxxxxxx"`}},
		{`"scalar"`, nil, nil},
	}
	// One Iter reused with Reset across the cases, in both orders, must
	// read each as a fresh one from Iterate does: nothing of the previous
	// container (its kind, its count, its last member) may remain.
	var reused Iter
	for pass := range 2 {
		for n := range tests {
			tt := tests[n]
			if pass == 1 {
				tt = tests[len(tests)-1-n]
			}
			fresh := Iterate([]byte(tt.in))
			reused.Reset([]byte(tt.in))
			for name, it := range map[string]*Iter{"Iterate": &fresh, "Reset": &reused} {
				var keys, vals []string
				for it.Next() {
					if it.IsObject() {
						keys = append(keys, string(it.Key()))
					}
					vals = append(vals, string(it.Value()))
					if it.Index() != len(vals)-1 {
						t.Errorf("%s(%s): Index() = %d, want %d", name, tt.in, it.Index(), len(vals)-1)
					}
				}
				if !reflect.DeepEqual(keys, tt.keys) || !reflect.DeepEqual(vals, tt.vals) {
					t.Errorf("%s(%s): keys %q values %q, want %q %q", name, tt.in, keys, vals, tt.keys, tt.vals)
				}
			}
		}
	}
}

// TestIterNeverPanics feeds Iter documents it was not meant for: truncated
// and invalid ones. It must stop, not panic.
func TestIterNeverPanics(t *testing.T) {
	for _, doc := range differentialCorpus() {
		for _, in := range []string{doc, "{" + doc, "[" + doc, `{"` + doc, `{"a":` + doc} {
			it := Iterate([]byte(in))
			for n := 0; it.Next(); n++ {
				if n > len(in) {
					t.Fatalf("Iterate(%.40q) does not stop", in)
				}
			}
		}
	}
}

// TestIterStringsAroundAWord: strings ending within the first word, at
// its edge, past it, and with escapes before or across it, are skipped
// whole (skipValidString tests one word before its loop).
func TestIterStringsAroundAWord(t *testing.T) {
	for _, key := range []string{``, `a`, `abcdef`, `abcdefg`, `abcdefgh`, `abcdefghi`, `a\"b`, `\\`, `abcdef\"`, `abcdefg\\x`,
		`abcdefgh\"ij`, `\u00e9\u00e9`, `ab\\\"cd\\`, `\"\"\"\"\"\"\"\"\"`} {
		doc := `{"` + key + `":[1,"` + key + `"],"z":2}`
		var keys []string
		for it := Iterate([]byte(doc)); it.Next(); {
			keys = append(keys, string(it.Key())+"="+string(it.Value()))
		}
		want := []string{key + `=[1,"` + key + `"]`, `z=2`}
		if len(keys) != 2 || keys[0] != want[0] || keys[1] != want[1] {
			t.Errorf("%s: got %q, want %q", doc, keys, want)
		}
	}
}
