package rnn_test

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/seqgraph/seqgraph/rnn"
)

// TestCustomCellsDocIsTheExample keeps docs/custom-cells.md true: every Go
// block of the document, except the interface listing, stands verbatim in
// example_custom_test.go, which go test compiles and runs.
func TestCustomCellsDocIsTheExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/custom-cells.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_custom_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d Go blocks in the document", len(blocks))
	}
	for i, b := range blocks {
		if strings.HasPrefix(b[1], "type Cell interface") {
			checkInterfaceListing(t, b[1])
			continue
		}
		if !strings.Contains(string(src), b[1]) {
			t.Errorf("block %d of docs/custom-cells.md is not in example_custom_test.go:\n%s", i+1, b[1])
		}
	}
}

// checkInterfaceListing checks that the document lists exactly the methods
// of rnn.Cell.
func checkInterfaceListing(t *testing.T, listing string) {
	t.Helper()
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^\t(\w+)\(`).FindAllStringSubmatch(listing, -1) {
		listed = append(listed, m[1])
	}
	var want []string
	cell := reflect.TypeOf((*rnn.Cell)(nil)).Elem()
	for i := 0; i < cell.NumMethod(); i++ {
		want = append(want, cell.Method(i).Name)
	}
	sort.Strings(listed)
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("docs/custom-cells.md lists methods %v; rnn.Cell has %v", listed, want)
	}
}
