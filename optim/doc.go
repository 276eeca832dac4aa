// Package optim provides gradient descent solvers for Gorgonia graphs.
//
// Each solver implements gorgonia.Solver, so it updates the parameters of
// seqgraph's networks as well as of any Gorgonia graph: a *gorgonia.Node
// whose value is bound as a dual value (gorgonia.BindDualValues) is a
// gorgonia.ValueGrad.
//
// # Solvers
//
// For a parameter w with gradient g, learn rate lr and element-wise
// operations, the solvers compute the following updates; the forms are
// PyTorch's, and the defaults are MATLAB's where MATLAB has the solver.
//
// SGDM, stochastic gradient descent with momentum (defaults lr 0.01,
// momentum 0.9):
//
//	v ← momentum·v + g
//	w ← w − lr·v
//
// Adam, at the t-th update of w (defaults lr 0.001, β1 0.9, β2 0.999,
// ε 1e-8):
//
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	w ← w − lr·(m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
//
// RMSProp (defaults lr 0.001, squared gradient decay ρ 0.9, ε 1e-8):
//
//	s ← ρ·s + (1 − ρ)·g²
//	w ← w − lr·g / (√s + ε)
//
// Adagrad (defaults lr 0.01, ε 1e-10, initial accumulator 0):
//
//	s ← s + g²
//	w ← w − lr·g / (√s + ε)
//
// The velocity and moments start at zero, and Adagrad's accumulator at the
// value set by WithInitialAccumulator.
//
// # Regularization and clipping
//
// Before the update, as MATLAB's trainNetwork does, Step first adds L2
// regularization to the gradient,
//
//	g ← g + λ·factor·w
//
// where λ is set by WithL2Regularization and factor is 1 unless the
// ValueGrad implements L2Factorer (seqgraph gives biases factor 0), and then
// clips the regularized gradients by the method set with
// WithGradientThreshold. ClipGradients performs the same clipping on its
// own.
//
// # Parameters and state
//
// A solver keeps its state (velocity, moments, accumulators, Adam's update
// count) per parameter, keyed by the identity of the parameter's value, the
// *tensor.Dense returned by Value, and not by the position of the parameter
// in the slice passed to Step. seqgraph builds one graph per batch shape,
// and the weight nodes of those graphs share the same *tensor.Dense; the
// solver therefore sees them as one parameter whichever graph was run. A
// value must not appear twice in one Step. State is created on the first
// Step that sees a value, with the value's shape and dtype, and kept for the
// solver's lifetime; binding a new *tensor.Dense to a parameter (rather than
// copying into the old one) therefore restarts it from fresh state.
//
// Values and gradients must be contiguous float64 or float32
// *tensor.Dense; the updates are computed in the tensor's own precision
// (the norms used for clipping are accumulated in float64).
// After the first Step for a given set of parameters, Step does not
// allocate.
//
// Gorgonia adds the gradients of each run into the dual value's gradient
// until something zeroes it, so Step zeroes every gradient after updating
// its parameter; the next run of the graph then starts from zero.
//
// Step checks every parameter before changing any: a gradient that cannot
// be obtained, a nil or non-tensor value, a gradient whose dtype or shape
// differs from the value's, an unsupported dtype, or a NaN or Inf in a
// gradient makes Step return an error naming the parameter (by its Name
// method if it has one, such as *gorgonia.Node, otherwise by its index),
// with no parameter or gradient changed and no update counted.
//
// Solvers are not safe for concurrent use.
package optim
