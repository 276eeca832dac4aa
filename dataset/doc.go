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
// # Sources and targets
//
// A Batcher draws observations through the Source interface; a Source
// describes its observations by a Schema. InMemory is the Source for sets
// held in memory, one constructor per task:
//
//	NewClassification      sequence-to-label: one class per sequence
//	NewRegression          sequence-to-one: one response vector per sequence
//	NewStepClassification  sequence-to-sequence: one class per timestep
//	NewStepRegression      sequence-to-sequence: one response vector per timestep
//	NewUnlabeled           no targets, for prediction
//
// Sources that read from disk may also implement Prefetcher, to read the
// next mini-batch while the current one trains, and LengthSource, to give
// sequence lengths without reading the sequences.
//
// A Datastore is such a lazy Source that holds files open: OpenCSVFolder
// reads a folder with one sequence per CSV file and a targets file, file by
// file on demand, with a bounded read-ahead, for sets that do not fit in
// memory.
//
// # Loading data
//
// The loaders below give sequences, labels and responses in the forms the
// set constructors take:
//
//	NewSequences            N sequences as nested slices, [][][]float64 (T may vary, F may not)
//	Padded.Sequences        a dense [N, T, F] array with per-sequence lengths, padded right or left
//	NewWindowRegression     sliding windows over series, each predicting the steps after it
//	NewStepAheadRegression  series predicting themselves one step (or h steps) ahead, MATLAB's forecasting layout
//	ReadCSVSeries           one time series of a CSV file, columns chosen by name
//	ReadCSVSequences        a CSV table of many sequences, rows grouped by an ID column,
//	                        ordered by a time column, with per-step or per-sequence targets
//	ReadCSVColumns          text columns of a CSV file, such as documents and categories
//	ReadNumPy               a NumPy .npy array (through npyio), as sequences, labels or responses
//	ReadNumPyArchive        the arrays of a NumPy .npz archive
//	ReadJapaneseVowels      the UCI Japanese Vowels files of MATLAB's sequence classification example
//
// EncodeLabels numbers class labels given as text, StratifiedHoldOut and
// InMemory.HoldOut split a set into training and test parts class by
// class, and the subpackage text turns documents into sequences of word
// indices. Every reader names the file, line and column of bad input (the
// sequence and row for slices, the array for NumPy files), and is fuzzed.
//
// # Video
//
// A sequence of images is a Sequence whose F features per timestep are one
// frame of C*H*W values in channel, row, column order; the WithFrame option
// of the set constructors records the FrameShape, which every Batch then
// carries, so that X, [B, T, F], reads as [B, T, C, H, W]. NewVideoSequence
// builds a sequence from frames in that order, and FromHWC converts frames
// stored channels last (T×H×W×C), as most decoders produce them.
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
// gives the matching [B] column of the mask. Per-step targets, StepLabels
// [B, T] and StepResponses [B, T, R], are padded like X, with -1 and 0.
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
// # Sequence length
//
// WithSequenceLength is MATLAB's SequenceLength option. Longest, the
// default, pads as above. Shortest truncates every sequence of a batch to
// the shortest, keeping the first timesteps with PadRight and the last ones
// with PadLeft:
//
//	PadRight    PadLeft
//	a b         b c
//	x y         x y
//
// A number N pads to the longest and then splits the batch into chunks of
// N timesteps, the last one shorter if N does not divide T, for truncated
// back-propagation through time. With N = 2, and a, b, c, d, e of length 5
// beside x, y:
//
//	PadRight                PadLeft
//	chunk 0   1   2         chunk 0   1   2
//	a b     c d   e         a b     c d   e
//	x y     0 0   0         0 0     0 x   y
//
// The Batcher yields the chunks of a batch one after the other, with Chunk
// counting from 0 to Chunks-1, so that a network carries its state across
// them and resets it at chunk 0. Each chunk has its own Mask and Lengths,
// which may be 0 (x y in right-padded chunks 1 and 2), and Ends marks the
// chunk holding a sequence's last real step, where a per-sequence target
// applies; with PadLeft that is always the last chunk. MakeBatch does not
// split, MakeChunks does; Batcher.NumChunks counts the batches of an epoch.
//
// # Epochs and order
//
// A Batcher yields the batches of an epoch through a Go iterator. To avoid
// allocating every batch anew, the yielded Batch is reused from one
// iteration to the next; Clone keeps one. WithDropLast drops a final short
// batch.
//
// WithShuffleMode is MATLAB's Shuffle option: ShuffleNever, ShuffleOnce or
// ShuffleEveryEpoch, seeded; WithShuffle(seed) is every epoch. A Batcher
// does not shuffle unless told, so that a batcher made for prediction or
// evaluation keeps the source's order, like MATLAB's minibatchqueue;
// graph.Train, which is MATLAB's trainNetwork, shuffles once by default, as
// trainingOptions does. The order of an epoch is a function of the seed and the
// epoch number only, so that any epoch can be reproduced on its own.
//
// Batching sequences of similar length together saves the computation
// spent on padding. WithSortByLength sorts the set by length once, which
// with no shuffling is the recipe of MATLAB's sequence classification
// example. WithBuckets keeps shuffling but sorts by length within windows
// of a few batches, then shuffles the batches. Batcher.PaddingFraction
// measures the padding of an epoch.
//
// # Normalization
//
// FitNormalization computes per-feature statistics of a training Source
// (per channel for video) for one of MATLAB's sequenceInputLayer
// normalizations: ZeroCenter, ZScore, RescaleSymmetric or RescaleZeroOne.
// WithNormalization applies the statistics to the real timesteps of every
// batch as it is made; NormalizationStats.Apply and ApplyBatch apply them
// to slices and batches. The statistics are plain exported fields, to be
// saved with a network and applied unchanged at prediction.
package dataset
