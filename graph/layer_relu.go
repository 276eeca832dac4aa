package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// reluLayer is max(0, x), elementwise.
type reluLayer struct{ base }

// ReLU is max(0, x), elementwise, on folded frames or on features.
func ReLU(opts ...LayerOption) Layer {
	o, err := declare("ReLU", opts)
	return &reluLayer{newBase("relu", "ReLU", "relu", o, err)}
}

func (l *reluLayer) Spec() LayerSpec                { return l.spec(nil) }
func (l *reluLayer) Output(in Shape) (Shape, error) { return in, nil }

func (l *reluLayer) Build(b *Builder, in Value) (Value, error) {
	return b.EachRow(in, func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
		if x.Dims() == 2 {
			return nodes.ReLU.Apply(x)
		}
		return nodes.Rectify(x)
	})
}

func init() {
	builtinKinds["relu"] = func(name string, fields Fields) (Layer, error) {
		return ReLU(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
