package dataset

import (
	"fmt"
	"slices"
	"testing"
)

func TestMakeBatchShortest(t *testing.T) {
	src := paddingSet(t) // lengths 3, 1, 2; two features
	for _, test := range []struct {
		name    string
		indices []int
		dir     PaddingDirection
		t       int
		x       []float64
		lengths []int
	}{
		{"right keeps the first step", []int{0, 1, 2}, PadRight, 1, []float64{1, 2, 7, 8, 9, 10}, []int{1, 1, 1}},
		{"left keeps the last step", []int{0, 1, 2}, PadLeft, 1, []float64{5, 6, 7, 8, 11, 12}, []int{1, 1, 1}},
		{"right keeps the first two", []int{0, 2}, PadRight, 2, []float64{1, 2, 3, 4, 9, 10, 11, 12}, []int{2, 2}},
		{"left keeps the last two", []int{0, 2}, PadLeft, 2, []float64{3, 4, 5, 6, 9, 10, 11, 12}, []int{2, 2}},
		{"single sequence untouched", []int{0}, PadLeft, 3, []float64{1, 2, 3, 4, 5, 6}, []int{3}},
	} {
		bt, err := MakeBatch(src, test.indices, WithSequenceLength(Shortest), WithPaddingDirection(test.dir), WithPaddingValue(-9))
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if bt.T != test.t || !slices.Equal(bt.X, test.x) || !slices.Equal(bt.Lengths, test.lengths) {
			t.Errorf("%s: T, X, Lengths = %d, %v, %v, want %d, %v, %v", test.name, bt.T, bt.X, bt.Lengths, test.t, test.x, test.lengths)
		}
		if bt.Padded() || slices.Contains(bt.Mask, 0) {
			t.Errorf("%s: Mask = %v, want no padding", test.name, bt.Mask)
		}
		if bt.Chunk != 0 || bt.Chunks != 1 || !allTrue(bt.Ends, bt.B) {
			t.Errorf("%s: Chunk, Chunks, Ends = %d, %d, %v, want 0, 1, all true", test.name, bt.Chunk, bt.Chunks, bt.Ends)
		}
		checkSpans(t, test.name, bt)
	}
}

func allTrue(s []bool, n int) bool {
	return len(s) == n && !slices.Contains(s, false)
}

// chunkSet has one feature per step and sequences a = 1..5, b = 6 7 and
// c = 8 9 10, with per-step labels.
func chunkSet(t testing.TB) *InMemory {
	t.Helper()
	seqs := []Sequence{
		{Data: []float64{1, 2, 3, 4, 5}, T: 5, F: 1},
		{Data: []float64{6, 7}, T: 2, F: 1},
		{Data: []float64{8, 9, 10}, T: 3, F: 1},
	}
	m, err := NewStepClassification(seqs, [][]int{{0, 1, 0, 1, 0}, {1, 1}, {0, 0, 1}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type wantChunk struct {
	x, mask []float64
	lengths []int
	ends    []bool
	steps   []int
}

func TestMakeChunks(t *testing.T) {
	src := chunkSet(t)
	F, T := false, true
	for _, test := range []struct {
		name string
		dir  PaddingDirection
		n    SequenceLength
		want []wantChunk
	}{
		{"right 2", PadRight, 2, []wantChunk{
			{[]float64{1, 2, 6, 7, 8, 9}, []float64{1, 1, 1, 1, 1, 1}, []int{2, 2, 2}, []bool{F, T, F}, []int{0, 1, 1, 1, 0, 0}},
			{[]float64{3, 4, 0, 0, 10, 0}, []float64{1, 1, 0, 0, 1, 0}, []int{2, 0, 1}, []bool{F, F, T}, []int{0, 1, -1, -1, 1, -1}},
			{[]float64{5, 0, 0}, []float64{1, 0, 0}, []int{1, 0, 0}, []bool{T, F, F}, []int{0, -1, -1}},
		}},
		{"left 2", PadLeft, 2, []wantChunk{
			{[]float64{1, 2, 0, 0, 0, 0}, []float64{1, 1, 0, 0, 0, 0}, []int{2, 0, 0}, []bool{F, F, F}, []int{0, 1, -1, -1, -1, -1}},
			{[]float64{3, 4, 0, 6, 8, 9}, []float64{1, 1, 0, 1, 1, 1}, []int{2, 1, 2}, []bool{F, F, F}, []int{0, 1, -1, 1, 0, 0}},
			{[]float64{5, 7, 10}, []float64{1, 1, 1}, []int{1, 1, 1}, []bool{T, T, T}, []int{0, 1, 1}},
		}},
		{"right 3", PadRight, 3, []wantChunk{
			{[]float64{1, 2, 3, 6, 7, 0, 8, 9, 10}, []float64{1, 1, 1, 1, 1, 0, 1, 1, 1}, []int{3, 2, 3}, []bool{F, T, T},
				[]int{0, 1, 0, 1, 1, -1, 0, 0, 1}},
			{[]float64{4, 5, 0, 0, 0, 0}, []float64{1, 1, 0, 0, 0, 0}, []int{2, 0, 0}, []bool{T, F, F}, []int{1, 0, -1, -1, -1, -1}},
		}},
		{"left 4", PadLeft, 4, []wantChunk{
			{[]float64{1, 2, 3, 4, 0, 0, 0, 6, 0, 0, 8, 9}, []float64{1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1}, []int{4, 1, 2}, []bool{F, F, F},
				[]int{0, 1, 0, 1, -1, -1, -1, 1, -1, -1, 0, 0}},
			{[]float64{5, 7, 10}, []float64{1, 1, 1}, []int{1, 1, 1}, []bool{T, T, T}, []int{0, 1, 1}},
		}},
		{"right 5 whole", PadRight, 5, []wantChunk{
			{[]float64{1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 8, 9, 10, 0, 0}, []float64{1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0},
				[]int{5, 2, 3}, []bool{T, T, T}, []int{0, 1, 0, 1, 0, 1, 1, -1, -1, -1, 0, 0, 1, -1, -1}},
		}},
		{"left 9 longer than T", PadLeft, 9, []wantChunk{
			{[]float64{1, 2, 3, 4, 5, 0, 0, 0, 6, 7, 0, 0, 8, 9, 10}, []float64{1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1},
				[]int{5, 2, 3}, []bool{T, T, T}, []int{0, 1, 0, 1, 0, -1, -1, -1, 1, 1, -1, -1, 0, 0, 1}},
		}},
	} {
		opts := []BatchOption{WithSequenceLength(test.n), WithPaddingDirection(test.dir)}
		chunks, err := MakeChunks(src, []int{0, 1, 2}, opts...)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if len(chunks) != len(test.want) {
			t.Fatalf("%s: %d chunks, want %d", test.name, len(chunks), len(test.want))
		}
		for k, c := range chunks {
			checkChunk(t, fmt.Sprintf("%s chunk %d", test.name, k), c, k, len(test.want), int(test.n), test.dir, test.want[k])
		}

		// MakeBatch does not split.
		whole, err := MakeBatch(src, []int{0, 1, 2}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if whole.T != 5 || whole.Chunks != 1 || whole.Chunk != 0 || !allTrue(whole.Ends, 3) {
			t.Errorf("%s: MakeBatch gave T, Chunk, Chunks, Ends = %d, %d, %d, %v, want the whole batch", test.name, whole.T, whole.Chunk, whole.Chunks, whole.Ends)
		}
	}
}

func checkChunk(t *testing.T, name string, c *Batch, k, chunks, n int, dir PaddingDirection, want wantChunk) {
	t.Helper()
	wantT := len(want.mask) / 3
	if c.B != 3 || c.T != wantT || c.F != 1 || c.Chunk != k || c.Chunks != chunks || c.Direction != dir {
		t.Errorf("%s: B, T, F, Chunk, Chunks, Direction = %d, %d, %d, %d, %d, %v, want 3, %d, 1, %d, %d, %v",
			name, c.B, c.T, c.F, c.Chunk, c.Chunks, c.Direction, wantT, k, chunks, dir)
	}
	if k < chunks-1 && c.T != n {
		t.Errorf("%s: T = %d, want the chunk length %d", name, c.T, n)
	}
	if !slices.Equal(c.X, want.x) {
		t.Errorf("%s: X = %v, want %v", name, c.X, want.x)
	}
	if !slices.Equal(c.Mask, want.mask) {
		t.Errorf("%s: Mask = %v, want %v", name, c.Mask, want.mask)
	}
	if !slices.Equal(c.Lengths, want.lengths) {
		t.Errorf("%s: Lengths = %v, want %v", name, c.Lengths, want.lengths)
	}
	if !slices.Equal(c.Ends, want.ends) {
		t.Errorf("%s: Ends = %v, want %v", name, c.Ends, want.ends)
	}
	if !slices.Equal(c.StepLabels, want.steps) {
		t.Errorf("%s: StepLabels = %v, want %v", name, c.StepLabels, want.steps)
	}
	if !slices.Equal(c.Indices, []int{0, 1, 2}) || c.Labels != nil || c.Responses != nil || c.StepResponses != nil {
		t.Errorf("%s: Indices, Labels, Responses, StepResponses = %v, %v, %v, %v", name, c.Indices, c.Labels, c.Responses, c.StepResponses)
	}
	checkSpans(t, name, c)
}

// TestChunksRebuild checks that chunks glued back together give the whole
// batch, for random sets, lengths and directions, with labels carried to
// every chunk and each sequence ending in exactly one chunk.
func TestChunksRebuild(t *testing.T) {
	src := randomSet(t, 30, 17, 3, 5)
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		for _, n := range []SequenceLength{1, 2, 3, 5, 16, 17, 40} {
			name := fmt.Sprintf("%v %v", dir, n)
			indices := []int{4, 0, 29, 7, 7, 12, 3}
			opts := []BatchOption{WithPaddingDirection(dir), WithSequenceLength(n), WithPaddingValue(0.25)}
			whole, err := MakeBatch(src, indices, opts...)
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := MakeChunks(src, indices, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if want := (whole.T + int(n) - 1) / int(n); len(chunks) != want {
				t.Errorf("%s: %d chunks, want %d", name, len(chunks), want)
			}
			glued := &Batch{B: whole.B, F: whole.F, Direction: dir, Frame: whole.Frame, Chunks: 1,
				Lengths: make([]int, whole.B), Ends: make([]bool, whole.B), X: make([]float64, len(whole.X)), Mask: make([]float64, len(whole.Mask))}
			ends := make([]int, whole.B)
			lo := 0
			for k, c := range chunks {
				if !slices.Equal(c.Labels, whole.Labels) || !slices.Equal(c.Indices, whole.Indices) {
					t.Errorf("%s chunk %d: labels or indices differ from the whole batch's", name, k)
				}
				for b := range c.B {
					copy(glued.X[(b*whole.T+lo)*c.F:], c.X[b*c.T*c.F:(b+1)*c.T*c.F])
					copy(glued.Mask[b*whole.T+lo:], c.Mask[b*c.T:(b+1)*c.T])
					glued.Lengths[b] += c.Lengths[b]
					if c.Ends[b] {
						ends[b]++
						glued.Ends[b] = true
						if s, e := c.Span(b); e <= s {
							t.Errorf("%s chunk %d: sequence %d ends in a chunk where it has no steps", name, k, b)
						}
					}
				}
				lo += c.T
			}
			glued.T = lo
			glued.Indices, glued.Labels = whole.Indices, whole.Labels
			if !batchEqual(glued, whole) {
				t.Errorf("%s: chunks glued together differ from the whole batch", name)
			}
			for b, e := range ends {
				if e != 1 {
					t.Errorf("%s: sequence %d ends in %d chunks, want 1", name, b, e)
				}
			}
		}
	}
}

func TestStepTargets(t *testing.T) {
	seqs := []Sequence{
		{Data: []float64{1, 2, 3}, T: 3, F: 1},
		{Data: []float64{4}, T: 1, F: 1},
	}
	cls, err := NewStepClassification(seqs, [][]int{{2, 0, 1}, {1}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewStepRegression(seqs, []Sequence{
		{Data: []float64{1, 10, 2, 20, 3, 30}, T: 3, F: 2},
		{Data: []float64{4, 40}, T: 1, F: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name   string
		opts   []BatchOption
		labels []int
		resp   []float64
	}{
		{"right", nil, []int{2, 0, 1, 1, -1, -1}, []float64{1, 10, 2, 20, 3, 30, 4, 40, 0, 0, 0, 0}},
		{"left", []BatchOption{WithPaddingDirection(PadLeft)}, []int{2, 0, 1, -1, -1, 1}, []float64{1, 10, 2, 20, 3, 30, 0, 0, 0, 0, 4, 40}},
		{"right pad value does not leak", []BatchOption{WithPaddingValue(7)}, []int{2, 0, 1, 1, -1, -1}, []float64{1, 10, 2, 20, 3, 30, 4, 40, 0, 0, 0, 0}},
		{"shortest right", []BatchOption{WithSequenceLength(Shortest)}, []int{2, 1}, []float64{1, 10, 4, 40}},
		{"shortest left", []BatchOption{WithSequenceLength(Shortest), WithPaddingDirection(PadLeft)}, []int{1, 1}, []float64{3, 30, 4, 40}},
	} {
		bc, err := MakeBatch(cls, []int{0, 1}, test.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(bc.StepLabels, test.labels) || bc.Labels != nil || bc.StepResponses != nil {
			t.Errorf("%s: StepLabels, Labels, StepResponses = %v, %v, %v, want %v, nil, nil", test.name, bc.StepLabels, bc.Labels, bc.StepResponses, test.labels)
		}
		br, err := MakeBatch(reg, []int{0, 1}, test.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(br.StepResponses, test.resp) || br.ResponseSize != 2 || br.Responses != nil || br.StepLabels != nil {
			t.Errorf("%s: StepResponses, ResponseSize, Responses, StepLabels = %v, %d, %v, %v, want %v, 2, nil, nil",
				test.name, br.StepResponses, br.ResponseSize, br.Responses, br.StepLabels, test.resp)
		}
	}

	// Storage reused from a batch with longer sequences must not leak.
	bd := builder{schema: reg.Schema()}
	var bt Batch
	for _, idx := range [][]int{{0, 0}, {1, 1}, {1, 0}} {
		if err := bd.build(&bt, reg, 2, idx); err != nil {
			t.Fatal(err)
		}
		want, err := MakeBatch(reg, idx)
		if err != nil {
			t.Fatal(err)
		}
		if !batchEqual(&bt, want) {
			t.Errorf("%v: reused batch %+v, want %+v", idx, bt, *want)
		}
	}

	// Clone copies the new fields.
	c := bt.Clone()
	c.StepResponses[0], c.Ends[0] = 99, false
	if bt.StepResponses[0] == 99 || !bt.Ends[0] {
		t.Errorf("clone shares per-step storage with the original")
	}
}

func TestStepTargetErrors(t *testing.T) {
	seq := Sequence{Data: []float64{1, 2, 3, 4}, T: 2, F: 2}
	cls := Schema{NumFeatures: 2, NumClasses: 3, PerStep: true}
	reg := Schema{NumFeatures: 2, ResponseSize: 2, PerStep: true}
	for _, test := range []struct {
		name   string
		schema Schema
		o      Observation
		want   []string
	}{
		{"missing step labels", cls, Observation{Seq: seq}, []string{"observation 1", "0 step labels for 2 timesteps"}},
		{"too many step labels", cls, Observation{Seq: seq, StepLabels: []int{0, 1, 2}}, []string{"observation 1", "3 step labels for 2 timesteps"}},
		{"step label out of range", cls, Observation{Seq: seq, StepLabels: []int{0, 3}}, []string{"observation 1", "timestep 1: label 3 out of range [0, 3)"}},
		{"negative step label", cls, Observation{Seq: seq, StepLabels: []int{-1, 0}}, []string{"observation 1", "timestep 0: label -1"}},
		{"short step responses", reg, Observation{Seq: seq, StepResponses: []float64{1, 2}}, []string{"observation 1", "2 step response values, want T*ResponseSize = 2*2 = 4"}},
		{"per-step without target", Schema{NumFeatures: 2, PerStep: true}, Observation{Seq: seq}, []string{"per-step targets but neither"}},
	} {
		src := &fakeSource{schema: test.schema, obs: []Observation{{Seq: seq, StepLabels: []int{0, 0}, StepResponses: make([]float64, 4)}, test.o}, failAt: -1}
		_, err := MakeBatch(src, []int{0, 1})
		checkErr(t, test.name, err, test.want...)
		if br, err := NewBatcher(src, 2); err == nil {
			for _, err := range br.Epoch(0) {
				checkErr(t, test.name+" batcher", err, test.want...)
			}
		}
	}
}
