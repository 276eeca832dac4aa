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
//	Conv2D         2-D convolution with a channel bias, one image at a time
//	               by im2col and the gemm of MatMul
//	BatchNorm      batch normalization with running statistics, leaving
//	               padding frames out of the statistics
//	Rectify        max(x, 0) for a tensor of any shape (folded frames)
//	Masked         next where the mask is 1, prev where it is 0: padded
//	               timesteps that leave a recurrent state exactly as it was
//	LogSoftmax     stable row-wise log-softmax (Softmax is its exp)
//	Dropout        inverted dropout, seeded, switched per graph by a Phase
//
// and the two losses of MATLAB's output layers, CrossEntropy (over classes,
// mean over the batch) and HalfMeanSquaredError.
//
// The ops of the sequence layers work on a padded batch folded time-major:
// a (T·B)×C matrix whose row t·B+b is step t of sequence b, as
// FoldSequence lays out 1×1 frames. The convolution and the poolings also
// take the batch's mask, T·B values, 1 for real steps: each sequence's
// real steps are one run, and the batch is padded on the left or on the
// right. They compute each sequence on its own real steps, so that it gets
// in a padded batch exactly what it gets alone:
//
//	Conv1D         1-D convolution over time: stride, dilation, padding
//	               "same", "causal" or [left right] worked out per sequence
//	MaxPool1D      1-D max pooling over time; padding never wins
//	AveragePool1D  1-D average pooling over time; padding counts as zeros
//	GlobalMaxPool1D, GlobalAveragePool1D
//	               max or mean over each sequence's real steps, B×C
//	Embedding      token indices to the columns of a D×V matrix; index 0
//	               is padding, maps to zeros and gets no gradient
//	LayerNorm      each row (step) normalized over its channels, with a
//	               learnable scale and offset
//
// Conv1DSpec.OutputMask and Pool1DSpec.OutputMask give the mask and the
// steps of a windowed op's output, for the layers that follow.
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
