package dataset

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func mustSeq(t testing.TB, rows ...[]float64) Sequence {
	t.Helper()
	s, err := NewSequence(rows)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewClassification(t *testing.T) {
	seqs := []Sequence{
		mustSeq(t, []float64{1, 2}),
		mustSeq(t, []float64{3, 4}, []float64{5, 6}),
	}
	labels := []int{2, 0}
	m, err := NewClassification(seqs, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	labels[0] = 1
	seqs[0] = Sequence{}
	if m.Len() != 2 || m.NumFeatures() != 2 || m.NumClasses() != 3 || m.ResponseSize() != 0 {
		t.Errorf("Len, NumFeatures, NumClasses, ResponseSize = %d, %d, %d, %d, want 2, 2, 3, 0",
			m.Len(), m.NumFeatures(), m.NumClasses(), m.ResponseSize())
	}
	if got := m.Label(0); got != 2 {
		t.Errorf("Label(0) = %d, want 2 (labels must be copied)", got)
	}
	if got := m.Sequence(0); got.T != 1 {
		t.Errorf("Sequence(0).T = %d, want 1 (sequence headers must be copied)", got.T)
	}
	if got := m.Response(1); got != nil {
		t.Errorf("Response(1) = %v, want nil for classification", got)
	}
	o, err := m.Observation(1)
	if err != nil {
		t.Fatal(err)
	}
	if o.Label != 0 || o.Seq.T != 2 || o.Response != nil {
		t.Errorf("Observation(1) = %+v", o)
	}
	if got, want := m.Schema(), (Schema{NumFeatures: 2, NumClasses: 3}); got != want {
		t.Errorf("Schema() = %+v, want %+v", got, want)
	}
}

func TestNewRegression(t *testing.T) {
	seqs := []Sequence{mustSeq(t, []float64{1}), mustSeq(t, []float64{2}, []float64{3})}
	resp := [][]float64{{1, 2, 3}, {4, 5, 6}}
	m, err := NewRegression(seqs, resp)
	if err != nil {
		t.Fatal(err)
	}
	resp[1][0] = 99
	if m.NumClasses() != 0 || m.ResponseSize() != 3 || m.NumFeatures() != 1 {
		t.Errorf("NumClasses, ResponseSize, NumFeatures = %d, %d, %d, want 0, 3, 1", m.NumClasses(), m.ResponseSize(), m.NumFeatures())
	}
	if got := m.Response(1); !slices.Equal(got, []float64{4, 5, 6}) {
		t.Errorf("Response(1) = %v, want [4 5 6] (responses must be copied)", got)
	}
	if got := m.Label(0); got != -1 {
		t.Errorf("Label(0) = %d, want -1 for regression", got)
	}
}

func TestNewUnlabeled(t *testing.T) {
	m, err := NewUnlabeled([]Sequence{mustSeq(t, []float64{1, 2, 3})})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Schema(), (Schema{NumFeatures: 3}); got != want {
		t.Errorf("Schema() = %+v, want %+v", got, want)
	}
	if m.Label(0) != -1 || m.Response(0) != nil {
		t.Errorf("unlabeled set has a target")
	}
}

func TestInMemoryErrors(t *testing.T) {
	good := func() []Sequence {
		return []Sequence{
			{Data: []float64{1, 2}, T: 1, F: 2},
			{Data: []float64{1, 2, 3, 4}, T: 2, F: 2},
			{Data: []float64{1, 2, 3, 4, 5, 6}, T: 3, F: 2},
		}
	}
	with := func(i int, s Sequence) []Sequence {
		seqs := good()
		seqs[i] = s
		return seqs
	}
	resp := [][]float64{{1}, {2}, {3}}
	for _, test := range []struct {
		name string
		err  error
		want []string
	}{
		{"classification no sequences", errOf(NewClassification(nil, nil, 2)), []string{"no sequences"}},
		{"classification zero classes", errOf(NewClassification(good(), []int{0, 0, 0}, 0)), []string{"0 classes"}},
		{"classification too few labels", errOf(NewClassification(good(), []int{0, 1}, 2)), []string{"3 sequences but 2 labels"}},
		{"classification too many labels", errOf(NewClassification(good(), []int{0, 1, 1, 0}, 2)), []string{"3 sequences but 4 labels"}},
		{"label too large", errOf(NewClassification(good(), []int{0, 1, 2}, 2)), []string{"sequence 2", "label 2 out of range [0, 2)"}},
		{"label negative", errOf(NewClassification(good(), []int{0, -1, 1}, 2)), []string{"sequence 1", "label -1"}},
		{"feature mismatch", errOf(NewClassification(with(1, Sequence{Data: []float64{1, 2, 3}, T: 1, F: 3}), []int{0, 0, 0}, 1)),
			[]string{"sequence 1 has 3 features, want 2 as in sequence 0"}},
		{"feature mismatch later", errOf(NewRegression(with(2, Sequence{Data: []float64{1}, T: 1, F: 1}), resp)),
			[]string{"sequence 2 has 1 features, want 2 as in sequence 0"}},
		{"sequence no timesteps", errOf(NewClassification(with(1, Sequence{F: 2}), []int{0, 0, 0}, 1)),
			[]string{"sequence 1", "0 timesteps"}},
		{"sequence no features", errOf(NewUnlabeled(with(1, Sequence{Data: []float64{}, T: 2}))), []string{"sequence 1", "0 features"}},
		{"sequence zero value", errOf(NewUnlabeled(with(2, Sequence{}))), []string{"sequence 2", "0 timesteps"}},
		{"sequence bad data length", errOf(NewRegression(with(1, Sequence{Data: []float64{1, 2, 3}, T: 2, F: 2}), resp)),
			[]string{"sequence 1", "len(Data) = 3, want T*F = 2*2 = 4"}},
		{"sequence NaN", errOf(NewClassification(with(2, Sequence{Data: []float64{1, 2, 3, math.NaN()}, T: 2, F: 2}), []int{0, 0, 0}, 1)),
			[]string{"sequence 2", "timestep 1, feature 1 is NaN"}},
		{"sequence Inf", errOf(NewUnlabeled(with(0, Sequence{Data: []float64{math.Inf(-1), 2}, T: 1, F: 2}))),
			[]string{"sequence 0", "timestep 0, feature 0 is -Inf"}},
		{"regression no sequences", errOf(NewRegression(nil, nil)), []string{"no sequences"}},
		{"regression count", errOf(NewRegression(good(), [][]float64{{1}, {2}})), []string{"3 sequences but 2 responses"}},
		{"regression empty response", errOf(NewRegression(good(), [][]float64{{}, {}, {}})), []string{"sequence 0: empty response"}},
		{"regression ragged response", errOf(NewRegression(good(), [][]float64{{1, 2}, {1, 2}, {1}})),
			[]string{"sequence 2: response has 1 values, want 2 as in sequence 0"}},
		{"regression NaN response", errOf(NewRegression(good(), [][]float64{{1}, {math.NaN()}, {1}})),
			[]string{"sequence 1: response element 0 is NaN"}},
		{"regression Inf response", errOf(NewRegression(good(), [][]float64{{1, 2}, {1, 2}, {1, math.Inf(1)}})),
			[]string{"sequence 2: response element 1 is +Inf"}},
		{"unlabeled no sequences", errOf(NewUnlabeled([]Sequence{})), []string{"no sequences"}},
	} {
		checkErr(t, test.name, test.err, test.want...)
	}
}

func errOf(_ *InMemory, err error) error { return err }

func TestSubset(t *testing.T) {
	seqs := []Sequence{
		mustSeq(t, []float64{0}),
		mustSeq(t, []float64{1}, []float64{1}),
		mustSeq(t, []float64{2}, []float64{2}, []float64{2}),
	}
	reg, err := NewRegression(seqs, [][]float64{{0, 0}, {1, 1}, {2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	cls, err := NewClassification(seqs, []int{0, 1, 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	indices := []int{2, 0, 2}
	for _, m := range []*InMemory{reg, cls} {
		sub, err := m.Subset(indices)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Len() != 3 || sub.Schema() != m.Schema() {
			t.Fatalf("subset has %d observations and schema %+v", sub.Len(), sub.Schema())
		}
		for p, i := range indices {
			if sub.Sequence(p).T != m.Sequence(i).T || sub.Label(p) != m.Label(i) || !slices.Equal(sub.Response(p), m.Response(i)) {
				t.Errorf("subset observation %d differs from observation %d", p, i)
			}
		}
	}
	for _, test := range []struct {
		name    string
		indices []int
		want    []string
	}{
		{"empty", nil, []string{"empty subset"}},
		{"too large", []int{0, 3}, []string{"position 1: index 3 out of range [0, 3)"}},
		{"negative", []int{-1}, []string{"position 0: index -1"}},
	} {
		_, err := cls.Subset(test.indices)
		checkErr(t, test.name, err, test.want...)
	}
}

func TestObservationOutOfRange(t *testing.T) {
	m, err := NewUnlabeled([]Sequence{mustSeq(t, []float64{1})})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{-1, 1} {
		_, err := m.Observation(i)
		checkErr(t, "Observation", err, fmt.Sprintf("observation %d out of range [0, 1)", i))
	}
}

func TestNewStepClassification(t *testing.T) {
	seqs := []Sequence{mustSeq(t, []float64{1}, []float64{2}), mustSeq(t, []float64{3})}
	labels := [][]int{{1, 0}, {2}}
	m, err := NewStepClassification(seqs, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	labels[0][0] = 2
	if got, want := m.Schema(), (Schema{NumFeatures: 1, NumClasses: 3, PerStep: true}); got != want {
		t.Errorf("Schema() = %+v, want %+v", got, want)
	}
	o, err := m.Observation(0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.StepLabels, []int{1, 0}) || o.Label != -1 || o.Response != nil || o.StepResponses != nil {
		t.Errorf("Observation(0) = %+v, want step labels [1 0] (copied) and no other target", o)
	}
	sub, err := m.Subset([]int{1, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range [][]int{{2}, {1, 0}, {2}} {
		if got := sub.StepLabels(p); !slices.Equal(got, want) {
			t.Errorf("subset StepLabels(%d) = %v, want %v", p, got, want)
		}
	}
}

func TestNewStepRegression(t *testing.T) {
	seqs := []Sequence{mustSeq(t, []float64{1}, []float64{2}), mustSeq(t, []float64{3})}
	resp := []Sequence{mustSeq(t, []float64{1, 2, 3}, []float64{4, 5, 6}), mustSeq(t, []float64{7, 8, 9})}
	m, err := NewStepRegression(seqs, resp)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Schema(), (Schema{NumFeatures: 1, ResponseSize: 3, PerStep: true}); got != want {
		t.Errorf("Schema() = %+v, want %+v", got, want)
	}
	if got := m.StepResponses(0); !slices.Equal(got, []float64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("StepResponses(0) = %v", got)
	}
	sub, err := m.Subset([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := sub.Observation(0); !slices.Equal(o.StepResponses, []float64{7, 8, 9}) || o.Seq.T != 1 {
		t.Errorf("subset Observation(0) = %+v", o)
	}
	if m.StepLabels(0) != nil || m.Response(0) != nil || m.Label(0) != -1 {
		t.Errorf("step regression set has other targets")
	}
}

func TestStepSetErrors(t *testing.T) {
	seqs := []Sequence{
		{Data: []float64{1, 2}, T: 2, F: 1},
		{Data: []float64{1, 2, 3}, T: 3, F: 1},
	}
	resp := func(ts ...int) []Sequence {
		out := make([]Sequence, len(ts))
		for i, l := range ts {
			out[i] = Sequence{Data: make([]float64, 2*l), T: l, F: 2}
		}
		return out
	}
	ragged := resp(2, 3)
	ragged[1] = Sequence{Data: make([]float64, 3), T: 3, F: 1}
	nan := resp(2, 3)
	nan[1].Data[5] = math.NaN()
	for _, test := range []struct {
		name string
		err  error
		want []string
	}{
		{"zero classes", errOf(NewStepClassification(seqs, [][]int{{0, 0}, {0, 0, 0}}, 0)), []string{"0 classes"}},
		{"label count", errOf(NewStepClassification(seqs, [][]int{{0, 0}}, 2)), []string{"2 sequences but 1 label sequences"}},
		{"too few step labels", errOf(NewStepClassification(seqs, [][]int{{0, 0}, {0, 1}}, 2)),
			[]string{"sequence 1: 2 labels for 3 timesteps"}},
		{"missing step labels", errOf(NewStepClassification(seqs, [][]int{nil, {0, 1, 1}}, 2)),
			[]string{"sequence 0: 0 labels for 2 timesteps"}},
		{"step label out of range", errOf(NewStepClassification(seqs, [][]int{{0, 0}, {0, 1, 2}}, 2)),
			[]string{"sequence 1: timestep 2: label 2 out of range [0, 2)"}},
		{"negative step label", errOf(NewStepClassification(seqs, [][]int{{0, -1}, {0, 1, 1}}, 2)),
			[]string{"sequence 0: timestep 1: label -1"}},
		{"response count", errOf(NewStepRegression(seqs, resp(2))), []string{"2 sequences but 1 response sequences"}},
		{"response timesteps", errOf(NewStepRegression(seqs, resp(2, 2))), []string{"sequence 1: response has 2 timesteps, want 3"}},
		{"response size", errOf(NewStepRegression(seqs, ragged)), []string{"sequence 1: response has 1 values per timestep, want 2"}},
		{"response NaN", errOf(NewStepRegression(seqs, nan)), []string{"sequence 1: response", "timestep 2, feature 1 is NaN"}},
		{"response empty", errOf(NewStepRegression(seqs, []Sequence{{}, {}})), []string{"sequence 0: response", "0 timesteps"}},
		{"sequences empty", errOf(NewStepRegression(nil, nil)), []string{"no sequences"}},
	} {
		checkErr(t, test.name, test.err, test.want...)
	}
}

func TestWithFrameErrors(t *testing.T) {
	fr := FrameShape{C: 3, H: 2, W: 2}
	good := Sequence{Data: make([]float64, 12), T: 1, F: 12}
	other := Sequence{Data: make([]float64, 8), T: 1, F: 8}
	for _, test := range []struct {
		name string
		err  error
		want []string
	}{
		{"frame of another size", errOf(NewUnlabeled([]Sequence{good, good, other}, WithFrame(fr))),
			[]string{"sequence 2 has 8 features, want 12 for frames of 3×2×2"}},
		{"first frame wrong", errOf(NewClassification([]Sequence{other, good}, []int{0, 0}, 1, WithFrame(fr))),
			[]string{"sequence 0 has 8 features, want 12"}},
		{"negative frame", errOf(NewRegression([]Sequence{good}, [][]float64{{1}}, WithFrame(FrameShape{C: -3, H: -2, W: 2}))),
			[]string{"frame shape -3×-2×2"}},
		{"nil option", errOf(NewUnlabeled([]Sequence{good}, nil)), []string{"option 0 is nil"}},
	} {
		checkErr(t, test.name, test.err, test.want...)
	}
	for _, test := range []struct {
		name   string
		schema Schema
		want   string
	}{
		{"schema frame size", Schema{NumFeatures: 5, Frame: fr}, "5 features but frames of 3×2×2 = 12 values"},
		{"schema frame sign", Schema{NumFeatures: 12, Frame: FrameShape{C: -3, H: -2, W: 2}}, "frame shape -3×-2×2"},
	} {
		_, err := NewBatcher(&fakeSource{schema: test.schema, failAt: -1}, 1)
		checkErr(t, test.name, err, test.want)
	}
	m, err := NewStepClassification([]Sequence{good}, [][]int{{1}}, 2, WithFrame(fr))
	if err != nil || m.Schema().Frame != fr || !m.Schema().PerStep {
		t.Errorf("step classification of frames: %+v, %v", m.Schema(), err)
	}
}
