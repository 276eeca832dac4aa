package dataset

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pkg/errors"
)

// StratifiedHoldOut splits the observations 0..len(labels)-1 into a
// training and a test part in which, as with MATLAB's
// cvpartition(labels, "HoldOut", p), each class keeps its share. Here, of
// the n observations of class k,
// round(testFraction·n) go to the test part, half rounded away from zero,
// but at most n-1, so that every class present keeps at least one training
// observation. Which of them go is drawn with a PCG generator seeded by
// seed, so that a seed always gives the same split. Both parts are in
// ascending order. With every label the same this is a plain random
// hold-out, which suits regression sets too.
//
// Labels may be any integers, such as the codes of EncodeLabels. Split
// before building anything fitted to the training data, such as a
// vocabulary or normalization statistics, then pass the parts to
// InMemory.Subset or use them to pick the raw data.
func StratifiedHoldOut(labels []int, testFraction float64, seed uint64) (train, test []int, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, errors.Errorf("dataset: test fraction %v, want a number between 0 and 1", testFraction)
	}
	if len(labels) == 0 {
		return nil, nil, errors.New("dataset: no labels to split")
	}
	byClass := make(map[int][]int)
	var classes []int
	for i, l := range labels {
		if byClass[l] == nil {
			classes = append(classes, l)
		}
		byClass[l] = append(byClass[l], i)
	}
	// Classes are drawn in sorted order so that the split does not depend
	// on which class comes first.
	slices.Sort(classes)
	rng := rand.New(rand.NewPCG(seed, 0x5b1d))
	for _, c := range classes {
		idx := byClass[c]
		k := min(int(math.Round(testFraction*float64(len(idx)))), len(idx)-1)
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		test = append(test, idx[:k]...)
		train = append(train, idx[k:]...)
	}
	if len(test) == 0 {
		return nil, nil, errors.Errorf("dataset: a test fraction of %v leaves no test observations in any class of %d observations", testFraction, len(labels))
	}
	slices.Sort(train)
	slices.Sort(test)
	return train, test, nil
}

// HoldOut splits m into a training and a test set as StratifiedHoldOut
// does, stratified by class for a sequence-to-label classification set and
// plainly at random for any other. The sets share m's sequence data.
func (m *InMemory) HoldOut(testFraction float64, seed uint64) (train, test *InMemory, err error) {
	labels := m.labels
	if labels == nil {
		labels = make([]int, len(m.seqs))
	}
	tr, te, err := StratifiedHoldOut(labels, testFraction, seed)
	if err != nil {
		return nil, nil, err
	}
	if train, err = m.Subset(tr); err != nil {
		return nil, nil, err
	}
	if test, err = m.Subset(te); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}
