package main

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// modelLines counts a demo's lines of model code as docs/examples.md
// defines them: the block after the comment "// The model: declare, ...",
// to the first blank line, without error checks, lone closing braces and
// printing.
func modelLines(t *testing.T, demo string) int {
	t.Helper()
	f, err := os.Open(demo + ".go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	skipped := regexp.MustCompile(`^\s*(if err != nil \{|return (nil, )?err|\}|fmt\.Fprint.*)$`)
	n, on := 0, false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.Contains(line, "// The model: declare"):
			on = true
		case on && strings.TrimSpace(line) == "":
			return n
		case on && !skipped.MatchString(line):
			n++
		}
	}
	t.Fatalf("%s.go has no block marked \"// The model: declare\"", demo)
	return 0
}

// TestModelLinesInDocs holds the model lines docs/examples.md's table gives
// for each demo to the count of the code.
func TestModelLinesInDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/examples.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| (\w+) \|.*\| (\d+)( \+ \d+)? \|$`)
	rows := row.FindAllStringSubmatch(string(doc), -1)
	if len(rows) < 7 {
		t.Fatalf("docs/examples.md's table has %d demo rows with model lines, want the 7 catalog demos", len(rows))
	}
	for _, r := range rows {
		want, _ := strconv.Atoi(r[2])
		if got := modelLines(t, r[1]); got != want {
			t.Errorf("%s: docs/examples.md says %d lines of model code, the code has %d", r[1], want, got)
		}
	}
}
