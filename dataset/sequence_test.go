package dataset

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNewSequence(t *testing.T) {
	s, err := NewSequence([][]float64{{1, 2}, {3, 4}, {5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 3 || s.F != 2 {
		t.Fatalf("got %dx%d, want 3x2", s.T, s.F)
	}
	if want := []float64{1, 2, 3, 4, 5, 6}; !slices.Equal(s.Data, want) {
		t.Errorf("Data = %v, want %v", s.Data, want)
	}
	if got := s.At(2, 1); got != 6 {
		t.Errorf("At(2, 1) = %v, want 6", got)
	}
	if got := s.Row(1); !slices.Equal(got, []float64{3, 4}) {
		t.Errorf("Row(1) = %v, want [3 4]", got)
	}
}

func TestNewSequenceCopies(t *testing.T) {
	rows := [][]float64{{1}, {2}}
	s, err := NewSequence(rows)
	if err != nil {
		t.Fatal(err)
	}
	rows[0][0] = 99
	if s.Data[0] != 1 {
		t.Errorf("sequence aliases its input rows")
	}
}

func TestNewSequenceErrors(t *testing.T) {
	for _, test := range []struct {
		name string
		rows [][]float64
		want []string
	}{
		{"nil", nil, []string{"empty sequence"}},
		{"no rows", [][]float64{}, []string{"empty sequence"}},
		{"no features", [][]float64{{}, {}}, []string{"row 0 has no features"}},
		{"ragged short", [][]float64{{1, 2}, {3, 4}, {5}}, []string{"row 2 has 1 features, want 2"}},
		{"ragged long", [][]float64{{1}, {2, 3}}, []string{"row 1 has 2 features, want 1"}},
		{"NaN", [][]float64{{1, 2}, {3, math.NaN()}}, []string{"timestep 1, feature 1", "NaN"}},
		{"+Inf", [][]float64{{math.Inf(1), 2}}, []string{"timestep 0, feature 0", "+Inf"}},
		{"-Inf", [][]float64{{1}, {2}, {math.Inf(-1)}}, []string{"timestep 2, feature 0", "-Inf"}},
	} {
		_, err := NewSequence(test.rows)
		checkErr(t, test.name, err, test.want...)
	}
}

func TestSequenceAccessorsPanic(t *testing.T) {
	s := Sequence{Data: []float64{1, 2, 3, 4}, T: 2, F: 2}
	for _, test := range []struct {
		name string
		f    func()
	}{
		{"At feature past end", func() { s.At(0, 2) }},
		{"At negative timestep", func() { s.At(-1, 0) }},
		{"At timestep past end", func() { s.At(2, 0) }},
		{"Row past end", func() { s.Row(2) }},
	} {
		if !panics(test.f) {
			t.Errorf("%s: did not panic", test.name)
		}
	}
}

// checkErr fails unless err is non-nil and its message holds every one of
// want, which is how the tests make sure errors name what went wrong.
func checkErr(t *testing.T, name string, err error, want ...string) {
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

func panics(f func()) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	f()
	return false
}
