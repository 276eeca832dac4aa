package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeFolder makes a folder in a temporary directory holding files, by
// name, and returns its path.
func writeFolder(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantErr checks that err is a dataset error containing every one of want.
func wantErr(t *testing.T, name string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", name, want)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "dataset: ") {
		t.Errorf("%s: error %q lacks the package prefix", name, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not contain %q", name, msg, w)
		}
	}
}

func openFolder(t *testing.T, dir string, opts ...CSVOption) *CSVFolder {
	t.Helper()
	f, err := OpenCSVFolder(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mustObservation(t *testing.T, src Source, i int) Observation {
	t.Helper()
	o, err := src.Observation(i)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCSVFolderClassification(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"a.csv":      "x, y\n1,2\n3,4\n5,6\n",
		"b.csv":      "\ufeffx,y\r\n7,8\r\n",
		"c.csv":      "x,y\n\n9,10\n  \n11,12\n",
		"README.txt": "not listed, so ignored",
		"labels.csv": "b.csv,dog\na.csv, cat\n\nc.csv,dog\n",
	})
	f := openFolder(t, dir)
	if got, want := f.Schema(), (Schema{NumFeatures: 2, NumClasses: 2}); got != want {
		t.Errorf("Schema = %+v, want %+v", got, want)
	}
	if f.Len() != 3 {
		t.Errorf("Len = %d, want 3", f.Len())
	}
	if got, want := f.ClassNames(), []string{"cat", "dog"}; !slices.Equal(got, want) {
		t.Errorf("ClassNames = %q, want %q", got, want)
	}
	if got, want := f.FeatureNames(), []string{"x", "y"}; !slices.Equal(got, want) {
		t.Errorf("FeatureNames = %q, want %q", got, want)
	}
	want := []struct {
		file  string
		label int
		data  []float64
	}{
		{"b.csv", 1, []float64{7, 8}},
		{"a.csv", 0, []float64{1, 2, 3, 4, 5, 6}},
		{"c.csv", 1, []float64{9, 10, 11, 12}},
	}
	for i, w := range want {
		o := mustObservation(t, f, i)
		if f.FileName(i) != w.file || o.Label != w.label || !slices.Equal(o.Seq.Data, w.data) ||
			o.Seq.F != 2 || o.Seq.T != len(w.data)/2 || o.Response != nil {
			t.Errorf("observation %d = %s %+v, want %s label %d data %v", i, f.FileName(i), o, w.file, w.label, w.data)
		}
	}
	// The caller owns what Observation returns.
	o := mustObservation(t, f, 0)
	o.Seq.Data[0] = -1
	if o := mustObservation(t, f, 0); o.Seq.Data[0] != 7 {
		t.Errorf("Observation shares data between calls")
	}
	names := f.ClassNames()
	names[0] = "changed"
	if f.ClassNames()[0] != "cat" {
		t.Errorf("ClassNames shares storage with the folder")
	}
}

func TestCSVFolderClassOrder(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   []string
	}{
		{[]string{"10", "9", "2", "9"}, []string{"2", "9", "10"}},
		{[]string{"-1", "+1", "01", "1"}, []string{"-1", "+1", "01", "1"}},
		{[]string{"b", "10", "a", "9"}, []string{"10", "9", "a", "b"}},
	} {
		files := map[string]string{}
		var lines []string
		for i, l := range tc.labels {
			name := fmt.Sprintf("s%d.csv", i)
			files[name] = "1\n"
			lines = append(lines, name+","+l)
		}
		files["labels.csv"] = strings.Join(lines, "\n")
		f := openFolder(t, writeFolder(t, files))
		got := f.ClassNames()
		if !slices.Equal(got, tc.want) {
			t.Errorf("labels %q: ClassNames = %q, want %q", tc.labels, got, tc.want)
		}
		for i, l := range tc.labels {
			if o := mustObservation(t, f, i); got[o.Label] != l {
				t.Errorf("labels %q: observation %d has class %d = %q, want %q", tc.labels, i, o.Label, got[o.Label], l)
			}
		}
	}
}

func TestCSVFolderWithClassNames(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"a.csv":      "1\n",
		"b.csv":      "2\n",
		"labels.csv": "a.csv,dog\nb.csv,dog\n",
	})
	f := openFolder(t, dir, WithClassNames([]string{"dog", "cat", "bird"}))
	if got := f.Schema().NumClasses; got != 3 {
		t.Errorf("NumClasses = %d, want 3 from WithClassNames", got)
	}
	if o := mustObservation(t, f, 1); o.Label != 0 {
		t.Errorf("label = %d, want 0", o.Label)
	}
	_, err := OpenCSVFolder(dir, WithClassNames([]string{"cat"}))
	wantErr(t, "unknown label", err, "labels.csv: line 1, column 2: unknown label \"dog\"")
}

func TestCSVFolderRegression(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"a.csv":     "1,2,3\n4,5,6\n",
		"b.csv":     "7,8,9\n",
		"resp.csv":  "file,r1,r2\na.csv,0.5,-1\nb.csv,2,1e3\n",
		"other.csv": "x\n",
	})
	f := openFolder(t, dir, WithTask(Regression), WithTargetsFile("resp.csv"), WithTargetsHeader(true))
	if got, want := f.Schema(), (Schema{NumFeatures: 3, ResponseSize: 2}); got != want {
		t.Errorf("Schema = %+v, want %+v", got, want)
	}
	if f.ClassNames() != nil || f.FeatureNames() != nil {
		t.Errorf("ClassNames, FeatureNames = %q, %q, want nil", f.ClassNames(), f.FeatureNames())
	}
	o := mustObservation(t, f, 1)
	if !slices.Equal(o.Response, []float64{2, 1000}) || o.Label != -1 || !slices.Equal(o.Seq.Data, []float64{7, 8, 9}) {
		t.Errorf("observation 1 = %+v, want data [7 8 9], response [2 1000], label -1", o)
	}
	o.Response[0] = 99
	if o := mustObservation(t, f, 1); o.Response[0] != 2 {
		t.Errorf("Observation shares responses between calls")
	}
}

func TestCSVFolderUnlabeled(t *testing.T) {
	files := map[string]string{
		"b.csv":     "1,2\n",
		"a.CSV":     "3,4\n",
		"notes.txt": "ignored",
	}
	dir := writeFolder(t, files)
	if err := os.Mkdir(filepath.Join(dir, "sub.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := openFolder(t, dir, WithTask(Unlabeled))
	if f.Len() != 2 || f.FileName(0) != "a.CSV" || f.FileName(1) != "b.csv" {
		t.Errorf("files = %d: %q, %q, want a.CSV and b.csv", f.Len(), f.FileName(0), f.FileName(1))
	}
	if got, want := f.Schema(), (Schema{NumFeatures: 2}); got != want {
		t.Errorf("Schema = %+v, want %+v", got, want)
	}
	if o := mustObservation(t, f, 0); o.Label != -1 || o.Response != nil || !slices.Equal(o.Seq.Data, []float64{3, 4}) {
		t.Errorf("observation 0 = %+v", o)
	}

	// A targets file, when there is one, chooses and orders the files;
	// labels in it are ignored.
	files["labels.csv"] = "b.csv,cat\n"
	f = openFolder(t, writeFolder(t, files), WithTask(Unlabeled))
	if f.Len() != 1 || f.FileName(0) != "b.csv" {
		t.Errorf("with labels.csv: %d files, first %q, want only b.csv", f.Len(), f.FileName(0))
	}

	_, err := OpenCSVFolder(dir, WithTask(Unlabeled), WithTargetsFile("list.csv"))
	wantErr(t, "named targets file missing", err, "list.csv", "no such file")
	_, err = OpenCSVFolder(writeFolder(t, map[string]string{"x.txt": "1"}), WithTask(Unlabeled))
	wantErr(t, "no csv files", err, "no .csv files")
}

func TestCSVFolderHeader(t *testing.T) {
	numeric := map[string]string{
		"a.csv":      "1,2\n3,4\n",
		"b.csv":      "5,6\n",
		"labels.csv": "a.csv,0\nb.csv,1\n",
	}
	f := openFolder(t, writeFolder(t, numeric), WithHeader(true))
	if got, want := f.FeatureNames(), []string{"1", "2"}; !slices.Equal(got, want) {
		t.Errorf("FeatureNames = %q, want %q: WithHeader(true) takes row 1 as a header", got, want)
	}
	if o := mustObservation(t, f, 0); !slices.Equal(o.Seq.Data, []float64{3, 4}) {
		t.Errorf("observation 0 data = %v, want [3 4]", o.Seq.Data)
	}
	// b.csv has a "header" 5,6 that differs from a.csv's and no rows.
	_, err := f.Observation(1)
	wantErr(t, "numeric header differs", err, "b.csv: line 1, column 1: header is \"5\", want \"1\" as in a.csv")

	named := map[string]string{
		"a.csv":      "x,y\n1,2\n",
		"labels.csv": "a.csv,0\n",
	}
	_, err = OpenCSVFolder(writeFolder(t, named), WithHeader(false))
	wantErr(t, "header refused", err, "a.csv: line 1, column 1: \"x\" is not a number")

	// Detected from the first file, a header is then required of all.
	mixed := map[string]string{
		"a.csv":      "x,y\n1,2\n",
		"b.csv":      "3,4\n5,6\n",
		"labels.csv": "a.csv,0\nb.csv,1\n",
	}
	f = openFolder(t, writeFolder(t, mixed))
	_, err = f.Observation(1)
	wantErr(t, "header missing", err, "b.csv: line 1, column 1: header is \"3\", want \"x\" as in a.csv")
	mixed["labels.csv"] = "b.csv,1\na.csv,0\n"
	f = openFolder(t, writeFolder(t, mixed))
	_, err = f.Observation(1)
	wantErr(t, "header unexpected", err, "a.csv: line 1, column 1: \"x\" is not a number")
}

// TestCSVFolderOpenReadsOneFile checks that opening reads the first file
// and no other: a broken second file is found only when it is read.
func TestCSVFolderOpenReadsOneFile(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"a.csv":      "1,2\n3,4\n",
		"b.csv":      "1,2\n3,oops\n",
		"labels.csv": "a.csv,0\nb.csv,1\n",
	})
	f := openFolder(t, dir)
	_, err := f.Observation(1)
	wantErr(t, "broken second file", err, "b.csv: line 2, column 2: \"oops\" is not a number")
	// A dangling link cannot be read, but is listed.
	b := filepath.Join(dir, "b.csv")
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), b); err != nil {
		t.Fatal(err)
	}
	f, err = OpenCSVFolder(dir)
	if err != nil {
		t.Fatalf("opening read b.csv: %v", err)
	}
	defer f.Close()
	_, err = f.Observation(1)
	wantErr(t, "dangling link", err, "b.csv", "no such file")
}

func TestCSVFolderReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"ragged", "1,2,3\n4,5,6\n7,8\n", []string{"x.csv: line 3 has 2 values, want 3 as in first.csv"}},
		{"ragged after blank", "1,2,3\n\n\n4,5,6,7\n", []string{"x.csv: line 4 has 4 values, want 3 as in first.csv"}},
		{"fewer features", "1,2\n3,4\n", []string{"x.csv: line 1 has 2 values, want 3 as in first.csv"}},
		{"non-numeric", "1,2,3\n4,five,6\n", []string{"x.csv: line 2, column 2: \"five\" is not a number"}},
		{"empty value", "1,,3\n", []string{"x.csv: line 1, column 2: empty value"}},
		{"NaN", "1,2,3\n4,5,NaN\n", []string{"x.csv: line 2, column 3: value is NaN, want a finite number"}},
		{"Inf", "1,2,3\n-Inf,5,6\n", []string{"x.csv: line 2, column 1: value is -Inf"}},
		{"overflow", "1,2,1e999\n", []string{"x.csv: line 1, column 3: \"1e999\" is out of the range"}},
		{"empty file", "", []string{"x.csv: empty sequence: no rows"}},
		{"blank file", "\n  \n\n", []string{"x.csv: empty sequence"}},
		{"quote", "1,2,3\n4,5\"\",6\n", []string{"x.csv: parse error on line 2, column 4"}},
		{"multi-line quote", "1,\"2\n\",3\n4,5,x\n", []string{"x.csv: line 3, column 3: \"x\" is not a number"}},
	} {
		dir := writeFolder(t, map[string]string{
			"first.csv":  "1,2,3\n",
			"x.csv":      tc.text,
			"labels.csv": "first.csv,a\nx.csv,b\n",
		})
		f := openFolder(t, dir)
		_, err := f.Observation(1)
		wantErr(t, tc.name, err, tc.want...)
		if o := mustObservation(t, f, 0); !slices.Equal(o.Seq.Data, []float64{1, 2, 3}) {
			t.Errorf("%s: first.csv read as %v", tc.name, o.Seq.Data)
		}
	}
}

func TestCSVFolderOpenErrors(t *testing.T) {
	seqs := map[string]string{"a.csv": "1,2\n", "b.csv": "3,4\n"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range seqs {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  []CSVOption
		want  []string
	}{
		{"no targets file", seqs, nil, []string{"targets file", "labels.csv", "no such file"}},
		{"missing file", with(map[string]string{"labels.csv": "a.csv,x\n\nc.csv,y\n"}), nil,
			[]string{"labels.csv: line 3: file \"c.csv\" is not in"}},
		{"header not skipped", with(map[string]string{"labels.csv": "file,label\na.csv,x\n"}), nil,
			[]string{"line 1: file \"file\" is not in", "WithTargetsHeader(true)"}},
		{"duplicate", with(map[string]string{"labels.csv": "a.csv,x\nb.csv,y\n a.csv ,y\n"}), nil,
			[]string{"labels.csv: line 3: file \"a.csv\" listed again, first on line 1"}},
		{"missing label", with(map[string]string{"labels.csv": "a.csv,x\nb.csv, \n"}), nil,
			[]string{"labels.csv: line 2, column 2: missing label of \"b.csv\""}},
		{"no label column", with(map[string]string{"labels.csv": "a.csv,x\nb.csv\n"}), nil,
			[]string{"labels.csv: line 2 has 1 values, want 2: file name and label"}},
		{"too many columns", with(map[string]string{"labels.csv": "a.csv,x,y\n"}), nil,
			[]string{"labels.csv: line 1 has 3 values, want 2"}},
		{"empty name", with(map[string]string{"labels.csv": "a.csv,x\n,y\n"}), nil,
			[]string{"line 2, column 1: empty file name"}},
		{"path", with(map[string]string{"labels.csv": "../a.csv,x\n"}), nil,
			[]string{"line 1, column 1: \"../a.csv\" is not the name of a file in the folder"}},
		{"control in name", with(map[string]string{"labels.csv": "\"a\nb.csv\",x\n"}), nil,
			[]string{"line 1, column 1: file name \"a\\nb.csv\" has a control character"}},
		{"control in label", with(map[string]string{"labels.csv": "a.csv,x\x00y\n"}), nil,
			[]string{"line 1, column 2: label \"x\\x00y\" has a control character"}},
		{"byte order mark in label", with(map[string]string{"labels.csv": "a.csv,\ufeffx\n"}), nil,
			[]string{"line 1, column 2: label \"\\ufeffx\" has a control character or byte order mark"}},
		{"control in class name", seqs, []CSVOption{WithClassNames([]string{"a\tb"})},
			[]string{"class name 0 is \"a\\tb\""}},
		{"dot", with(map[string]string{"labels.csv": ".,x\n"}), nil,
			[]string{"line 1, column 1: \".\" is not the name"}},
		{"empty targets", with(map[string]string{"labels.csv": "\n\n"}), nil, []string{"labels.csv: no files listed"}},
		{"only header", with(map[string]string{"labels.csv": "file,label\n"}), []CSVOption{WithTargetsHeader(true)},
			[]string{"no files listed"}},
		{"bad quote", with(map[string]string{"labels.csv": "a.csv,\"x\ny\n"}), nil, []string{"labels.csv: record on line 1; parse error on line 2"}},
		{"responses differ", with(map[string]string{"labels.csv": "a.csv,1,2\nb.csv,3\n"}), []CSVOption{WithTask(Regression)},
			[]string{"labels.csv: line 2 has 1 responses, want 2 as on line 1"}},
		{"no responses", with(map[string]string{"labels.csv": "a.csv\n"}), []CSVOption{WithTask(Regression)},
			[]string{"line 1 has no responses"}},
		{"NaN response", with(map[string]string{"labels.csv": "a.csv,1,2\nb.csv,3,nan\n"}), []CSVOption{WithTask(Regression)},
			[]string{"labels.csv: line 2, column 3: value is nan, want a finite number"}},
		{"text response", with(map[string]string{"labels.csv": "a.csv,cat\n"}), []CSVOption{WithTask(Regression)},
			[]string{"line 1, column 2: \"cat\" is not a number"}},
		{"first file empty", with(map[string]string{"a.csv": "", "labels.csv": "a.csv,x\n"}), nil,
			[]string{"file", "a.csv: empty sequence"}},
		{"first file bad", with(map[string]string{"a.csv": "1,x\n", "labels.csv": "a.csv,x\n"}), []CSVOption{WithHeader(false)},
			[]string{"a.csv: line 1, column 2: \"x\" is not a number"}},
		{"nil option", seqs, []CSVOption{nil}, []string{"option 0 is nil"}},
		{"bad task", seqs, []CSVOption{WithTask(Task(7))}, []string{"invalid task Task(7)"}},
		{"negative read-ahead", seqs, []CSVOption{WithReadAhead(-1)}, []string{"read-ahead -1"}},
		{"no read workers", seqs, []CSVOption{WithReadWorkers(0)}, []string{"0 read workers, want at least 1"}},
		{"empty targets name", seqs, []CSVOption{WithTargetsFile("")}, []string{"empty targets file name"}},
		{"class names for regression", seqs, []CSVOption{WithTask(Regression), WithClassNames([]string{"a"})},
			[]string{"class names given for a regression set"}},
		{"no class names", seqs, []CSVOption{WithClassNames([]string{})}, []string{"no class names"}},
		{"duplicate class names", seqs, []CSVOption{WithClassNames([]string{"a", "b", "a"})},
			[]string{"class names 0 and 2 are both \"a\""}},
		{"spaced class name", seqs, []CSVOption{WithClassNames([]string{"a "})},
			[]string{"class name 0 is \"a \""}},
	} {
		_, err := OpenCSVFolder(writeFolder(t, tc.files), tc.opts...)
		wantErr(t, tc.name, err, tc.want...)
	}

	dir := writeFolder(t, with(map[string]string{"labels.csv": "a.csv,x\nsub,y\n"}))
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := OpenCSVFolder(dir)
	wantErr(t, "directory", err, "line 2: \"sub\" is a directory")
	_, err = OpenCSVFolder(filepath.Join(dir, "nowhere"))
	wantErr(t, "no folder", err, "nowhere")
}

func TestCSVFolderTargetsElsewhere(t *testing.T) {
	dir := writeFolder(t, map[string]string{"a.csv": "1\n", "b.csv": "2\n"})
	targets := filepath.Join(writeFolder(t, map[string]string{"fold1.csv": "b.csv,1\n"}), "fold1.csv")
	f := openFolder(t, dir, WithTargetsFile(targets))
	if f.Len() != 1 || f.FileName(0) != "b.csv" {
		t.Errorf("Len, FileName(0) = %d, %q, want 1, b.csv", f.Len(), f.FileName(0))
	}
}

func TestCSVFolderMissingLater(t *testing.T) {
	dir := writeFolder(t, map[string]string{"a.csv": "1\n", "b.csv": "2\n", "labels.csv": "a.csv,x\nb.csv,y\n"})
	f := openFolder(t, dir)
	if err := os.Remove(filepath.Join(dir, "b.csv")); err != nil {
		t.Fatal(err)
	}
	_, err := f.Observation(1)
	wantErr(t, "removed after opening", err, "b.csv", "no such file")
	_, err = f.Observation(2)
	wantErr(t, "out of range", err, "observation 2 out of range [0, 2)")
	_, err = f.Observation(-1)
	wantErr(t, "negative", err, "observation -1 out of range")
}

// sequenceFolder writes n files of one feature and t timesteps, each
// value the index of its file, with class i%3, and opens the folder.
func sequenceFolder(t *testing.T, n, steps int, opts ...CSVOption) (*CSVFolder, string) {
	t.Helper()
	files := map[string]string{}
	var labels strings.Builder
	for i := range n {
		name := fmt.Sprintf("s%03d.csv", i)
		files[name] = strings.Repeat(fmt.Sprintf("%d\n", i), steps)
		fmt.Fprintf(&labels, "%s,%d\n", name, i%3)
	}
	files["labels.csv"] = labels.String()
	dir := writeFolder(t, files)
	return openFolder(t, dir, opts...), dir
}

func checkIndexObservation(t *testing.T, f *CSVFolder, i int) {
	t.Helper()
	o, err := f.Observation(i)
	if err != nil {
		t.Error(err)
		return
	}
	if o.Seq.Data[0] != float64(i) || o.Label != i%3 {
		t.Errorf("observation %d has value %v and label %d, want %d and %d", i, o.Seq.Data[0], o.Label, i, i%3)
	}
}

func (f *CSVFolder) cacheStats() (cached, queued, hits int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cache), len(f.queue), f.hits
}

// waitCached waits until the read-ahead has read the observations at
// indices.
func waitCached(t *testing.T, f *CSVFolder, indices ...int) {
	t.Helper()
	for range 2000 {
		f.mu.Lock()
		ready := 0
		for _, i := range indices {
			if e := f.cache[i]; e != nil {
				select {
				case <-e.ready:
					ready++
				default:
				}
			}
		}
		f.mu.Unlock()
		if ready == len(indices) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("read-ahead did not read observations %v", indices)
}

func TestCSVFolderPrefetch(t *testing.T) {
	f, dir := sequenceFolder(t, 40, 2, WithReadAhead(4))
	f.Prefetch([]int{3, -1, 40, 5, 7, 9, 11, 13})
	waitCached(t, f, 3, 5, 7, 9)
	if c, _, _ := f.cacheStats(); c != 4 {
		t.Errorf("cache holds %d observations, want the read-ahead of 4", c)
	}
	// A prefetched file is not read again: changing it on disk does not show.
	if err := os.WriteFile(filepath.Join(dir, "s003.csv"), []byte("bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{3, 5, 7, 9, 11, 13} {
		checkIndexObservation(t, f, i)
	}
	c, q, hits := f.cacheStats()
	if hits < 4 {
		t.Errorf("%d cache hits, want at least 4", hits)
	}
	if c > 4 || q != 0 {
		t.Errorf("after consuming: %d cached, %d queued, want at most 4 and 0", c, q)
	}
	// Read again, s003.csv is the new, bad one.
	_, err := f.Observation(3)
	wantErr(t, "rewritten file", err, "s003.csv: line 1")

	// Observations prefetched but never asked for go stale and make room.
	f.Prefetch([]int{20, 21, 22, 23})
	waitCached(t, f, 20, 21, 22, 23)
	for i := range 9 {
		checkIndexObservation(t, f, 30+i%4)
	}
	f.Prefetch([]int{24})
	waitCached(t, f, 24)
	_, _, before := f.cacheStats()
	checkIndexObservation(t, f, 24)
	if _, _, after := f.cacheStats(); after != before+1 {
		t.Errorf("observation 24 was not read ahead: stale entries kept their slots")
	}
	if c, _, _ := f.cacheStats(); c > 4 {
		t.Errorf("cache holds %d, want at most 4", c)
	}

	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	f.Prefetch([]int{1, 2})
	if c, q, _ := f.cacheStats(); c != 0 || q != 0 {
		t.Errorf("after Close: %d cached, %d queued", c, q)
	}
	_, err = f.Observation(1)
	wantErr(t, "after Close", err, "observation 1 read after Close")
}

func TestCSVFolderNoReadAhead(t *testing.T) {
	f, _ := sequenceFolder(t, 5, 1, WithReadAhead(0))
	f.Prefetch([]int{0, 1, 2})
	if c, q, _ := f.cacheStats(); c != 0 || q != 0 || f.started {
		t.Errorf("read-ahead 0: %d cached, %d queued, goroutine started %v", c, q, f.started)
	}
	checkIndexObservation(t, f, 2)
}

// TestCSVFolderCloseWhileReading closes a folder whose read-ahead has work
// queued: Close must return, and stop the goroutine.
func TestCSVFolderCloseWhileReading(t *testing.T) {
	before := runtime.NumGoroutine()
	f, _ := sequenceFolder(t, 50, 200, WithReadAhead(8))
	all := make([]int, 50)
	for i := range all {
		all[i] = i
	}
	f.Prefetch(all)
	f.Close()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("%d goroutines after Close, want %d", runtime.NumGoroutine(), before)
}

// TestCSVFolderConcurrent is meant for the race detector.
func TestCSVFolderConcurrent(t *testing.T) {
	f, _ := sequenceFolder(t, 60, 3, WithReadAhead(8))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 60 {
				i := (k*7 + g*13) % 60
				f.Prefetch([]int{(i + 1) % 60, (i + 2) % 60})
				checkIndexObservation(t, f, i)
			}
		}()
	}
	wg.Wait()
	if c, _, _ := f.cacheStats(); c > 8 {
		t.Errorf("cache holds %d, want at most 8", c)
	}
}

// TestCSVFolderBatcher checks that batches from disk equal batches of the
// same data in memory.
func TestCSVFolderBatcher(t *testing.T) {
	f, _ := sequenceFolder(t, 23, 4, WithReadAhead(5))
	seqs := make([]Sequence, f.Len())
	labels := make([]int, f.Len())
	for i := range seqs {
		v := float64(i)
		seqs[i] = Sequence{Data: []float64{v, v, v, v}, T: 4, F: 1}
		labels[i] = i % 3
	}
	mem, err := NewClassification(seqs, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []Source{f, mem} {
		br, err := NewBatcher(src, 5, WithShuffle(9))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for bt, err := range br.Epoch(2) {
			if err != nil {
				t.Fatal(err)
			}
			for b, i := range bt.Indices {
				if bt.X[b*bt.T*bt.F] != float64(i) || bt.Labels[b] != i%3 || bt.Lengths[b] != 4 {
					t.Errorf("%T: batch row %d is not observation %d", src, b, i)
				}
			}
			n += bt.B
		}
		if n != 23 {
			t.Errorf("%T: %d observations in an epoch, want 23", src, n)
		}
	}
}

func TestTaskString(t *testing.T) {
	for task, want := range map[Task]string{Classification: "classification", Regression: "regression", Unlabeled: "unlabeled", 5: "Task(5)"} {
		if got := task.String(); got != want {
			t.Errorf("Task(%d).String() = %q, want %q", int(task), got, want)
		}
	}
}

// checkCSVSequence checks the invariants of a successful parse.
func checkCSVSequence(t *testing.T, seq Sequence, header []string, format seqFormat, maxRows int) {
	t.Helper()
	if err := seq.check(); err != nil {
		t.Fatalf("parsed sequence %v", err)
	}
	if format.features > 0 && seq.F != format.features {
		t.Fatalf("parsed %d features, want %d", seq.F, format.features)
	}
	if header != nil && len(header) != seq.F {
		t.Fatalf("header has %d names for %d features", len(header), seq.F)
	}
	if format.header == headerNone && header != nil {
		t.Fatalf("header %q without a header", header)
	}
	if format.header == headerPresent && header == nil {
		t.Fatalf("no header returned")
	}
	if maxRows > 0 && seq.T > maxRows {
		t.Fatalf("%d rows, want at most %d", seq.T, maxRows)
	}
}

// splitCSV is a plain reading of a sequence file without quotes, for
// comparison with parseCSVSequence: it reports whether the file is valid and
// returns its values and header.
func splitCSV(text string, format seqFormat) (data []float64, header []string, ok bool) {
	text = strings.TrimPrefix(text, "\ufeff")
	rows := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, ",")
		for j := range fields {
			fields[j] = strings.TrimSpace(fields[j])
		}
		if rows == 0 && header == nil && (format.header == headerPresent || format.header == headerAuto && !numericRecord(fields)) {
			header = fields
			if format.features > 0 && len(fields) != format.features {
				return nil, nil, false
			}
			continue
		}
		f := format.features
		if f == 0 && header != nil {
			f = len(header)
		}
		if f == 0 && rows > 0 {
			f = len(data) / rows
		}
		if f > 0 && len(fields) != f {
			return nil, nil, false
		}
		for _, s := range fields {
			v, err := strconv.ParseFloat(s, 64)
			if s == "" || (err != nil && !(errors.Is(err, strconv.ErrRange) && v == 0)) || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, false
			}
			data = append(data, v)
		}
		rows++
	}
	return data, header, rows > 0
}

func FuzzCSVSequence(f *testing.F) {
	f.Add([]byte("1,2,3\n4,5,6\n"), uint8(0))
	f.Add([]byte("time,x\n0,1.5\n1,-2e-3\n"), uint8(0))
	f.Add([]byte("\ufeffa,b\r\n1,2\r\n"), uint8(2))
	f.Add([]byte("1,2\n3\n"), uint8(1))
	f.Add([]byte("1,NaN\n"), uint8(1))
	f.Add([]byte("\"1\",\"2\n\"\n"), uint8(4))
	f.Add([]byte("x,,z\n1,2,3\n"), uint8(5))
	f.Add([]byte(""), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		// The low bits choose the header mode, the next one a fixed
		// number of features as for every file of a folder but the first.
		format := seqFormat{header: headerMode(mode % 3)}
		if mode&4 != 0 {
			format.features, format.ref = 3, "first.csv"
		}
		maxRows := int(mode>>3) % 3
		seq, header, err := parseCSVSequence(bytes.NewReader(data), format, maxRows)
		if err != nil {
			if seq.Data != nil || header != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		checkCSVSequence(t, seq, header, format, maxRows)
		if maxRows == 0 && !bytes.ContainsRune(data, '"') {
			// Without quotes, CSV is lines split at commas.
			want, wantHeader, ok := splitCSV(string(data), format)
			if !ok || !slices.Equal(seq.Data, want) || !slices.Equal(header, wantHeader) {
				t.Fatalf("parsed %v, header %q; splitting lines gives %v, %q, ok %v", seq.Data, header, want, wantHeader, ok)
			}
		}
		if maxRows == 0 {
			return
		}
		// Reading the whole file again agrees on the first rows.
		all, _, err := parseCSVSequence(bytes.NewReader(data), format, 0)
		if err == nil && !slices.Equal(all.Data[:len(seq.Data)], seq.Data) {
			t.Fatalf("first %d rows %v, whole file starts %v", maxRows, seq.Data, all.Data[:len(seq.Data)])
		}
	})
}

func FuzzCSVTargets(f *testing.F) {
	f.Add([]byte("a.csv,cat\nb.csv,dog\n"), uint8(0), false)
	f.Add([]byte("file,label\na.csv,2\nb.csv,10\n"), uint8(0), true)
	f.Add([]byte("a.csv,1,2\nb.csv,3,4\n"), uint8(1), false)
	f.Add([]byte("a.csv,1,2\nb.csv,3\n"), uint8(1), false)
	f.Add([]byte("a.csv\nb.csv,x\n"), uint8(2), false)
	f.Add([]byte("a.csv,x\na.csv,y\n"), uint8(0), false)
	f.Add([]byte("../a,1\n"), uint8(3), false)
	f.Add([]byte("a.csv,\"x\n"), uint8(4), false)
	f.Fuzz(func(t *testing.T, data []byte, task uint8, header bool) {
		tk := Task(task % 3)
		// Every other classification run fixes the class names.
		var classNames []string
		if tk == Classification && task&4 != 0 {
			classNames = []string{"cat", "dog", "1", "2"}
		}
		tg, err := parseCSVTargets(bytes.NewReader(data), tk, header, classNames)
		if err != nil {
			if tg != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		n := len(tg.files)
		if n == 0 || len(tg.lines) != n {
			t.Fatalf("%d files, %d lines", n, len(tg.lines))
		}
		seen := map[string]bool{}
		for k, name := range tg.files {
			if name == "" || name != strings.TrimSpace(name) || strings.ContainsRune(name, '/') || hasControl(name) || seen[name] {
				t.Fatalf("file %d is %q", k, name)
			}
			seen[name] = true
			if k > 0 && tg.lines[k] <= tg.lines[k-1] || tg.lines[k] < 1 {
				t.Fatalf("lines %v not increasing from 1", tg.lines)
			}
		}
		switch tk {
		case Classification:
			if len(tg.labels) != n || len(tg.classNames) == 0 || checkClassNames(tg.classNames) != nil {
				t.Fatalf("%d labels, class names %q", len(tg.labels), tg.classNames)
			}
			if classNames != nil && !slices.Equal(tg.classNames, classNames) {
				t.Fatalf("class names %q, want the given %q", tg.classNames, classNames)
			}
			used := make([]bool, len(tg.classNames))
			for _, l := range tg.labels {
				if l < 0 || l >= len(tg.classNames) {
					t.Fatalf("label %d out of range for %d classes", l, len(tg.classNames))
				}
				used[l] = true
			}
			if classNames == nil && slices.Contains(used, false) {
				t.Fatalf("class names %q include unused ones", tg.classNames)
			}
			if tg.responses != nil {
				t.Fatal("responses for classification")
			}
		case Regression:
			if tg.responseSize < 1 || len(tg.responses) != n*tg.responseSize || tg.labels != nil {
				t.Fatalf("%d responses of size %d for %d files", len(tg.responses), tg.responseSize, n)
			}
			for _, v := range tg.responses {
				if !isFinite(v) {
					t.Fatalf("response %v", v)
				}
			}
		case Unlabeled:
			if tg.labels != nil || tg.responses != nil || tg.classNames != nil {
				t.Fatal("targets for an unlabeled set")
			}
		}

		// Writing the targets out and reading them back changes nothing.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		for k, name := range tg.files {
			rec := []string{name}
			switch tk {
			case Classification:
				rec = append(rec, tg.classNames[tg.labels[k]])
			case Regression:
				for _, v := range tg.responses[k*tg.responseSize : (k+1)*tg.responseSize] {
					rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
				}
			}
			w.Write(rec)
		}
		w.Flush()
		again, err := parseCSVTargets(&buf, tk, false, classNames)
		if err != nil {
			t.Fatalf("targets written out do not read back: %v\n%q", err, buf.String())
		}
		if !slices.Equal(again.files, tg.files) || !slices.Equal(again.labels, tg.labels) ||
			!slices.Equal(again.classNames, tg.classNames) || !slices.Equal(again.responses, tg.responses) {
			t.Fatalf("targets read back differ:\n%+v\n%+v", tg, again)
		}
	})
}

// This example trains from a folder of CSV files, one sequence each, read
// as the batches need them.
func ExampleOpenCSVFolder() {
	dir, err := os.MkdirTemp("", "gait")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for name, text := range map[string]string{
		"walk1.csv":  "ax,ay\n0.1,0.2\n0.3,0.1\n0.2,0.2\n",
		"run1.csv":   "ax,ay\n1.5,0.9\n1.7,1.1\n",
		"walk2.csv":  "ax,ay\n0.2,0.1\n",
		"labels.csv": "walk1.csv,walk\nrun1.csv,run\nwalk2.csv,walk\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}

	src, err := OpenCSVFolder(dir, WithReadAhead(32))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	fmt.Println(src.Len(), "sequences of", src.FeatureNames(), "classes", src.ClassNames())

	br, err := NewBatcher(src, 2)
	if err != nil {
		log.Fatal(err)
	}
	for bt, err := range br.Epoch(0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("B=%d T=%d labels=%v lengths=%v\n", bt.B, bt.T, bt.Labels, bt.Lengths)
	}
	// Output:
	// 3 sequences of [ax ay] classes [run walk]
	// B=2 T=3 labels=[1 0] lengths=[3 2]
	// B=1 T=1 labels=[1] lengths=[1]
}
