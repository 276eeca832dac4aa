package nodes

import (
	"math"

	"gorgonia.org/gorgonia"
)

// MaxPool1D returns the 1-D max pooling over time of a padded batch of
// sequences: x is (T·B)×C, time-major (row t·B+b is step t of sequence b),
// and mask holds T·B values of x's dtype, 1 for real steps and 0 for
// padding, as for Conv1D. Each sequence is pooled alone: with L_b its real
// steps, x̃_b[j] its step j (0 ≤ j < L_b), p_b its left padding worked out
// from L_b, k the pool size and s the stride,
//
//	y[(o_b+i)·B+b, c] = max { x̃_b[i·s + u - p_b, c] : u < k, 0 ≤ i·s+u-p_b < L_b }
//
// for its L'_b outputs i, placed as Conv1D places them (o_b = 0 when the
// batch is padded on the right, T'-L'_b on the left); the other rows of
// the (T'·B)×C result are 0. Padding never wins a max: the padded steps are
// left out, as PyTorch's padding with -∞ does; every window holds a real
// step (Pool1DSpec keeps explicit padding below the pool size).
//
// The gradient of each output goes to the step that holds its max, the
// first of them in the window on ties (as PyTorch's CPU kernel does); a
// step that wins several windows gets the sum. A NaN in a window makes its
// output NaN, as in PyTorch; where its gradient goes is then not specified.
func MaxPool1D(x, mask *gorgonia.Node, batch int, spec Pool1DSpec) (*gorgonia.Node, error) {
	return pool1D(x, mask, batch, spec, true)
}

// maxPoolArgs sets best to the max of each window and returns, for each
// value of the output, the index in x of the value that won it, -1 for the
// output's padding rows. Windows are visited tap by tap: the first real tap
// of a window sets its row, and a later one takes the index only when it
// is larger. The comparisons are written so that the compiler makes them
// conditional moves: with branches, which random data mispredicts often,
// this function took 2.9 times as long (100 steps of 32 sequences of 64
// channels, pool 3, float32; medians of 6 runs on a shared machine).
func maxPoolArgs[T float](p windowPlan, x, best []T, c int) []int {
	arg := make([]int, p.out.steps*p.out.batch*c)
	for i := range arg {
		arg[i] = -1
	}
	p.each(func(out, _, in int) {
		xs, bs, as := x[in*c:in*c+c], best[out*c:out*c+c], arg[out*c:out*c+c]
		if as[0] < 0 {
			copy(bs, xs)
			for ch := range as {
				as[ch] = in*c + ch
			}
			return
		}
		bs, as = bs[:len(xs)], as[:len(xs)]
		for ch, v := range xs {
			b, a := bs[ch], as[ch]
			if v > b {
				a = in*c + ch
			}
			as[ch], bs[ch] = a, max(b, v)
		}
	})
	return arg
}

// maxPoolForward sets each real row of y to the max of its window, from
// -∞ and with Go's max, which keeps a NaN: it needs no arg max.
func maxPoolForward[T float](p windowPlan, x, y []T, c int) {
	inf := T(math.Inf(-1))
	for _, r := range p.out.rows() {
		for ch := range c {
			y[r*c+ch] = inf
		}
	}
	p.each(func(out, _, in int) {
		ys := y[out*c : out*c+c]
		for ch, v := range x[in*c : in*c+c] {
			ys[ch] = max(ys[ch], v)
		}
	})
}

func maxPoolBackward[T float](p windowPlan, x, g, dx []T, c int) {
	for i, a := range maxPoolArgs(p, x, make([]T, len(g)), c) {
		if a >= 0 {
			dx[a] += g[i]
		}
	}
}
