package nodes

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Affine returns x·Wᵀ + b for a B×In input x, weights W of Out×In (MATLAB's
// layout) and a bias b of Out values.
func Affine(x, w, b *gorgonia.Node) (*gorgonia.Node, error) {
	xw, err := MatMul(x, w, false, true)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: affine")
	}
	return AddBias(xw, b)
}

// FullyConnected is MATLAB's fully connected layer: Out outputs, each a
// weighted sum of the In inputs plus a bias. Its learnables are called
// name+"/Weights" (Out×In, Glorot-initialized) and name+"/Bias" (Out, zero).
type FullyConnected struct {
	Weights, Bias *gorgonia.Node
}

// NewFullyConnected binds the learnables of the fully connected layer called
// name in graph g, creating them in p on first use.
func NewFullyConnected(g *gorgonia.ExprGraph, p *Params, name string, in, out int) (*FullyConnected, error) {
	if in <= 0 || out <= 0 {
		return nil, errors.Errorf("nodes: fully connected %q: sizes %d -> %d must be positive", name, in, out)
	}
	w, err := p.Node(g, name+"/Weights", []int{out, in}, GlorotUniform(in, out))
	if err != nil {
		return nil, err
	}
	b, err := p.Node(g, name+"/Bias", []int{out}, Zeros())
	if err != nil {
		return nil, err
	}
	return &FullyConnected{Weights: w, Bias: b}, nil
}

// Apply returns the layer's output for the B×In input x.
func (l *FullyConnected) Apply(x *gorgonia.Node) (*gorgonia.Node, error) {
	return Affine(x, l.Weights, l.Bias)
}

// Learnables returns the layer's weights and bias.
func (l *FullyConnected) Learnables() gorgonia.Nodes { return gorgonia.Nodes{l.Weights, l.Bias} }
