package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// fullyConnected maps its input to outputs values.
type fullyConnected struct {
	base
	outputs int
}

// FullyConnected maps its input to outputs values, y = W·x + b (MATLAB's
// fullyConnectedLayer; Weights outputs×inputs, Glorot; Bias zeros): at
// every timestep of a sequence, or once after a recurrent layer with
// OutputMode Last.
func FullyConnected(outputs int, opts ...LayerOption) Layer {
	o, err := declare("Fully Connected", opts)
	return &fullyConnected{base: newBase("fully-connected", "Fully Connected", "fc", o, err), outputs: outputs}
}

func (l *fullyConnected) Spec() LayerSpec {
	return l.spec(struct {
		Outputs int `json:"outputs"`
	}{l.outputs})
}

func (l *fullyConnected) Output(in Shape) (Shape, error) {
	switch {
	case l.outputs <= 0:
		return Shape{}, errors.Errorf("%d outputs; want at least 1", l.outputs)
	case !in.plain():
		return Shape{}, plainFeatures(in)
	}
	return Shape{Features: l.outputs, Sequence: in.Sequence}, nil
}

func (l *fullyConnected) Build(b *Builder, in Value) (Value, error) {
	fc, err := nodes.NewFullyConnected(b.Graph(), b.Params(), b.Name(), b.In().Features, l.outputs)
	if err != nil {
		return Value{}, err
	}
	b.Train(fc.Learnables()...)
	return b.EachRow(in, func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) { return fc.Apply(x) })
}

func (l *fullyConnected) Describe(in, out Shape) string {
	return describe("%d -> %d", in.Features, out.Features)
}

func init() {
	builtinKinds["fully-connected"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			Outputs *int `json:"outputs"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("outputs", f.Outputs)); err != nil {
			return nil, err
		}
		return FullyConnected(*f.Outputs, decodeName(name)...), nil
	}
}

// torchModule: nn.Linear, weight (K×In) and bias (K), FullyConnected's
// Weights and Bias.
func (l *fullyConnected) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	return n.torchWeightBias("nn.Linear", nl.name+"/Weights", nl.name+"/Bias"), nil
}
