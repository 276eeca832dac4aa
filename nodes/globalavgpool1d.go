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
