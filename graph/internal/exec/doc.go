// Package exec is seqgraph's graph optimizer: an executor that runs the
// unrolled gate-node graph of any recurrent cell, for training, prediction
// and Activations, in place of gorgonia.Grad's gradient graph and each
// op's Do.
//
// The unrolled graph stays what users see and name (lstm1/t7/forget); only
// its execution changes. Compile orders the nodes that the targets and the
// loss depend on (iteratively, in time linear in the graph), picks a kernel
// for each op, and plans:
//
//   - the backward pass itself, reverse mode with one backward kernel per
//     op that adds into the arguments' gradients in place (a product's
//     weight gradient as gemm with β = 1), only for the nodes that depend
//     on a learnable and that the loss depends on: no gradient graph, no
//     chains of Add nodes, no symbolic differentiation to compile;
//   - product groups (group): the products of one learnable over the
//     timesteps, x_t·Wᵀ and h_{t-1}·Rᵀ, have their weight gradient as one
//     product over all steps, and the input projection as one product
//     when its inputs are known before the first step (data, or the
//     layer below), as the fused LSTM computes them;
//   - fusions (fuse.go): the bias and h·Rᵀ added into the hoisted
//     projection so that rnn.Affine's sums compute nothing; gradients of
//     sums' operands aliased to the sum's; gate gradients written block by
//     block without clearing;
//   - buffers, by liveness over the forward and backward steps: every
//     value and gradient has a buffer fixed at compile time, shared with
//     the values no later step reads, so that a run allocates nothing.
//
// Elementwise work in float32 runs on vecmath's AVX2 kernels; products on
// the BLAS nodes.MatMul uses. Every kernel computes what the op's Do and
// SymDiff compute; the results equal the plain path's to rounding (the
// sums of gradients are ordered differently), which package graph's tests
// hold to 1e-12 in float64 for every cell, output mode, padding side and
// direction.
//
// The ops it computes are package nodes' MatMul, AddBias, ActivateBlock,
// Columns, Rows, MulRows, Masked, LogSoftmax, ConcatColumns and Dropout (see
// nodes.Describe), and Gorgonia's elementwise +, -, ⊙ on operands of one
// shape, exp, square and the sum of all elements. Compile refuses a graph
// with any other op (ErrUnsupported), and the caller runs it on the plain
// path: the fused LSTM and GRU layers, the sequence layers' ops (Conv1D,
// the poolings, Embedding, LayerNorm), the video layers, and Gorgonia ops a
// custom cell might use (gorgonia.Tanh, gorgonia.Mul, broadcasting). It
// imports nodes, never graph.
package exec
