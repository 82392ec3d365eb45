package jetrpc_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECodeIsExamples: every Go block of README.md is code that go
// test compiles, and runs where its output is deterministic: its lines
// appear, in order and together, in an Example of some example_test.go.
// Spacing inside lines is ignored (gofmt aligns comments differently in a
// shorter block); the words are not.
func TestREADMECodeIsExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go blocks: has its fence changed?")
	}
	var examples []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "peers" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir // bench/peers is another module
		}
		if strings.HasSuffix(path, "example_test.go") {
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			examples = append(examples, "\n"+normalize(string(src))+"\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		code := normalize(b[1])
		found := false
		for _, src := range examples {
			if strings.Contains(src, "\n"+code+"\n") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("README Go block %d is in no example_test.go:\n%s", i+1, b[1])
		}
	}
}

// normalize drops blank lines and the spacing around and inside lines.
func normalize(code string) string {
	var lines []string
	space := regexp.MustCompile(`\s+`)
	for _, l := range strings.Split(code, "\n") {
		if l = strings.TrimSpace(space.ReplaceAllString(l, " ")); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
