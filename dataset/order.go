package dataset

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// ShuffleMode says when a Batcher shuffles the observations, as MATLAB's
// Shuffle training option.
type ShuffleMode int

const (
	// ShuffleNever visits the observations in source order (or sorted, with
	// WithSortByLength) every epoch. It is the default here; MATLAB's
	// default is ShuffleOnce.
	ShuffleNever ShuffleMode = iota
	// ShuffleOnce shuffles once, before the first epoch, and visits the
	// observations in that same order every epoch.
	ShuffleOnce
	// ShuffleEveryEpoch shuffles afresh before every epoch.
	ShuffleEveryEpoch
)

// ParseShuffleMode parses MATLAB's "never", "once" and "every-epoch",
// ignoring case.
func ParseShuffleMode(s string) (ShuffleMode, error) {
	for _, m := range []ShuffleMode{ShuffleNever, ShuffleOnce, ShuffleEveryEpoch} {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, errors.Errorf(`dataset: unknown shuffle mode %q, want "never", "once" or "every-epoch"`, s)
}

// String returns the MATLAB name of m, so that it round-trips through
// ParseShuffleMode.
func (m ShuffleMode) String() string {
	switch m {
	case ShuffleNever:
		return "never"
	case ShuffleOnce:
		return "once"
	case ShuffleEveryEpoch:
		return "every-epoch"
	}
	return fmt.Sprintf("ShuffleMode(%d)", int(m))
}

func (m ShuffleMode) valid() bool { return m >= ShuffleNever && m <= ShuffleEveryEpoch }

// WithShuffleMode sets when the observations are shuffled. The order of an
// epoch is a function of seed and, with ShuffleEveryEpoch, the epoch number
// alone, so that any epoch can be reproduced without replaying the ones
// before it. ShuffleOnce uses the order that ShuffleEveryEpoch uses for
// epoch 0.
func WithShuffleMode(mode ShuffleMode, seed int64) BatchOption {
	return func(c *config) { c.shuffle, c.seed = mode, seed }
}

// WithSortByLength sorts the observations by sequence length, shortest
// first, once, before batching, so that each batch holds sequences of
// similar length and needs little padding. Equal lengths keep source order.
// With the default ShuffleNever this is the recipe of MATLAB's "Sequence
// Classification Using Deep Learning" example; it cannot be combined with
// shuffling, which would undo the sort, nor with WithBuckets.
//
// The batches then always hold the same observations in the same order,
// and with WithDropLast the longest observations are never visited.
// WithBuckets reduces padding almost as much while still shuffling.
func WithSortByLength() BatchOption {
	return func(c *config) { c.sortByLength = true }
}

// WithBuckets batches observations of similar length together while
// keeping the randomness of shuffling. Each epoch, after the observations
// are put in the shuffle mode's order, the observations that fill whole
// batches are cut into windows of n batches; each window is sorted by
// length, stably, and cut into its batches; then, when shuffling, the order
// of all those batches is shuffled. A final short batch is made of the last
// observations of the shuffled order, before sorting, so that WithDropLast
// drops a random few rather than the longest ones.
//
// Every observation is still visited exactly once per epoch, and the order
// is still a function of the seed and epoch. Larger n means less padding
// and less randomness in which observations share a batch; n at least the
// number of batches sorts the whole epoch. n must be at least 1.
func WithBuckets(n int) BatchOption {
	return func(c *config) { c.buckets, c.bucketsSet = n, true }
}

// order writes the visiting order of epoch into dst, which has length n.
func (br *Batcher) order(epoch int, dst []int) []int {
	if br.sorted != nil {
		copy(dst, br.sorted)
		return dst
	}
	identity(dst)
	var rng *rand.Rand
	if br.cfg.shuffle != ShuffleNever {
		e := epoch
		if br.cfg.shuffle == ShuffleOnce {
			e = 0
		}
		// Start from the identity each time so that the order of an epoch
		// does not depend on which epochs were drawn before it.
		rng = rand.New(rand.NewSource(epochSeed(br.cfg.seed, e)))
		rng.Shuffle(len(dst), func(i, j int) { dst[i], dst[j] = dst[j], dst[i] })
	}
	if br.cfg.bucketsSet {
		// The lengths were read without error by NewBatcher.
		lens, _ := br.lengths()
		bucket(dst, lens, br.size, br.cfg.buckets, rng)
	}
	return dst
}

// bucket reorders order, which holds whole batches of size observations
// followed by a remainder, so that each batch holds observations of
// similar lengths: windows of n batches are sorted by length, and the order
// of the whole batches is shuffled with rng unless rng is nil.
func bucket(order, lens []int, size, n int, rng *rand.Rand) {
	full := len(order) - len(order)%size
	w := n * size
	for lo := 0; lo < full; lo += w {
		sortByLength(order[lo:min(lo+w, full)], lens)
	}
	if rng == nil {
		return
	}
	nb := full / size
	perm := rng.Perm(nb)
	src := slices.Clone(order[:full])
	for k, p := range perm {
		copy(order[k*size:(k+1)*size], src[p*size:(p+1)*size])
	}
}

// sortByLength sorts the indices in s by the lengths of their sequences,
// keeping the order of equal lengths.
func sortByLength(s, lens []int) {
	slices.SortStableFunc(s, func(a, b int) int { return lens[a] - lens[b] })
}

// identity sets dst[i] = i and returns dst.
func identity(dst []int) []int {
	for i := range dst {
		dst[i] = i
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
