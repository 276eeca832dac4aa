package dataset

import (
	"iter"
	"math/rand"

	"github.com/pkg/errors"
)

// config holds the options of a Batcher and of MakeBatch.
type config struct {
	direction PaddingDirection
	padValue  float64
	shuffle   bool
	seed      int64
	dropLast  bool
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

// WithShuffle makes each epoch visit the observations in a fresh random
// order determined by seed and the epoch number alone, so that any epoch can
// be reproduced without replaying the ones before it. Without it every epoch
// visits them in source order.
func WithShuffle(seed int64) BatchOption {
	return func(c *config) { c.shuffle, c.seed = true, seed }
}

// WithDropLast sets whether a final batch smaller than the batch size is
// dropped; by default it is kept. Dropping it keeps every batch the same
// size, at the cost of skipping a few observations each epoch (different
// ones each epoch when shuffling).
func WithDropLast(drop bool) BatchOption {
	return func(c *config) { c.dropLast = drop }
}

func newConfig(opts []BatchOption) (config, error) {
	var c config
	for i, opt := range opts {
		if opt == nil {
			return config{}, errors.Errorf("dataset: option %d is nil", i)
		}
		opt(&c)
	}
	if !c.direction.valid() {
		return config{}, errors.Errorf("dataset: invalid padding direction %v", c.direction)
	}
	if !isFinite(c.padValue) {
		return config{}, errors.Errorf("dataset: padding value is %v, want a finite value", c.padValue)
	}
	return c, nil
}

// Batcher cuts a Source into padded mini-batches, epoch after epoch. Each
// batch is padded to the longest sequence in it.
//
// A Batcher does not change after construction and may be used by several
// goroutines at once, each ranging over its own epoch.
type Batcher struct {
	src        Source
	schema     Schema
	n          int
	size       int
	numBatches int
	cfg        config
}

// NewBatcher returns a Batcher that cuts src into batches of batchSize
// observations. The source's length is read once, here.
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
	if err := schema.validate(); err != nil {
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
	return &Batcher{src: src, schema: schema, n: n, size: batchSize, numBatches: nb, cfg: cfg}, nil
}

// NumBatches returns the number of batches in each epoch.
func (br *Batcher) NumBatches() int { return br.numBatches }

// BatchSize returns the number of observations in every batch but possibly
// the last.
func (br *Batcher) BatchSize() int { return br.size }

// Epoch returns the batches of the given epoch. With WithShuffle, the order
// depends only on the seed and epoch; without it, epoch is ignored.
//
// The yielded *Batch is reused: it is overwritten by the next iteration, so
// that an epoch allocates its buffers once rather than once per batch. Call
// Clone to keep a batch. Iteration stops after the first error, which names
// the offending observation.
func (br *Batcher) Epoch(epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		order := br.order(epoch, make([]int, br.n))
		bd := builder{cfg: br.cfg, schema: br.schema}
		var bt Batch
		for k := range br.numBatches {
			lo := k * br.size
			hi := min(lo+br.size, br.n)
			if err := bd.build(&bt, br.src, br.n, order[lo:hi]); err != nil {
				yield(nil, err)
				return
			}
			if !yield(&bt, nil) {
				return
			}
		}
	}
}

// order writes the visiting order of epoch into dst, which has length n.
func (br *Batcher) order(epoch int, dst []int) []int {
	for i := range dst {
		dst[i] = i
	}
	if br.cfg.shuffle {
		// Start from the identity each time so that the order of an epoch
		// does not depend on which epochs were drawn before it.
		rng := rand.New(rand.NewSource(epochSeed(br.cfg.seed, epoch)))
		rng.Shuffle(len(dst), func(i, j int) { dst[i], dst[j] = dst[j], dst[i] })
	}
	return dst
}

// epochSeed mixes seed and epoch. A plain seed+epoch would make epoch e+1 of
// seed s replay epoch e of seed s+1, correlating runs that differ only in
// seed.
func epochSeed(seed int64, epoch int) int64 {
	z := splitmix64(uint64(seed))
	z = splitmix64(z ^ uint64(epoch))
	return int64(z)
}

// splitmix64 is the finaliser of Steele, Lea and Flood's SplitMix64, which
// spreads nearby inputs over the whole range.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
