package metrics

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// sameFloats reports whether got and want are equal within tol, with NaN
// equal to NaN, since NaN marks an undefined score.
func sameFloats(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.IsNaN(want[i]) {
			if !math.IsNaN(got[i]) {
				return false
			}
			continue
		}
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tol {
			return false
		}
	}
	return true
}

func TestAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pred, truth []int
		want        float64
	}{
		{"all correct", []int{0, 1, 2}, []int{0, 1, 2}, 1},
		{"none correct", []int{1, 2, 0}, []int{0, 1, 2}, 0},
		{"two of four", []int{0, 1, 1, 0}, []int{0, 0, 1, 1}, 0.5},
		{"one of three", []int{3, 3, 3}, []int{3, 1, 2}, 1.0 / 3},
		{"single", []int{7}, []int{7}, 1},
	} {
		got, err := Accuracy(tc.pred, tc.truth)
		if err != nil {
			t.Errorf("%s: unexpected error: %v", tc.name, err)
			continue
		}
		if math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s: Accuracy = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestConfusionMatrix(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pred, truth []int
		classes     int
		want        [][]int
	}{
		{
			name:    "perfect",
			pred:    []int{0, 1, 1},
			truth:   []int{0, 1, 1},
			classes: 2,
			want:    [][]int{{1, 0}, {0, 2}},
		},
		{
			// Rows are true classes: the two class-0 observations
			// predicted as 2 land in row 0, column 2.
			name:    "rows true columns predicted",
			pred:    []int{2, 2, 0, 1, 1, 0},
			truth:   []int{0, 0, 0, 1, 2, 2},
			classes: 3,
			want:    [][]int{{1, 0, 2}, {0, 1, 0}, {1, 1, 0}},
		},
		{
			name:    "class never seen",
			pred:    []int{0, 0},
			truth:   []int{0, 1},
			classes: 3,
			want:    [][]int{{1, 0, 0}, {1, 0, 0}, {0, 0, 0}},
		},
	} {
		got, err := ConfusionMatrix(tc.pred, tc.truth, tc.classes)
		if err != nil {
			t.Errorf("%s: unexpected error: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ConfusionMatrix = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestConfusionMatrixRowsIndependent(t *testing.T) {
	// The rows share one backing array; appending to one must not
	// overwrite the next.
	cm, err := ConfusionMatrix([]int{0, 1}, []int{0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(cm[0], 99)
	if cm[1][0] != 0 {
		t.Errorf("appending to row 0 changed row 1: %v", cm)
	}
}

func TestPrecisionRecallF1(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name                  string
		cm                    [][]int
		precision, recall, f1 []float64
	}{
		{
			name:      "empty",
			cm:        [][]int{},
			precision: []float64{},
			recall:    []float64{},
			f1:        []float64{},
		},
		{
			// Column sums 3, 5; row sums 4, 4.
			name:      "binary",
			cm:        [][]int{{3, 1}, {0, 4}},
			precision: []float64{1, 0.8},
			recall:    []float64{0.75, 1},
			f1:        []float64{6.0 / 7, 8.0 / 9},
		},
		{
			// Class 2 never occurs: recall NaN; it is predicted
			// once, wrongly: precision 0, F1 0.
			// Class 1 occurs but is never predicted: precision
			// NaN, recall 0, F1 0.
			name:      "undefined",
			cm:        [][]int{{2, 0, 1}, {1, 0, 0}, {0, 0, 0}},
			precision: []float64{2.0 / 3, nan, 0},
			recall:    []float64{2.0 / 3, 0, nan},
			f1:        []float64{2.0 / 3, 0, 0},
		},
		{
			// Class 1 neither occurs nor is predicted: F1 NaN.
			name:      "absent class",
			cm:        [][]int{{2, 0}, {0, 0}},
			precision: []float64{1, nan},
			recall:    []float64{1, nan},
			f1:        []float64{1, nan},
		},
	} {
		p, r := PrecisionRecall(tc.cm)
		if !sameFloats(p, tc.precision, 1e-12) {
			t.Errorf("%s: precision = %v, want %v", tc.name, p, tc.precision)
		}
		if !sameFloats(r, tc.recall, 1e-12) {
			t.Errorf("%s: recall = %v, want %v", tc.name, r, tc.recall)
		}
		if f := F1(tc.cm); !sameFloats(f, tc.f1, 1e-12) {
			t.Errorf("%s: F1 = %v, want %v", tc.name, f, tc.f1)
		}
	}
}

func TestMalformedConfusionMatrixPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		cm   [][]int
		want string
	}{
		{"ragged", [][]int{{1, 0}, {0}}, "row 1 has 1 columns, want 2"},
		{"not square", [][]int{{1, 0, 0}, {0, 1, 0}}, "row 0 has 3 columns, want 2"},
		{"negative", [][]int{{1, -1}, {0, 1}}, "cell [0][1] is -1"},
	} {
		for fname, f := range map[string]func([][]int){
			"PrecisionRecall": func(cm [][]int) { PrecisionRecall(cm) },
			"F1":              func(cm [][]int) { F1(cm) },
		} {
			msg := panicMessage(func() { f(tc.cm) })
			if !strings.Contains(msg, tc.want) {
				t.Errorf("%s: %s panicked with %q, want it to contain %q", tc.name, fname, msg, tc.want)
			}
		}
	}
}

func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg, _ = r.(string)
		}
	}()
	f()
	return ""
}

func TestRegression(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pred, truth []float64
		rmse, mae   float64
	}{
		{"exact", []float64{1, 2, 3}, []float64{1, 2, 3}, 0, 0},
		// Errors 3 and -4: RMSE sqrt((9+16)/2), MAE 7/2.
		{"signed errors", []float64{3, -4}, []float64{0, 0}, math.Sqrt(12.5), 3.5},
		// Errors 1, 1, 1, 5: RMSE sqrt(28/4), MAE 8/4.
		{"outlier", []float64{1, 2, 3, 9}, []float64{0, 1, 2, 4}, math.Sqrt(7), 2},
		{"single", []float64{-1.5}, []float64{0.5}, 2, 2},
	} {
		rmse, err := RMSE(tc.pred, tc.truth)
		if err != nil {
			t.Errorf("%s: RMSE: unexpected error: %v", tc.name, err)
		} else if math.Abs(rmse-tc.rmse) > 1e-12 {
			t.Errorf("%s: RMSE = %v, want %v", tc.name, rmse, tc.rmse)
		}
		mae, err := MAE(tc.pred, tc.truth)
		if err != nil {
			t.Errorf("%s: MAE: unexpected error: %v", tc.name, err)
		} else if math.Abs(mae-tc.mae) > 1e-12 {
			t.Errorf("%s: MAE = %v, want %v", tc.name, mae, tc.mae)
		}
	}

	nan := math.NaN()
	if v, err := RMSE([]float64{1, nan}, []float64{1, 2}); err != nil || !math.IsNaN(v) {
		t.Errorf("RMSE with NaN = %v, %v; want NaN, nil", v, err)
	}
	if v, err := MAE([]float64{1, 2}, []float64{nan, 2}); err != nil || !math.IsNaN(v) {
		t.Errorf("MAE with NaN = %v, %v; want NaN, nil", v, err)
	}
}

func TestArgMax(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		scores [][]float64
		want   []int
	}{
		{"none", nil, []int{}},
		{"simple", [][]float64{{0.1, 0.7, 0.2}, {0.6, 0.3, 0.1}, {0, 0, 1}}, []int{1, 0, 2}},
		{"ties go low", [][]float64{{0.5, 0.5}, {0.2, 0.4, 0.4}, {1, 1, 1}}, []int{0, 1, 0}},
		{"negative scores", [][]float64{{-3, -1, -2}}, []int{1}},
		{"infinities", [][]float64{{math.Inf(-1), math.Inf(-1)}, {0, math.Inf(1)}}, []int{0, 1}},
		{"NaN skipped", [][]float64{{nan, 0.2, 0.1}, {0.3, nan, 0.9}}, []int{1, 2}},
		{"no score", [][]float64{{}, {nan, nan}}, []int{-1, -1}},
	} {
		if got := ArgMax(tc.scores); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ArgMax = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	type call func() error
	for _, tc := range []struct {
		name string
		f    call
		is   error
		want string
	}{
		{
			"accuracy length",
			func() error { _, err := Accuracy([]int{0, 1}, []int{0}); return err },
			ErrLengthMismatch, "metrics: accuracy: length mismatch: pred has 2 values, truth has 1",
		},
		{
			"accuracy empty",
			func() error { _, err := Accuracy(nil, []int{}); return err },
			ErrEmpty, "metrics: accuracy: empty input: no predictions",
		},
		{
			"accuracy negative pred",
			func() error { _, err := Accuracy([]int{0, -1}, []int{0, 1}); return err },
			ErrLabelRange, "pred[1] is -1, want a class index >= 0",
		},
		{
			"accuracy negative truth",
			func() error { _, err := Accuracy([]int{0, 1}, []int{-2, 1}); return err },
			ErrLabelRange, "truth[0] is -2",
		},
		{
			"confusion no classes",
			func() error { _, err := ConfusionMatrix([]int{0}, []int{0}, 0); return err },
			ErrEmpty, "metrics: confusion matrix: empty input: 0 classes, want at least 1",
		},
		{
			"confusion length",
			func() error { _, err := ConfusionMatrix([]int{0}, []int{0, 1}, 2); return err },
			ErrLengthMismatch, "pred has 1 values, truth has 2",
		},
		{
			"confusion empty",
			func() error { _, err := ConfusionMatrix(nil, nil, 2); return err },
			ErrEmpty, "no predictions",
		},
		{
			"confusion pred too large",
			func() error { _, err := ConfusionMatrix([]int{0, 3}, []int{0, 1}, 3); return err },
			ErrLabelRange, "metrics: confusion matrix: label out of range: pred[1] is 3, want a class index in [0, 3)",
		},
		{
			"confusion truth negative",
			func() error { _, err := ConfusionMatrix([]int{0, 1}, []int{0, -1}, 3); return err },
			ErrLabelRange, "truth[1] is -1, want a class index in [0, 3)",
		},
		{
			"confusion failed argmax",
			func() error { _, err := ConfusionMatrix(ArgMax([][]float64{{}}), []int{0}, 1); return err },
			ErrLabelRange, "pred[0] is -1",
		},
		{
			"RMSE length",
			func() error { _, err := RMSE([]float64{1}, nil); return err },
			ErrLengthMismatch, "metrics: RMSE: length mismatch: pred has 1 values, truth has 0",
		},
		{
			"RMSE empty",
			func() error { _, err := RMSE(nil, nil); return err },
			ErrEmpty, "metrics: RMSE: empty input",
		},
		{
			"MAE length",
			func() error { _, err := MAE(nil, []float64{1, 2}); return err },
			ErrLengthMismatch, "metrics: MAE: length mismatch: pred has 0 values, truth has 2",
		},
		{
			"MAE empty",
			func() error { _, err := MAE([]float64{}, nil); return err },
			ErrEmpty, "metrics: MAE: empty input",
		},
	} {
		err := tc.f()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, tc.is) {
			t.Errorf("%s: error %q does not wrap %q", tc.name, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.name, err, tc.want)
		}
	}
}
