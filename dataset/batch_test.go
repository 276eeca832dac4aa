package dataset

import (
	"math"
	"slices"
	"testing"

	"github.com/pkg/errors"
)

// paddingSet has sequences of lengths 3, 1 and 2 with two features each.
func paddingSet(t testing.TB) *InMemory {
	t.Helper()
	seqs := []Sequence{
		mustSeq(t, []float64{1, 2}, []float64{3, 4}, []float64{5, 6}),
		mustSeq(t, []float64{7, 8}),
		mustSeq(t, []float64{9, 10}, []float64{11, 12}),
	}
	m, err := NewClassification(seqs, []int{0, 1, 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMakeBatchPadding(t *testing.T) {
	src := paddingSet(t)
	for _, test := range []struct {
		name    string
		indices []int
		opts    []BatchOption
		t       int
		x, mask []float64
		lengths []int
		padded  bool
	}{
		{
			name:    "right default",
			indices: []int{0, 1, 2},
			t:       3,
			x: []float64{
				1, 2, 3, 4, 5, 6,
				7, 8, 0, 0, 0, 0,
				9, 10, 11, 12, 0, 0,
			},
			mask:    []float64{1, 1, 1, 1, 0, 0, 1, 1, 0},
			lengths: []int{3, 1, 2},
			padded:  true,
		},
		{
			name:    "left",
			indices: []int{0, 1, 2},
			opts:    []BatchOption{WithPaddingDirection(PadLeft)},
			t:       3,
			x: []float64{
				1, 2, 3, 4, 5, 6,
				0, 0, 0, 0, 7, 8,
				0, 0, 9, 10, 11, 12,
			},
			mask:    []float64{1, 1, 1, 0, 0, 1, 0, 1, 1},
			lengths: []int{3, 1, 2},
			padded:  true,
		},
		{
			name:    "right pad -1 reordered",
			indices: []int{2, 1},
			opts:    []BatchOption{WithPaddingValue(-1)},
			t:       2,
			x: []float64{
				9, 10, 11, 12,
				7, 8, -1, -1,
			},
			mask:    []float64{1, 1, 1, 0},
			lengths: []int{2, 1},
			padded:  true,
		},
		{
			name:    "left pad 2.5",
			indices: []int{1, 2, 1},
			opts:    []BatchOption{WithPaddingDirection(PadLeft), WithPaddingValue(2.5)},
			t:       2,
			x: []float64{
				2.5, 2.5, 7, 8,
				9, 10, 11, 12,
				2.5, 2.5, 7, 8,
			},
			mask:    []float64{0, 1, 1, 1, 0, 1},
			lengths: []int{1, 2, 1},
			padded:  true,
		},
		{
			name:    "left pad -3 lengths 1 and 3",
			indices: []int{1, 0},
			opts:    []BatchOption{WithPaddingValue(-3), WithPaddingDirection(PadLeft)},
			t:       3,
			x: []float64{
				-3, -3, -3, -3, 7, 8,
				1, 2, 3, 4, 5, 6,
			},
			mask:    []float64{0, 0, 1, 1, 1, 1},
			lengths: []int{1, 3},
			padded:  true,
		},
		{
			name:    "single length 1",
			indices: []int{1},
			opts:    []BatchOption{WithPaddingDirection(PadLeft), WithPaddingValue(5)},
			t:       1,
			x:       []float64{7, 8},
			mask:    []float64{1},
			lengths: []int{1},
		},
		{
			name:    "equal lengths",
			indices: []int{2, 2},
			opts:    []BatchOption{WithPaddingValue(5)},
			t:       2,
			x:       []float64{9, 10, 11, 12, 9, 10, 11, 12},
			mask:    []float64{1, 1, 1, 1},
			lengths: []int{2, 2},
		},
	} {
		bt, err := MakeBatch(src, test.indices, test.opts...)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		if bt.B != len(test.indices) || bt.T != test.t || bt.F != 2 {
			t.Errorf("%s: B, T, F = %d, %d, %d, want %d, %d, 2", test.name, bt.B, bt.T, bt.F, len(test.indices), test.t)
		}
		if !slices.Equal(bt.X, test.x) {
			t.Errorf("%s: X = %v, want %v", test.name, bt.X, test.x)
		}
		if !slices.Equal(bt.Mask, test.mask) {
			t.Errorf("%s: Mask = %v, want %v", test.name, bt.Mask, test.mask)
		}
		if !slices.Equal(bt.Lengths, test.lengths) {
			t.Errorf("%s: Lengths = %v, want %v", test.name, bt.Lengths, test.lengths)
		}
		if !slices.Equal(bt.Indices, test.indices) {
			t.Errorf("%s: Indices = %v, want %v", test.name, bt.Indices, test.indices)
		}
		if !slices.Equal(bt.Labels, test.indices) { // label i is i in paddingSet
			t.Errorf("%s: Labels = %v, want %v", test.name, bt.Labels, test.indices)
		}
		if bt.Responses != nil || bt.ResponseSize != 0 {
			t.Errorf("%s: classification batch has responses", test.name)
		}
		if got := bt.Padded(); got != test.padded {
			t.Errorf("%s: Padded() = %t, want %t", test.name, got, test.padded)
		}
		checkSpans(t, test.name, bt)
	}
}

// checkSpans checks that Span agrees with Mask.
func checkSpans(t *testing.T, name string, bt *Batch) {
	t.Helper()
	for b := range bt.B {
		start, end := bt.Span(b)
		for s := range bt.T {
			want := 0.0
			if start <= s && s < end {
				want = 1
			}
			if got := bt.Mask[b*bt.T+s]; got != want {
				t.Errorf("%s: sequence %d: Span = [%d, %d) but Mask[%d] = %v", name, b, start, end, s, got)
			}
		}
	}
}

func TestMakeBatchRegression(t *testing.T) {
	seqs := []Sequence{mustSeq(t, []float64{1}), mustSeq(t, []float64{2}, []float64{3})}
	src, err := NewRegression(seqs, [][]float64{{10, 11}, {20, 21}})
	if err != nil {
		t.Fatal(err)
	}
	bt, err := MakeBatch(src, []int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if bt.Labels != nil {
		t.Errorf("Labels = %v, want nil for regression", bt.Labels)
	}
	if bt.ResponseSize != 2 || !slices.Equal(bt.Responses, []float64{20, 21, 10, 11}) {
		t.Errorf("ResponseSize, Responses = %d, %v, want 2, [20 21 10 11]", bt.ResponseSize, bt.Responses)
	}

	un, err := NewUnlabeled(seqs)
	if err != nil {
		t.Fatal(err)
	}
	bt, err = MakeBatch(un, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	if bt.Labels != nil || bt.Responses != nil || bt.ResponseSize != 0 {
		t.Errorf("unlabeled batch has targets: %+v", bt)
	}
}

// TestBuildReuse checks that a batch built into storage that held a larger,
// differently padded batch comes out as if built afresh.
func TestBuildReuse(t *testing.T) {
	src := paddingSet(t)
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		cfg, err := newConfig([]BatchOption{WithPaddingDirection(dir), WithPaddingValue(-7)})
		if err != nil {
			t.Fatal(err)
		}
		bd := builder{cfg: cfg, schema: src.Schema()}
		var bt Batch
		for _, indices := range [][]int{{0, 1, 2}, {2, 1}, {1, 0, 2}, {1}, {2, 0}} {
			if err := bd.build(&bt, src, src.Len(), indices); err != nil {
				t.Fatal(err)
			}
			want, err := MakeBatch(src, indices, WithPaddingDirection(dir), WithPaddingValue(-7))
			if err != nil {
				t.Fatal(err)
			}
			if !batchEqual(&bt, want) {
				t.Errorf("%v %v: reused batch %+v, want %+v", dir, indices, bt, *want)
			}
		}
	}
}

func batchEqual(a, b *Batch) bool {
	return a.B == b.B && a.T == b.T && a.F == b.F &&
		slices.Equal(a.X, b.X) && slices.Equal(a.Mask, b.Mask) &&
		slices.Equal(a.Lengths, b.Lengths) && slices.Equal(a.Indices, b.Indices) &&
		a.Direction == b.Direction &&
		slices.Equal(a.Labels, b.Labels) && slices.Equal(a.Responses, b.Responses) &&
		a.ResponseSize == b.ResponseSize &&
		slices.Equal(a.StepLabels, b.StepLabels) && slices.Equal(a.StepResponses, b.StepResponses) &&
		a.Frame == b.Frame && a.Chunk == b.Chunk && a.Chunks == b.Chunks && slices.Equal(a.Ends, b.Ends)
}

func TestTimeMajor(t *testing.T) {
	src := paddingSet(t)
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		bt, err := MakeBatch(src, []int{2, 0, 1}, WithPaddingDirection(dir), WithPaddingValue(-1))
		if err != nil {
			t.Fatal(err)
		}
		tm := bt.TimeMajor(nil)
		if len(tm) != len(bt.X) {
			t.Fatalf("len(TimeMajor) = %d, want %d", len(tm), len(bt.X))
		}
		var mask []float64
		for s := range bt.T {
			mask = bt.MaskAt(s, mask)
			if len(mask) != bt.B {
				t.Fatalf("len(MaskAt(%d)) = %d, want %d", s, len(mask), bt.B)
			}
			for b := range bt.B {
				if mask[b] != bt.Mask[b*bt.T+s] {
					t.Errorf("%v: MaskAt(%d)[%d] = %v, want %v", dir, s, b, mask[b], bt.Mask[b*bt.T+s])
				}
				for f := range bt.F {
					if got, want := tm[(s*bt.B+b)*bt.F+f], bt.X[(b*bt.T+s)*bt.F+f]; got != want {
						t.Errorf("%v: TimeMajor[%d, %d, %d] = %v, want %v", dir, s, b, f, got, want)
					}
				}
			}
		}

		// Round trip back to batch-major.
		back := make([]float64, len(tm))
		for s := range bt.T {
			for b := range bt.B {
				copy(back[(b*bt.T+s)*bt.F:(b*bt.T+s+1)*bt.F], tm[(s*bt.B+b)*bt.F:(s*bt.B+b+1)*bt.F])
			}
		}
		if !slices.Equal(back, bt.X) {
			t.Errorf("%v: round trip gave %v, want %v", dir, back, bt.X)
		}
	}
}

func TestTimeMajorReusesDst(t *testing.T) {
	bt, err := MakeBatch(paddingSet(t), []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]float64, 100)
	got := bt.TimeMajor(big)
	if len(got) != len(bt.X) || &got[0] != &big[0] {
		t.Errorf("TimeMajor did not reuse a large enough dst")
	}
	small := make([]float64, 3)
	got = bt.TimeMajor(small)
	if len(got) != len(bt.X) || &got[0] == &small[0] {
		t.Errorf("TimeMajor wrote into a too small dst")
	}
	mask := make([]float64, 0, 8)
	if allocs := testing.AllocsPerRun(10, func() {
		big = bt.TimeMajor(big)
		mask = bt.MaskAt(1, mask)
	}); allocs != 0 {
		t.Errorf("TimeMajor and MaskAt with large enough dst: %v allocations, want 0", allocs)
	}
	if !panics(func() { bt.MaskAt(3, nil) }) || !panics(func() { bt.MaskAt(-1, nil) }) {
		t.Errorf("MaskAt out of range did not panic")
	}
}

func TestClone(t *testing.T) {
	bt, err := MakeBatch(paddingSet(t), []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	c := bt.Clone()
	if !batchEqual(bt, c) {
		t.Fatalf("clone differs")
	}
	c.X[0], c.Mask[0], c.Lengths[0], c.Indices[0], c.Labels[0] = 99, 99, 99, 99, 99
	if bt.X[0] == 99 || bt.Mask[0] == 99 || bt.Lengths[0] == 99 || bt.Indices[0] == 99 || bt.Labels[0] == 99 {
		t.Errorf("clone shares storage with the original")
	}
}

func TestPaddingDirection(t *testing.T) {
	for _, test := range []struct {
		s    string
		want PaddingDirection
	}{
		{"right", PadRight},
		{"left", PadLeft},
		{"Right", PadRight},
		{"LEFT", PadLeft},
	} {
		got, err := ParsePaddingDirection(test.s)
		if err != nil || got != test.want {
			t.Errorf("ParsePaddingDirection(%q) = %v, %v, want %v", test.s, got, err, test.want)
		}
	}
	for _, d := range []PaddingDirection{PadRight, PadLeft} {
		if got, err := ParsePaddingDirection(d.String()); err != nil || got != d {
			t.Errorf("%v does not round-trip: %v, %v", d, got, err)
		}
	}
	for _, s := range []string{"", "both", "r"} {
		_, err := ParsePaddingDirection(s)
		checkErr(t, s, err, "unknown padding direction")
	}
	if got := PaddingDirection(7).String(); got != "PaddingDirection(7)" {
		t.Errorf("String() = %q", got)
	}
}

// fakeSource returns whatever it is given, to check that batches do not
// trust a Source blindly.
type fakeSource struct {
	schema Schema
	obs    []Observation
	failAt int // Observation fails at this index; -1 never
}

func (s *fakeSource) Len() int       { return len(s.obs) }
func (s *fakeSource) Schema() Schema { return s.schema }
func (s *fakeSource) Observation(i int) (Observation, error) {
	if i == s.failAt {
		return Observation{}, errors.New("disk on fire")
	}
	return s.obs[i], nil
}

func TestMakeBatchErrors(t *testing.T) {
	good := paddingSet(t)
	seq := Sequence{Data: []float64{1, 2}, T: 1, F: 2}
	fake := func(schema Schema, o Observation) *fakeSource {
		return &fakeSource{schema: schema, obs: []Observation{{Seq: seq}, {Seq: seq}, o}, failAt: -1}
	}
	cls := Schema{NumFeatures: 2, NumClasses: 2}
	reg := Schema{NumFeatures: 2, ResponseSize: 2}
	all := []int{0, 1, 2}
	for _, test := range []struct {
		name    string
		src     Source
		indices []int
		opts    []BatchOption
		want    []string
	}{
		{"nil source", nil, all, nil, []string{"nil source"}},
		{"empty indices", good, nil, nil, []string{"empty batch"}},
		{"index too large", good, []int{0, 3}, nil, []string{"batch position 1: index 3 out of range [0, 3)"}},
		{"index negative", good, []int{-2}, nil, []string{"batch position 0: index -2"}},
		{"NaN padding", good, all, []BatchOption{WithPaddingValue(math.NaN())}, []string{"padding value is NaN"}},
		{"Inf padding", good, all, []BatchOption{WithPaddingValue(math.Inf(1))}, []string{"padding value is +Inf"}},
		{"bad direction", good, all, []BatchOption{WithPaddingDirection(2)}, []string{"invalid padding direction PaddingDirection(2)"}},
		{"nil option", good, all, []BatchOption{WithPaddingValue(1), nil}, []string{"option 1 is nil"}},
		{"schema no features", fake(Schema{}, Observation{Seq: seq}), all, nil, []string{"0 features"}},
		{"schema both targets", fake(Schema{NumFeatures: 2, NumClasses: 2, ResponseSize: 1}, Observation{Seq: seq}), all, nil,
			[]string{"both 2 classes and response size 1"}},
		{"source error", &fakeSource{schema: cls, obs: []Observation{{Seq: seq}, {Seq: seq}}, failAt: 1}, []int{0, 1}, nil,
			[]string{"observation 1", "disk on fire"}},
		{"wrong features", fake(cls, Observation{Seq: Sequence{Data: []float64{1}, T: 1, F: 1}}), all, nil,
			[]string{"observation 2", "1 features, want 2"}},
		{"no timesteps", fake(cls, Observation{Seq: Sequence{F: 2}}), all, nil, []string{"observation 2", "0 timesteps"}},
		{"short data", fake(cls, Observation{Seq: Sequence{Data: []float64{1, 2}, T: 2, F: 2}}), all, nil,
			[]string{"observation 2", "len(Data) = 2"}},
		{"label out of range", fake(cls, Observation{Seq: seq, Label: 2}), all, nil, []string{"observation 2", "label 2 out of range [0, 2)"}},
		{"response length", fake(reg, Observation{Seq: seq, Response: []float64{1}}), []int{2}, nil,
			[]string{"observation 2", "response has 1 values, want 2"}},
	} {
		_, err := MakeBatch(test.src, test.indices, test.opts...)
		checkErr(t, test.name, err, test.want...)
	}
}

func TestPadSteps(t *testing.T) {
	seqs := []Sequence{
		mustSeq(t, []float64{1, 2}, []float64{3, 4}, []float64{5, 6}),
		mustSeq(t, []float64{7, 8}),
	}
	stepSrc, err := NewStepClassification(seqs, [][]int{{0, 1, 2}, {1}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	regSrc, err := NewStepRegression(seqs, []Sequence{
		mustSeq(t, []float64{0.5}, []float64{1.5}, []float64{2.5}), mustSeq(t, []float64{9}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []Source{paddingSet(t), stepSrc, regSrc} {
		for _, dir := range []PaddingDirection{PadRight, PadLeft} {
			bt, err := MakeBatch(src, []int{0, 1}, WithPaddingDirection(dir), WithPaddingValue(-3))
			if err != nil {
				t.Fatal(err)
			}
			if same, err := bt.PadSteps(bt.T); err != nil || same != bt {
				t.Errorf("%v: PadSteps(T) = %p, %v; want the batch itself", dir, same, err)
			}
			if _, err := bt.PadSteps(bt.T - 1); err == nil {
				t.Errorf("%v: PadSteps(T-1) shortened the batch without an error", dir)
			}
			const long = 6
			pt, err := bt.PadSteps(long)
			if err != nil {
				t.Fatal(err)
			}
			if pt.T != long || !slices.Equal(pt.Lengths, bt.Lengths) || pt.Direction != dir {
				t.Fatalf("%v: T %d, lengths %v, direction %v", dir, pt.T, pt.Lengths, pt.Direction)
			}
			for b := range bt.B {
				s0, e0 := bt.Span(b)
				s1, e1 := pt.Span(b)
				if e1-s1 != e0-s0 {
					t.Fatalf("%v: sequence %d spans %d..%d, was %d..%d", dir, b, s1, e1, s0, e0)
				}
				for k := range long {
					real := k >= s1 && k < e1
					m := pt.Mask[b*long+k]
					if (m == 1) != real {
						t.Errorf("%v: sequence %d step %d: mask %g, real %v", dir, b, k, m, real)
					}
					var wantX []float64
					wantLabel, wantResp := -1, 0.0
					if real {
						k0 := k - s1 + s0
						wantX = bt.X[(b*bt.T+k0)*bt.F : (b*bt.T+k0+1)*bt.F]
						if bt.StepLabels != nil {
							wantLabel = bt.StepLabels[b*bt.T+k0]
						}
						if bt.StepResponses != nil {
							wantResp = bt.StepResponses[b*bt.T+k0]
						}
					} else if k0 := k - (s1 - s0); k0 >= 0 && k0 < bt.T {
						// Padding that bt had keeps its values.
						wantX = bt.X[(b*bt.T+k0)*bt.F : (b*bt.T+k0+1)*bt.F]
					} else {
						wantX = make([]float64, bt.F)
					}
					if got := pt.X[(b*long+k)*pt.F : (b*long+k+1)*pt.F]; !slices.Equal(got, wantX) {
						t.Errorf("%v: sequence %d step %d: x %v, want %v", dir, b, k, got, wantX)
					}
					if pt.StepLabels != nil && pt.StepLabels[b*long+k] != wantLabel {
						t.Errorf("%v: sequence %d step %d: label %d, want %d", dir, b, k, pt.StepLabels[b*long+k], wantLabel)
					}
					if pt.StepResponses != nil && pt.StepResponses[b*long+k] != wantResp {
						t.Errorf("%v: sequence %d step %d: response %g, want %g", dir, b, k, pt.StepResponses[b*long+k], wantResp)
					}
				}
			}
		}
	}
}
