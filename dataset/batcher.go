package dataset

import (
	"iter"
	"sync"

	"github.com/pkg/errors"
)

// config holds the options of a Batcher and of MakeBatch.
type config struct {
	direction PaddingDirection
	padValue  float64
	seqLen    SequenceLength

	shuffle      ShuffleMode
	seed         int64
	sortByLength bool
	buckets      int
	bucketsSet   bool
	dropLast     bool

	normStats *NormalizationStats
	normSet   bool
	norm      *normalizer // built from normStats by newConfig
}

// BatchOption configures a Batcher or MakeBatch.
type BatchOption func(*config)

// WithPaddingDirection sets where padding goes; the default is PadRight.
func WithPaddingDirection(d PaddingDirection) BatchOption {
	return func(c *config) { c.direction = d }
}

// WithPaddingValue sets the value of padded entries of X, as MATLAB's
// SequencePaddingValue; the default is 0. It must be finite: padded entries
// still flow through the network before the mask removes them, and Inf*0 is
// NaN, so the mask could not hide an infinite padding value.
func WithPaddingValue(v float64) BatchOption {
	return func(c *config) { c.padValue = v }
}

// WithSequenceLength sets how the sequences of a batch are brought to a
// common length, as MATLAB's SequenceLength: Longest (the default),
// Shortest, or a fixed number of timesteps N.
//
// With N, each batch is padded to its longest sequence and then split into
// consecutive chunks of N timesteps, the last one shorter when N does not
// divide the padded length, as MATLAB does. The Batcher yields the chunks
// of a batch one after the other; see Batch.Chunk for what they carry.
// Splitting bounds the memory of back-propagation through time by N steps
// at the cost of not propagating gradients across chunk boundaries.
func WithSequenceLength(l SequenceLength) BatchOption {
	return func(c *config) { c.seqLen = l }
}

// WithShuffle makes each epoch visit the observations in a fresh random
// order determined by seed and the epoch number alone, so that any epoch can
// be reproduced without replaying the ones before it. It is shorthand for
// WithShuffleMode(ShuffleEveryEpoch, seed). Without shuffling every epoch
// visits the observations in source order.
func WithShuffle(seed int64) BatchOption {
	return WithShuffleMode(ShuffleEveryEpoch, seed)
}

// WithDropLast sets whether a final batch smaller than the batch size is
// dropped; by default it is kept. Dropping it keeps every batch the same
// size, at the cost of skipping a few observations each epoch (different
// ones each epoch when shuffling every epoch). MATLAB always drops it.
func WithDropLast(drop bool) BatchOption {
	return func(c *config) { c.dropLast = drop }
}

// newConfig applies opts and validates the result once, so that batching
// need not check options again.
func newConfig(opts []BatchOption) (config, error) {
	var c config
	for i, opt := range opts {
		if opt == nil {
			return config{}, errors.Errorf("dataset: option %d is nil", i)
		}
		opt(&c)
	}
	switch {
	case !c.direction.valid():
		return config{}, errors.Errorf("dataset: invalid padding direction %v", c.direction)
	case !isFinite(c.padValue):
		return config{}, errors.Errorf("dataset: padding value is %v, want a finite value", c.padValue)
	case !c.seqLen.valid():
		return config{}, errors.Errorf("dataset: invalid sequence length %v", c.seqLen)
	case !c.shuffle.valid():
		return config{}, errors.Errorf("dataset: invalid shuffle mode %v", c.shuffle)
	case c.bucketsSet && c.buckets < 1:
		return config{}, errors.Errorf("dataset: buckets of %d batches, want at least 1", c.buckets)
	case c.sortByLength && c.bucketsSet:
		return config{}, errors.New("dataset: WithSortByLength and WithBuckets both order by length, want at most one")
	case c.sortByLength && c.shuffle != ShuffleNever:
		// Shuffling after the sort would silently undo it.
		return config{}, errors.Errorf("dataset: WithSortByLength with shuffle mode %v would undo the sort; "+
			"use WithBuckets to shuffle batches of similar lengths", c.shuffle)
	}
	if c.normSet {
		nm, err := c.normStats.normalizer()
		if err != nil {
			return config{}, err
		}
		c.norm = nm
	}
	return c, nil
}

// checkSchema validates s and checks that the options fit it.
func (c *config) checkSchema(s Schema) error {
	if err := s.validate(); err != nil {
		return err
	}
	if c.normSet {
		return c.normStats.checkSchema(s)
	}
	return nil
}

// Batcher cuts a Source into padded mini-batches, epoch after epoch. Each
// batch holds BatchSize observations, the last one possibly fewer, brought
// to a common length as WithSequenceLength says.
//
// A Batcher does not change after construction and may be used by several
// goroutines at once, each ranging over its own epoch.
type Batcher struct {
	src        Source
	prefetch   Prefetcher // src, if it is one
	schema     Schema
	n          int
	size       int
	numBatches int
	cfg        config
	sorted     []int // the length-sorted order, with WithSortByLength

	lensOnce sync.Once
	lens     []int
	lensErr  error
}

// NewBatcher returns a Batcher that cuts src into batches of batchSize
// observations. The source's length is read once, here; so are the lengths
// of its sequences when an option orders by length. Without
// WithShuffleMode it keeps the source's order (graph.Train's default is to
// shuffle once, as MATLAB's trainingOptions).
func NewBatcher(src Source, batchSize int, opts ...BatchOption) (*Batcher, error) {
	if src == nil {
		return nil, errors.New("dataset: nil source")
	}
	if batchSize <= 0 {
		return nil, errors.Errorf("dataset: batch size %d, want at least 1", batchSize)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	schema := src.Schema()
	if err := cfg.checkSchema(schema); err != nil {
		return nil, err
	}
	n := src.Len()
	if n <= 0 {
		return nil, errors.Errorf("dataset: source has %d observations, want at least 1", n)
	}
	nb := n / batchSize
	if !cfg.dropLast && n%batchSize != 0 {
		nb++
	}
	if nb == 0 {
		// A training loop over zero batches would silently do nothing.
		return nil, errors.Errorf("dataset: dropping the last batch leaves no batches: %d observations, batch size %d", n, batchSize)
	}
	br := &Batcher{src: src, schema: schema, n: n, size: batchSize, numBatches: nb, cfg: cfg}
	br.prefetch, _ = src.(Prefetcher)
	if cfg.sortByLength || cfg.bucketsSet {
		// Read now so that a failing source is reported here rather than
		// in the middle of an epoch.
		lens, err := br.lengths()
		if err != nil {
			return nil, err
		}
		if cfg.sortByLength {
			br.sorted = identity(make([]int, n))
			sortByLength(br.sorted, lens)
		}
	}
	return br, nil
}

// NumBatches returns the number of mini-batches of observations in each
// epoch. With a fixed SequenceLength, Epoch yields each of them as one or
// more chunks, so it yields more batches than this; NumChunks counts them.
func (br *Batcher) NumBatches() int { return br.numBatches }

// BatchSize returns the number of observations in every batch but possibly
// the last.
func (br *Batcher) BatchSize() int { return br.size }

// NumChunks returns the number of batches that Epoch(epoch) yields: the
// total number of chunks with a fixed SequenceLength, NumBatches otherwise.
// With a fixed length it depends on the lengths of the sequences that are
// batched together, hence on the epoch when shuffling every epoch, and it
// reads every sequence's length (see LengthSource) the first time.
func (br *Batcher) NumChunks(epoch int) (int, error) {
	if br.cfg.seqLen <= 0 {
		return br.numBatches, nil
	}
	total := 0
	err := br.eachBatchLengths(epoch, func(lens []int) {
		total += br.cfg.seqLen.numChunks(maxOf(lens))
	})
	return total, err
}

// PaddingFraction returns the fraction of the timesteps of Epoch(epoch),
// counted over B×T of every batch, that are padding: the share of the
// recurrent computation spent on nothing, which ordering by length
// (WithSortByLength, WithBuckets) reduces. Chunking does not change it;
// with SequenceLength Shortest it is 0, since nothing is padded (data is
// cut instead). It reads every sequence's length (see LengthSource) the
// first time.
func (br *Batcher) PaddingFraction(epoch int) (float64, error) {
	var padded, total int
	err := br.eachBatchLengths(epoch, func(lens []int) {
		if br.cfg.seqLen == Shortest {
			total += len(lens) * minOf(lens)
			return
		}
		t := maxOf(lens)
		total += len(lens) * t
		for _, l := range lens {
			padded += t - l
		}
	})
	if err != nil {
		return 0, err
	}
	return float64(padded) / float64(total), nil
}

// eachBatchLengths calls f with the sequence lengths of each batch of the
// epoch, in order. f must not keep its argument.
func (br *Batcher) eachBatchLengths(epoch int, f func(lens []int)) error {
	lens, err := br.lengths()
	if err != nil {
		return err
	}
	order := br.order(epoch, make([]int, br.n))
	buf := make([]int, 0, br.size)
	for k := range br.numBatches {
		buf = buf[:0]
		for _, i := range br.batchIndices(order, k) {
			buf = append(buf, lens[i])
		}
		f(buf)
	}
	return nil
}

// lengths returns the number of timesteps of every observation, reading
// them once.
func (br *Batcher) lengths() ([]int, error) {
	br.lensOnce.Do(func() { br.lens, br.lensErr = seqLens(br.src, br.n) })
	return br.lens, br.lensErr
}

// seqLens returns the lengths of the first n observations of src.
func seqLens(src Source, n int) ([]int, error) {
	ls, _ := src.(LengthSource)
	lens := make([]int, n)
	for i := range lens {
		var l int
		if ls != nil {
			var err error
			if l, err = ls.SeqLen(i); err != nil {
				return nil, errors.Wrapf(err, "dataset: observation %d", i)
			}
		} else {
			o, err := src.Observation(i)
			if err != nil {
				return nil, errors.Wrapf(err, "dataset: observation %d", i)
			}
			l = o.Seq.T
		}
		if l <= 0 {
			return nil, errors.Errorf("dataset: observation %d: sequence has %d timesteps, want at least 1", i, l)
		}
		lens[i] = l
	}
	return lens, nil
}

// batchIndices returns the part of the epoch's order that makes batch k.
func (br *Batcher) batchIndices(order []int, k int) []int {
	lo := k * br.size
	return order[lo:min(lo+br.size, br.n)]
}

// Epoch returns the batches of the given epoch, in an order set by the
// shuffle mode and the length options (see WithShuffleMode); epoch matters
// only when shuffling every epoch. With a fixed SequenceLength each batch
// is yielded as its consecutive chunks.
//
// The yielded *Batch is reused: it is overwritten by the next iteration, so
// that an epoch allocates its buffers once rather than once per batch. Call
// Clone to keep a batch. Iteration stops after the first error, which names
// the offending observation.
//
// If the source is a Prefetcher, Epoch tells it which observations the next
// batch needs before the current one is yielded.
func (br *Batcher) Epoch(epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		order := br.order(epoch, make([]int, br.n))
		bd := builder{cfg: br.cfg, schema: br.schema}
		var whole, chunk Batch
		if br.prefetch != nil {
			br.prefetch.Prefetch(br.batchIndices(order, 0))
		}
		for k := range br.numBatches {
			if err := bd.build(&whole, br.src, br.n, br.batchIndices(order, k)); err != nil {
				yield(nil, err)
				return
			}
			if br.prefetch != nil && k+1 < br.numBatches {
				br.prefetch.Prefetch(br.batchIndices(order, k+1))
			}
			nc := br.cfg.seqLen.numChunks(whole.T)
			if nc == 1 {
				if !yield(&whole, nil) {
					return
				}
				continue
			}
			for c := range nc {
				whole.chunkInto(&chunk, c, int(br.cfg.seqLen))
				if !yield(&chunk, nil) {
					return
				}
			}
		}
	}
}

func maxOf(s []int) int {
	m := s[0]
	for _, v := range s[1:] {
		m = max(m, v)
	}
	return m
}

func minOf(s []int) int {
	m := s[0]
	for _, v := range s[1:] {
		m = min(m, v)
	}
	return m
}
