package plot

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqgraph/seqgraph/graph"
	"gonum.org/v1/plot/vg/draw"
)

// plotDir, when set, makes TestSamples also write its figures there, to be
// looked at: go test ./graph/plot -run Samples -args -plotdir=/tmp/plots
var plotDir = flag.String("plotdir", "", "also write the sample figures to this folder")

// history returns a plausible training run: epochs of perIter iterations,
// a validation every valEvery iterations (none if 0), with the loss
// falling and the accuracy rising noisily.
func history(classifier bool, epochs, perEpoch, valEvery int) *graph.History {
	rng := rand.New(rand.NewPCG(1, 2))
	h := &graph.History{Classifier: classifier, Stop: "max epochs"}
	n := epochs * perEpoch
	for i := 1; i <= n; i++ {
		progress := 1 - math.Exp(-4*float64(i)/float64(n))
		loss := 2.2*(1-progress) + 0.15 + 0.25*rng.NormFloat64()*(1-progress/2)
		loss = math.Max(loss, 0.01)
		h.Iterations = append(h.Iterations, graph.IterationRecord{
			Epoch:     (i-1)/perEpoch + 1,
			Iteration: i,
			Loss:      loss,
			Accuracy:  math.Min(100, math.Max(0, 100*(0.3+0.65*progress)+8*rng.NormFloat64())),
			RMSE:      math.Sqrt(loss),
			LearnRate: 0.01,
		})
		if valEvery > 0 && (i == 1 || i%valEvery == 0) {
			h.Validations = append(h.Validations, graph.ValidationRecord{
				Epoch:     (i-1)/perEpoch + 1,
				Iteration: i,
				Loss:      2.2*(1-progress) + 0.3,
				Accuracy:  100 * (0.28 + 0.6*progress),
				RMSE:      math.Sqrt(2.2*(1-progress) + 0.3),
			})
		}
	}
	h.BestIteration = n
	return h
}

// sample is one figure written by each format test and by TestSamples.
type sample struct {
	name  string
	write func(path string) error
}

func samples() []sample {
	early := history(true, 6, 25, 10)
	early.Stop = "validation patience"
	early.BestIteration = 120
	short := history(true, 1, 4, 2)

	// Four classes, the third often taken for the second, one class
	// never predicted.
	cm := [][]int{
		{48, 2, 0, 0},
		{3, 40, 7, 0},
		{0, 19, 31, 0},
		{1, 0, 3, 0},
	}
	manyClasses := make([][]int, 12)
	for t := range manyClasses {
		manyClasses[t] = make([]int, 12)
		manyClasses[t][t] = 90 + t
		manyClasses[t][(t+1)%12] = t % 4
	}
	longNames := []string{"walking", "walking upstairs", "walking downstairs", "sitting", "standing", "laying",
		"stand to sit", "sit to stand", "sit to lie", "lie to sit", "stand to lie", "lie to stand"}

	x := make([]float64, 200)
	truth := make([]float64, len(x))
	pred := make([]float64, len(x))
	for i := range x {
		x[i] = float64(i) / 10
		truth[i] = math.Sin(x[i]) + 0.3*math.Sin(3*x[i])
		pred[i] = truth[i] + 0.08*math.Cos(5*x[i]) + 0.05
	}

	acts := make([][]float64, 24)
	for r := range acts {
		acts[r] = make([]float64, 60)
		for c := range acts[r] {
			acts[r][c] = math.Tanh(2 * math.Sin(float64(c)/(3+float64(r)/4)+float64(r)))
		}
	}
	positive := make([][]float64, 5)
	for r := range positive {
		positive[r] = []float64{float64(r), float64(r) + 1, float64(2 * r), 3, 4, 5, 6}
	}
	big := make([][]float64, 100)
	for r := range big {
		big[r] = make([]float64, 500)
		for c := range big[r] {
			big[r][c] = math.Sin(float64(r*c) / 500)
		}
	}

	return []sample{
		{"training_classifier", func(p string) error { return TrainingProgress(p, history(true, 5, 30, 10)) }},
		{"training_regression", func(p string) error { return TrainingProgress(p, history(false, 4, 50, 0)) }},
		{"training_early_stop", func(p string) error { return TrainingProgress(p, early) }},
		{"training_short", func(p string) error { return TrainingProgress(p, short) }},
		{"confusion", func(p string) error { return ConfusionMatrix(p, cm, []string{"cat", "dog", "fox", "owl"}) }},
		{"confusion_many", func(p string) error { return ConfusionMatrix(p, manyClasses, longNames) }},
		{"confusion_unnamed", func(p string) error { return ConfusionMatrix(p, [][]int{{5, 1}, {0, 0}}, nil) }},
		{"prediction", func(p string) error {
			return PredictionVsTruth(p, "Test sequence 1", "Time (s)", "Response", x, truth, pred)
		}},
		{"lines", func(p string) error {
			return Lines(p, "Gates", "Timestep", "Activation",
				Series{Name: "input", X: x[:50], Y: truth[:50]},
				Series{Name: "forget", X: x[:50], Y: pred[:50], Dashed: true},
				Series{X: x[:50], Y: x[:50]}, // unnamed: not in the legend
				Series{Name: "one point", X: []float64{2}, Y: []float64{0}},
			)
		}},
		{"heatmap", func(p string) error { return Heatmap(p, "LSTM activations", acts, "Timestep", "Hidden unit") }},
		{"heatmap_positive", func(p string) error { return Heatmap(p, "Counts", positive, "Column", "Row") }},
		{"heatmap_constant", func(p string) error { return Heatmap(p, "", [][]float64{{2, 2}, {2, 2}}, "", "") }},
		{"heatmap_large", func(p string) error { return Heatmap(p, "Large", big, "Timestep", "Unit") }},
	}
}

// TestFormats writes every sample as PNG and as SVG and checks that each
// is a well-formed image of the expected kind, and that nothing else is
// left in the folder.
func TestFormats(t *testing.T) {
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, ext := range []string{".png", ".svg"} {
				path := filepath.Join(dir, s.name+ext)
				if err := s.write(path); err != nil {
					t.Fatalf("%s: %v", ext, err)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				switch ext {
				case ".png":
					checkPNG(t, b)
				case ".svg":
					checkSVG(t, b)
				}
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if perm := fi.Mode().Perm(); perm != 0o644 {
					t.Errorf("%s: mode %v, want 0644", ext, perm)
				}
			}
			checkOnly(t, dir, s.name+".png", s.name+".svg")
		})
	}
}

func checkPNG(t *testing.T, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	// Every figure is 16 cm wide at 150 dpi, 8 to 15 cm high.
	size := img.Bounds().Size()
	if size.X != 945 || size.Y < 470 || size.Y > 890 {
		t.Errorf("PNG is %v pixels, want 945 wide and 470 to 890 high", size)
	}
	// A figure that failed to draw anything is a single colour.
	first := img.At(0, 0)
	for y := 0; y < size.Y; y += 7 {
		for x := 0; x < size.X; x += 7 {
			if img.At(x, y) != first {
				return
			}
		}
	}
	t.Error("PNG is blank")
}

func checkSVG(t *testing.T, b []byte) {
	t.Helper()
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "<?xml") && !strings.HasPrefix(s, "<svg") {
		t.Fatalf("SVG starts with %q", s[:min(len(s), 20)])
	}
	if !strings.HasSuffix(s, "</svg>") {
		t.Errorf("SVG ends with %q", s[max(len(s)-20, 0):])
	}
}

// checkOnly fails unless dir holds exactly the named files: no temporary
// file is left behind.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Errorf("folder holds %q, want %q", got, names)
	}
}

// TestSamples writes the sample figures as PNG to -plotdir, for a person
// to look at.
func TestSamples(t *testing.T) {
	if *plotDir == "" {
		t.Skip("no -plotdir")
	}
	if err := os.MkdirAll(*plotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples() {
		if err := s.write(filepath.Join(*plotDir, s.name+".png")); err != nil {
			t.Error(err)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	pngPath := filepath.Join(dir, "f.png")
	nan, inf := math.NaN(), math.Inf(1)
	good := history(true, 2, 5, 3)
	withBadIteration := func(f func(*graph.IterationRecord)) *graph.History {
		h := history(true, 2, 5, 3)
		f(&h.Iterations[3])
		return h
	}
	xs := []float64{0, 1, 2}

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		// File names, the same for every function.
		{"no extension", TrainingProgress(filepath.Join(dir, "f"), good), `plot: training progress "` + dir + `/f": no file extension: want .png or .svg`},
		{"bad extension", ConfusionMatrix(filepath.Join(dir, "f.jpg"), [][]int{{1}}, nil), `unsupported file extension ".jpg": want .png or .svg`},
		{"pdf", Heatmap(filepath.Join(dir, "f.pdf"), "", [][]float64{{1}}, "", ""), `plot: heatmap "` + dir + `/f.pdf": unsupported file extension ".pdf"`},
		{"empty path", Lines("", "", "", "", Series{X: xs, Y: xs}), `plot: lines "": empty path`},
		{"no folder", Lines(filepath.Join(dir, "missing", "f.png"), "", "", "", Series{X: xs, Y: xs}), "create temporary file"},

		// TrainingProgress.
		{"nil history", TrainingProgress(pngPath, nil), `plot: training progress "` + pngPath + `": nil history`},
		{"no iterations", TrainingProgress(pngPath, &graph.History{}), "history has no iterations"},
		{"NaN loss", TrainingProgress(pngPath, withBadIteration(func(r *graph.IterationRecord) { r.Loss = nan })), "iteration 4: loss is NaN"},
		{"Inf accuracy", TrainingProgress(pngPath, withBadIteration(func(r *graph.IterationRecord) { r.Accuracy = inf })), "iteration 4: accuracy is +Inf"},
		{"decreasing iteration", TrainingProgress(pngPath, withBadIteration(func(r *graph.IterationRecord) { r.Iteration = 2 })), "iteration record 3: iteration 2 does not follow iteration 3"},
		{"NaN validation", TrainingProgress(pngPath, func() *graph.History {
			h := history(true, 2, 5, 3)
			h.Validations[1].Loss = nan
			return h
		}()), "validation record 1 (iteration 3): loss is NaN"},
		{"NaN RMSE", TrainingProgress(pngPath, func() *graph.History {
			h := history(false, 2, 5, 0)
			h.Iterations[0].RMSE = nan
			return h
		}()), "iteration 1: RMSE is NaN"},

		// ConfusionMatrix.
		{"empty matrix", ConfusionMatrix(pngPath, nil, nil), `plot: confusion matrix "` + pngPath + `": empty confusion matrix`},
		{"not square", ConfusionMatrix(pngPath, [][]int{{1, 2}}, nil), "row 0 has 2 columns, want 1 for a square matrix"},
		{"ragged", ConfusionMatrix(pngPath, [][]int{{1, 2}, {3}}, nil), "row 1 has 1 columns, want 2"},
		{"negative count", ConfusionMatrix(pngPath, [][]int{{1, 2}, {-3, 4}}, nil), "cell [1][0] is -3, want a count >= 0"},
		{"too few names", ConfusionMatrix(pngPath, [][]int{{1, 2}, {3, 4}}, []string{"a"}), "1 class names for 2 classes"},

		// PredictionVsTruth and Lines.
		{"pvt lengths", PredictionVsTruth(pngPath, "", "", "", xs, xs[:2], xs), `plot: prediction vs truth "` + pngPath + `": x has 3 values, truth 2, pred 3`},
		{"pvt empty", PredictionVsTruth(pngPath, "", "", "", nil, nil, nil), "no values"},
		{"pvt NaN", PredictionVsTruth(pngPath, "", "", "", xs, xs, []float64{0, nan, 2}), "pred[1] is NaN"},
		{"pvt Inf x", PredictionVsTruth(pngPath, "", "", "", []float64{0, 1, inf}, xs, xs), "x[2] is +Inf"},
		{"no series", Lines(pngPath, "", "", ""), `plot: lines "` + pngPath + `": no series`},
		{"series lengths", Lines(pngPath, "", "", "", Series{Name: "a", X: xs, Y: xs}, Series{Name: "b", X: xs, Y: xs[:1]}), `series 1 "b": X has 3 values, Y has 1`},
		{"empty series", Lines(pngPath, "", "", "", Series{Name: "a"}), `series 0 "a": no values`},
		{"series NaN", Lines(pngPath, "", "", "", Series{X: xs, Y: []float64{0, 1, nan}}), `series 0 "": Y[2] is NaN`},
		{"series -Inf", Lines(pngPath, "", "", "", Series{X: []float64{math.Inf(-1), 1, 2}, Y: xs}), `X[0] is -Inf`},

		// Heatmap.
		{"no rows", Heatmap(pngPath, "", nil, "", ""), `plot: heatmap "` + pngPath + `": no rows`},
		{"no columns", Heatmap(pngPath, "", [][]float64{{}}, "", ""), "no columns"},
		{"ragged rows", Heatmap(pngPath, "", [][]float64{{1, 2}, {3}}, "", ""), "row 1 has 1 values, row 0 has 2"},
		{"NaN value", Heatmap(pngPath, "", [][]float64{{1, 2}, {3, nan}}, "", ""), "values[1][1] is NaN"},
		{"Inf value", Heatmap(pngPath, "", [][]float64{{inf}}, "", ""), "values[0][0] is +Inf"},
	} {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
	// Failed calls leave nothing behind, temporary or not.
	checkOnly(t, dir)
}

// TestOntoFolder checks that a figure is not written over a folder, and
// that the temporary file is removed.
func TestOntoFolder(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "f.png")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	xs := []float64{0, 1}
	err := PredictionVsTruth(folder, "", "", "", xs, xs, xs)
	if err == nil || !strings.Contains(err.Error(), "rename") {
		t.Errorf("error %v, want a failed rename", err)
	}
	checkOnly(t, dir, "f.png")
}

// TestOverwrite checks that a figure replaces an earlier one, and that a
// failed call leaves the earlier one intact.
func TestOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.svg")
	xs := []float64{0, 1}
	if err := Lines(path, "first", "", "", Series{X: xs, Y: xs}); err != nil {
		t.Fatal(err)
	}
	if err := Lines(path, "second", "", "", Series{X: xs, Y: xs}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("second")) || bytes.Contains(b, []byte("first")) {
		t.Error("second figure did not replace the first")
	}
	if err := Lines(path, "third", "", "", Series{X: xs, Y: xs[:1]}); err == nil {
		t.Fatal("no error for a bad series")
	}
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Error("failed call changed the earlier figure")
	}
	checkOnly(t, dir, "f.svg")
}

// TestUppercaseExtension checks that the extension's case does not matter.
func TestUppercaseExtension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "F.PNG")
	if err := Heatmap(path, "", [][]float64{{1, 2}}, "", ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, b)
}

// TestRecover checks that a panic in the plotting library becomes an
// error and leaves no file.
func TestRecover(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.png")
	err := save(path, formatPNG, linesWidth, linesHeight, func(dc draw.Canvas) error {
		panic("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "rendering failed: boom") {
		t.Errorf("error %v, want rendering failed: boom", err)
	}
	checkOnly(t, dir)
}

func TestSmooth(t *testing.T) {
	if s := smooth(make([]float64, 9)); s != nil {
		t.Errorf("smooth of 9 points = %v, want nil", s)
	}
	// 90 points: a window of 3·2+1 = 7, cut off at the ends.
	line := make([]float64, 90)
	for i := range line {
		line[i] = 3*float64(i) - 7
	}
	s := smooth(line)
	for i := 3; i < 87; i++ {
		// A straight line is its own centred moving average.
		if math.Abs(s[i]-line[i]) > 1e-9 {
			t.Fatalf("smooth(line)[%d] = %v, want %v", i, s[i], line[i])
		}
	}
	// At the ends the cut-off window is the mean of what is left.
	if want := (line[0] + line[1] + line[2] + line[3]) / 4; math.Abs(s[0]-want) > 1e-9 {
		t.Errorf("smooth(line)[0] = %v, want %v", s[0], want)
	}
	if want := (line[86] + line[87] + line[88] + line[89]) / 4; math.Abs(s[89]-want) > 1e-9 {
		t.Errorf("smooth(line)[89] = %v, want %v", s[89], want)
	}

	// A period of 7 averages out exactly inside.
	alt := make([]float64, 90)
	for i := range alt {
		alt[i] = float64(i % 7)
	}
	s = smooth(alt)
	for i := 3; i < 87; i++ {
		if math.Abs(s[i]-3) > 1e-9 {
			t.Fatalf("smooth(alt)[%d] = %v, want 3", i, s[i])
		}
	}

	// One outlier at the end does not drag the smoothed end with it.
	flat := make([]float64, 90)
	for i := range flat {
		flat[i] = 1
	}
	flat[89] = 0
	if s := smooth(flat); s[89] < 0.7 {
		t.Errorf("smooth(flat with outlier)[89] = %v, want about 0.75", s[89])
	}
}

func TestIndexTicks(t *testing.T) {
	for _, tc := range []struct {
		ticks indexTicks
		want  string // labelled ticks, value:label
		count int    // ticks in all
	}{
		{indexTicks{n: 1}, "0:0", 1},
		{indexTicks{n: 3}, "0:0 1:1 2:2", 3},
		{indexTicks{n: 3, flip: true}, "2:0 1:1 0:2", 3},
		{indexTicks{n: 12}, "0:0 2:2 4:4 6:6 8:8 10:10", 12},
		{indexTicks{n: 24, flip: true}, "23:0 18:5 13:10 8:15 3:20", 24},
		{indexTicks{n: 60}, "0:0 10:10 20:20 30:30 40:40 50:50", 30},
		{indexTicks{n: 100}, "0:0 10:10 20:20 30:30 40:40 50:50 60:60 70:70 80:80 90:90", 20},
		{indexTicks{n: 500}, "0:0 50:50 100:100 150:150 200:200 250:250 300:300 350:350 400:400 450:450", 20},
		{indexTicks{n: 45}, "0:0 5:5 10:10 15:15 20:20 25:25 30:30 35:35 40:40", 9},
	} {
		ticks := tc.ticks.Ticks(-0.5, float64(tc.ticks.n)-0.5)
		var got []string
		for _, tk := range ticks {
			if tk.Label != "" {
				got = append(got, fmt.Sprintf("%v:%s", tk.Value, tk.Label))
			}
		}
		if s := strings.Join(got, " "); s != tc.want || len(ticks) != tc.count {
			t.Errorf("%+v: %d ticks labelled %q, want %d labelled %q", tc.ticks, len(ticks), s, tc.count, tc.want)
		}
	}
}
