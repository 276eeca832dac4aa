package graph

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// BenchmarkLongSequence times a training step of the reference network on
// long float32 sequences, reported per timestep (ns/timestep) so that
// lengths compare: a step that slowed down from subnormal numbers would
// cost more per timestep at T=1000 than at T=100. "signal" sequences are
// random throughout; "silence" ones fall silent (zero input) after their
// 10th step, so that the cell state decays towards zero through every
// magnitude float32 has, subnormal ones included, and the gradients vanish
// on the way back. Both run in float64 too, which has no subnormals in that
// range, as a control.
func BenchmarkLongSequence(b *testing.B) {
	for _, kind := range []string{"signal", "silence"} {
		for _, steps := range []int{100, 1000} {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				b.Run(fmt.Sprintf("%s/T=%d/%v", kind, steps, dt), func(b *testing.B) {
					net, err := NewNetwork([]Layer{
						SequenceInput(12), LSTM(100, WithOutputMode(rnn.Last)),
						FullyConnected(9), Softmax(), ClassificationOutput(),
					}, WithDtype(dt))
					if err != nil {
						b.Fatal(err)
					}
					bt := referenceBatch(b, steps)
					if kind == "silence" {
						for s := range bt.B {
							clear(bt.X[s*bt.T*bt.F+10*bt.F : (s+1)*bt.T*bt.F])
						}
					}
					solver, err := optim.NewAdam()
					if err != nil {
						b.Fatal(err)
					}
					if _, err := net.TrainStep(bt, solver); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					for range b.N {
						if _, err := net.TrainStep(bt, solver); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/timestep")
				})
			}
		}
	}
}
