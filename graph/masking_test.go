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
	const f, k = 3, 4
	rng := rand.New(rand.NewPCG(21, 22))
	seqs := randomSequences(t, rng, 4, f, 1, 7)
	src, err := dataset.NewClassification(seqs, []int{0, 3, 1, 2}, k)
	if err != nil {
		t.Fatal(err)
	}
	all := []int{0, 1, 2, 3}
	for name, rec := range map[string]Layer{"lstm": LSTM(5, WithOutputMode(rnn.Last)), "gru": GRU(5, WithOutputMode(rnn.Last))} {
		net, err := NewNetwork([]Layer{SequenceInput(f), rec, FullyConnected(k), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
		if err != nil {
			t.Fatal(err)
		}
		// Each sequence alone: prediction, final hidden state, gradients.
		alone := make([][]float64, len(all))
		finals := make([][]float64, len(all))
		var meanGrad map[string][]float64
		for i := range all {
			b, err := dataset.MakeBatch(src, []int{i})
			if err != nil {
				t.Fatal(err)
			}
			if alone[i], err = firstRow(net.PredictBatch(b)); err != nil {
				t.Fatal(err)
			}
			acts, err := net.Activations(b, fmt.Sprintf("%s1/t%d/hidden", name, b.T-1))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range acts {
				finals[i] = v.Data().([]float64)
			}
			var r recorder
			if _, err := net.TrainStep(b, &r); err != nil {
				t.Fatal(err)
			}
			if meanGrad == nil {
				meanGrad = map[string][]float64{}
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
			t.Run(name+"/"+dir.String(), func(t *testing.T) {
				b, err := dataset.MakeBatch(src, all, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(-2.5))
				if err != nil {
					t.Fatal(err)
				}
				pred, err := net.PredictBatch(b)
				if err != nil {
					t.Fatal(err)
				}
				final := fmt.Sprintf("%s1/t%d/masked/hidden", name, b.T-1)
				acts, err := net.Activations(b, final)
				if err != nil {
					t.Fatal(err)
				}
				h := acts[final].Data().([]float64)
				for i := range all {
					for j := range alone[i] {
						if !closeTo(pred[i][j], alone[i][j], 1e-12) {
							t.Errorf("sequence %d: prediction %v in the batch, %v alone", i, pred[i], alone[i])
							break
						}
					}
					for j := range finals[i] {
						if !closeTo(h[i*5+j], finals[i][j], 1e-12) {
							t.Errorf("sequence %d: final state %v in the batch, %v alone", i, h[i*5:i*5+5], finals[i])
							break
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
							t.Errorf("%s[%d]: batch gradient %v, mean of the sequences' own %v", l, j, g[j], meanGrad[l][j])
							break
						}
					}
				}
			})
		}
	}
}

func firstRow(rows [][]float64, err error) ([]float64, error) {
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}
