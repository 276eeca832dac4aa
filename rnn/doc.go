// Package rnn builds recurrent layers as Gorgonia expression graphs: a Cell
// computes one timestep, and Unroll applies it over a sequence, one set of
// named nodes per timestep, so that Gorgonia derives the gradients of the
// whole unrolled graph.
//
// # Cells
//
// A Cell maps the input x_t (B×F) and the state before it to the state
// after it; its output is a function of its state. It owns its learnables,
// which it gets from a nodes.Params by name, so that several graphs (one per
// batch shape) share them. The cells, one per file, each with its equations
// in the doc comment of its Step:
//
//	LSTM          MATLAB's lstmLayer, PyTorch's nn.LSTM
//	PeepholeLSTM  Gers and Schmidhuber (2000)
//	GRU           MATLAB's gruLayer, PyTorch's nn.GRU; both reset gate modes
//	Elman         PyTorch's nn.RNN, tanh or relu
//
// with MATLAB's names for the learnables, selectable activations and
// MATLAB's default initializers, each selectable. Stack puts cells one above
// the other, with dropout between them, and is a Cell itself.
//
// A new recurrent variant is one small type: embed CellBase, bind the
// learnables, write Step. CheckGradients checks any cell against finite
// differences. See docs/custom-cells.md and the minimal gated unit and
// coupled input-forget gate LSTM in this package's examples.
//
// # Unrolling
//
// Unroll applies a cell over T inputs. It returns the outputs (every
// timestep with OutputMode Sequence, the last with Last), the initial state
// (zero-valued input nodes unless given: Let them to carry state in) and the
// final state (read it to carry state out). Every node a cell names is found
// by "<cell>/t<step>/<part>", for instance "lstm1/t7/forget", through
// Unrolled.Node or the graph's ByName.
//
// UnrollBidirectional runs one cell forwards and another backwards
// (WithReverse) and merges their outputs: concatenated as in MATLAB and
// PyTorch, or summed, averaged or multiplied.
//
// With WithMask, a padded timestep leaves the state as it was, so that each
// sequence of a padded batch gets exactly the outputs, final state and
// gradients it would get alone, and OutputMode Last yields each sequence's
// own last real step; the backward direction of a bidirectional layer reads
// each sequence from its own last real step to its first.
package rnn
