package graph

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// statefulRing is how many distinct random timesteps the stateful benchmark
// cycles through (its PyTorch twin cycles through as many).
const statefulRing = 64

// BenchmarkStatefulStep times stateful one-step prediction: one op is one
// call to PredictAndUpdateState with a batch of 1 sequence of 1 timestep of
// 12 features, starting from the state the previous call ended in, on the
// reference network (LSTM of 100 hidden units, 9 classes):
//
//   - last: SequenceInput(12), LSTM(100, OutputMode last), FullyConnected(9),
//     Softmax, ClassificationOutput (sequence-to-label, as BenchmarkTrainStep);
//   - sequence: the same with OutputMode sequence (sequence-to-sequence).
//
// Each in float32 and float64. The batch is built once; each op copies the
// next of statefulRing random timesteps into it. The first, compiling, call
// runs before the timer.
//
// graph/testdata/torch_stateful_step.py is its PyTorch twin (nn.LSTM called
// one step at a time with (h, c) fed back, eval mode, no_grad), with the same
// names, and `graph/testdata/compare_torch.sh --stateful` runs both in turn.
func BenchmarkStatefulStep(b *testing.B) {
	for _, mode := range []struct {
		name string
		mode rnn.OutputMode
	}{{"last", rnn.Last}, {"sequence", rnn.Sequence}} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			b.Run(mode.name+"/"+dt.String(), func(b *testing.B) {
				benchmarkStatefulStep(b, []Layer{
					SequenceInput(12),
					LSTM(100, WithOutputMode(mode.mode)),
					FullyConnected(9),
					Softmax(),
					ClassificationOutput(),
				}, dt)
			})
		}
	}
}

func benchmarkStatefulStep(b *testing.B, layers []Layer, dt tensor.Dtype) {
	net, err := NewNetwork(layers, WithDtype(dt))
	if err != nil {
		b.Fatal(err)
	}
	f := net.InputSize()
	rng := rand.New(rand.NewPCG(1, 1))
	ring := make([]float64, statefulRing*f)
	for i := range ring {
		ring[i] = rng.NormFloat64()
	}
	bt := &dataset.Batch{B: 1, T: 1, F: f, X: make([]float64, f), Mask: []float64{1}, Lengths: []int{1}, Chunks: 1}
	step := func(i int) {
		copy(bt.X, ring[(i%statefulRing)*f:])
		out, err := net.PredictAndUpdateState(bt)
		if err != nil {
			b.Fatal(err)
		}
		if len(out) != 1 || len(out[0]) != 1 || len(out[0][0]) != net.OutputSize() {
			b.Fatalf("got %d outputs, want 1 of %d", len(out), net.OutputSize())
		}
	}
	step(0) // compiles the one-step graph
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(i + 1)
	}
}
