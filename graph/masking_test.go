package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// closeTo reports whether got and want agree to tol relative to
// max(1, |want|).
func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestPaddingIsExact is the masking property: in a padded batch, either
// padding direction and any padding value, each sequence gets exactly the
// output, final state and gradient contribution it gets alone (to 1e-12 in
// float64), for LSTM and GRU layers.
func TestPaddingIsExact(t *testing.T) {
	const f, k, h = 3, 4, 5
	rng := rand.New(rand.NewPCG(21, 22))
	seqs := randomSequences(t, rng, 4, f, 1, 7)
	stepLabels := make([][]int, len(seqs))
	for i, s := range seqs {
		for j := 0; j < s.T; j++ {
			stepLabels[i] = append(stepLabels[i], (i+2*j)%k)
		}
	}
	perSeq, err := dataset.NewClassification(seqs, []int{0, 3, 1, 2}, k)
	if err != nil {
		t.Fatal(err)
	}
	perStep, err := dataset.NewStepClassification(seqs, stepLabels, k)
	if err != nil {
		t.Fatal(err)
	}
	all := []int{0, 1, 2, 3}
	for _, name := range []string{"lstm", "gru"} {
		for _, mode := range []rnn.OutputMode{rnn.Last, rnn.Sequence} {
			rec := LSTM(h, WithOutputMode(mode))
			if name == "gru" {
				rec = GRU(h, WithOutputMode(mode))
			}
			src := dataset.Source(perSeq)
			if mode == rnn.Sequence {
				src = perStep
			}
			net, err := NewNetwork([]Layer{SequenceInput(f), rec, FullyConnected(k), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
			if err != nil {
				t.Fatal(err)
			}
			// predict returns each sequence's outputs, one per real step
			// with OutputMode sequence.
			predict := func(b *dataset.Batch) [][][]float64 {
				if mode == rnn.Sequence {
					p, err := net.PredictStepsBatch(b)
					if err != nil {
						t.Fatal(err)
					}
					return p
				}
				p, err := net.PredictBatch(b)
				if err != nil {
					t.Fatal(err)
				}
				out := make([][][]float64, len(p))
				for i := range p {
					out[i] = [][]float64{p[i]}
				}
				return out
			}
			// Each sequence alone: outputs, final hidden state, gradients.
			alone := make([][][]float64, len(all))
			finals := make([][]float64, len(all))
			meanGrad := map[string][]float64{}
			for i := range all {
				b, err := dataset.MakeBatch(src, []int{i})
				if err != nil {
					t.Fatal(err)
				}
				alone[i] = predict(b)[0]
				final := fmt.Sprintf("%s1/t%d/hidden", name, b.T-1)
				acts, err := net.Activations(b, final)
				if err != nil {
					t.Fatal(err)
				}
				finals[i] = acts[final].Data().([]float64)
				var r recorder
				if _, err := net.TrainStep(b, &r); err != nil {
					t.Fatal(err)
				}
				for l, g := range r.grads {
					if meanGrad[l] == nil {
						meanGrad[l] = make([]float64, len(g))
					}
					for j := range g {
						meanGrad[l][j] += g[j] / float64(len(all))
					}
				}
			}
			for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
				t.Run(fmt.Sprintf("%s/%v/%v", name, mode, dir), func(t *testing.T) {
					b, err := dataset.MakeBatch(src, all, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(-2.5))
					if err != nil {
						t.Fatal(err)
					}
					pred := predict(b)
					final := fmt.Sprintf("%s1/t%d/hidden", name, b.T-1)
					acts, err := net.Activations(b, final)
					if err != nil {
						t.Fatal(err)
					}
					hs := acts[final].Data().([]float64)
					for i := range all {
						if len(pred[i]) != len(alone[i]) {
							t.Fatalf("sequence %d: %d outputs in the batch, %d alone", i, len(pred[i]), len(alone[i]))
						}
						for s := range alone[i] {
							for j := range alone[i][s] {
								if !closeTo(pred[i][s][j], alone[i][s][j], 1e-12) {
									t.Fatalf("sequence %d output %d: %v in the batch, %v alone", i, s, pred[i][s], alone[i][s])
								}
							}
						}
						for j := range finals[i] {
							if !closeTo(hs[i*h+j], finals[i][j], 1e-12) {
								t.Fatalf("sequence %d: final state %v in the batch, %v alone", i, hs[i*h:i*h+h], finals[i])
							}
						}
					}
					var r recorder
					if _, err := net.TrainStep(b, &r); err != nil {
						t.Fatal(err)
					}
					for l, g := range r.grads {
						for j := range g {
							if !closeTo(g[j], meanGrad[l][j], 1e-12) {
								t.Fatalf("%s[%d]: batch gradient %v, mean of the sequences' own %v", l, j, g[j], meanGrad[l][j])
							}
						}
					}
				})
			}
		}
	}
}

// TestActivationsNameTheCarriedState: at every timestep of a padded batch,
// a state read by its plain name ("lstm1/t5/hidden") is the state the
// network carries there, as PyTorch's outputs and final states are: for a
// sequence padded on the right, its own state at that step while it runs
// and its last state after it ends; padded on the left, the initial state
// (zeros) before it starts. The reference is each sequence alone, unpadded.
// The cell's own value on a padded step is "lstm1/t5/unmasked/hidden".
func TestActivationsNameTheCarriedState(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const f, h = 2, 3
	src, err := dataset.NewUnlabeled(randomSequences(t, rng, 3, f, 2, 6))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []Layer{LSTM(h), GRU(h), Recurrent(h, peepholeFactory)} {
		net, err := NewNetwork([]Layer{SequenceInput(f), rec, FullyConnected(1), RegressionOutput()}, WithDtype(tensor.Float64))
		if err != nil {
			t.Fatal(err)
		}
		cell := net.layers[1].name
		for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
			b, err := dataset.MakeBatch(src, []int{0, 1, 2}, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(9))
			if err != nil {
				t.Fatal(err)
			}
			acts, err := net.Activations(b)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < b.B; i++ {
				one, _ := dataset.MakeBatch(src, []int{i})
				alone, err := net.Activations(one)
				if err != nil {
					t.Fatal(err)
				}
				start, end := b.Span(i)
				for step := 0; step < b.T; step++ {
					want := make([]float64, h) // before the sequence starts: the initial state
					if step >= start {
						own := min(step, end-1) - start
						want = alone[fmt.Sprintf("%s/t%d/hidden", cell, own)].Data().([]float64)
					}
					got := acts[fmt.Sprintf("%s/t%d/hidden", cell, step)].Data().([]float64)[i*h : (i+1)*h]
					for j := range want {
						if !closeTo(got[j], want[j], 1e-12) {
							t.Fatalf("%s %v: sequence %d, step %d: hidden %v, the state it carries is %v", cell, dir, i, step, got, want)
						}
					}
				}
			}
			if _, ok := acts[fmt.Sprintf("%s/t%d/unmasked/hidden", cell, b.T-1)]; !ok {
				t.Errorf("%s %v: no unmasked/hidden node at the last step of a padded batch", cell, dir)
			}
		}
	}
}
