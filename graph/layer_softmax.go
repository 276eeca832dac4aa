package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// softmaxLayer turns scores into class probabilities.
type softmaxLayer struct{ base }

// Softmax turns scores into class probabilities, at every timestep or once;
// a ClassificationOutput follows it.
func Softmax(opts ...LayerOption) Layer {
	o, err := declare("Softmax", opts)
	return &softmaxLayer{newBase("softmax", "Softmax", "softmax", o, err)}
}

func (l *softmaxLayer) Spec() LayerSpec { return l.spec(nil) }

func (l *softmaxLayer) Output(in Shape) (Shape, error) {
	if !in.plain() {
		return Shape{}, plainFeatures(in)
	}
	in.probabilities = true
	return in, nil
}

// Build computes log-probabilities with a stable log-softmax, which the
// classification output's loss reads, and the probabilities as their exp.
func (l *softmaxLayer) Build(b *Builder, in Value) (Value, error) {
	var logp []*gorgonia.Node
	out, err := b.EachStep(in, func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
		lp, err := nodes.LogSoftmax(x)
		if err != nil {
			return nil, err
		}
		logp = append(logp, lp)
		return gorgonia.Exp(lp)
	})
	out.logp = logp
	return out, err
}

func init() {
	builtinKinds["softmax"] = func(name string, fields Fields) (Layer, error) {
		return Softmax(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
