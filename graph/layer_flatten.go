package graph

import (
	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
)

// flattenLayer makes unfolded frames plain features.
type flattenLayer struct{ base }

// Flatten makes unfolded frames plain features, C·H·W per timestep, for a
// recurrent layer (MATLAB's flattenLayer).
func Flatten(opts ...LayerOption) Layer {
	o, err := declare("Flatten", opts)
	return &flattenLayer{newBase("flatten", "Flatten", "flatten", o, err)}
}

func (l *flattenLayer) Spec() LayerSpec { return l.spec(nil) }

func (l *flattenLayer) Output(in Shape) (Shape, error) {
	switch {
	case in.Frame.IsZero():
		return Shape{}, errors.New("flattens image frames, but its input is plain features")
	case in.Folded:
		return Shape{}, errors.New("gets folded frames: unfold them first (sequence unfolding, then flatten)")
	}
	in.Frame = dataset.FrameShape{}
	return in, nil
}

func (l *flattenLayer) Build(_ *Builder, in Value) (Value, error) { return in, nil }

func init() {
	builtinKinds["flatten"] = func(name string, fields Fields) (Layer, error) {
		return Flatten(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
