// Package dataset turns sets of variable-length sequences into padded
// mini-batches for training recurrent networks.
//
// It uses plain Go slices only, so that it can be used, and tested, apart
// from the graph that consumes its batches.
//
// # Sequences
//
// A Sequence is T timesteps of F features, stored row-major:
// Data[t*F+f] is feature f at timestep t. Rows are timesteps, as in
// PyTorch's batch_first layout; MATLAB stores a sequence as an F-by-T matrix,
// so transpose MATLAB data when importing it. Sequences of one set share F
// but may differ in T.
//
// # Sources
//
// A Batcher draws observations through the Source interface. InMemory is
// the Source for sets held in memory, built by NewClassification (one class
// label per sequence), NewRegression (one response vector per sequence) or
// NewUnlabeled (for prediction). A Source describes its observations by a
// Schema.
//
// # Batches
//
// A Batch holds B sequences padded to the length T of the longest of them,
// MATLAB's SequenceLength "longest". X is batch-major [B, T, F]:
//
//	X[(b*T+t)*F+f] is feature f of timestep t of sequence b
//
// Mask is [B, T], 1 for real timesteps and 0 for padding, and Lengths holds
// the real length of each sequence. A recurrent step consumes one [B, F]
// slice per timestep; TimeMajor reorders X to [T, B, F] for that, and MaskAt
// gives the matching [B] column of the mask.
//
// Padding entries of X hold the padding value (WithPaddingValue, MATLAB's
// SequencePaddingValue, 0 by default). Where the padding goes is set by
// WithPaddingDirection, MATLAB's SequencePaddingDirection. For sequences
// a, b, c of length 3 and x, y of length 2 (padding shown as 0):
//
//	PadRight (default)    PadLeft
//	a b c                 a b c
//	x y 0                 0 x y
//
// Right padding makes every sequence start at timestep 0. Left padding makes
// every sequence end at timestep T-1, so that a sequence-to-one network can
// read the output of every sequence at the same, last timestep instead of
// gathering it at each sequence's own length. Either way the padding steps
// pass through the recurrence; the mask is what tells them apart.
//
// # Epochs
//
// A Batcher yields the batches of an epoch through a Go iterator. With
// WithShuffle the order of each epoch is a function of the seed and the
// epoch number only, so that any epoch can be reproduced on its own; with
// WithDropLast a final short batch is dropped. To avoid allocating every
// batch anew, the yielded Batch is reused from one iteration to the next;
// Clone keeps one.
//
// # What is coming
//
// This is the in-memory part of the package. It is meant to grow, without
// breaking what is here, into MATLAB's full set of sequence options: the
// SequenceLength values "shortest" and a fixed chunk length for truncated
// back-propagation through time (with a chunk index carried in Batch),
// batches sorted or bucketed by length, shuffling once or never as well as
// every epoch, normalisation of the inputs, per-timestep targets for
// sequence-to-sequence networks, Datastores that stream observations from
// disk through the Source interface, and video sequences of shape
// [B, T, C, H, W].
package dataset
