package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func sineSeries(name string, n int, phase float64, dashed bool) series {
	s := series{name: name, x: make([]float64, n), y: make([]float64, n), dashed: dashed}
	for i := range n {
		s.x[i] = float64(i) / 10
		s.y[i] = math.Sin(s.x[i] + phase)
	}
	return s
}

func TestWriteLinePlotErrors(t *testing.T) {
	dir := t.TempDir()
	good := sineSeries("truth", 20, 0, false)
	withY := func(i int, v float64) series {
		s := sineSeries("prediction", 20, 0.1, true)
		s.y[i] = v
		return s
	}
	withX := func(i int, v float64) series {
		s := sineSeries("prediction", 20, 0.1, true)
		s.x[i] = v
		return s
	}

	for _, test := range []struct {
		name string
		path string
		ss   []series
		// want are substrings the error must contain, so that
		// a user can find the bad series and point.
		want []string
	}{
		{
			name: "no series",
			path: filepath.Join(dir, "a.png"),
			want: []string{"no series"},
		},
		{
			name: "empty series",
			path: filepath.Join(dir, "a.png"),
			ss:   []series{good, {name: "empty"}},
			want: []string{`"empty"`, "no values"},
		},
		{
			name: "length mismatch",
			path: filepath.Join(dir, "a.png"),
			ss:   []series{good, {name: "short", x: []float64{0, 1, 2}, y: []float64{0, 1}}},
			want: []string{`"short"`, "x has 3 values, y has 2"},
		},
		{
			name: "NaN y",
			path: filepath.Join(dir, "a.png"),
			ss:   []series{good, withY(7, math.NaN())},
			want: []string{`"prediction"`, "y[7]", "NaN"},
		},
		{
			name: "+Inf y",
			path: filepath.Join(dir, "a.png"),
			ss:   []series{good, withY(0, math.Inf(1))},
			want: []string{`"prediction"`, "y[0]", "+Inf"},
		},
		{
			name: "-Inf x",
			path: filepath.Join(dir, "a.png"),
			ss:   []series{good, withX(19, math.Inf(-1))},
			want: []string{`"prediction"`, "x[19]", "-Inf"},
		},
		{
			name: "NaN x",
			path: filepath.Join(dir, "a.png"),
			ss:   []series{withX(3, math.NaN())},
			want: []string{`"prediction"`, "x[3]", "NaN"},
		},
		{
			name: "empty path",
			path: "",
			ss:   []series{good},
			want: []string{"empty path"},
		},
		{
			name: "missing folder",
			path: filepath.Join(dir, "no", "such", "folder", "a.png"),
			ss:   []series{good},
			want: []string{"create temporary file"},
		},
		{
			// Running as root defeats permission bits, but not this.
			name: "path is a folder",
			path: dir,
			ss:   []series{good},
			want: []string{"rename"},
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			err := writeLinePlot(test.path, "title", "x", "y", test.ss...)
			if err == nil {
				t.Fatal("expected error")
			}
			for _, w := range test.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	// A failed write must leave nothing behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("unexpected file left behind: %s", e.Name())
	}
}

func TestWriteLinePlot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pred.png")

	wantW := int(math.Round(float64(plotWidth/vg.Inch) * plotDPI))
	wantH := int(math.Round(float64(plotHeight/vg.Inch) * plotDPI))

	for _, test := range []struct {
		name string
		ss   []series
	}{
		{
			name: "truth and prediction",
			ss: []series{
				sineSeries("truth", 200, 0, false),
				sineSeries("prediction", 200, 0.3, true),
			},
		},
		{
			// Overwrites the first plot, so the rename-over path
			// is exercised too.
			name: "degenerate",
			ss: []series{
				{name: "one point", x: []float64{1}, y: []float64{1}},
				{name: "constant", x: []float64{0, 1, 2}, y: []float64{3, 3, 3}},
				{x: []float64{0, 1}, y: []float64{0, 1}}, // unnamed: no legend entry
			},
		},
		{
			name: "no legend",
			ss:   []series{{x: []float64{0, 1}, y: []float64{0, 1}}},
		},
		{
			name: "many series",
			ss: func() []series {
				var ss []series
				for i := range 10 {
					ss = append(ss, sineSeries("s"+string(rune('a'+i)), 50, float64(i)/3, i%2 == 1))
				}
				return ss
			}(),
		},
	} {
		t.Run(test.name, func(t *testing.T) {
			err := writeLinePlot(path, "prediction against truth", "time step", "response", test.ss...)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}

			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("not a valid PNG: %v", err)
			}
			b := img.Bounds()
			if b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("unexpected size: got %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
			}

			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("unexpected folder contents: got %q, want only %q", names, filepath.Base(path))
			}
		})
	}
}

// TestRenderPlotCheck writes a plot for a person to look at when
// SEQGRAPH_PLOT_CHECK names a file.
func TestRenderPlotCheck(t *testing.T) {
	path := os.Getenv("SEQGRAPH_PLOT_CHECK")
	if path == "" {
		t.Skip("SEQGRAPH_PLOT_CHECK not set")
	}
	err := writeLinePlot(path, "prediction against truth", "time step", "response",
		sineSeries("truth", 200, 0, false),
		sineSeries("prediction", 200, 0.3, true),
	)
	if err != nil {
		t.Fatal(err)
	}
}
