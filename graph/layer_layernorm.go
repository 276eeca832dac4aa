package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// layerNorm normalizes each timestep over its features.
type layerNorm struct {
	base
	opts layerOptions
}

// LayerNormalization normalizes each timestep of each sequence over its
// features, then scales and shifts them (learnables Scale, ones, and
// Offset, zeros; nodes.LayerNorm):
//
//	y = (x - mean(x)) / sqrt(var(x) + ε) · Scale + Offset
//
// with the biased variance over the features and MATLAB's ε = 1e-5
// (WithEpsilon). This is MATLAB's layerNormalizationLayer with
// OperationDimension "channel-only" and PyTorch's nn.LayerNorm(features):
// a step's statistics never mix in other steps, so padding cannot enter
// them.
func LayerNormalization(opts ...LayerOption) Layer {
	o, err := declare("Layer Normalization", opts, optEpsilon)
	return &layerNorm{base: newBase("layer-normalization", "Layer Normalization", "layernorm", o, err), opts: o}
}

func (l *layerNorm) Output(in Shape) (Shape, error) {
	if !(l.opts.epsilon > 0) {
		return Shape{}, errors.Errorf("epsilon %v; want more than 0", l.opts.epsilon)
	}
	return in, plainFeatures(in)
}

func (l *layerNorm) Build(b *Builder, in Value) (Value, error) {
	c := b.In().Features
	scale, err := b.Learnable("Scale", tensor.Shape{c}, nodes.Ones())
	if err != nil {
		return Value{}, err
	}
	offset, err := b.Learnable("Offset", tensor.Shape{c}, nodes.Zeros())
	if err != nil {
		return Value{}, err
	}
	return b.EachRow(in, func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
		return nodes.LayerNorm(x, scale, offset, l.opts.epsilon)
	})
}

func (l *layerNorm) Spec() LayerSpec {
	return l.spec(struct {
		Epsilon float64 `json:"epsilon"`
	}{l.opts.epsilon})
}

func init() {
	builtinKinds["layer-normalization"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			Epsilon *float64 `json:"epsilon"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		opts := decodeName(name)
		if f.Epsilon != nil {
			opts = append(opts, WithEpsilon(*f.Epsilon))
		}
		return LayerNormalization(opts...), nil
	}
}

// torchModule: nn.LayerNorm(features), weight and bias,
// LayerNormalization's Scale and Offset.
func (l *layerNorm) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	return n.torchWeightBias("nn.LayerNorm", nl.name+"/Scale", nl.name+"/Offset"), nil
}
