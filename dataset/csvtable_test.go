package dataset

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeTable writes text to a file in a temporary folder and returns its
// path.
func writeTable(t testing.TB, text string) string {
	t.Helper()
	return filepath.Join(writeFolder(t, map[string]string{"table.csv": text}), "table.csv")
}

func TestReadCSVSeries(t *testing.T) {
	// The layout of the monthly sunspots file: a date column beside the
	// values, quoted header.
	path := writeTable(t, "\ufeff\"Month\",\"Sunspots\"\n\"1749-01\",58.0\n\"1749-02\",62.6\n\n\"1749-03\", 70.0\n")
	s, err := ReadCSVSeries(path, WithColumns("Sunspots"))
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 3 || s.F != 1 || !slices.Equal(s.Data, []float64{58, 62.6, 70}) {
		t.Errorf("series %dx%d %v, want 3x1 [58 62.6 70]", s.T, s.F, s.Data)
	}
	// Every column by default: the dates are not numbers.
	_, err = ReadCSVSeries(path)
	checkErr(t, "dates as features", err, path, `line 2, column 1 (Month): "1749-01" is not a number`)
	// Sorted by the date column, lexically.
	path = writeTable(t, "date,x,y\n2024-03-01,3,30\n2024-01-15,1,10\n2024-02-01,2,20\n")
	s, err = ReadCSVSeries(path, WithTimeColumn("date"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Data, []float64{1, 10, 2, 20, 3, 30}) {
		t.Errorf("series sorted by date is %v, want [1 10 2 20 3 30]", s.Data)
	}
}

func TestReadCSVSequencesGroups(t *testing.T) {
	// Rows of sequences b and a interleaved, times out of order, numeric
	// times where lexical order would put 10 before 9.
	path := writeTable(t, strings.Join([]string{
		"id,t,x1,x2,label",
		"b,9,1,2,run",
		"a,10,3,4,walk",
		"b,10,5,6,run",
		"a,9,7,8,walk",
		"c,1,9,10,walk",
	}, "\n"))
	tab, err := ReadCSVSequences(path, WithIDColumn("id"), WithTimeColumn("t"), WithTargetColumns("label"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.IDs, []string{"b", "a", "c"}) {
		t.Errorf("IDs %q, want [b a c], the order of first appearance", tab.IDs)
	}
	if !slices.Equal(tab.FeatureNames, []string{"x1", "x2"}) || !slices.Equal(tab.TargetNames, []string{"label"}) {
		t.Errorf("features %q, targets %q; want [x1 x2], [label]", tab.FeatureNames, tab.TargetNames)
	}
	checkSequences(t, "grouped", tab.Sequences, []Sequence{
		{Data: []float64{1, 2, 5, 6}, T: 2, F: 2},
		{Data: []float64{7, 8, 3, 4}, T: 2, F: 2},
		{Data: []float64{9, 10}, T: 1, F: 2},
	})
	set, names, err := tab.Classification(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"run", "walk"}) || set.Label(0) != 0 || set.Label(1) != 1 || set.Label(2) != 1 {
		t.Errorf("classes %q, labels %d %d %d; want [run walk], 0 1 1", names, set.Label(0), set.Label(1), set.Label(2))
	}
	// Fixed class names, in another order.
	set, _, err = tab.Classification([]string{"walk", "run", "sit"})
	if err != nil {
		t.Fatal(err)
	}
	if set.NumClasses() != 3 || set.Label(0) != 1 || set.Label(1) != 0 {
		t.Errorf("with class names: %d classes, labels %d %d; want 3, 1 0", set.NumClasses(), set.Label(0), set.Label(1))
	}
}

func TestCSVSequencesTargets(t *testing.T) {
	path := writeTable(t, strings.Join([]string{
		"unit,x,state,rul,cost",
		"1,0.5,ok,3,7",
		"1,0.6,ok,2,7",
		"1,0.7,worn,1,7",
		"2,1.5,worn,1,9",
	}, "\n"))
	read := func(targets ...string) *CSVSequences {
		tab, err := ReadCSVSequences(path, WithIDColumn("unit"), WithColumns("x"), WithTargetColumns(targets...))
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	set, err := read("rul", "cost").StepRegression()
	if err != nil {
		t.Fatal(err)
	}
	if got := set.StepResponses(0); !slices.Equal(got, []float64{3, 7, 2, 7, 1, 7}) || set.ResponseSize() != 2 {
		t.Errorf("step responses %v of size %d, want [3 7 2 7 1 7] of 2", got, set.ResponseSize())
	}
	set, err = read("cost").Regression()
	if err != nil {
		t.Fatal(err)
	}
	if set.Response(0)[0] != 7 || set.Response(1)[0] != 9 {
		t.Errorf("responses %v %v, want 7 9", set.Response(0), set.Response(1))
	}
	set, names, err := read("state").StepClassification(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"ok", "worn"}) || !slices.Equal(set.StepLabels(0), []int{0, 0, 1}) || !slices.Equal(set.StepLabels(1), []int{1}) {
		t.Errorf("classes %q, step labels %v %v; want [ok worn], [0 0 1] [1]", names, set.StepLabels(0), set.StepLabels(1))
	}
	un, err := read().Unlabeled()
	if err != nil {
		t.Fatal(err)
	}
	if un.Len() != 2 || un.NumClasses() != 0 || un.ResponseSize() != 0 {
		t.Errorf("unlabeled set of %d, %d classes, responses of %d", un.Len(), un.NumClasses(), un.ResponseSize())
	}

	// What each target column cannot be.
	_, err = read("rul").Regression()
	checkErr(t, "varying per-sequence response", err, path, `line 3, column 4 (rul): sequence "1" has target "2", but "3" on line 2`)
	_, _, err = read("state").Classification(nil)
	checkErr(t, "varying per-sequence label", err, `line 4, column 3 (state): sequence "1" has target "worn", but "ok" on line 2`)
	_, err = read("state").StepRegression()
	checkErr(t, "text response", err, path, `line 2, column 3 (state): "ok" is not a number`)
	_, _, err = read("state").StepClassification([]string{"ok"})
	checkErr(t, "unknown class", err, path, `line 4, column 3 (state) is "worn", not one of the 1 class names given`)
	_, _, err = read("rul", "cost").Classification(nil)
	checkErr(t, "two label columns", err, `target columns "rul", "cost", want one column of class labels`)
	_, _, err = read().StepClassification(nil)
	checkErr(t, "no label column", err, "no target column")
	_, err = read().StepRegression()
	checkErr(t, "no response column", err, "no target columns")
	_, _, err = read("state").Classification([]string{"ok", "ok"})
	checkErr(t, "bad class names", err, `class names 0 and 1 are both "ok"`)
}

// TestCSVSequencesRoundTrip writes a set of sequences with encoding/csv in
// the sensor layout, one row per timestep, and reads it back.
func TestCSVSequencesRoundTrip(t *testing.T) {
	seqs := []Sequence{
		{Data: []float64{0.25, -1e-3, 3, 4, 5.5, 6}, T: 3, F: 2},
		{Data: []float64{7, 8}, T: 1, F: 2},
		{Data: []float64{1e10, -2, 0, 1.0 / 3}, T: 2, F: 2},
	}
	steps := [][]int{{0, 1, 1}, {2}, {0, 2}}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"seq", "step", "a", "b", "class"})
	for i, s := range seqs {
		for tt := range s.T {
			w.Write([]string{"s" + strconv.Itoa(i), strconv.Itoa(tt),
				strconv.FormatFloat(s.At(tt, 0), 'g', -1, 64), strconv.FormatFloat(s.At(tt, 1), 'g', -1, 64),
				strconv.Itoa(steps[i][tt])})
		}
	}
	w.Flush()
	path := writeTable(t, buf.String())
	tab, err := ReadCSVSequences(path, WithIDColumn("seq"), WithTimeColumn("step"), WithTargetColumns("class"))
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, "round trip", tab.Sequences, seqs)
	set, names, err := tab.StepClassification(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"0", "1", "2"}) {
		t.Errorf("classes %q, want [0 1 2]", names)
	}
	for i := range seqs {
		if !slices.Equal(set.StepLabels(i), steps[i]) {
			t.Errorf("sequence %d: step labels %v, want %v", i, set.StepLabels(i), steps[i])
		}
	}
}

// TestCSVSequencesWhitespace reads the layout of NASA's turbofan files:
// no header, fields separated by single spaces with a trailing one.
func TestCSVSequencesWhitespace(t *testing.T) {
	path := writeTable(t, "1 1 -0.0017 518.67 \n1 2 0.0006 518.67 \n\n2 1 0.0014\t518.67  \n")
	tab, err := ReadCSVSequences(path, WithColumnNames("unit", "cycle", "op1", "s1"), WithDelimiter(' '),
		WithIDColumn("unit"), WithTimeColumn("cycle"))
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, "turbofan", tab.Sequences, []Sequence{
		{Data: []float64{-0.0017, 518.67, 0.0006, 518.67}, T: 2, F: 2},
		{Data: []float64{0.0014, 518.67}, T: 1, F: 2},
	})
	_, err = ReadCSVSequences(writeTable(t, "1 2 3\n4 5\n"), WithColumnNames("a", "b", "c"), WithDelimiter(' '))
	checkErr(t, "ragged, space separated", err, "line 2 has 2 fields, want 3 as named by WithColumnNames")
}

func TestCSVSequencesDelimiter(t *testing.T) {
	path := writeTable(t, "id;\"x;1\";y\na;\"1,5\";2\n")
	_, err := ReadCSVSequences(path, WithDelimiter(';'), WithIDColumn("id"))
	checkErr(t, "decimal comma", err, `line 2, column 2 (x;1): "1,5" is not a number`)
	path = writeTable(t, "id\tx\na\t1\nb\t2\n")
	tab, err := ReadCSVSequences(path, WithDelimiter('\t'), WithIDColumn("id"))
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, "tabs", tab.Sequences, []Sequence{{Data: []float64{1}, T: 1, F: 1}, {Data: []float64{2}, T: 1, F: 1}})
}

func TestCSVTableErrors(t *testing.T) {
	const good = "id,t,x,y\na,0,1,2\na,1,3,4\n"
	for _, test := range []struct {
		name string
		text string
		opts []TableOption
		want []string
	}{
		{"empty file", "", nil, []string{"empty file: no header"}},
		{"blank file", "\n \n", nil, []string{"empty file: no header"}},
		{"header only", "a,b\n", nil, []string{"a header but no rows"}},
		{"no rows, named", "\n", []TableOption{WithColumnNames("a")}, []string{"empty file: no rows"}},
		{"unknown column", good, []TableOption{WithColumns("x", "z")}, []string{`unknown feature column "z"; the columns are "id", "t", "x", "y"`}},
		{"unknown ID", good, []TableOption{WithIDColumn("unit")}, []string{`unknown ID column "unit"`}},
		{"unknown target", good, []TableOption{WithTargetColumns("label")}, []string{`unknown target column "label"`}},
		{"ambiguous", "x,y,x\n1,2,3\n", []TableOption{WithColumns("x")}, []string{`feature column "x" is ambiguous: the header has it as columns 1 and 3`}},
		{"two roles", good, []TableOption{WithIDColumn("id"), WithColumns("id", "x")}, []string{`column "id" chosen both as ID and as feature`}},
		{"no features left", "id,y\na,1\n", []TableOption{WithIDColumn("id"), WithTargetColumns("y")}, []string{"no feature columns"}},
		{"ragged short", good + "a,2,5\n", []TableOption{WithIDColumn("id")}, []string{"line 4 has 3 fields, want 4 as in the header on line 1"}},
		{"ragged long", good + "a,2,5,6,7\n", []TableOption{WithIDColumn("id")}, []string{"line 4 has 5 fields, want 4"}},
		{"not a number", good + "b,0,1,x\n", []TableOption{WithIDColumn("id")}, []string{`line 4, column 4 (y): "x" is not a number`}},
		{"NaN", good + "b,0,NaN,1\n", []TableOption{WithIDColumn("id")}, []string{"line 4, column 3 (x): value is NaN"}},
		{"empty value", good + "b,0,,1\n", []TableOption{WithIDColumn("id")}, []string{"line 4, column 3 (x): empty value"}},
		{"empty ID", good + " ,0,1,1\n", []TableOption{WithIDColumn("id")}, []string{"line 4, column 1 (id): empty ID"}},
		{"empty time", good + "b,,1,1\n", []TableOption{WithIDColumn("id"), WithTimeColumn("t")}, []string{"line 4, column 2 (t): empty time"}},
		{"empty target", good + "b,0,1,\n", []TableOption{WithIDColumn("id"), WithTargetColumns("y")}, []string{"line 4, column 4 (y): empty target"}},
		{"duplicate time", good + "a,1.0,5,6\n", []TableOption{WithIDColumn("id"), WithTimeColumn("t")}, []string{`sequence "a", column 2 (t): lines 3 and 4 both have time "1.0"`}},
		{"bad quote", "x\n\"1\n", nil, []string{"extraneous or missing"}},
		{"nil option", good, []TableOption{nil}, []string{"option 0 is nil"}},
		{"bad delimiter", good, []TableOption{WithDelimiter('"')}, []string{"delimiter '\"' cannot separate fields"}},
		{"names twice", good, []TableOption{WithColumnNames("a", "b", "a")}, []string{`column names 1 and 3 are both "a"`}},
		{"no names", good, []TableOption{WithColumnNames()}, []string{"no column names"}},
		{"no columns", good, []TableOption{WithColumns()}, []string{"no feature columns chosen"}},
	} {
		path := writeTable(t, test.text)
		_, err := ReadCSVSequences(path, test.opts...)
		checkErr(t, test.name, err, test.want...)
		if err != nil && !strings.Contains(err.Error(), "option") && !strings.Contains(err.Error(), "delimiter") &&
			!strings.Contains(err.Error(), "column names") && !strings.Contains(err.Error(), "chosen") && !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", test.name, err)
		}
	}
	_, err := ReadCSVSeries(writeTable(t, good), WithIDColumn("id"))
	checkErr(t, "series with IDs", err, "use ReadCSVSequences")
	_, err = ReadCSVSequences(filepath.Join(t.TempDir(), "missing.csv"))
	checkErr(t, "missing file", err, "missing.csv")
}

// FuzzCSVTable checks that parsing any text either fails or gives
// sequences that account for every row: as many features per row as
// feature columns, one sequence per distinct ID, and the rows of the file
// (those that are not blank) all in some sequence.
func FuzzCSVTable(f *testing.F) {
	f.Add([]byte("id,t,x\na,1,2\nb,0,3\na,0,4\n"), uint8(3))
	f.Add([]byte("x,y\n1,2\n"), uint8(0))
	f.Add([]byte("1 2 3\n4 5 6\n"), uint8(8))
	f.Add([]byte("id,t,x\na,1,2\na,1,3\n"), uint8(3))
	f.Add([]byte("\"id\",x\n\"a\nb\",1\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var opts []TableOption
		if mode&1 != 0 {
			opts = append(opts, WithIDColumn("id"))
		}
		if mode&2 != 0 {
			opts = append(opts, WithTimeColumn("t"))
		}
		if mode&4 != 0 {
			opts = append(opts, WithColumns("x"))
		}
		if mode&8 != 0 {
			opts = append(opts, WithDelimiter(' '), WithColumnNames("id", "t", "x"))
		}
		c, err := newTableConfig(opts)
		if err != nil {
			t.Fatal(err)
		}
		if cols, err := parseCSVColumns(bytes.NewReader(data), []string{"x"}); err == nil && (len(cols) != 1 || len(cols[0]) == 0) {
			t.Fatalf("parseCSVColumns gives %q", cols)
		}
		tab, err := parseCSVTable(bytes.NewReader(data), c)
		if err != nil {
			if tab != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		seen := make(map[string]bool)
		rows := 0
		for i, s := range tab.Sequences {
			if s.F != len(tab.FeatureNames) || len(s.Data) != s.T*s.F || s.T < 1 || s.check() != nil {
				t.Fatalf("sequence %d: %dx%d with %d values, %d feature names", i, s.T, s.F, len(s.Data), len(tab.FeatureNames))
			}
			rows += s.T
			if tab.IDs != nil {
				if seen[tab.IDs[i]] {
					t.Fatalf("ID %q twice", tab.IDs[i])
				}
				seen[tab.IDs[i]] = true
			}
		}
		if tab.IDs == nil && len(tab.Sequences) != 1 {
			t.Fatalf("%d sequences without an ID column", len(tab.Sequences))
		}
		if !bytes.ContainsAny(data, "\"\r") && mode&8 == 0 {
			want := 0
			for _, l := range strings.Split(string(data), "\n") {
				if strings.TrimSpace(strings.TrimPrefix(l, "\ufeff")) != "" {
					want++
				}
			}
			if rows != want-1 {
				t.Fatalf("%d rows in sequences, want %d lines less the header", rows, want)
			}
		}
	})
}

func TestReadCSVColumns(t *testing.T) {
	// The layout of MATLAB's factory reports: a byte order mark, quoted
	// fields holding commas and a line break.
	path := writeTable(t, "\ufeffDescription,Category,Cost\n"+
		"\"Items are stuck, again.\",Mechanical Failure,45\n\n"+
		"\"Power cuts\nat start.\", Electronic Failure ,16200\n")
	cols, err := ReadCSVColumns(path, "Category", "Description")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"Mechanical Failure", "Electronic Failure"}, {"Items are stuck, again.", "Power cuts\nat start."}}
	if len(cols) != 2 || !slices.Equal(cols[0], want[0]) || !slices.Equal(cols[1], want[1]) {
		t.Errorf("columns %q, want %q", cols, want)
	}
	for _, test := range []struct {
		name, text string
		cols       []string
		want       []string
	}{
		{"unknown", "a,b\n1,2\n", []string{"a", "c"}, []string{`unknown text column "c"; the columns are "a", "b"`}},
		{"ragged", "a,b\n1,2\n3\n", []string{"a"}, []string{"line 3 has 1 fields, want 2 as in the header on line 1"}},
		{"empty", "", []string{"a"}, []string{"empty file: no header"}},
		{"header only", "a,b\n", []string{"a"}, []string{"a header but no rows"}},
		{"no names", "a,b\n1,2\n", nil, []string{"no columns named"}},
	} {
		path := writeTable(t, test.text)
		_, err := ReadCSVColumns(path, test.cols...)
		checkErr(t, test.name, err, append(test.want, path)...)
	}
}
