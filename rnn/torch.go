package rnn

import (
	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/nodes"
)

// TorchCounterpart is a cell that is one layer (one direction) of a PyTorch
// recurrent module: TorchModule returns the module ("nn.LSTM", "nn.GRU",
// "nn.RNN"), whose weight_ih, weight_hh, bias_ih and bias_hh are the cell's
// InputWeights, RecurrentWeights and Bias (with RecurrentBias, where the
// cell keeps one), gates in the same order; or an error that says why this
// cell is not (activations or a reset gate mode PyTorch does not have).
type TorchCounterpart interface {
	Cell
	TorchModule() (string, error)
}

// TorchModule is nn.LSTM for the LSTM of sigmoid gates and tanh states.
func (c *LSTM) TorchModule() (string, error) {
	if c.gate != nodes.Sigmoid || c.state != nodes.Tanh {
		return "", errors.Errorf("gate activation %v and state activation %v: PyTorch's nn.LSTM has sigmoid and tanh only", c.gate, c.state)
	}
	return "nn.LSTM", nil
}

// TorchModule is nn.GRU for the GRU of sigmoid gates and tanh states that
// resets after the recurrent multiplication.
func (c *GRU) TorchModule() (string, error) {
	if c.gate != nodes.Sigmoid || c.state != nodes.Tanh {
		return "", errors.Errorf("gate activation %v and state activation %v: PyTorch's nn.GRU has sigmoid and tanh only", c.gate, c.state)
	}
	if c.mode != AfterMultiplication {
		return "", errors.Errorf("reset gate mode %v: PyTorch's nn.GRU resets after the multiplication (WithResetGateMode(AfterMultiplication))", c.mode)
	}
	return "nn.GRU", nil
}

// TorchModule is nn.RNN for the Elman cell of tanh or ReLU states (its
// nonlinearity).
func (c *Elman) TorchModule() (string, error) {
	if c.act != nodes.Tanh && c.act != nodes.ReLU {
		return "", errors.Errorf("state activation %v: PyTorch's nn.RNN has tanh and relu only", c.act)
	}
	return "nn.RNN", nil
}
