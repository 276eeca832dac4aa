package graph

import (
	"fmt"
	"sync"
	"testing"

	"github.com/seqgraph/seqgraph/rnn"
)

// BenchmarkConcurrentPredict times PredictBatch on the reference network
// (12 features, LSTM of 100 units with OutputMode last, 9 classes,
// float32) over batches of 1 and 32 sequences of 30 steps, from one
// goroutine and from two at once: ns/op is per prediction, so the ratio of
// the goroutines=1 and goroutines=2 figures is the speed-up of serving
// from two goroutines (on 2 cores, at most 2).
func BenchmarkConcurrentPredict(b *testing.B) {
	for _, batch := range []int{1, 32} {
		for _, goroutines := range []int{1, 2} {
			b.Run(fmt.Sprintf("batch=%d/goroutines=%d", batch, goroutines), func(b *testing.B) {
				net, err := NewNetwork([]Layer{SequenceInput(12), LSTM(100, WithOutputMode(rnn.Last)), FullyConnected(9), Softmax(), ClassificationOutput()})
				if err != nil {
					b.Fatal(err)
				}
				full := referenceBatch(b, 30)
				bt := shardOf(full, 0, batch)
				// Warm the cache: a compiled program for each goroutine.
				var wg sync.WaitGroup
				for g := 0; g < goroutines; g++ {
					wg.Add(1)
					go func() { defer wg.Done(); _, _ = net.PredictBatch(bt) }()
				}
				wg.Wait()
				b.ResetTimer()
				for g := 0; g < goroutines; g++ {
					wg.Add(1)
					go func(g int) {
						defer wg.Done()
						for i := g; i < b.N; i += goroutines {
							if _, err := net.PredictBatch(bt); err != nil {
								b.Error(err)
								return
							}
						}
					}(g)
				}
				wg.Wait()
			})
		}
	}
}
