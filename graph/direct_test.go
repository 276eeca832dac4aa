package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestDirectRunEqualsTapeMachine runs inference graphs of many kinds of
// network both directly (as Predict does) and on a Gorgonia tape machine
// compiled from the same graph, and requires the outputs and final states
// to be equal bit for bit: the direct run must compute exactly what the
// machine computes.
func TestDirectRunEqualsTapeMachine(t *testing.T) {
	const f, k = 4, 3
	rng := rand.New(rand.NewPCG(41, 42))
	seqs := randomSequences(t, rng, 5, f, 1, 6)
	labels := []int{0, 2, 1, 1, 0}
	stepLabels := make([][]int, len(seqs))
	for i, s := range seqs {
		for j := 0; j < s.T; j++ {
			stepLabels[i] = append(stepLabels[i], (i+j)%k)
		}
	}
	perSeq, err := dataset.NewClassification(seqs, labels, k)
	if err != nil {
		t.Fatal(err)
	}
	perStep, err := dataset.NewStepClassification(seqs, stepLabels, k)
	if err != nil {
		t.Fatal(err)
	}
	peephole := func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
		return rnn.NewPeepholeLSTM(g, p, name, in, out)
	}
	last, seq := WithOutputMode(rnn.Last), WithOutputMode(rnn.Sequence)
	head := []Layer{FullyConnected(k), Softmax(), ClassificationOutput()}
	cases := []struct {
		name   string
		layers []Layer
		src    dataset.Source
	}{
		{"lstm", append([]Layer{SequenceInput(f), LSTM(5, last)}, head...), perSeq},
		{"gru after, dropout, lstm", append([]Layer{SequenceInput(f), GRU(5), Dropout(0.3), LSTM(4, last)}, head...), perSeq},
		{"gru before, sequence", append([]Layer{SequenceInput(f), GRU(5, seq, WithResetGateMode(rnn.BeforeMultiplication))}, head...), perStep},
		{"bilstm", append([]Layer{SequenceInput(f), BiLSTM(5, last)}, head...), perSeq},
		{"peephole", append([]Layer{SequenceInput(f), Recurrent(5, peephole, last)}, head...), perSeq},
		{"regression", []Layer{SequenceInput(f), LSTM(5, seq), FullyConnected(2), RegressionOutput()}, nil},
		{"video", videoLayers(), videoData(t)},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			name := fmt.Sprintf("%s/%v", c.name, dt)
			// The plain path: the graph optimizer has its own test.
			net, err := NewNetwork(c.layers, WithDtype(dt), WithGraphOptimizer(false))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			src := c.src
			if src == nil {
				resp := make([]dataset.Sequence, len(seqs))
				for i, s := range seqs {
					resp[i] = dataset.Sequence{T: s.T, F: 2, Data: append([]float64(nil), s.Data[:2*s.T]...)}
				}
				if src, err = dataset.NewStepRegression(seqs, resp); err != nil {
					t.Fatal(err)
				}
			}
			// Two batches of the same shape in turn: the second direct
			// run writes into tensors the first one kept.
			var p *program
			var vm gorgonia.VM
			for run, idx := range [][]int{{0, 1, 2}, {2, 0, 1}, {1, 2, 0}} {
				b, err := dataset.MakeBatch(src, idx)
				if err != nil {
					t.Fatal(err)
				}
				if p == nil {
					if p, err = net.acquire(programKey{batch: b.B, steps: b.T, masked: true}); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if p.direct == nil {
						t.Fatalf("%s: the inference program does not run directly", name)
					}
					if vm, err = nodes.NewTapeMachine(p.g); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					defer vm.Close()
				}
				if b.T != p.key.steps {
					// Keep one shape: pad the batch to the program's length.
					if b, err = b.PadSteps(p.key.steps); err != nil {
						t.Fatal(err)
					}
				}
				if err := p.feed(b, nil); err != nil {
					t.Fatal(err)
				}
				if err := vm.RunAll(); err != nil {
					t.Fatalf("%s: tape machine: %v", name, err)
				}
				want := runValues(p)
				vm.Reset()
				if err := p.run(); err != nil {
					t.Fatalf("%s: direct: %v", name, err)
				}
				got := runValues(p)
				p.reset()
				if len(got) != len(want) || len(got) == 0 {
					t.Fatalf("%s: %d values directly, %d on the machine", name, len(got), len(want))
				}
				for i := range want {
					if len(got[i]) != len(want[i]) {
						t.Fatalf("%s run %d: value %d has %d elements directly, %d on the machine", name, run, i, len(got[i]), len(want[i]))
					}
					for j := range want[i] {
						if got[i][j] != want[i][j] {
							t.Errorf("%s run %d: value %d[%d] = %v directly, %v on the machine", name, run, i, j, got[i][j], want[i][j])
							break
						}
					}
				}
			}
			// The gate-node path's elementwise ops write into the tensors
			// of the run before: the later runs above did.
			if c.name == "peephole" {
				kept := 0
				for _, k := range p.direct.kept {
					if k != nil {
						kept++
					}
				}
				if kept == 0 {
					t.Errorf("%s: no step writes into a kept tensor", name)
				}
			}
		}
	}
}

// runValues copies the outputs and final states of p's last run.
func runValues(p *program) [][]float64 {
	var out [][]float64
	for _, v := range p.outVals {
		out = append(out, appendFloat64s(nil, v.(*tensor.Dense)))
	}
	for _, v := range p.final {
		out = append(out, appendFloat64s(nil, (*v).(*tensor.Dense)))
	}
	return out
}

// TestDirectRunKeepsOnlyExclusiveTensors checks which results a direct run
// keeps for the next to write into: a tensor of its own, but not one that
// shares memory with another value, nor a value the program reads.
func TestDirectRunKeepsOnlyExclusiveTensors(t *testing.T) {
	g := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName("a"), gorgonia.WithInit(gorgonia.Zeroes()))
	sum := gorgonia.Must(gorgonia.Add(a, a))
	op := sum.Op()
	if _, ok := op.(gorgonia.UsePreallocDoer); !ok {
		t.Fatalf("%v does not take a preallocated result", op)
	}
	dense := func(backing []float64) *tensor.Dense {
		return tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(backing))
	}
	shared := make([]float64, 6)
	vals := []gorgonia.Value{
		dense(make([]float64, 4)), // its own memory: kept
		dense(shared[:4]),         // overlaps the next
		dense(shared[2:6]),        // overlaps the last
		dense(make([]float64, 4)), // read by the program
		dense(make([]float64, 4)), // an input's value: no op
	}
	r := &directRun{
		steps:   []directStep{{op: op}, {op: op}, {op: op}, {op: op}, {}},
		vals:    vals,
		kept:    make([]*tensor.Dense, len(vals)),
		targets: []int{3},
	}
	r.keep()
	for i, want := range []bool{true, false, false, false, false} {
		if got := r.kept[i] != nil; got != want {
			t.Errorf("value %d kept: %v, want %v", i, got, want)
		}
	}
	if r.kept[0] != vals[0] {
		t.Error("the kept tensor is not the run's value")
	}
}
