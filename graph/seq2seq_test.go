package graph

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// withStepTargets adds per-timestep targets to a padded batch: label
// (s+t)%k at real step t of sequence s, or responses derived from the
// inputs, placed where the batch's real steps are.
func withStepTargets(b *dataset.Batch, k int, regression bool) *dataset.Batch {
	b = b.Clone()
	if regression {
		b.ResponseSize = k
		b.StepResponses = make([]float64, b.B*b.T*k)
	} else {
		b.StepLabels = make([]int, b.B*b.T)
	}
	for s := 0; s < b.B; s++ {
		real := 0
		for t := 0; t < b.T; t++ {
			i := s*b.T + t
			if b.Mask[i] == 0 {
				if !regression {
					b.StepLabels[i] = -1
				}
				continue
			}
			if regression {
				for r := 0; r < k; r++ {
					b.StepResponses[i*k+r] = 0.5*b.X[i*b.F+r%b.F] - 0.1*float64(real)
				}
			} else {
				b.StepLabels[i] = (s + real) % k
			}
			real++
		}
	}
	return b
}

func TestSequenceToSequenceGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 3, 2, 2, 5))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		layers     []Layer
		regression bool
	}{
		"classification": {[]Layer{SequenceInput(2), LSTM(3), GRU(3), FullyConnected(3), Softmax(), ClassificationOutput()}, false},
		"regression":     {[]Layer{SequenceInput(2), BiLSTM(2), FullyConnected(2), RegressionOutput()}, true},
	}
	for name, c := range cases {
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			t.Run(name+"/"+dir.String(), func(t *testing.T) {
				net, err := NewNetwork(c.layers, WithDtype(tensor.Float64))
				if err != nil {
					t.Fatal(err)
				}
				if !net.PerStep() {
					t.Fatal("network is not sequence-to-sequence")
				}
				b, err := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0.3))
				if err != nil {
					t.Fatal(err)
				}
				checkNetworkGradients(t, net, withStepTargets(b, net.OutputSize(), c.regression))
			})
		}
	}
}

// TestSequenceToSequencePadding: per-step predictions and the loss of a
// padded batch equal those of the sequences alone.
func TestSequenceToSequencePadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 3, 2, 1, 6))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork([]Layer{SequenceInput(2), GRU(4), FullyConnected(3), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	var lossAlone float64
	var alone [][][]float64
	for i := 0; i < 3; i++ {
		b, _ := dataset.MakeBatch(src, []int{i})
		p, err := net.PredictStepsBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		alone = append(alone, p[0])
		b = withStepTargets(b, 3, false)
		for j := range b.StepLabels { // the labels the batch will carry for sequence i
			b.StepLabels[j] = (i + j) % 3
		}
		l, err := net.TrainStep(b, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		lossAlone += l / 3
	}
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		b, _ := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(9))
		p, err := net.PredictStepsBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		for s := range alone {
			if len(p[s]) != len(alone[s]) {
				t.Fatalf("%v: sequence %d has %d predicted steps, want %d", dir, s, len(p[s]), len(alone[s]))
			}
			for i := range alone[s] {
				for j := range alone[s][i] {
					if !closeTo(p[s][i][j], alone[s][i][j], 1e-12) {
						t.Fatalf("%v: sequence %d step %d: %v in the batch, %v alone", dir, s, i, p[s][i], alone[s][i])
					}
				}
			}
		}
		l, err := net.TrainStep(withStepTargets(b, 3, false), &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		if !closeTo(l, lossAlone, 1e-12) {
			t.Errorf("%v: batch loss %v, mean of the sequences' own %v", dir, l, lossAlone)
		}
	}
	if _, err := net.PredictBatch(&dataset.Batch{}); err == nil {
		t.Error("PredictBatch on a sequence-to-sequence network gave no error")
	}
	lastNet, _ := NewNetwork([]Layer{SequenceInput(2), GRU(4, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()})
	if _, err := lastNet.PredictStepsBatch(&dataset.Batch{}); err == nil {
		t.Error("PredictStepsBatch on a sequence-to-label network gave no error")
	}
}

// TestBadStepLabelsAreAnError checks the per-step labels of a batch: in
// range at real timesteps, -1 at padding (as dataset.MakeBatch writes them).
func TestBadStepLabelsAreAnError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Sequences of 2 and 4 timesteps: sequence 0 is padded at 2 and 3.
	seqs := append(randomSequences(t, rng, 1, 2, 2, 2), randomSequences(t, rng, 1, 2, 4, 4)...)
	src, err := dataset.NewUnlabeled(seqs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dataset.MakeBatch(src, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	good := withStepTargets(b, 3, false)
	net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(2), FullyConnected(3), Softmax(), ClassificationOutput()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		at   int
		l    int
		want string
	}{
		{"class beyond the outputs", 1, 3, "label 3 at timestep 1 is outside the network's 3 classes"},
		{"negative class", 0, -1, "label -1 at timestep 0 is outside"},
		{"a class on padding", 3, 0, "sequence 0 of the batch (observation 0): label 0 at timestep 3, which is padding; want -1 there"},
	} {
		bad := good.Clone()
		bad.StepLabels[c.at] = c.l
		if _, err := net.TrainStep(bad, &recorder{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %s", c.name, err, c.want)
		}
	}
}
