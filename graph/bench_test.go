package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// BenchmarkTrainStep times one training iteration (forward, loss, backward,
// Adam update) of the reference sequence-to-label network: 12 features, an
// LSTM of 100 hidden units with OutputMode last, 9 classes, batches of 32.
// graph/testdata/torch_train_step.py is its PyTorch twin, with the same
// names, and graph/testdata/compare_torch.sh runs both in turn.
func BenchmarkTrainStep(b *testing.B) {
	const f, h, k, batch = 12, 100, 9, 32
	for _, steps := range []int{30, 100} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			b.Run(fmt.Sprintf("T=%d/%v", steps, dt), func(b *testing.B) {
				net, err := NewNetwork([]Layer{
					SequenceInput(f),
					LSTM(h, WithOutputMode(rnn.Last)),
					FullyConnected(k),
					Softmax(),
					ClassificationOutput(),
				}, WithDtype(dt))
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 1))
				seqs := randomSequences(b, rng, batch, f, steps, steps)
				labels := make([]int, batch)
				for i := range labels {
					labels[i] = rng.IntN(k)
				}
				src, err := dataset.NewClassification(seqs, labels, k)
				if err != nil {
					b.Fatal(err)
				}
				idx := make([]int, batch)
				for i := range idx {
					idx[i] = i
				}
				bt, err := dataset.MakeBatch(src, idx)
				if err != nil {
					b.Fatal(err)
				}
				solver, err := optim.NewAdam()
				if err != nil {
					b.Fatal(err)
				}
				// The first step compiles; time the steps that follow.
				if _, err := net.TrainStep(bt, solver); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := net.TrainStep(bt, solver); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
