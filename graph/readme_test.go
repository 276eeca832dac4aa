package graph_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickStartIsTheExample keeps the README's quick start true: its
// Go block stands verbatim in example_test.go, which go test runs.
func TestReadmeQuickStartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) != 1 {
		t.Fatalf("the README has %d Go blocks, want the quick start", len(blocks))
	}
	if !strings.Contains(string(src), blocks[0][1]) {
		t.Errorf("the README's quick start is not in example_test.go:\n%s", blocks[0][1])
	}
}
