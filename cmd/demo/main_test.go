package main

import (
	"bytes"
	"encoding/json"
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
		{"turbofan", "-epochs", "0"},
		{"forecast", "-months", "5"},
		{"activity", "-hidden", "0"},
		{"video", "extra"},
		{"stacked", "-epochs", "0"},
		{"text", "-hidden", "0"},
		{"conv1d", "-hidden", "8"},
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

// TestCatalogDemosRunEndToEnd runs a short version of each demo of MATLAB's
// catalog and the Keras tutorials (few epochs, small layers): each must
// print its progress, write its figures and end with its metric line,
// `<metric name>: <number>`, as the full demo does.
func TestCatalogDemosRunEndToEnd(t *testing.T) {
	cases := []struct {
		args   []string
		metric string // the last line
		also   string // a line before it
		pngs   []string
	}{
		{[]string{"turbofan", "-epochs", "1", "-hidden", "8"}, `test RMSE \(cycles\)`, `epoch +1/1 `,
			[]string{"turbofan_training.png", "turbofan_rul.png", "turbofan_errors.png"}},
		{[]string{"forecast", "-epochs", "2", "-hidden", "8", "-months", "240"}, `closed-loop test RMSE \(sunspots\)`,
			`(?m)^open-loop test RMSE \(sunspots\): \d+\.\d+$`, []string{"forecast_training.png", "forecast_test.png"}},
		{[]string{"activity", "-epochs", "1", "-hidden", "8"}, `per-step test accuracy \(%\)`, `epoch +1/1 `,
			[]string{"activity_training.png", "activity_confusion.png", "activity_signal.png", "activity_labels.png"}},
		{[]string{"video", "-epochs", "1", "-hidden", "8"}, `test accuracy \(%\)`, `epoch +1/1 `,
			[]string{"video_training.png", "video_confusion.png", "video_frames.png"}},
		{[]string{"stacked", "-epochs", "2"}, `test MSE \(stacked LSTM\)`, `shape \(1, 3, 1\)`, []string{"stacked_test.png"}},
		{[]string{"text", "-epochs", "1", "-hidden", "8"}, `test accuracy \(%\)`, `(?m)^new report "Coolant is pooling underneath sorter.": \w`,
			[]string{"text_training.png", "text_confusion.png"}},
		{[]string{"conv1d", "-epochs", "1"}, `test accuracy \(%\)`, `(?m)^for comparison, the BiLSTM's test accuracy: \d+\.\d+%`,
			[]string{"conv1d_training.png", "conv1d_confusion.png"}},
	}
	for _, c := range cases {
		t.Run(c.args[0], func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			if err := run(append(c.args, "-out", dir), &out); err != nil {
				t.Fatal(err)
			}
			text := strings.TrimSpace(out.String())
			lines := strings.Split(text, "\n")
			if !regexp.MustCompile(`^` + c.metric + `: \d+(\.\d+)?(e-\d+)?$`).MatchString(lines[len(lines)-1]) {
				t.Errorf("last line %q, want %s: <number>", lines[len(lines)-1], c.metric)
			}
			if !regexp.MustCompile(c.also).MatchString(text) {
				t.Errorf("output lacks %q:\n%s", c.also, text)
			}
			for _, name := range c.pngs {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestDemoExports checks that -export writes the data a PyTorch twin reads:
// JSON holding the training and test data that the demo trains and tests
// on.
func TestDemoExports(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "video.json")
	if err := run([]string{"video", "-epochs", "1", "-hidden", "4", "-out", dir, "-export", path}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	e := readExport[videoExport](t, path)
	train, test, err := videoSets()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.TrainX) != train.Len() || len(e.TestLabels) != test.Len() || e.Epochs != 1 || e.Hidden != 4 {
		t.Fatalf("export holds %d training and %d test clips, epochs %d, hidden %d", len(e.TrainX), len(e.TestLabels), e.Epochs, e.Hidden)
	}
	s := train.Sequence(5)
	if len(e.TrainX[5]) != s.T || e.TrainX[5][s.T-1][7] != s.Data[(s.T-1)*s.F+7] || e.TrainLabels[5] != train.Label(5) {
		t.Error("exported clip 5 differs from the training set's")
	}
}

// TestGeneratedDataIsFixed checks that the generated sets do not depend on
// the run (fixed seeds) and hold what the demos promise: padding frames in
// the videos, several activities in a recording.
func TestGeneratedDataIsFixed(t *testing.T) {
	a, _, err := videoSets()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := videoSets()
	lengths := map[int]bool{}
	for i := range a.Len() {
		if a.Sequence(i).T != b.Sequence(i).T || a.Sequence(i).Data[3] != b.Sequence(i).Data[3] {
			t.Fatalf("clip %d differs between two generations", i)
		}
		lengths[a.Sequence(i).T] = true
	}
	if len(lengths) != videoMaxFrames-videoMinFrames+1 {
		t.Errorf("clip lengths %v, want every length from %d to %d", lengths, videoMinFrames, videoMaxFrames)
	}
	train, _, err := activitySets()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, l := range train.StepLabels(0) {
		seen[l] = true
	}
	if len(seen) < 3 {
		t.Errorf("the first recording holds activities %v, want several", seen)
	}
}

// TestTextDemoData checks the text demo's preparation against MATLAB's
// recipe and the data's README: 480 reports in 4 classes (204 mechanical,
// 168 electronic, 68 leak, 40 software failures), of which a stratified
// 10% hold-out tests round(10%) of each class (20, 17, 7, 4); the
// vocabulary holds the words of the training reports and no others, so
// that words met only in test reports read as unknown; and -export writes
// each report as the word indices the demo trains on.
func TestTextDemoData(t *testing.T) {
	dir := t.TempDir()
	set, err := loadText(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantTest := map[string]int{"Mechanical Failure": 20, "Electronic Failure": 17, "Leak": 7, "Software Failure": 4}
	if set.train.Len() != 432 || set.test.Len() != 48 {
		t.Errorf("%d training and %d test reports, want 432 and 48", set.train.Len(), set.test.Len())
	}
	got := map[string]int{}
	for i := range set.test.Len() {
		got[set.classes[set.test.Label(i)]]++
	}
	for c, n := range wantTest {
		if got[c] != n {
			t.Errorf("%d test reports of %q, want %d", got[c], c, n)
		}
	}
	trainWords, unknownInTest := map[int]bool{}, 0
	for i := range set.train.Len() {
		for _, x := range set.train.Sequence(i).Data {
			trainWords[int(x)] = true
		}
	}
	for i := range set.test.Len() {
		for _, x := range set.test.Sequence(i).Data {
			if x == 1 {
				unknownInTest++
			}
		}
	}
	if trainWords[0] || trainWords[1] || len(trainWords) != set.vocab.Size()-2 {
		t.Errorf("training reports use %d indices (unknown or padding among them: %v), want every word of the vocabulary of %d words and no other",
			len(trainWords), trainWords[0] || trainWords[1], set.vocab.Size()-2)
	}
	if unknownInTest == 0 {
		t.Error("no test report holds a word unknown to the training vocabulary")
	}

	path := filepath.Join(dir, "text.json")
	if err := set.export(path, 3, 8, 2); err != nil {
		t.Fatal(err)
	}
	e := readExport[textExport](t, path)
	s := set.test.Sequence(7)
	if len(e.TestX) != 48 || len(e.TestX[7]) != s.T || float64(e.TestX[7][s.T-1]) != s.Data[s.T-1] || e.TestLabels[7] != set.test.Label(7) ||
		e.VocabularySize != set.vocab.Size() || e.Epochs != 3 || e.Hidden != 8 || e.Seed != 2 {
		t.Errorf("export differs from the prepared data: %d test reports, vocabulary %d, epochs %d, hidden %d, seed %d",
			len(e.TestX), e.VocabularySize, e.Epochs, e.Hidden, e.Seed)
	}
}

// readExport reads the JSON file that a demo's -export wrote.
func readExport[E any](t *testing.T, path string) E {
	t.Helper()
	var e E
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}
