package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// GRU is a gated recurrent unit layer of hidden units (rnn.GRU), MATLAB's
// gruLayer. It takes the options of LSTM and WithResetGateMode. Training and
// prediction run it on a fused op; Activations on its gate nodes.
func GRU(hidden int, opts ...LayerOption) Layer {
	o, err := declare("GRU", opts, optMode, optGate, optState, optInit, optReset)
	newCell := func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
		return rnn.NewGRU(g, p, name, in, out, o.cellOptions(true)...)
	}
	l := &recurrentLayer{base: newBase("gru", "GRU", "gru", o, err), hidden: hidden, opts: o, newCell: newCell}
	l.fields = func() any { return gruFields{cellFields(l.hidden, o), ptr(o.reset.String())} }
	return l
}

// gruFields are the checkpoint fields of a GRU layer.
type gruFields struct {
	builtinCellFields
	ResetGateMode *string `json:"resetGateMode,omitempty"`
}

func init() {
	builtinKinds["gru"] = func(name string, fields Fields) (Layer, error) {
		var f gruFields
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("hiddenUnits", f.HiddenUnits)); err != nil {
			return nil, err
		}
		opts, err := cellOptionsOf(fields, name, f.builtinCellFields, nil, false)
		if err != nil {
			return nil, err
		}
		if f.ResetGateMode != nil {
			m, err := rnn.ParseResetGateMode(*f.ResetGateMode)
			if err != nil {
				return nil, err
			}
			opts = append(opts, WithResetGateMode(m))
		}
		return GRU(*f.HiddenUnits, opts...), nil
	}
}
