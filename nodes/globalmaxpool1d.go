package nodes

import "gorgonia.org/gorgonia"

// GlobalMaxPool1D returns, for each sequence of a padded batch, the max of
// each channel over its real steps: x is (T·B)×C, time-major (row t·B+b is
// step t of sequence b), mask holds T·B values of x's dtype, 1 for real
// steps and 0 for padding (one run per sequence, as for Conv1D), and the
// result is B×C,
//
//	y[b, c] = max_{j < L_b} x[(start_b+j)·B+b, c]
//
// PyTorch's AdaptiveMaxPool1d(1) over each sequence's own L_b steps,
// MATLAB's globalMaxPooling1dLayer. Padding never wins. The gradient
// y[b, c] receives goes to the step that holds its max, the first of them
// on ties; a NaN makes the output NaN (see MaxPool1D).
func GlobalMaxPool1D(x, mask *gorgonia.Node, batch int) (*gorgonia.Node, error) {
	return globalPool1D(x, mask, batch, true)
}
