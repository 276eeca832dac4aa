package dataset

import (
	"math"
	"slices"
	"testing"
)

// TestWindowRegressionCosine checks NewWindowRegression against the
// windows the cosine demo writes by hand (the TensorFlow tutorial's): window
// i holds samples i..i+9 and its response is sample i+10.
func TestWindowRegressionCosine(t *testing.T) {
	const n, w = 50, 10
	samples := make([]float64, n+w)
	for k := range samples {
		samples[k] = math.Cos(float64(k) * 0.01)
	}
	set, err := NewWindowRegression([]Sequence{Series(samples)}, w)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != n || set.ResponseSize() != 1 || set.NumFeatures() != 1 {
		t.Fatalf("%d windows of %d features, responses of %d; want %d, 1, 1", set.Len(), set.NumFeatures(), set.ResponseSize(), n)
	}
	for i := range n {
		s := set.Sequence(i)
		if s.T != w || !slices.Equal(s.Data, samples[i:i+w]) {
			t.Fatalf("window %d is %v, want %v", i, s.Data, samples[i:i+w])
		}
		if r := set.Response(i); r[0] != samples[i+w] {
			t.Fatalf("response %d is %v, want %v", i, r, samples[i+w])
		}
	}
	// Inputs share the series' storage.
	if &set.Sequence(3).Data[0] != &samples[3] {
		t.Error("window 3 does not share the series' storage")
	}
}

func TestWindowRegressionOptions(t *testing.T) {
	// Two series of 2 features: value 10*t + f, and 100 + 10*t + f.
	mk := func(base float64, n int) Sequence {
		s := Sequence{T: n, F: 2}
		for tt := range n {
			s.Data = append(s.Data, base+10*float64(tt), base+10*float64(tt)+1)
		}
		return s
	}
	series := []Sequence{mk(0, 7), mk(100, 5)}
	for _, test := range []struct {
		name      string
		series    []Sequence
		window    int
		opts      []WindowOption
		inputs    [][]float64
		responses [][]float64
	}{
		{"horizon 2, stride 2, all features", series, 2, []WindowOption{WithHorizon(2), WithStride(2)},
			[][]float64{{0, 1, 10, 11}, {20, 21, 30, 31}, {100, 101, 110, 111}},
			[][]float64{{20, 21, 30, 31}, {40, 41, 50, 51}, {120, 121, 130, 131}}},
		{"target feature 1, stride 3", series, 3, []WindowOption{WithStride(3), WithTargetFeatures(1)},
			[][]float64{{0, 1, 10, 11, 20, 21}, {30, 31, 40, 41, 50, 51}, {100, 101, 110, 111, 120, 121}},
			[][]float64{{31}, {61}, {131}}},
		{"targets reordered, horizon 2", series[:1], 4, []WindowOption{WithTargetFeatures(1, 0), WithHorizon(2), WithStride(5)},
			[][]float64{{0, 1, 10, 11, 20, 21, 30, 31}},
			[][]float64{{41, 40, 51, 50}}},
	} {
		set, err := NewWindowRegression(test.series, test.window, test.opts...)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		checkWindows(t, test.name, set, test.inputs, test.responses, set.Response)
	}
}

// TestStepAheadWholeSeries checks the layout of MATLAB's "Time Series
// Forecasting Using Deep Learning": X = data(1:end-1), T = data(2:end) for
// every series.
func TestStepAheadWholeSeries(t *testing.T) {
	a := Series([]float64{1, 2, 3, 4, 5})
	b := Series([]float64{10, 20, 30})
	set, err := NewStepAheadRegression([]Sequence{a, b}, WholeSeries)
	if err != nil {
		t.Fatal(err)
	}
	s := set.Schema()
	if !s.PerStep || s.ResponseSize != 1 || set.Len() != 2 {
		t.Fatalf("schema %+v with %d observations, want per-step responses of 1 and 2 observations", s, set.Len())
	}
	for i, want := range [][2][]float64{{{1, 2, 3, 4}, {2, 3, 4, 5}}, {{10, 20}, {20, 30}}} {
		if got := set.Sequence(i).Data; !slices.Equal(got, want[0]) {
			t.Errorf("input %d is %v, want %v", i, got, want[0])
		}
		if got := set.StepResponses(i); !slices.Equal(got, want[1]) {
			t.Errorf("responses %d are %v, want %v", i, got, want[1])
		}
	}
}

func TestStepAheadWindows(t *testing.T) {
	// 2 features: 10*t and 10*t+1, 8 timesteps.
	s := Sequence{T: 8, F: 2}
	for tt := range 8 {
		s.Data = append(s.Data, 10*float64(tt), 10*float64(tt)+1)
	}
	for _, test := range []struct {
		name      string
		window    int
		opts      []WindowOption
		inputs    [][]float64
		responses [][]float64
		r         int
	}{
		{"window 3, stride 3", 3, []WindowOption{WithStride(3)},
			[][]float64{{0, 1, 10, 11, 20, 21}, {30, 31, 40, 41, 50, 51}},
			[][]float64{{10, 11, 20, 21, 30, 31}, {40, 41, 50, 51, 60, 61}}, 2},
		{"horizon 2, feature 0", 4, []WindowOption{WithHorizon(2), WithStride(2), WithTargetFeatures(0)},
			[][]float64{{0, 1, 10, 11, 20, 21, 30, 31}, {20, 21, 30, 31, 40, 41, 50, 51}},
			[][]float64{{20, 30, 40, 50}, {40, 50, 60, 70}}, 1},
		{"whole series, horizon 3", WholeSeries, []WindowOption{WithHorizon(3), WithTargetFeatures(1)},
			[][]float64{{0, 1, 10, 11, 20, 21, 30, 31, 40, 41}},
			[][]float64{{31, 41, 51, 61, 71}}, 1},
	} {
		set, err := NewStepAheadRegression([]Sequence{s}, test.window, test.opts...)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if set.ResponseSize() != test.r {
			t.Errorf("%s: responses of %d, want %d", test.name, set.ResponseSize(), test.r)
		}
		checkWindows(t, test.name, set, test.inputs, test.responses, set.StepResponses)
	}
}

func TestWindowErrors(t *testing.T) {
	five := []Sequence{Series([]float64{1, 2, 3, 4, 5})}
	two := []Sequence{{Data: []float64{1, 2, 3, 4}, T: 2, F: 2}}
	for _, test := range []struct {
		name   string
		ahead  bool // NewStepAheadRegression rather than NewWindowRegression
		series []Sequence
		window int
		opts   []WindowOption
		want   []string
	}{
		{"no series", false, nil, 2, nil, []string{"no series"}},
		{"window 0", false, five, 0, nil, []string{"window of 0 timesteps, want at least 1"}},
		{"negative window", true, five, -1, nil, []string{"window of -1 timesteps", "WholeSeries"}},
		{"horizon 0", false, five, 2, []WindowOption{WithHorizon(0)}, []string{"horizon 0, want at least 1"}},
		{"stride 0", true, five, 2, []WindowOption{WithStride(0)}, []string{"stride 0, want at least 1"}},
		{"nil option", false, five, 2, []WindowOption{nil}, []string{"option 0 is nil"}},
		{"too short", false, append(five, Series([]float64{1, 2})), 2, nil,
			[]string{"series 1 has 2 timesteps, want at least 3 for a window of 2 and a horizon of 1"}},
		{"too short ahead", true, five, 3, []WindowOption{WithHorizon(3)}, []string{"series 0 has 5 timesteps, want at least 6"}},
		{"too short whole", true, []Sequence{Series([]float64{1})}, WholeSeries, nil, []string{"series 0 has 1 timesteps, want at least 2 for a horizon of 1"}},
		{"target out of range", false, two, 1, []WindowOption{WithTargetFeatures(2)}, []string{"target feature 2 out of range [0, 2)"}},
		{"target twice", true, two, 1, []WindowOption{WithTargetFeatures(1, 1)}, []string{"target feature 1 chosen twice"}},
		{"no targets", false, two, 1, []WindowOption{WithTargetFeatures()}, []string{"no target features"}},
		{"features differ", false, append(two, five[0]), 1, nil, []string{"series 1 has 1 features, want 2"}},
		{"NaN", true, []Sequence{Series([]float64{1, math.NaN(), 3})}, 1, nil, []string{"series 0", "timestep 1, feature 0 is NaN"}},
	} {
		var err error
		if test.ahead {
			_, err = NewStepAheadRegression(test.series, test.window, test.opts...)
		} else {
			_, err = NewWindowRegression(test.series, test.window, test.opts...)
		}
		checkErr(t, test.name, err, test.want...)
	}
}

// checkWindows fails unless set holds the inputs and, as response(i) gives
// them, the responses.
func checkWindows(t *testing.T, name string, set *InMemory, inputs, responses [][]float64, response func(i int) []float64) {
	t.Helper()
	if set.Len() != len(inputs) {
		t.Fatalf("%s: %d observations, want %d", name, set.Len(), len(inputs))
	}
	for i := range inputs {
		if got := set.Sequence(i).Data; !slices.Equal(got, inputs[i]) {
			t.Errorf("%s: input %d is %v, want %v", name, i, got, inputs[i])
		}
		if got := response(i); !slices.Equal(got, responses[i]) {
			t.Errorf("%s: response %d is %v, want %v", name, i, got, responses[i])
		}
	}
}
