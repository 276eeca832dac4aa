package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// stepRegressionOf returns one sequence of T steps whose per-step target
// is the sequence itself.
func stepRegressionOf(t *testing.T, T int) dataset.Source {
	t.Helper()
	rows := make([][]float64, T)
	for i := range rows {
		rows[i] = []float64{math.Sin(float64(i) / 7)}
	}
	x, err := dataset.NewSequence(rows)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.NewStepRegression([]dataset.Sequence{x}, []dataset.Sequence{x})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// compileSeconds returns the least CPU time, over tries, that a fresh
// network takes to build and compile its training graph for d and train
// one step on it. CPU time, not wall time: a neighbour's job on a shared
// machine stretches the one, not the other.
func compileSeconds(t *testing.T, layers func() []Layer, d dataset.Source, tries int) float64 {
	t.Helper()
	best := math.Inf(1)
	for range tries {
		net, err := NewNetwork(layers(), WithStepBuckets(false))
		if err != nil {
			t.Fatal(err)
		}
		start := processCPU(t)
		if _, _, err := Train(context.Background(), net, d, WithVerbose(false), WithMaxEpochs(1)); err != nil {
			t.Fatal(err)
		}
		best = min(best, processCPU(t)-start)
	}
	return best
}

// TestStepLossCompileIsLinear: the graph of a per-step loss grows linearly
// with the steps, and so must the time to build and differentiate it.
// Gorgonia looks nodes up by scanning the graph (see nodeindex), which
// made this time quadratic: 4 times the steps (512 to 2048) took 12.6 times
// the CPU time. Now it takes 4.6-6 times (a little over 4: bigger maps miss
// the cache more, and Gorgonia's type inference of an op with an argument
// per step is quadratic in the steps, a small part at these lengths); the
// test allows 9.
func TestStepLossCompileIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a graph of 2048 steps: about 2 s")
	}
	layers := func() []Layer { return []Layer{SequenceInput(1), LSTM(8), FullyConnected(1), RegressionOutput()} }
	short := compileSeconds(t, layers, stepRegressionOf(t, 512), 3)
	long := compileSeconds(t, layers, stepRegressionOf(t, 2048), 2)
	t.Logf("CPU time: %.3f s at 512 steps, %.3f s at 2048 (%.1fx)", short, long, long/short)
	if long > 9*short {
		t.Errorf("compiling 2048 steps took %.3f s of CPU, %.1f times 512 steps' %.3f s: not linear", long, long/short, short)
	}
}

// dropsANode is a custom layer whose build removes a node from the graph,
// as Gorgonia's stabilization does when it rewrites log(1+a) as log1p(a):
// y_t = x_t · 2.
type dropsANode struct{}

func (dropsANode) Spec() LayerSpec                { return LayerSpec{Kind: "dropsanode", Name: "drops"} }
func (dropsANode) Output(in Shape) (Shape, error) { return in, nil }
func (dropsANode) Build(b *Builder, in Value) (Value, error) {
	return b.EachStep(in, func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
		discarded, err := gorgonia.Neg(x)
		if err != nil {
			return nil, err
		}
		b.Graph().RemoveNode(discarded)
		return gorgonia.Add(x, x)
	})
}

// TestCompileAfterGorgoniaRemovesANode: a node removed while the graph is
// built moves the nodes after it, which the primed index cannot follow; the
// program is built again unprimed and its gradients are right (central
// differences, as CheckGradients defines them).
func TestCompileAfterGorgoniaRemovesANode(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d, err := dataset.NewRegression(randomSequences(t, rng, 2, 2, 5, 5), [][]float64{{1}, {-1}})
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork([]Layer{SequenceInput(2), dropsANode{}, LSTM(3, WithOutputMode(rnn.Last)), FullyConnected(1), RegressionOutput()},
		WithDtype(tensor.Float64), WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dataset.MakeBatch(d, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	worst, err := CheckGradients(net, b)
	if err != nil {
		t.Fatal(err)
	}
	if worst.Relative > 1e-6 {
		t.Errorf("worst gradient: %v", worst)
	}
}
