package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// The PyTorch modules of the built-in layers (torch.go names them): each
// layer's learnables and the parameters of its module, in the module's
// order. Shapes are the network's learnables', transposed where PyTorch's
// layout is.

// torchModule: nn.Linear, weight (K×In) and bias (K), FullyConnected's
// Weights and Bias.
func (l *fullyConnected) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	return n.torchWeightBias("nn.Linear", nl.name+"/Weights", nl.name+"/Bias"), nil
}

// torchModule: nn.Conv1d, weight (K×C×k) and bias (K), Convolution1D's
// Weights and Bias, in the same layout.
func (l *conv1d) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	return n.torchWeightBias("nn.Conv1d", nl.name+"/Weights", nl.name+"/Bias"), nil
}

// torchModule: nn.LayerNorm(features), weight and bias,
// LayerNormalization's Scale and Offset.
func (l *layerNorm) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	return n.torchWeightBias("nn.LayerNorm", nl.name+"/Scale", nl.name+"/Offset"), nil
}

// torchWeightBias is a module of a weight and a bias.
func (n *Network) torchWeightBias(class, weight, bias string) torchModule {
	return torchModule{class: class, tensors: []torchTensor{
		n.torchParam("weight", weight),
		n.torchBias("bias", bias, false),
	}}
}

// torchModule: nn.Embedding(V, D, padding_idx=0), weight (V×D), the
// transpose of WordEmbedding's Weights (D×V).
func (l *wordEmbedding) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	t := n.torchParam("weight", nl.name+"/Weights")
	t.shape = []int{l.vocabulary, l.dimension}
	t.transposed = true
	return torchModule{class: "nn.Embedding", tensors: []torchTensor{t}}, nil
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

// torchClass returns the PyTorch module whose layers the layer's cells are:
// nn.LSTM, nn.GRU or nn.RNN, or an error that says why none is.
func (l *recurrentLayer) torchClass(n *Network, nl netLayer) (string, error) {
	if !l.costly {
		// LSTM, BiLSTM, GRU: PyTorch's modules have neither other
		// activations nor the reset gate before the multiplication.
		if l.opts.gate != nodes.Sigmoid || l.opts.state != nodes.Tanh {
			return "", errors.Errorf("gate activation %v and state activation %v: PyTorch's nn.LSTM and nn.GRU have sigmoid and tanh only", l.opts.gate, l.opts.state)
		}
		if l.kind != "gru" {
			return "nn.LSTM", nil
		}
		if l.opts.reset != rnn.AfterMultiplication {
			return "", errors.Errorf("reset gate mode %v: PyTorch's nn.GRU resets after the multiplication (WithResetGateMode(rnn.AfterMultiplication))", l.opts.reset)
		}
		return "nn.GRU", nil
	}
	// A Recurrent or Bidirectional layer: its cell's type says, on a cell
	// made apart from the network.
	p, err := nodes.NewParams(n.dtype, 1)
	if err != nil {
		return "", err
	}
	cell, err := l.newCell(gorgonia.NewGraph(), p, nl.name, nl.in.Features, l.hidden)
	if err != nil {
		return "", err
	}
	switch c := cell.(type) {
	case *rnn.LSTM:
		return "nn.LSTM", nil
	case *rnn.GRU:
		if c.RB == nil {
			return "", errors.New("a GRU cell that resets before the multiplication: PyTorch's nn.GRU resets after it (rnn.WithResetGateMode(rnn.AfterMultiplication))")
		}
		return "nn.GRU", nil
	case *rnn.Elman:
		return "nn.RNN", nil
	case *rnn.PeepholeLSTM:
		return "", errors.New("a peephole LSTM cell: PyTorch's nn.LSTM has no peephole weights")
	}
	return "", errors.Errorf("its cell, a %T, has no PyTorch counterpart (nn.LSTM, nn.GRU and nn.RNN are rnn.LSTM, rnn.GRU and rnn.Elman)", cell)
}
