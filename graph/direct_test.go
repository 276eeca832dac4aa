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
			net, err := NewNetwork(c.layers, WithDtype(dt))
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
			idx := []int{0, 1, 2}
			b, err := dataset.MakeBatch(src, idx)
			if err != nil {
				t.Fatal(err)
			}
			p, err := net.program(programKey{batch: b.B, steps: b.T, masked: b.Padded()})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p.direct == nil {
				t.Fatalf("%s: the inference program does not run directly", name)
			}
			vm, err := nodes.NewTapeMachine(p.g)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			p.feed(b, nil, false)
			if err := vm.RunAll(); err != nil {
				t.Fatalf("%s: tape machine: %v", name, err)
			}
			want := runValues(p)
			vm.Reset()
			vm.Close()
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
					t.Fatalf("%s: value %d has %d elements directly, %d on the machine", name, i, len(got[i]), len(want[i]))
				}
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						t.Errorf("%s: value %d[%d] = %v directly, %v on the machine", name, i, j, got[i][j], want[i][j])
						break
					}
				}
			}
		}
	}
}

// runValues copies the outputs and final states of p's last run.
func runValues(p *program) [][]float64 {
	var out [][]float64
	for _, v := range p.outVals {
		out = append(out, toFloat64s(v.(*tensor.Dense)))
	}
	for _, v := range p.final {
		out = append(out, toFloat64s((*v).(*tensor.Dense)))
	}
	return out
}
