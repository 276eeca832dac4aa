package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestChunksEqualWholeSequences: splitting sequences into chunks of N and
// carrying the state from chunk to chunk gives the same outputs as the whole
// sequences (to 1e-12), per timestep and per sequence. Each chunk is an
// iteration of its own, as in MATLAB (SequenceLength N "processes the
// smaller sequences in consecutive iterations"): its per-step loss is
// MATLAB's, computed over the chunk (stepLoss); per-sequence losses, whose
// target applies in the chunk where the sequence ends, add up to the whole
// batch's.
func TestChunksEqualWholeSequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	seqs := randomSequences(t, rng, 3, 2, 4, 11)
	stepLabels := make([][]int, len(seqs))
	for i, s := range seqs {
		stepLabels[i] = make([]int, s.T)
		for j := range stepLabels[i] {
			stepLabels[i][j] = (i + j) % 3
		}
	}
	perStep, err := dataset.NewStepClassification(seqs, stepLabels, 3)
	if err != nil {
		t.Fatal(err)
	}
	perSeq, err := dataset.NewClassification(seqs, []int{2, 0, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 1, 2}
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		for _, n := range []int{1, 3, 4} {
			opts := []dataset.BatchOption{dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(0.2)}
			chunkOpts := append(opts, dataset.WithSequenceLength(dataset.SequenceLength(n)))
			t.Run(dir.String()+"/steps", func(t *testing.T) {
				net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(4), GRU(3), FullyConnected(3), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
				if err != nil {
					t.Fatal(err)
				}
				whole, err := dataset.MakeBatch(perStep, idx, opts...)
				if err != nil {
					t.Fatal(err)
				}
				want, err := net.PredictStepsBatch(whole)
				if err != nil {
					t.Fatal(err)
				}
				if loss, err := net.TrainStep(whole, &recorder{}); err != nil || !closeTo(loss, stepLoss(whole, want), 1e-12) {
					t.Fatalf("the whole batch's loss is %v (%v), MATLAB's %v", loss, err, stepLoss(whole, want))
				}
				chunks, err := dataset.MakeChunks(perStep, idx, chunkOpts...)
				if err != nil {
					t.Fatal(err)
				}
				if len(chunks) < 2 {
					t.Fatalf("only %d chunks", len(chunks))
				}
				got := make([][][]float64, len(idx))
				for k, c := range chunks {
					p, err := net.PredictStepsBatch(c)
					if err != nil {
						t.Fatal(err)
					}
					for s := range p {
						got[s] = append(got[s], p[s]...)
					}
					l, err := net.TrainStep(c, &recorder{})
					if err != nil {
						t.Fatal(err)
					}
					if !closeTo(l, stepLoss(c, p), 1e-12) {
						t.Errorf("N=%d: chunk %d: loss %v, MATLAB's %v", n, k, l, stepLoss(c, p))
					}
				}
				for s := range want {
					if len(got[s]) != len(want[s]) {
						t.Fatalf("N=%d: sequence %d: %d steps from the chunks, %d whole", n, s, len(got[s]), len(want[s]))
					}
					for i := range want[s] {
						for j := range want[s][i] {
							if !closeTo(got[s][i][j], want[s][i][j], 1e-12) {
								t.Fatalf("N=%d: sequence %d step %d: %v from the chunks, %v whole", n, s, i, got[s][i], want[s][i])
							}
						}
					}
				}
			})
			t.Run(dir.String()+"/last", func(t *testing.T) {
				net, err := NewNetwork([]Layer{SequenceInput(2), BiLSTM(3), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
				if err != nil {
					t.Fatal(err)
				}
				// A bidirectional layer reads each sequence backwards, so it
				// cannot run in chunks: only its forward half could carry
				// state. Check that it is refused, then use forward layers.
				chunks, _ := dataset.MakeChunks(perSeq, idx, chunkOpts...)
				if _, err := net.PredictBatch(chunks[0]); err == nil || !strings.Contains(err.Error(), "bidirectional") {
					t.Errorf("a bidirectional network on chunks: %v", err)
				}
				net, _ = NewNetwork([]Layer{SequenceInput(2), GRU(3), LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()}, WithDtype(tensor.Float64))
				whole, _ := dataset.MakeBatch(perSeq, idx, opts...)
				want, err := net.PredictBatch(whole)
				if err != nil {
					t.Fatal(err)
				}
				wantLoss, err := net.TrainStep(whole, &recorder{})
				if err != nil {
					t.Fatal(err)
				}
				var loss float64
				got := make([][]float64, len(idx))
				for _, c := range chunks {
					p, err := net.PredictBatch(c)
					if err != nil {
						t.Fatal(err)
					}
					for s := range p {
						if c.Ends[s] {
							got[s] = p[s]
						}
					}
					l, err := net.TrainStep(c, &recorder{})
					if err != nil {
						t.Fatal(err)
					}
					loss += l
				}
				for s := range want {
					for j := range want[s] {
						if got[s] == nil || !closeTo(got[s][j], want[s][j], 1e-12) {
							t.Fatalf("N=%d: sequence %d: %v at its end chunk, %v whole", n, s, got[s], want[s])
						}
					}
				}
				if !closeTo(loss, wantLoss, 1e-12) {
					t.Errorf("N=%d: the chunks' losses add up to %v, the whole batch's is %v", n, loss, wantLoss)
				}
			})
		}
	}
}

func TestChunksMustComeInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	src, _ := dataset.NewClassification(randomSequences(t, rng, 2, 2, 6, 6), []int{0, 1}, 2)
	net, _ := NewNetwork([]Layer{SequenceInput(2), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()})
	chunks, err := dataset.MakeChunks(src, []int{0, 1}, dataset.WithSequenceLength(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.TrainStep(chunks[1], &recorder{}); err == nil || !strings.Contains(err.Error(), "in order") {
		t.Errorf("a second chunk first: %v", err)
	}
}

func TestNormalizationStaysWithTheNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	seqs := randomSequences(t, rng, 4, 3, 2, 5)
	for _, s := range seqs { // features far from zero mean and unit variance
		for i := range s.Data {
			s.Data[i] = 40 + 7*s.Data[i]
		}
	}
	src, _ := dataset.NewClassification(seqs, []int{0, 1, 0, 1}, 2)
	layers := func(norm bool) []Layer {
		in := SequenceInput(3)
		if norm {
			in = SequenceInput(3, WithInputNormalization(dataset.ZScore))
		}
		return []Layer{in, LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()}
	}
	net, err := NewNetwork(layers(true), WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewNetwork(layers(false), WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := dataset.MakeBatch(src, []int{0, 1, 2, 3})
	if _, err := net.PredictBatch(b); err == nil || !strings.Contains(err.Error(), "FitNormalization") {
		t.Errorf("predicting before fitting the normalization: %v", err)
	}
	if err := net.FitNormalization(src); err != nil {
		t.Fatal(err)
	}
	st := net.Normalization()
	nb, err := dataset.MakeBatch(src, []int{0, 1, 2, 3}, dataset.WithNormalization(st))
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.PredictBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.PredictBatch(nb)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for k := range want[i] {
			if !closeTo(got[i][k], want[i][k], 1e-12) {
				t.Fatalf("sequence %d: %v from raw data, %v from data normalized beforehand", i, got[i], want[i])
			}
		}
	}
	if b.X[0] < 10 {
		t.Error("normalizing changed the caller's batch")
	}
	wrong := *st
	wrong.Mode = dataset.RescaleZeroOne
	if err := net.SetNormalization(&wrong); err == nil {
		t.Error("statistics of another mode gave no error")
	}
	if _, err := NewNetwork([]Layer{SequenceInput(2), LSTM(2, WithOutputMode(rnn.Last), WithInputNormalization(dataset.ZScore)), FullyConnected(1), RegressionOutput()}); err == nil {
		t.Error("a normalization on an LSTM layer gave no error")
	}
}

// stepLoss is MATLAB's sequence-to-sequence classification loss of a
// mini-batch given the network's class probabilities at each real step
// (PredictStepsBatch): per sequence, the mean over its S real timesteps
// of -ln p(true class), 1/S Σ_t -ln p_t; then the mean over the B sequences
// of the mini-batch. A sequence with no real step in a chunk adds 0.
func stepLoss(b *dataset.Batch, probs [][][]float64) float64 {
	var total float64
	for s, steps := range probs {
		i := 0
		for t := 0; t < b.T; t++ {
			if b.Mask[s*b.T+t] == 0 {
				continue
			}
			total -= math.Log(steps[i][b.StepLabels[s*b.T+t]]) / float64(len(steps))
			i++
		}
	}
	return total / float64(b.B)
}
