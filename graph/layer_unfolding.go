package graph

import (
	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/nodes"
)

// unfoldingLayer restores the timesteps of folded frames.
type unfoldingLayer struct{ base }

// SequenceUnfolding restores the timesteps of folded frames: one
// B×(C·H·W) node per timestep again (MATLAB's sequenceUnfoldingLayer).
func SequenceUnfolding(opts ...LayerOption) Layer {
	o, err := declare("Sequence Unfolding", opts)
	return &unfoldingLayer{newBase("sequence-unfolding", "Sequence Unfolding", "unfold", o, err)}
}

func (l *unfoldingLayer) Spec() LayerSpec { return l.spec(nil) }

func (l *unfoldingLayer) Output(in Shape) (Shape, error) {
	if !in.Folded {
		return Shape{}, errors.New("works on folded frames: put a sequence folding layer before it")
	}
	in.Folded = false
	return in, nil
}

func (l *unfoldingLayer) Build(b *Builder, in Value) (Value, error) {
	steps, err := nodes.UnfoldSequence(in.Folded, in.Folded.Shape()[0]/b.BatchSize())
	return Value{Steps: steps, Mask: in.Mask}, err
}

func init() {
	builtinKinds["sequence-unfolding"] = func(name string, fields Fields) (Layer, error) {
		return SequenceUnfolding(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
