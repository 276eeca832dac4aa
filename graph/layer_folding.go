package graph

import (
	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/nodes"
)

// foldingLayer folds the timesteps of image frames into the batch.
type foldingLayer struct{ base }

// SequenceFolding folds the timesteps of an image sequence into the batch,
// [T·B, C, H, W], so that the layers after it apply to every frame on its
// own, until SequenceUnfolding (MATLAB's sequenceFoldingLayer).
func SequenceFolding(opts ...LayerOption) Layer {
	o, err := declare("Sequence Folding", opts)
	return &foldingLayer{newBase("sequence-folding", "Sequence Folding", "fold", o, err)}
}

func (l *foldingLayer) Spec() LayerSpec { return l.spec(nil) }

func (l *foldingLayer) Output(in Shape) (Shape, error) {
	if in.Frame.IsZero() || in.Folded || !in.Sequence {
		return Shape{}, errors.New("folds image sequences: it needs an image sequence input before it")
	}
	in.Folded = true
	return in, nil
}

func (l *foldingLayer) Build(b *Builder, in Value) (Value, error) {
	f := b.In().Frame
	folded, err := nodes.FoldSequence(in.Steps, f.C, f.H, f.W)
	return Value{Folded: folded, Mask: in.Mask}, err
}

func init() {
	builtinKinds["sequence-folding"] = func(name string, fields Fields) (Layer, error) {
		return SequenceFolding(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
