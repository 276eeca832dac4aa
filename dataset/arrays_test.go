package dataset

import (
	"math"
	"slices"
	"testing"
)

func TestNewSequences(t *testing.T) {
	data := [][][]float64{
		{{1, 2}, {3, 4}, {5, 6}},
		{{7, 8}},
	}
	seqs, err := NewSequences(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sequence{
		{Data: []float64{1, 2, 3, 4, 5, 6}, T: 3, F: 2},
		{Data: []float64{7, 8}, T: 1, F: 2},
	}
	checkSequences(t, "NewSequences", seqs, want)
	data[0][0][0] = 99
	if seqs[0].Data[0] != 1 {
		t.Error("NewSequences aliases its input")
	}
}

func TestNewSequencesErrors(t *testing.T) {
	for _, test := range []struct {
		name string
		data [][][]float64
		want []string
	}{
		{"nil", nil, []string{"no sequences"}},
		{"first empty", [][][]float64{{}}, []string{"sequence 0 has no timesteps"}},
		{"later empty", [][][]float64{{{1}}, {{2}}, {}}, []string{"sequence 2 has no timesteps"}},
		{"no features", [][][]float64{{{}}}, []string{"sequence 0, row 0 has no features"}},
		{"ragged within", [][][]float64{{{1, 2}, {3}}}, []string{"sequence 0, row 1 has 1 features, want 2"}},
		{"ragged across", [][][]float64{{{1, 2}}, {{1, 2}, {3, 4}, {5, 6, 7}}}, []string{"sequence 1, row 2 has 3 features, want 2 as in sequence 0, row 0"}},
		{"NaN", [][][]float64{{{1}}, {{2}, {math.NaN()}}}, []string{"sequence 1", "timestep 1, feature 0 is NaN"}},
	} {
		_, err := NewSequences(test.data)
		checkErr(t, test.name, err, test.want...)
	}
}

// TestPaddedRoundTrip checks Padded against the outside definition of the
// layout, MakeBatch: the X, Lengths and direction of a batch give back the
// sequences that made it, with any padding value.
func TestPaddedRoundTrip(t *testing.T) {
	seqs := []Sequence{
		{Data: []float64{1, 2, 3, 4, 5, 6}, T: 3, F: 2},
		{Data: []float64{7, 8}, T: 1, F: 2},
		{Data: []float64{9, 10, 11, 12}, T: 2, F: 2},
	}
	src, err := NewUnlabeled(seqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		bt, err := MakeBatch(src, []int{0, 1, 2}, WithPaddingDirection(dir), WithPaddingValue(-99))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Padded{Data: bt.X, N: bt.B, T: bt.T, F: bt.F, Lengths: bt.Lengths, Direction: dir}.Sequences()
		if err != nil {
			t.Fatalf("%v: %v", dir, err)
		}
		checkSequences(t, dir.String(), got, seqs)
	}
}

func TestPaddedFullLength(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	got, err := Padded{Data: x, N: 2, T: 3, F: 1}.Sequences()
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, "nil lengths", got, []Sequence{{Data: []float64{1, 2, 3}, T: 3, F: 1}, {Data: []float64{4, 5, 6}, T: 3, F: 1}})
	x[0] = 99
	if got[0].Data[0] != 1 {
		t.Error("Padded.Sequences aliases its input")
	}
}

func TestPaddedErrors(t *testing.T) {
	x := make([]float64, 2*3*1)
	for _, test := range []struct {
		name string
		p    Padded
		want []string
	}{
		{"zero N", Padded{Data: nil, N: 0, T: 3, F: 1}, []string{"shape [0, 3, 1]"}},
		{"wrong size", Padded{Data: x[:5], N: 2, T: 3, F: 1}, []string{"5 values, want N*T*F = 2*3*1 = 6"}},
		{"lengths count", Padded{Data: x, N: 2, T: 3, F: 1, Lengths: []int{1}}, []string{"1 lengths for 2 sequences"}},
		{"zero length", Padded{Data: x, N: 2, T: 3, F: 1, Lengths: []int{1, 0}}, []string{"sequence 1 has length 0, want 1 to T = 3"}},
		{"too long", Padded{Data: x, N: 2, T: 3, F: 1, Lengths: []int{4, 1}}, []string{"sequence 0 has length 4"}},
		{"direction", Padded{Data: x, N: 2, T: 3, F: 1, Direction: 7}, []string{"padding direction"}},
		{"NaN in real steps", Padded{Data: []float64{0, 0, 0, 1, math.Inf(1), 0}, N: 2, T: 3, F: 1, Lengths: []int{3, 2}}, []string{"sequence 1", "timestep 1, feature 0 is +Inf"}},
	} {
		_, err := test.p.Sequences()
		checkErr(t, test.name, err, test.want...)
	}
}

// checkSequences fails unless got and want hold the same sequences.
func checkSequences(t *testing.T, name string, got, want []Sequence) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d sequences, want %d", name, len(got), len(want))
	}
	for i := range got {
		if got[i].T != want[i].T || got[i].F != want[i].F || !slices.Equal(got[i].Data, want[i].Data) {
			t.Errorf("%s: sequence %d is %dx%d %v, want %dx%d %v", name, i, got[i].T, got[i].F, got[i].Data, want[i].T, want[i].F, want[i].Data)
		}
	}
}
