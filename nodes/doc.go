// Package nodes holds the building blocks of seqgraph's layers as functions
// of *gorgonia.Node, usable in any Gorgonia graph.
//
// # Operations
//
// Each operation is a Gorgonia op of its own, with a forward pass and a
// symbolic derivative, so that Gorgonia's tape machine differentiates graphs
// that use them like any other:
//
//	MatMul         op(a)·op(b), transposes as BLAS flags; never turns a 1×n
//	               matrix into a vector as gorgonia.Mul does
//	AddBias        x + b, the vector b added to every row
//	Affine         x·Wᵀ + b, a fully connected layer's computation
//	ActivateBlock  an activation of one block of columns: a gate out of the
//	               pre-activations of all of a cell's gates
//	Columns, Rows  a block of a matrix, without activation
//	ConcatColumns  matrices side by side (a bidirectional layer's output)
//	MulRows        each row times a vector (a peephole's diagonal weight)
//	FoldSequence   T per-timestep frame batches into one [T·B, C, H, W] batch
//	UnfoldSequence and back, flattened to one B×(C·H·W) node per timestep
//	Conv2D         2-D convolution (Gorgonia's, checked) with a channel bias
//	BatchNorm      batch normalization with running statistics, leaving
//	               padding frames out of the statistics
//	Masked         next where the mask is 1, prev where it is 0: padded
//	               timesteps that leave a recurrent state exactly as it was
//	LogSoftmax     stable row-wise log-softmax (Softmax is its exp)
//	Dropout        inverted dropout, seeded, switched per graph by a Phase
//
// and the two losses of MATLAB's output layers, CrossEntropy (over classes,
// mean over the batch) and HalfMeanSquaredError.
//
// They are written for seqgraph's needs and for Gorgonia v0.9's known
// problems: its softmax hashes alike with and without the log, so a graph
// holding both gets one twice; its Dropout scales gradients wrongly for
// p ≠ 0.5 and its EvalMode flips every machine on a graph.
//
// Describe and DoInto let an executor other than Gorgonia's (seqgraph's
// graph optimizer) recognise these ops and compute them into buffers of
// its own with the same kernels.
//
// # Learnables
//
// Params owns learnable tensors by name. Graphs ask it for a node bound to a
// learnable; every graph that asks for the same name gets a node bound to
// the same tensor. That is how seqgraph compiles one graph per batch shape
// while training one set of weights. Initializers (GlorotUniform, He,
// Orthogonal, NarrowNormal, UnitForgetGateBias, ...; ParseInitializer takes
// MATLAB's names) draw from the store's seeded generator, so one seed gives
// the same weights.
//
// # Checking gradients
//
// CheckGradients compares the tape machine's gradients of a scalar cost with
// central finite differences, element by element; seqgraph's tests use it
// for every op, cell and network, and a researcher can use it on their own.
package nodes
