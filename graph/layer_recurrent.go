package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// CellFactory builds the cell of a Recurrent or Bidirectional layer in graph
// g, with its learnables in p under name: rnn.NewLSTM and any custom cell's
// constructor fit it with a one-line closure.
type CellFactory func(g *gorgonia.ExprGraph, p *nodes.Params, name string, inputSize, outputSize int) (rnn.Cell, error)

// recurrentLayer is a recurrent layer of any cell, in one direction or
// both: LSTM, GRU, BiLSTM, Recurrent and Bidirectional.
type recurrentLayer struct {
	base
	hidden        int
	bidirectional bool
	opts          layerOptions
	// newCell builds a cell of the layer; fields returns the layer's
	// checkpoint fields. Each kind's constructor sets both from opts.
	newCell CellFactory
	fields  func() any
	// costly says that a padded step costs the cell as much as a real
	// one: it has no fused op that skips it.
	costly bool
}

// Recurrent is a recurrent layer of any cell, custom ones included, whose
// output has outputs features. The cell's own options go into the factory.
// It takes WithOutputMode and WithCellType (needed to save it).
func Recurrent(outputs int, newCell CellFactory, opts ...LayerOption) Layer {
	o, err := declare("Recurrent", opts, optMode, optCellType)
	l := &recurrentLayer{base: newBase("recurrent", "Recurrent", "rnn", o, err), hidden: outputs, opts: o, newCell: newCell, costly: true}
	l.fields = func() any {
		return customCellFields{HiddenUnits: ptr(l.hidden), CellType: ptr(o.cellType), OutputMode: ptr(o.mode.String())}
	}
	return l
}

// Bidirectional makes any cell bidirectional: one cell (called
// "<layer>/forward") reads the sequence forwards, another
// ("<layer>/backward") backwards from each sequence's last real step, and
// their outputs of hidden features each are merged. It takes
// WithOutputMode, WithMergeMode and WithCellType (needed to save it).
func Bidirectional(hidden int, newCell CellFactory, opts ...LayerOption) Layer {
	o, err := declare("Bidirectional", opts, optMode, optMerge, optCellType)
	l := &recurrentLayer{base: newBase("bidirectional", "Bidirectional", "birnn", o, err), hidden: hidden, bidirectional: true, opts: o, newCell: newCell, costly: true}
	l.fields = func() any {
		return biCellFields{customCellFields{HiddenUnits: ptr(l.hidden), CellType: ptr(o.cellType), OutputMode: ptr(o.mode.String())}, o.merge.String()}
	}
	return l
}

func (l *recurrentLayer) Spec() LayerSpec { return l.spec(l.fields()) }

// saveError refuses to save a layer of a custom cell without a cell type:
// Load could not make its cell.
func (l *recurrentLayer) saveError() error {
	if l.costly && l.opts.cellType == "" {
		return errors.New("the custom cell has no cell type: declare the layer WithCellType(name), and load it WithCellFactory(name, factory)")
	}
	return nil
}

func (l *recurrentLayer) Traits() Traits {
	return Traits{WholeSequence: l.bidirectional, CostlyPadding: l.costly}
}

func (l *recurrentLayer) Output(in Shape) (Shape, error) {
	switch {
	case l.hidden <= 0:
		return Shape{}, errors.Errorf("%d hidden units; want at least 1", l.hidden)
	case l.newCell == nil:
		return Shape{}, errors.New("nil cell factory")
	case !in.plain():
		return Shape{}, plainFeatures(in)
	case !in.Sequence:
		return Shape{}, errors.New("needs sequences, but the layer before outputs one step (OutputMode last)")
	case !l.opts.mode.Valid():
		return Shape{}, errors.Errorf("invalid output mode %v", l.opts.mode)
	case l.opts.merge < rnn.Concat || l.opts.merge > rnn.Product:
		return Shape{}, errors.Errorf("invalid merge mode %v", l.opts.merge)
	}
	out := Shape{Features: l.hidden, Sequence: l.opts.mode == rnn.Sequence}
	if l.bidirectional {
		out.Features = l.opts.merge.OutputSize(l.hidden)
	}
	return out, nil
}

// Build unrolls the layer's cells over the input: on the cells' fused ops
// where they have them (LSTM, GRU), except in graphs read node by node.
func (l *recurrentLayer) Build(b *Builder, in Value) (Value, error) {
	opts := []rnn.UnrollOption{rnn.WithOutputMode(l.opts.mode)}
	if in.Mask.Steps != nil {
		opts = append(opts, rnn.WithMask(in.Mask.Steps))
	}
	if !b.ReadsNodes() {
		opts = append(opts, rnn.WithFusedKernels())
	}
	steps, err := b.StepsOf(in)
	if err != nil {
		return Value{}, err
	}
	var outputs []*gorgonia.Node
	if l.bidirectional {
		fwd, err := l.cell(b, b.Name()+"/forward")
		if err != nil {
			return Value{}, err
		}
		bwd, err := l.cell(b, b.Name()+"/backward")
		if err != nil {
			return Value{}, err
		}
		u, err := rnn.UnrollBidirectional(fwd, bwd, steps, l.opts.merge, opts...)
		if err != nil {
			return Value{}, err
		}
		b.Recurrent(u.Forward, u.Backward)
		outputs = u.Outputs
	} else {
		cell, err := l.cell(b, b.Name())
		if err != nil {
			return Value{}, err
		}
		u, err := rnn.Unroll(cell, steps, opts...)
		if err != nil {
			return Value{}, err
		}
		b.Recurrent(u)
		outputs = u.Outputs
	}
	if l.opts.mode == rnn.Sequence {
		return Value{Steps: outputs, Mask: in.Mask}, nil
	}
	return Value{One: outputs[0], Mask: in.Mask}, nil
}

// cell builds the cell called name and trains its learnables.
func (l *recurrentLayer) cell(b *Builder, name string) (rnn.Cell, error) {
	in := b.In().Features
	cell, err := l.newCell(b.Graph(), b.Params(), name, in, l.hidden)
	if err != nil {
		return nil, err
	}
	if cell == nil || cell.InputSize() != in || cell.OutputSize() != l.hidden {
		return nil, errors.Errorf("the cell %q takes %v features and outputs %v; the layer needs %d and %d",
			name, sizeOf(cell, rnn.Cell.InputSize), sizeOf(cell, rnn.Cell.OutputSize), in, l.hidden)
	}
	b.Train(cell.Learnables()...)
	return cell, nil
}

func sizeOf(c rnn.Cell, f func(rnn.Cell) int) any {
	if c == nil {
		return "no"
	}
	return f(c)
}

func (l *recurrentLayer) Describe(_, out Shape) string {
	if l.bidirectional {
		return describe("%d hidden units per direction, merge %v, output mode %v", l.hidden, l.opts.merge, l.opts.mode)
	}
	return describe("%d hidden units, output mode %v", l.hidden, l.opts.mode)
}

// customCellFields are the checkpoint fields of a Recurrent layer, whose
// cell Load makes with the factory given for its type.
type customCellFields struct {
	HiddenUnits *int    `json:"hiddenUnits"`
	CellType    *string `json:"cellType"`
	OutputMode  *string `json:"outputMode,omitempty"`
}

// biCellFields are those of a Bidirectional layer.
type biCellFields struct {
	customCellFields
	MergeMode string `json:"mergeMode,omitempty"`
}

// recurrentOptions returns the options that declare a loaded recurrent
// layer: its name, output mode and merge mode (when saved). Version 1 of
// the checkpoint format called a bidirectional layer's final states "last",
// which is now MATLAB's last step of the output sequence: such a layer
// loads as rnn.Final.
func recurrentOptions(fields Fields, name string, mode, merge *string, bidirectional bool) ([]LayerOption, error) {
	opts := decodeName(name)
	if mode != nil {
		m, err := rnn.ParseOutputMode(*mode)
		if err != nil {
			return nil, err
		}
		if bidirectional && fields.Version() == 1 && m == rnn.Last {
			m = rnn.Final
		}
		opts = append(opts, WithOutputMode(m))
	}
	if merge != nil {
		m, err := rnn.ParseMergeMode(*merge)
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithMergeMode(m))
	}
	return opts, nil
}

// decodeCustomCell declares a loaded Recurrent or Bidirectional layer, with
// the factory given for its cell type.
func decodeCustomCell(name string, fields Fields, bidirectional bool) (Layer, error) {
	var f struct {
		customCellFields
		MergeMode *string `json:"mergeMode"`
	}
	if !bidirectional {
		var uni customCellFields
		if err := fields.Decode(&uni); err != nil {
			return nil, err
		}
		f.customCellFields = uni
	} else if err := fields.Decode(&f); err != nil {
		return nil, err
	}
	if err := required(need("hiddenUnits", f.HiddenUnits), need("cellType", f.CellType)); err != nil {
		return nil, err
	}
	newCell := fields.cells[*f.CellType]
	if newCell == nil {
		return nil, errors.Errorf("cell type %q: no factory; load with graph.WithCellFactory(%q, factory)", *f.CellType, *f.CellType)
	}
	opts, err := recurrentOptions(fields, name, f.OutputMode, f.MergeMode, bidirectional)
	if err != nil {
		return nil, err
	}
	opts = append(opts, WithCellType(*f.CellType))
	if bidirectional {
		return Bidirectional(*f.HiddenUnits, newCell, opts...), nil
	}
	return Recurrent(*f.HiddenUnits, newCell, opts...), nil
}

func init() {
	builtinKinds["recurrent"] = func(name string, fields Fields) (Layer, error) { return decodeCustomCell(name, fields, false) }
	builtinKinds["bidirectional"] = func(name string, fields Fields) (Layer, error) { return decodeCustomCell(name, fields, true) }
}

// torchModule: layer k of an nn.LSTM, nn.GRU or nn.RNN, bidirectional for
// a bidirectional layer, whose backward cell's tensors end in "_reverse":
//
//	weight_ih_l{k}  InputWeights
//	weight_hh_l{k}  RecurrentWeights
//	bias_ih_l{k}    Bias
//	bias_hh_l{k}    RecurrentBias (nn.GRU); a share of Bias (nn.LSTM, nn.RNN)
//
// The gates come in the same order in both (LSTM i, f, g, o; GRU r, z, and
// h̃ for PyTorch's n).
func (l *recurrentLayer) torchModule(n *Network, nl netLayer, k int) (torchModule, error) {
	class, err := l.torchClass(n, nl)
	if err != nil {
		return torchModule{}, err
	}
	m := torchModule{stacked: true, class: fmt.Sprintf("%s(hidden_size=%d, bidirectional=%v)", class, l.hidden, l.bidirectional)}
	cells := []struct{ name, suffix string }{{nl.name, ""}}
	if l.bidirectional {
		cells = []struct{ name, suffix string }{{nl.name + "/forward", ""}, {nl.name + "/backward", "_reverse"}}
	}
	for _, c := range cells {
		sfx := fmt.Sprintf("_l%d%s", k, c.suffix)
		hh := n.torchBias("bias_hh"+sfx, c.name+"/Bias", true)
		if class == "nn.GRU" {
			hh = n.torchBias("bias_hh"+sfx, c.name+"/RecurrentBias", false)
		}
		m.tensors = append(m.tensors,
			n.torchParam("weight_ih"+sfx, c.name+"/InputWeights"),
			n.torchParam("weight_hh"+sfx, c.name+"/RecurrentWeights"),
			n.torchBias("bias_ih"+sfx, c.name+"/Bias", false),
			hh)
	}
	return m, nil
}

// torchClass returns the PyTorch module whose layers the layer's cells are
// (rnn.TorchCounterpart: nn.LSTM, nn.GRU or nn.RNN), or an error that says
// why none is; it asks a cell made apart from the network.
func (l *recurrentLayer) torchClass(n *Network, nl netLayer) (string, error) {
	p, err := nodes.NewParams(n.dtype, 1)
	if err != nil {
		return "", err
	}
	cell, err := l.newCell(gorgonia.NewGraph(), p, nl.name, nl.in.Features, l.hidden)
	if err != nil {
		return "", err
	}
	if c, ok := cell.(rnn.TorchCounterpart); ok {
		return c.TorchModule()
	}
	return "", errors.Errorf("its cell, a %T, has no PyTorch counterpart (nn.LSTM, nn.GRU and nn.RNN are rnn.LSTM, rnn.GRU and rnn.Elman)", cell)
}
