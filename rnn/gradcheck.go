package rnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// GradientCheck says how CheckGradients exercises a cell. The zero value
// checks a batch of 3 sequences of 5 timesteps, every output, unmasked.
type GradientCheck struct {
	// Batch and Steps are the batch size and sequence length (3 and 5
	// when zero).
	Batch, Steps int
	// Mode is the output mode the cost is computed from.
	Mode OutputMode
	// Masked right-pads the batch: sequence b has Steps-b real timesteps
	// (at least 1), so that padded steps are checked too.
	Masked bool
	// Scale bounds the values drawn for learnables, inputs and initial
	// states, U(-Scale, Scale) (0.8 when zero). The values replace the
	// cell's initialization, so that weights that start at zero are
	// checked away from zero.
	Scale float64
	// Seed seeds the draws.
	Seed uint64
}

// CheckGradients builds a cell with newCell in a new float64 graph, unrolls
// it over a random batch, and compares the tape machine's gradients of a
// random weighted sum of the outputs and the final state with central finite
// differences, for every element of every learnable, input and initial
// state. It returns the element with the largest relative error (see
// nodes.CheckGradients); a correct cell stays below about 1e-7.
func CheckGradients(newCell func(g *gorgonia.ExprGraph, p *nodes.Params) (Cell, error), cfg GradientCheck) (nodes.GradientMismatch, error) {
	var none nodes.GradientMismatch
	cfg, err := cfg.withDefaults()
	if err != nil {
		return none, err
	}
	g := gorgonia.NewGraph()
	p, err := nodes.NewParams(tensor.Float64, cfg.Seed)
	if err != nil {
		return none, err
	}
	cell, err := newCell(g, p)
	if err != nil {
		return none, errors.Wrap(err, "rnn: gradient check: building the cell")
	}
	if cell == nil {
		return none, errors.New("rnn: gradient check: the constructor returned no cell")
	}
	d := checkDraws{g: g, rng: rand.New(rand.NewPCG(cfg.Seed, 0x67c)), scale: cfg.Scale}
	for _, name := range p.Names() {
		if err := p.Set(name, d.values(len(p.Values(name)))); err != nil {
			return none, err
		}
	}
	b := cfg.Batch
	xs := make([]*gorgonia.Node, cfg.Steps)
	for t := range xs {
		xs[t] = d.input(fmt.Sprintf("gradient check/x/t%d", t), b, cell.InputSize())
	}
	var initial State
	for i, n := range cell.StateSizes() {
		initial = append(initial, d.input(fmt.Sprintf("gradient check/initial%d", i), b, n))
	}
	opts := []UnrollOption{WithOutputMode(cfg.Mode), WithInitialState(initial)}
	if cfg.Masked {
		opts = append(opts, WithMask(rightPaddedMasks(g, b, cfg.Steps)))
	}
	u, err := Unroll(cell, xs, opts...)
	if err != nil {
		return none, err
	}
	cost, err := d.weightedSum(append(append([]*gorgonia.Node{}, u.Outputs...), u.Final...))
	if err != nil {
		return none, err
	}
	wrt := append(append(cell.Learnables(), xs...), initial...)
	return nodes.CheckGradients(cost, wrt, 1e-6, 1e-3)
}

// withDefaults returns cfg with its zero sizes and scale set to the
// defaults, or an error for sizes or a scale that are not positive.
func (cfg GradientCheck) withDefaults() (GradientCheck, error) {
	if cfg.Batch == 0 {
		cfg.Batch = 3
	}
	if cfg.Steps == 0 {
		cfg.Steps = 5
	}
	if cfg.Scale == 0 {
		cfg.Scale = 0.8
	}
	if cfg.Batch < 1 || cfg.Steps < 1 || !(cfg.Scale > 0) {
		return cfg, errors.Errorf("rnn: gradient check: batch %d, steps %d and scale %v must be positive", cfg.Batch, cfg.Steps, cfg.Scale)
	}
	return cfg, nil
}

// checkDraws draws the values of a gradient check, U(-scale, scale), in
// the order they are asked for.
type checkDraws struct {
	g     *gorgonia.ExprGraph
	rng   *rand.Rand
	scale float64
}

// values returns n values.
func (d checkDraws) values(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = (2*d.rng.Float64() - 1) * d.scale
	}
	return v
}

// input returns an input node called name of the shape, of drawn values.
func (d checkDraws) input(name string, shape ...int) *gorgonia.Node {
	v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d.values(tensor.Shape(shape).TotalSize())))
	return gorgonia.NodeFromAny(d.g, v, gorgonia.WithName(name))
}

// weightedSum returns the cost Σ_i Σ n_i ⊙ w_i with drawn weights w_i.
func (d checkDraws) weightedSum(ns []*gorgonia.Node) (*gorgonia.Node, error) {
	var cost *gorgonia.Node
	for i, n := range ns {
		w := d.input(fmt.Sprintf("gradient check/cost weight %d", i), n.Shape()...)
		prod, err := gorgonia.HadamardProd(n, w)
		if err != nil {
			return nil, err
		}
		s, err := gorgonia.Sum(prod)
		if err != nil {
			return nil, err
		}
		if cost == nil {
			cost = s
		} else if cost, err = gorgonia.Add(cost, s); err != nil {
			return nil, err
		}
	}
	return cost, nil
}

// rightPaddedMasks returns the masks of a right-padded batch of b sequences
// of at most steps timesteps, sequence s having steps-s real ones (at
// least 1).
func rightPaddedMasks(g *gorgonia.ExprGraph, b, steps int) []*gorgonia.Node {
	masks := make([]*gorgonia.Node, steps)
	for t := range masks {
		m := make([]float64, b)
		for s := range m {
			if t < max(steps-s, 1) {
				m[s] = 1
			}
		}
		masks[t] = gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(m)), gorgonia.WithName(fmt.Sprintf("gradient check/mask/t%d", t)))
	}
	return masks
}
