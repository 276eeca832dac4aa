package nodes

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// seqLayout is where the real steps of each sequence of a padded batch are.
// The batch is time-major: T steps of B sequences, row t·B+b of a (T·B)×C
// matrix holding step t of sequence b, as FoldSequence lays out frames.
// Sequence b's real steps are the rows (start[b]+j)·B+b for
// j < length[b].
type seqLayout struct {
	steps, batch  int
	start, length []int
	// left is set when the batch is padded on the left: every sequence's
	// real steps end at step T-1. Otherwise they all start at step 0.
	left bool
}

// layoutOf reads a batch's layout from its mask of T·B values, time-major,
// 1 for a real step and 0 for padding. Each sequence's real steps must be
// one run of at least one step, and the batch padded on one side: every run
// starts at step 0 (padding on the right) or every run ends at step T-1
// (padding on the left). A batch of full-length sequences counts as padded
// on the right, which changes nothing.
func layoutOf[T float](mask []T, steps, batch int) (seqLayout, error) {
	if steps <= 0 || batch <= 0 || len(mask) != steps*batch {
		return seqLayout{}, errors.Errorf("mask of %d values for %d steps of %d sequences", len(mask), steps, batch)
	}
	l := seqLayout{steps: steps, batch: batch, start: make([]int, batch), length: make([]int, batch)}
	right, left := -1, -1 // a sequence padded on that side, if any
	for b := range batch {
		start, n, err := runOf(mask, steps, batch, b)
		if err != nil {
			return seqLayout{}, err
		}
		l.start[b], l.length[b] = start, n
		switch {
		case n == steps:
		case start == 0:
			right = b
		case start+n == steps:
			left = b
		default:
			return seqLayout{}, errors.Errorf("mask: the real steps %d to %d of sequence %d touch neither end of the %d steps",
				start, start+n-1, b, steps)
		}
	}
	if right >= 0 && left >= 0 {
		return seqLayout{}, errors.Errorf("mask: sequence %d is padded on the right and sequence %d on the left", right, left)
	}
	l.left = left >= 0
	return l, nil
}

// runOf returns the first real step of sequence b and the number of its
// real steps, checking that they are one run.
func runOf[T float](mask []T, steps, batch, b int) (start, n int, err error) {
	start = -1
	for t := range steps {
		switch v := mask[t*batch+b]; {
		case v == 1:
			if start < 0 {
				start = t
			} else if t != start+n {
				return 0, 0, errors.Errorf("mask: the real steps of sequence %d are not one run: steps %d to %d, then step %d",
					b, start, start+n-1, t)
			}
			n++
		case v != 0:
			return 0, 0, errors.Errorf("mask: step %d of sequence %d is %v, want 0 or 1", t, b, v)
		}
	}
	if n == 0 {
		return 0, 0, errors.Errorf("mask: sequence %d has no real steps", b)
	}
	return start, n, nil
}

// row returns the row of step j of sequence b's real steps.
func (l seqLayout) row(b, j int) int { return (l.start[b]+j)*l.batch + b }

// mask returns the layout's mask: T·B values, time-major, 1 at the real
// steps.
func (l seqLayout) mask() []float64 {
	m := make([]float64, l.steps*l.batch)
	for _, r := range l.rows() {
		m[r] = 1
	}
	return m
}

// rows returns the rows of the real steps, sequence by sequence.
func (l seqLayout) rows() []int {
	r := make([]int, 0, l.steps*l.batch)
	for b, n := range l.length {
		for j := range n {
			r = append(r, l.row(b, j))
		}
	}
	return r
}

// checkSeqArgs checks what the sequence ops share: x a (T·B)×C matrix of
// batch sequences and mask a vector of T·B values of x's dtype. It returns
// T.
func checkSeqArgs(x, mask *gorgonia.Node, batch int) (int, error) {
	if x == nil || mask == nil {
		return 0, errors.New("nil input or mask")
	}
	if batch <= 0 {
		return 0, errors.Errorf("batch size %d is not positive", batch)
	}
	if x.Dims() != 2 || x.Shape()[0]%batch != 0 {
		return 0, errors.Errorf("input %v is not a (T·B)×C matrix for B = %d", x.Shape(), batch)
	}
	if mask.Dims() != 1 || mask.Shape()[0] != x.Shape()[0] {
		return 0, errors.Errorf("mask %v is not a vector of %d values, one per row of the input", mask.Shape(), x.Shape()[0])
	}
	if mask.Dtype() != x.Dtype() {
		return 0, errors.Errorf("mask has dtype %v, input %v", mask.Dtype(), x.Dtype())
	}
	return x.Shape()[0] / batch, nil
}
