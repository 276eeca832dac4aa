package nodes

import "gorgonia.org/gorgonia"

// AveragePool1D returns the 1-D average pooling over time of a padded batch
// of sequences: x is (T·B)×C, time-major (row t·B+b is step t of sequence
// b), and mask holds T·B values of x's dtype, 1 for real steps and 0 for
// padding, as for Conv1D. Each sequence is pooled alone: with L_b its real
// steps, x̃_b[j] its step j for 0 ≤ j < L_b and 0 for any other j (the
// padding added by spec, never the batch's padding rows), p_b its left
// padding worked out from L_b, k the pool size and s the stride,
//
//	y[(o_b+i)·B+b, c] = (1/k)·Σ_{u<k} x̃_b[i·s + u - p_b, c]
//
// for its L'_b outputs i, placed as Conv1D places them; the other rows of
// the (T'·B)×C result are 0. Padding counts as zeros and the sum is always
// divided by the pool size: MATLAB's default PaddingValue 0, PyTorch's
// count_include_pad=True.
//
// The gradient is ∂L/∂x̃_b[j, c] = (1/k)·Σ g[(o_b+i)·B+b, c] over the
// windows i that hold step j; padding rows of x get 0.
func AveragePool1D(x, mask *gorgonia.Node, batch int, spec Pool1DSpec) (*gorgonia.Node, error) {
	return pool1D(x, mask, batch, spec, false)
}

// avgPoolForward sets y to the mean of each window, the sum over its taps
// divided by the pool size, or with byLength set (a global pooling) by the
// number of real steps of the sequence.
func avgPoolForward[T float](p windowPlan, x, y []T, c int, byLength bool) {
	p.each(func(out, _, in int) {
		for ch, v := range x[in*c : in*c+c] {
			y[out*c+ch] += v
		}
	})
	for _, r := range p.out.rows() {
		n := T(p.divisor(r, byLength))
		for ch := range c {
			y[r*c+ch] /= n
		}
	}
}

func avgPoolBackward[T float](p windowPlan, g, dx []T, c int, byLength bool) {
	p.each(func(out, _, in int) {
		n := T(p.divisor(out, byLength))
		for ch, v := range g[out*c : out*c+c] {
			dx[in*c+ch] += v / n
		}
	})
}

// divisor returns what the sum of output row r's window is divided by: the
// pool size, or with byLength set the real steps of the row's sequence.
func (p windowPlan) divisor(r int, byLength bool) int {
	if byLength {
		return p.in.length[r%p.in.batch]
	}
	return p.w.size
}
