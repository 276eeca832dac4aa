package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// LSTM is a long short-term memory layer of hidden units (rnn.LSTM),
// MATLAB's lstmLayer. It takes WithOutputMode, WithGateActivation,
// WithStateActivation and the initializer options. Training and prediction
// run it on a fused op; Activations on its gate nodes.
func LSTM(hidden int, opts ...LayerOption) Layer {
	o, err := declare("LSTM", opts, optMode, optGate, optState, optInit)
	l := &recurrentLayer{base: newBase("lstm", "LSTM", "lstm", o, err), hidden: hidden, opts: o, newCell: lstmCell(o)}
	l.fields = func() any { return cellFields(l.hidden, o) }
	return l
}

// BiLSTM is MATLAB's bilstmLayer: an LSTM over the sequence forwards and one
// backwards, each of hidden units, their outputs concatenated (2×hidden
// features) unless WithMergeMode says otherwise. It takes the options of
// LSTM and WithMergeMode.
func BiLSTM(hidden int, opts ...LayerOption) Layer {
	o, err := declare("BiLSTM", opts, optMode, optGate, optState, optInit, optMerge)
	l := &recurrentLayer{base: newBase("bilstm", "BiLSTM", "bilstm", o, err), hidden: hidden, bidirectional: true, opts: o, newCell: lstmCell(o)}
	l.fields = func() any { return biFields{cellFields(l.hidden, o), o.merge.String()} }
	return l
}

// lstmCell returns the factory of the LSTM cells of a layer declared with o.
func lstmCell(o layerOptions) CellFactory {
	return func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
		return rnn.NewLSTM(g, p, name, in, out, o.cellOptions(false)...)
	}
}

// builtinCellFields are the checkpoint fields of an LSTM layer. Initializers
// are not saved: a checkpoint holds the trained values.
type builtinCellFields struct {
	HiddenUnits     *int    `json:"hiddenUnits"`
	OutputMode      *string `json:"outputMode,omitempty"`
	GateActivation  *string `json:"gateActivation,omitempty"`
	StateActivation *string `json:"stateActivation,omitempty"`
}

// biFields are those of a BiLSTM layer.
type biFields struct {
	builtinCellFields
	MergeMode string `json:"mergeMode,omitempty"`
}

func cellFields(hidden int, o layerOptions) builtinCellFields {
	return builtinCellFields{HiddenUnits: ptr(hidden), OutputMode: ptr(o.mode.String()),
		GateActivation: ptr(o.gate.String()), StateActivation: ptr(o.state.String())}
}

// cellOptionsOf returns the options that declare a loaded layer of a
// built-in cell: name, output mode, activations and merge mode (when saved).
func cellOptionsOf(fields Fields, name string, f builtinCellFields, merge *string, bidirectional bool) ([]LayerOption, error) {
	opts, err := recurrentOptions(fields, name, f.OutputMode, merge, bidirectional)
	if err != nil {
		return nil, err
	}
	for _, a := range []struct {
		saved *string
		with  func(nodes.Activation) LayerOption
	}{{f.GateActivation, WithGateActivation}, {f.StateActivation, WithStateActivation}} {
		if a.saved == nil {
			continue
		}
		act, err := nodes.ParseActivation(*a.saved)
		if err != nil {
			return nil, err
		}
		opts = append(opts, a.with(act))
	}
	return opts, nil
}

func init() {
	builtinKinds["lstm"] = func(name string, fields Fields) (Layer, error) {
		var f builtinCellFields
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("hiddenUnits", f.HiddenUnits)); err != nil {
			return nil, err
		}
		opts, err := cellOptionsOf(fields, name, f, nil, false)
		if err != nil {
			return nil, err
		}
		return LSTM(*f.HiddenUnits, opts...), nil
	}
	builtinKinds["bilstm"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			builtinCellFields
			MergeMode *string `json:"mergeMode"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("hiddenUnits", f.HiddenUnits)); err != nil {
			return nil, err
		}
		opts, err := cellOptionsOf(fields, name, f.builtinCellFields, f.MergeMode, true)
		if err != nil {
			return nil, err
		}
		return BiLSTM(*f.HiddenUnits, opts...), nil
	}
}
