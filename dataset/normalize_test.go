package dataset

import (
	"math"
	"slices"
	"testing"
)

// normSet has two sequences of three features: feature 0 takes 1, 3, 5
// (mean 3, population std sqrt(8/3)), feature 1 is constant 10, and
// feature 2 takes 5, -1, 2 (mean 2, std sqrt(6)).
func normSet(t testing.TB) *InMemory {
	t.Helper()
	m, err := NewClassification([]Sequence{
		mustSeq(t, []float64{1, 10, 5}, []float64{3, 10, -1}),
		mustSeq(t, []float64{5, 10, 2}),
	}, []int{0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func closeTo(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) <= 1e-12*max(1, math.Abs(y)) })
}

func TestFitNormalization(t *testing.T) {
	st, err := FitNormalization(normSet(t), ZScore)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != ZScore || st.Count != 3 || !st.Frame.IsZero() {
		t.Errorf("Mode, Count, Frame = %v, %d, %v, want zscore, 3, zero", st.Mode, st.Count, st.Frame)
	}
	for _, test := range []struct {
		name      string
		got, want []float64
	}{
		{"Mean", st.Mean, []float64{3, 10, 2}},
		{"Std", st.Std, []float64{math.Sqrt(8.0 / 3), 0, math.Sqrt(6)}},
		{"Min", st.Min, []float64{1, 10, -1}},
		{"Max", st.Max, []float64{5, 10, 5}},
	} {
		if !closeTo(test.got, test.want) {
			t.Errorf("%s = %v, want %v", test.name, test.got, test.want)
		}
	}
}

// TestFitNormalizationFrames checks that video statistics are per channel,
// over rows, columns and timesteps, as MATLAB's "auto" dimension.
func TestFitNormalizationFrames(t *testing.T) {
	fr := FrameShape{C: 2, H: 1, W: 2}
	m, err := NewUnlabeled([]Sequence{
		mustSeq(t, []float64{1, 3, 10, 20}),
		mustSeq(t, []float64{5, 7, 30, 40}),
	}, WithFrame(fr))
	if err != nil {
		t.Fatal(err)
	}
	st, err := FitNormalization(m, ZScore)
	if err != nil {
		t.Fatal(err)
	}
	if st.Frame != fr || st.Count != 4 || !closeTo(st.Mean, []float64{4, 25}) || !closeTo(st.Std, []float64{math.Sqrt(5), math.Sqrt(125)}) ||
		!closeTo(st.Min, []float64{1, 10}) || !closeTo(st.Max, []float64{7, 40}) {
		t.Errorf("stats = %+v, want per channel mean [4 25], std [√5 √125], min [1 10], max [7 40] of 4 values", st)
	}
	x := []float64{4, 4 + math.Sqrt(5), 25, 25 - 2*math.Sqrt(125)}
	if err := st.Apply(x); err != nil {
		t.Fatal(err)
	}
	if !closeTo(x, []float64{0, 1, 0, -2}) {
		t.Errorf("Apply = %v, want [0 1 0 -2]", x)
	}
}

func TestNormalizationModes(t *testing.T) {
	src := normSet(t)
	r6, r83 := 3/math.Sqrt(6), 2/math.Sqrt(8.0/3)
	for _, test := range []struct {
		mode Normalization
		x    []float64 // the two sequences' three rows, then padding
		// extra is what the constant feature's 12 becomes: a deviation
		// unseen in training passes through unscaled.
		extra float64
	}{
		{NormNone, []float64{1, 10, 5, 3, 10, -1, 5, 10, 2}, 12},
		{ZeroCenter, []float64{-2, 0, 3, 0, 0, -3, 2, 0, 0}, 2},
		{ZScore, []float64{-r83, 0, r6, 0, 0, -r6, r83, 0, 0}, 2},
		{RescaleZeroOne, []float64{0, 0, 1, 0.5, 0, 0, 1, 0, 0.5}, 2},
		{RescaleSymmetric, []float64{-1, -1, 1, 0, -1, -1, 1, -1, 0}, 3},
	} {
		st, err := FitNormalization(src, test.mode)
		if err != nil {
			t.Fatal(err)
		}
		bt, err := MakeBatch(src, []int{0, 1}, WithNormalization(st), WithPaddingValue(-7))
		if err != nil {
			t.Fatal(err)
		}
		want := append(slices.Clone(test.x), -7, -7, -7)
		// Rows are s0 t0, s0 t1, s1 t0, s1 padding.
		want = slices.Concat(want[:6], want[6:9], want[9:])
		if !closeTo(bt.X, want) {
			t.Errorf("%v: X = %v, want %v", test.mode, bt.X, want)
		}
		for _, v := range bt.X {
			if !isFinite(v) {
				t.Errorf("%v: X holds %v", test.mode, v)
			}
		}

		// ApplyBatch on an unnormalized left-padded batch gives the same
		// values, padding untouched.
		raw, err := MakeBatch(src, []int{0, 1}, WithPaddingDirection(PadLeft), WithPaddingValue(-7))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ApplyBatch(raw); err != nil {
			t.Fatal(err)
		}
		wantLeft := slices.Concat(want[:6], []float64{-7, -7, -7}, want[6:9])
		if !closeTo(raw.X, wantLeft) {
			t.Errorf("%v: ApplyBatch X = %v, want %v", test.mode, raw.X, wantLeft)
		}

		x := []float64{3, 12, 2}
		if err := st.Apply(x); err != nil {
			t.Fatal(err)
		}
		if math.Abs(x[1]-test.extra) > 1e-12 {
			t.Errorf("%v: constant feature 10 normalizes 12 to %v, want %v", test.mode, x[1], test.extra)
		}
	}
}

func TestNormalizationParse(t *testing.T) {
	for m, name := range []string{"none", "zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one"} {
		got, err := ParseNormalization(name)
		if err != nil || got != Normalization(m) || got.String() != name {
			t.Errorf("ParseNormalization(%q) = %v, %v, want %d", name, got, err, m)
		}
	}
	if got, err := ParseNormalization("ZScore"); err != nil || got != ZScore {
		t.Errorf(`ParseNormalization("ZScore") = %v, %v`, got, err)
	}
	_, err := ParseNormalization("minmax")
	checkErr(t, "unknown", err, `unknown normalization "minmax"`, "rescale-zero-one")
	if got := Normalization(9).String(); got != "Normalization(9)" {
		t.Errorf("String() = %q", got)
	}
}

func TestNormalizationErrors(t *testing.T) {
	src := normSet(t)
	good, err := FitNormalization(src, ZScore)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(st *NormalizationStats)) *NormalizationStats {
		st := *good
		st.Mean, st.Std = slices.Clone(good.Mean), slices.Clone(good.Std)
		st.Min, st.Max = slices.Clone(good.Min), slices.Clone(good.Max)
		f(&st)
		return &st
	}
	for _, test := range []struct {
		name string
		st   *NormalizationStats
		want []string
	}{
		{"nil", nil, []string{"nil normalization statistics"}},
		{"bad mode", with(func(st *NormalizationStats) { st.Mode = 7 }), []string{"invalid normalization Normalization(7)"}},
		{"no stats", &NormalizationStats{Mode: ZeroCenter}, []string{"zerocenter normalization without statistics"}},
		{"negative std", with(func(st *NormalizationStats) { st.Std[2] = -1 }), []string{"Std[2] is -1"}},
		{"short std", with(func(st *NormalizationStats) { st.Std = st.Std[:2] }), []string{"zscore normalization: Std has 2 values, want 3"}},
		{"NaN mean", with(func(st *NormalizationStats) { st.Mean[1] = math.NaN() }), []string{"Mean[1] is NaN"}},
		{"max below min", with(func(st *NormalizationStats) { st.Mode, st.Max[0] = RescaleZeroOne, 0 }), []string{"Max[0] = 0 is less than Min[0] = 1"}},
		{"range overflows", with(func(st *NormalizationStats) {
			st.Mode, st.Min[0], st.Max[0] = RescaleSymmetric, -math.MaxFloat64, math.MaxFloat64
		}),
			[]string{"Max[0] - Min[0] overflows"}},
		{"wrong features", with(func(st *NormalizationStats) { st.Mean, st.Std = st.Mean[:2], st.Std[:2] }), []string{"statistics for 2 features, want 3"}},
		{"frame channels", with(func(st *NormalizationStats) { st.Frame = FrameShape{C: 2, H: 1, W: 1} }), []string{"statistics for 3 channels, want 2"}},
		{"frame mismatch", with(func(st *NormalizationStats) { st.Frame = FrameShape{C: 3, H: 1, W: 1} }), []string{"per channel of 3×1×1 frames"}},
	} {
		_, err := MakeBatch(src, []int{0}, WithNormalization(test.st))
		checkErr(t, test.name, err, test.want...)
		_, err = NewBatcher(src, 1, WithNormalization(test.st))
		checkErr(t, test.name+" batcher", err, test.want...)
	}

	err = good.Apply(make([]float64, 4))
	checkErr(t, "Apply partial timestep", err, "normalizing 4 values, want whole timesteps of 3 features")
	bt, err := MakeBatch(lengthSet(t, 2), []int{0})
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, "ApplyBatch features", good.ApplyBatch(bt), "statistics for 3 features, want 1")

	seq := Sequence{Data: []float64{1, 2}, T: 1, F: 2}
	for _, test := range []struct {
		name string
		src  Source
		mode Normalization
		want []string
	}{
		{"nil source", nil, ZScore, []string{"nil source"}},
		{"bad mode", src, -1, []string{"invalid normalization Normalization(-1)"}},
		{"empty source", &fakeSource{schema: Schema{NumFeatures: 2}, failAt: -1}, ZScore, []string{"0 observations"}},
		{"source error", &fakeSource{schema: Schema{NumFeatures: 2}, obs: []Observation{{Seq: seq}, {Seq: seq}}, failAt: 1}, ZScore,
			[]string{"observation 1", "disk on fire"}},
		{"NaN", &fakeSource{schema: Schema{NumFeatures: 2}, obs: []Observation{{Seq: seq}, {Seq: Sequence{Data: []float64{1, 2, 3, math.Inf(-1)}, T: 2, F: 2}}}, failAt: -1},
			ZScore, []string{"observation 1: timestep 1, feature 1 is -Inf"}},
		{"wrong features", &fakeSource{schema: Schema{NumFeatures: 3}, obs: []Observation{{Seq: seq}}, failAt: -1}, ZScore,
			[]string{"observation 0", "2 features, want 3"}},
	} {
		_, err := FitNormalization(test.src, test.mode)
		checkErr(t, test.name, err, test.want...)
	}
}

// TestWithNormalizationSnapshot checks that a Batcher reads the
// statistics once, when it is made.
func TestWithNormalizationSnapshot(t *testing.T) {
	src := normSet(t)
	st, err := FitNormalization(src, ZeroCenter)
	if err != nil {
		t.Fatal(err)
	}
	br := mustBatcher(t, src, 2, WithNormalization(st))
	st.Mean[0] = 100
	for bt, err := range br.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		if bt.X[0] != -2 {
			t.Errorf("X[0] = %v, want -2 from the statistics at construction", bt.X[0])
		}
	}
}
