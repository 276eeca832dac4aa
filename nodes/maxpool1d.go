package nodes

import "gorgonia.org/gorgonia"

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
// The gradient of each output goes to the step that won its max, the first
// of them in the window on ties (as PyTorch's CPU kernel does); a step
// that wins several windows gets the sum. A NaN wins against any number,
// so that it shows in the output.
func MaxPool1D(x, mask *gorgonia.Node, batch int, spec Pool1DSpec) (*gorgonia.Node, error) {
	return pool1D(x, mask, batch, spec, true)
}

// maxPoolArgs returns, for each value of the output, the index in x of the
// value that wins its max, -1 for the output's padding rows.
func maxPoolArgs[T float](p windowPlan, x []T, c int) []int {
	arg := make([]int, p.out.steps*p.out.batch*c)
	for i := range arg {
		arg[i] = -1
	}
	p.each(func(out, _, in int) {
		for ch, a := range arg[out*c : out*c+c] {
			if v := x[in*c+ch]; a < 0 || wins(v, x[a]) {
				arg[out*c+ch] = in*c + ch
			}
		}
	})
	return arg
}

// wins reports whether v takes the max from best: it is larger, or a NaN
// where best is not.
func wins[T float](v, best T) bool { return v > best || (v != v && best == best) }

func maxPoolForward[T float](p windowPlan, x, y []T, c int) {
	for i, a := range maxPoolArgs(p, x, c) {
		if a >= 0 {
			y[i] = x[a]
		}
	}
}

func maxPoolBackward[T float](p windowPlan, x, g, dx []T, c int) {
	for i, a := range maxPoolArgs(p, x, c) {
		if a >= 0 {
			dx[a] += g[i]
		}
	}
}
