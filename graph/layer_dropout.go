package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// dropoutLayer zeroes inputs at random while training.
type dropoutLayer struct {
	base
	p float64
}

// Dropout zeroes each input with probability p while training, scaling the
// others by 1/(1-p); it is the identity at prediction. Between recurrent
// layers it gives a stacked LSTM with dropout, as PyTorch's nn.LSTM with
// num_layers=2 and dropout=p.
func Dropout(p float64, opts ...LayerOption) Layer {
	o, err := declare("Dropout", opts)
	return &dropoutLayer{base: newBase("dropout", "Dropout", "dropout", o, err), p: p}
}

func (l *dropoutLayer) Spec() LayerSpec {
	return l.spec(struct {
		Probability float64 `json:"probability"`
	}{l.p})
}

func (l *dropoutLayer) Output(in Shape) (Shape, error) {
	if !(l.p >= 0 && l.p < 1) {
		return Shape{}, errors.Errorf("probability %v is outside [0, 1)", l.p)
	}
	return in, nil
}

func (l *dropoutLayer) Build(b *Builder, in Value) (Value, error) {
	if !b.Training() || l.p == 0 {
		return in, nil
	}
	seed := b.Seed()
	return b.EachRow(in, func(x *gorgonia.Node, t int) (*gorgonia.Node, error) {
		name := b.Name()
		if t >= 0 {
			name = fmt.Sprintf("%s/t%d", b.Name(), t)
		}
		return nodes.Dropout(x, name, l.p, seed+uint64(t+1)*0x632be59bd9b4e019, nil)
	})
}

func (l *dropoutLayer) Describe(_, _ Shape) string { return describe("probability %g", l.p) }

func init() {
	builtinKinds["dropout"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			Probability *float64 `json:"probability"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("probability", f.Probability)); err != nil {
			return nil, err
		}
		return Dropout(*f.Probability, decodeName(name)...), nil
	}
}
