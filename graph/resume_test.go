package graph

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/seqgraph/seqgraph/optim"
)

func optimNoMomentum() []optim.Option { return []optim.Option{optim.WithMomentum(0)} }

// TestCheckpointsAndResume: Train writes a checkpoint every epoch; training
// resumed from the checkpoint of epoch 2 with SGD without momentum (whose
// solver has no state to lose) ends with the weights of the uninterrupted
// run, bit for bit.
func TestCheckpointsAndResume(t *testing.T) {
	data := trainingData(t, 32, 3)
	dir := t.TempDir()
	opts := []TrainOption{WithSolver("sgdm"), WithSolverOptions(optimNoMomentum()...), WithMaxEpochs(4), WithMiniBatchSize(8), WithVerbose(false)}
	whole, _, err := Train(context.Background(), smallClassifier(t, 5), data, append(opts, WithCheckpoints(dir, 1))...)
	if err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= 4; e++ {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("checkpoint_epoch%03d.safetensors", e))); err != nil {
			t.Fatal(err)
		}
	}
	net, st, err := LoadFileWithState(filepath.Join(dir, "checkpoint_epoch002.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || st.Epoch != 2 || st.Iteration != 8 {
		t.Fatalf("training state %+v, want epoch 2, iteration 8", st)
	}
	resumed, hist, err := Train(context.Background(), net, data, append(opts, WithResume(st))...)
	if err != nil {
		t.Fatal(err)
	}
	if first := hist.Iterations[0]; first.Epoch != 3 || first.Iteration != 9 {
		t.Errorf("resumed at epoch %d, iteration %d; want 3 and 9", first.Epoch, first.Iteration)
	}
	for _, name := range whole.Learnables() {
		a, _ := whole.Learnable(name)
		b, _ := resumed.Learnable(name)
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("%s[%d]: %v uninterrupted, %v resumed", name, i, a[i], b[i])
			}
		}
	}
	if _, _, err := Train(context.Background(), net, data, append(opts, WithResume(&TrainingState{Epoch: 4, Iteration: 16}))...); err == nil {
		t.Error("resuming after the last epoch gave no error")
	}
}
