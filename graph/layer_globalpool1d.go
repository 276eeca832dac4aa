package graph

import (
	"github.com/seqgraph/seqgraph/nodes"
)

// globalPool1d pools each sequence whole.
type globalPool1d struct {
	base
	isMax bool
}

// GlobalMaxPooling1D takes the max of each feature over each sequence's real
// steps: one vector per sequence (MATLAB's globalMaxPooling1dLayer;
// nodes.GlobalMaxPool1D). Padding never wins.
func GlobalMaxPooling1D(opts ...LayerOption) Layer {
	o, err := declare("1-D Global Max Pooling", opts)
	return &globalPool1d{base: newBase("global-max-pooling-1d", "1-D Global Max Pooling", "gmpool", o, err), isMax: true}
}

// GlobalAveragePooling1D averages each feature over each sequence's real
// steps: one vector per sequence (MATLAB's globalAveragePooling1dLayer;
// nodes.GlobalAveragePool1D). Padding never enters the mean.
func GlobalAveragePooling1D(opts ...LayerOption) Layer {
	o, err := declare("1-D Global Average Pooling", opts)
	return &globalPool1d{base: newBase("global-average-pooling-1d", "1-D Global Average Pooling", "gapool", o, err)}
}

func (l *globalPool1d) Spec() LayerSpec { return l.spec(nil) }
func (l *globalPool1d) Traits() Traits  { return Traits{WholeSequence: true} }

func (l *globalPool1d) Output(in Shape) (Shape, error) {
	if err := sequenceFeatures(in); err != nil {
		return Shape{}, err
	}
	return Shape{Features: in.Features}, nil
}

func (l *globalPool1d) Build(b *Builder, in Value) (Value, error) {
	x, err := b.RowsOf(in)
	if err != nil {
		return Value{}, err
	}
	pool := nodes.GlobalAveragePool1D
	if l.isMax {
		pool = nodes.GlobalMaxPool1D
	}
	y, err := pool(x, b.foldedMaskOrOnes(in.Mask, x.Shape()[0]/b.BatchSize()), b.BatchSize())
	return Value{One: y, Mask: in.Mask}, err
}

func init() {
	builtinKinds["global-max-pooling-1d"] = func(name string, fields Fields) (Layer, error) {
		return GlobalMaxPooling1D(decodeName(name)...), fields.Decode(&struct{}{})
	}
	builtinKinds["global-average-pooling-1d"] = func(name string, fields Fields) (Layer, error) {
		return GlobalAveragePooling1D(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
