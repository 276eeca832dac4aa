package nodes

import "gorgonia.org/gorgonia"

// GlobalAveragePool1D returns, for each sequence of a padded batch, the
// mean of each channel over its real steps: x is (T·B)×C, time-major (row
// t·B+b is step t of sequence b), mask holds T·B values of x's dtype, 1 for
// real steps and 0 for padding (one run per sequence, as for Conv1D), and
// the result is B×C,
//
//	y[b, c] = (1/L_b)·Σ_{j < L_b} x[(start_b+j)·B+b, c]
//
// PyTorch's AdaptiveAvgPool1d(1) over each sequence's own L_b steps,
// MATLAB's globalAveragePooling1dLayer. Padding never enters the mean.
// The gradient is ∂L/∂x[(start_b+j)·B+b, c] = g[b, c]/L_b, 0 on padding.
func GlobalAveragePool1D(x, mask *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	return globalPool1D(x, mask, batch, false)
}

func globalAvgForward[T float](l seqLayout, x, y []T, c int) {
	for b, n := range l.length {
		yb := y[b*c : b*c+c]
		for j := range n {
			r := l.row(b, j)
			for ch, v := range x[r*c : r*c+c] {
				yb[ch] += v
			}
		}
		for ch := range yb {
			yb[ch] /= T(n)
		}
	}
}

func globalAvgBackward[T float](l seqLayout, g, dx []T, c int) {
	for b, n := range l.length {
		for j := range n {
			r := l.row(b, j)
			for ch, v := range g[b*c : b*c+c] {
				dx[r*c+ch] = v / T(n)
			}
		}
	}
}
