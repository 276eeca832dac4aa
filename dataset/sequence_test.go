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

func TestFromHWC(t *testing.T) {
	for _, test := range []struct {
		name       string
		t, h, w, c int
		data, want []float64
	}{
		{"one pixel row, RGB", 1, 1, 2, 3, []float64{1, 2, 3, 4, 5, 6}, []float64{1, 4, 2, 5, 3, 6}},
		{"2x2 gray", 1, 2, 2, 1, []float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}},
		{"two frames 2x1 two channels", 2, 2, 1, 2,
			[]float64{1, 10, 2, 20, 3, 30, 4, 40},
			[]float64{1, 2, 10, 20, 3, 4, 30, 40}},
	} {
		s, err := FromHWC(test.t, test.h, test.w, test.c, test.data)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if s.T != test.t || s.F != test.h*test.w*test.c || !slices.Equal(s.Data, test.want) {
			t.Errorf("%s: T, F, Data = %d, %d, %v, want %d, %d, %v", test.name, s.T, s.F, s.Data, test.t, test.h*test.w*test.c, test.want)
		}
	}

	// Every value lands at (channel, row, column) of its frame.
	const T, H, W, C = 3, 4, 5, 2
	data := make([]float64, T*H*W*C)
	code := func(tt, y, x, ch int) float64 { return float64(1000*tt + 100*y + 10*x + ch) }
	for tt := range T {
		for y := range H {
			for x := range W {
				for ch := range C {
					data[((tt*H+y)*W+x)*C+ch] = code(tt, y, x, ch)
				}
			}
		}
	}
	s, err := FromHWC(T, H, W, C, data)
	if err != nil {
		t.Fatal(err)
	}
	for tt := range T {
		for ch := range C {
			for y := range H {
				for x := range W {
					if got, want := s.At(tt, (ch*H+y)*W+x), code(tt, y, x, ch); got != want {
						t.Fatalf("frame %d channel %d row %d column %d is %v, want %v", tt, ch, y, x, got, want)
					}
				}
			}
		}
	}
	data[0] = 99
	if s.Data[0] == 99 {
		t.Errorf("FromHWC aliases its input")
	}

	for _, test := range []struct {
		name       string
		t, h, w, c int
		data       []float64
		want       []string
	}{
		{"zero frames", 0, 1, 1, 1, nil, []string{"0 frames of 1×1×1 (H×W×C)"}},
		{"zero channels", 1, 1, 1, 0, nil, []string{"positive sizes"}},
		{"short data", 2, 1, 2, 1, []float64{1, 2, 3}, []string{"3 values, want t*h*w*c = 2*1*2*1 = 4"}},
		{"NaN", 2, 1, 1, 2, []float64{1, 2, 3, math.NaN()}, []string{"timestep 1, feature 1 is NaN"}},
	} {
		_, err := FromHWC(test.t, test.h, test.w, test.c, test.data)
		checkErr(t, test.name, err, test.want...)
	}
}

func TestNewVideoSequence(t *testing.T) {
	fr := FrameShape{C: 1, H: 2, W: 2}
	s, err := NewVideoSequence([][]float64{{1, 2, 3, 4}, {5, 6, 7, 8}}, fr)
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 2 || s.F != 4 || !slices.Equal(s.Data, []float64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("got %+v", s)
	}
	for _, test := range []struct {
		name   string
		frames [][]float64
		shape  FrameShape
		want   []string
	}{
		{"no frames", nil, fr, []string{"no frames"}},
		{"bad shape", [][]float64{{1}}, FrameShape{C: 1, H: 0, W: 1}, []string{"frame shape 1×0×1"}},
		{"frame of another size", [][]float64{{1, 2, 3, 4}, {1, 2, 3}}, fr, []string{"frame 1 has 3 values, want 4 for 1×2×2"}},
		{"Inf", [][]float64{{1, 2, 3, 4}, {1, 2, math.Inf(1), 4}}, fr, []string{"timestep 1, feature 2 is +Inf"}},
	} {
		_, err := NewVideoSequence(test.frames, test.shape)
		checkErr(t, test.name, err, test.want...)
	}
}
