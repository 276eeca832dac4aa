package graph

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestNoMemoryGrowth: 1000 training steps on one batch shape leave the
// live heap where it was after the first 100 (compiled graphs, solver
// state and buffers are made once).
func TestNoMemoryGrowth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := randomSequences(t, rng, 8, 4, 6, 6)
	src, _ := dataset.NewClassification(seqs, []int{0, 1, 2, 0, 1, 2, 0, 1}, 3)
	b, _ := dataset.MakeBatch(src, []int{0, 1, 2, 3, 4, 5, 6, 7})
	net, err := NewNetwork([]Layer{SequenceInput(4), LSTM(16), GRU(8, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()})
	if err != nil {
		t.Fatal(err)
	}
	solver, _ := optim.NewAdam()
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var after100 uint64
	for i := 1; i <= 1000; i++ {
		if _, err := net.TrainStep(b, solver); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			after100 = heap()
		}
	}
	if end := heap(); end > after100+256<<10 {
		t.Errorf("live heap grew from %d to %d bytes between steps 100 and 1000", after100, end)
	}
}
