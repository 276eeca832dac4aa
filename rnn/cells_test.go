package rnn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// TestCellGradients checks every built-in cell, in each of its modes, with
// and without masks and in both output modes, against finite differences.
func TestCellGradients(t *testing.T) {
	cells := map[string]func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error){
		"lstm": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) { return NewLSTM(g, p, "c", 3, 4) },
		"lstm softsign": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) {
			return NewLSTM(g, p, "c", 3, 4, WithStateActivation(nodes.Softsign))
		},
		"peephole lstm": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) { return NewPeepholeLSTM(g, p, "c", 3, 4) },
		"gru after":     func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) { return NewGRU(g, p, "c", 3, 4) },
		"gru before": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) {
			return NewGRU(g, p, "c", 3, 4, WithResetGateMode(BeforeMultiplication))
		},
		"elman tanh": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) { return NewElman(g, p, "c", 3, 4) },
		"elman relu": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) {
			return NewElman(g, p, "c", 3, 4, WithStateActivation(nodes.ReLU))
		},
		"stack gru over peephole": func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error) {
			a, err := NewPeepholeLSTM(g, p, "a", 3, 4)
			if err != nil {
				return nil, err
			}
			b, err := NewGRU(g, p, "b", 4, 2)
			if err != nil {
				return nil, err
			}
			return NewStack("s", []Cell{a, b})
		},
	}
	for name, newCell := range cells {
		for _, cfg := range []GradientCheck{{Mode: Sequence}, {Mode: Last, Masked: true, Seed: 2}} {
			t.Run(fmt.Sprintf("%s/%v/masked=%t", name, cfg.Mode, cfg.Masked), func(t *testing.T) {
				worst, err := CheckGradients(newCell, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if worst.Relative > 1e-6 {
					t.Errorf("worst element: %v", worst)
				}
			})
		}
	}
}

// TestBidirectionalGradients checks each merge mode, masked, in both output
// modes.
func TestBidirectionalGradients(t *testing.T) {
	const T, B, F, H = 4, 3, 2, 3
	for _, merge := range []MergeMode{Concat, Sum, Mean, Product} {
		for _, mode := range []OutputMode{Sequence, Last} {
			t.Run(fmt.Sprintf("%v/%v", merge, mode), func(t *testing.T) {
				g := gorgonia.NewGraph()
				rng := rand.New(rand.NewPCG(3, 4))
				p, _ := nodes.NewParams(tensor.Float64, 1)
				fwd, err := NewGRU(g, p, "fwd", F, H)
				if err != nil {
					t.Fatal(err)
				}
				bwd, err := NewLSTM(g, p, "bwd", F, H)
				if err != nil {
					t.Fatal(err)
				}
				randomizeParams(p, rng, 0.8)
				xs := sequenceInputs(g, rng, T, B, F)
				mv := [T][B]float64{{1, 1, 0}, {1, 1, 1}, {1, 0, 1}, {1, 0, 1}} // right-, right- and left-padded
				masks := make([]*gorgonia.Node, T)
				for i := range masks {
					masks[i] = gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(mv[i][:])), gorgonia.WithName(fmt.Sprintf("mask/t%d", i)))
				}
				u, err := UnrollBidirectional(fwd, bwd, xs, merge, WithMask(masks), WithOutputMode(mode))
				if err != nil {
					t.Fatal(err)
				}
				if w := u.Outputs[0].Shape()[1]; w != merge.OutputSize(H) {
					t.Fatalf("merged output has %d columns, want %d", w, merge.OutputSize(H))
				}
				if u.Node("fwd/t2/update") == nil || u.Node("bwd/t2/forget") == nil {
					t.Error("gates of a direction are not found by name")
				}
				ns := append(append(append([]*gorgonia.Node{}, u.Outputs...), u.Forward.Final...), u.Backward.Final...)
				cost := weightedCost(t, g, rng, ns...)
				wrt := append(append(fwd.Learnables(), bwd.Learnables()...), xs...)
				worst, err := nodes.CheckGradients(cost, wrt, 1e-6, 1e-3)
				if err != nil {
					t.Fatal(err)
				}
				if worst.Relative > 1e-6 {
					t.Errorf("worst element: %v", worst)
				}
			})
		}
	}
}

// TestStackDropout: dropout between stacked cells changes the training
// output, is the identity at inference, and the top cell's output is never
// dropped.
func TestStackDropout(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 2))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	a, _ := NewLSTM(g, p, "a", 2, 8)
	b, _ := NewLSTM(g, p, "b", 8, 3)
	var phase nodes.Phase
	s, err := NewStack("s", []Cell{a, b}, WithStackDropout(0.5, 7, &phase))
	if err != nil {
		t.Fatal(err)
	}
	u, err := Unroll(s, sequenceInputs(g, rng, 3, 2, 2), WithOutputMode(Last))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.ByName("s/t2/dropout1")) != 1 || len(g.ByName("s/t2/dropout2")) != 0 {
		t.Error("want dropout after the first cell only")
	}
	var out gorgonia.Value
	gorgonia.Read(u.Outputs[0], &out)
	vm, err := nodes.NewTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	run := func() []float64 {
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), out.Data().([]float64)...)
	}
	phase.SetInference(true)
	inf1, inf2 := run(), run()
	phase.SetInference(false)
	train := run()
	same, differs := true, false
	for i := range inf1 {
		same = same && inf1[i] == inf2[i]
		differs = differs || inf1[i] != train[i]
	}
	if !same || !differs {
		t.Errorf("inference runs equal: %t; training differs from inference: %t", same, differs)
	}
	if _, err := NewStack("bad", []Cell{a, b}, WithStackDropout(1, 1, nil)); err == nil {
		t.Error("dropout probability 1 gave no error")
	}
}

func TestCellOptionsAreChecked(t *testing.T) {
	g := gorgonia.NewGraph()
	p, _ := nodes.NewParams(tensor.Float64, 1)
	if _, err := NewElman(g, p, "e", 2, 3, WithGateActivation(nodes.Tanh)); err == nil {
		t.Error("an Elman cell took a gate activation")
	}
	if _, err := NewLSTM(g, p, "l", 2, 3, WithResetGateMode(BeforeMultiplication)); err == nil {
		t.Error("an LSTM took a reset gate mode")
	}
	if _, err := NewGRU(g, p, "g", 2, 3, WithResetGateMode(ResetGateMode(7))); err == nil {
		t.Error("an invalid reset gate mode gave no error")
	}
	if _, err := NewGRU(g, p, "g2", 2, 3, WithInputWeightsInitializer(nil)); err == nil {
		t.Error("a nil initializer gave no error")
	}
	c, err := NewGRU(g, p, "g3", 2, 3, WithResetGateMode(BeforeMultiplication), WithBiasInitializer(nodes.Ones()), WithInputWeightsInitializer(nodes.Zeros()))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Learnables()) != 3 {
		t.Errorf("a GRU before multiplication has %d learnables, want 3 (no recurrent bias)", len(c.Learnables()))
	}
	for _, v := range p.Values("g3/Bias") {
		if v != 1 {
			t.Fatal("the bias initializer was not used")
		}
	}
	for _, v := range p.Values("g3/InputWeights") {
		if v != 0 {
			t.Fatal("the input weights initializer was not used")
		}
	}
}

// TestRecordReadsEveryGate: after a run, every named node of every timestep
// is there by name, with its B×H value.
func TestRecordReadsEveryGate(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 2))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	c, _ := NewGRU(g, p, "gru1", 2, 3)
	u, err := Unroll(c, sequenceInputs(g, rng, 4, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	values := u.Record()
	vm, err := nodes.NewTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if len(values) != 4*4 {
		t.Errorf("recorded %d nodes, want 16 (reset, update, candidate, hidden at 4 steps)", len(values))
	}
	for name, v := range values {
		if *v == nil || !(*v).Shape().Eq(tensor.Shape{2, 3}) {
			t.Errorf("%s: value %v", name, *v)
		}
	}
	// A gate is a sigmoid: strictly between 0 and 1.
	for _, x := range (*values["gru1/t3/update"]).Data().([]float64) {
		if !(x > 0 && x < 1) {
			t.Errorf("update gate value %v is not in (0, 1)", x)
		}
	}
}

// TestBidirectionalLeavesTheCallersOptions: the backward direction's
// options are the caller's plus WithReverse; appending them must not
// write into spare capacity of the caller's slice (Go's append would).
func TestBidirectionalLeavesTheCallersOptions(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(5, 6))
	p, _ := nodes.NewParams(tensor.Float64, 1)
	fwd, err := NewGRU(g, p, "fwd", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	bwd, err := NewGRU(g, p, "bwd", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	xs := sequenceInputs(g, rng, 3, 2, 2)
	spare := WithOutputMode(Sequence)
	opts := append(make([]UnrollOption, 0, 4), WithOutputMode(Last))
	full := opts[:cap(opts)]
	full[1] = spare
	if _, err := UnrollBidirectional(fwd, bwd, xs, Concat, opts...); err != nil {
		t.Fatal(err)
	}
	var cfg unrollConfig
	full[1](&cfg)
	if cfg.reverse {
		t.Error("UnrollBidirectional wrote WithReverse into the caller's slice")
	}
}
