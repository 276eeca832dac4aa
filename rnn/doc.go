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
// batch shape) share them. LSTM is MATLAB's lstmLayer and PyTorch's nn.LSTM,
// with MATLAB's names and gate order (input, forget, cell candidate,
// output) and selectable gate and state activations. Stack puts cells one
// above the other and is a Cell itself.
//
// A new recurrent variant is one small type implementing Cell: see
// docs/custom-cells.md and the minimal gated unit in this package's
// examples.
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
// With WithMask, a padded timestep leaves the state as it was, so that each
// sequence of a padded batch gets exactly the outputs, final state and
// gradients it would get alone, and OutputMode Last yields each sequence's
// own last real step.
package rnn
