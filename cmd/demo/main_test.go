package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCosineDemoRunsEndToEnd runs a short cosine demo: the output is that of
// the full demo (the steps are fewer), the plot is written, and the last line
// reports a test RMSE that training improved.
func TestCosineDemoRunsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"cosine", "-steps", "200", "-out", dir}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	last := regexp.MustCompile(`^test RMSE after training: (\d+\.\d+)$`).FindStringSubmatch(lines[len(lines)-1])
	before := regexp.MustCompile(`test RMSE before training: (\d+\.\d+)`).FindStringSubmatch(text)
	if last == nil || before == nil {
		t.Fatalf("output lacks the RMSE lines:\n%s", text)
	}
	after, _ := strconv.ParseFloat(last[1], 64)
	first, _ := strconv.ParseFloat(before[1], 64)
	if !(after < first/2) {
		t.Errorf("200 steps took the test RMSE from %v to %v", first, after)
	}
	if strings.Count(text, "mean loss") != 2 {
		t.Errorf("want a loss line every 100 steps:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(dir, "cosine_test.png")); err != nil {
		t.Error(err)
	}
}

func TestDemoArgumentErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nosuchdemo"},
		{"cosine", "-steps", "-1"},
		{"cosine", "-nosuchflag"},
		{"cosine", "extra"},
	} {
		if err := run(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestVowelsDemoRunsEndToEnd runs a short vowels demo: it trains, reports
// per-speaker precision and recall and the test accuracy, and writes its
// three plots.
func TestVowelsDemoRunsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"vowels", "-epochs", "2", "-hidden", "8", "-out", dir}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !regexp.MustCompile(`(?m)^test accuracy: \d+\.\d+%$`).MatchString(text) || strings.Count(text, "speaker ") < 9 {
		t.Errorf("output:\n%s", text)
	}
	for _, name := range []string{"vowels_training.png", "vowels_confusion.png", "vowels_activations.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}
