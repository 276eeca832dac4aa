package nodes

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CrossEntropy returns the classification loss -(1/B) Σ_b Σ_k t[b,k]·logp[b,k]
// for log-probabilities logp (from LogSoftmax) and targets t, both B×K:
// with one-hot targets, the mean over the batch of -log p(true class). Targets
// may carry weights (zero rows for padded observations, for instance); the
// mean is still over B.
func CrossEntropy(logp, targets *gorgonia.Node) (*gorgonia.Node, error) {
	if err := sameMatrix("cross-entropy", logp, targets); err != nil {
		return nil, err
	}
	prod, err := gorgonia.HadamardProd(logp, targets)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: cross-entropy")
	}
	sum, err := gorgonia.Sum(prod)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: cross-entropy")
	}
	return scale(sum, -1/float64(logp.Shape()[0]))
}

// HalfMeanSquaredError returns the regression loss of MATLAB's regression
// output layer, (1/(2B)) Σ_b Σ_r (y[b,r] - t[b,r])² for predictions y and
// targets t, both B×R: half the squared error summed over the responses
// (not divided by R) and averaged over the batch.
func HalfMeanSquaredError(y, t *gorgonia.Node) (*gorgonia.Node, error) {
	if err := sameMatrix("half mean squared error", y, t); err != nil {
		return nil, err
	}
	d, err := gorgonia.Sub(y, t)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: half mean squared error")
	}
	sq, err := gorgonia.Square(d)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: half mean squared error")
	}
	sum, err := gorgonia.Sum(sq)
	if err != nil {
		return nil, errors.Wrap(err, "nodes: half mean squared error")
	}
	return scale(sum, 1/(2*float64(y.Shape()[0])))
}

func sameMatrix(what string, a, b *gorgonia.Node) error {
	if a == nil || b == nil {
		return errors.Errorf("nodes: %s: nil operand", what)
	}
	if a.Dims() != 2 || !a.Shape().Eq(b.Shape()) {
		return errors.Errorf("nodes: %s: want two B×K matrices of one shape, got %v and %v", what, a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return errors.Errorf("nodes: %s: dtypes differ: %v and %v", what, a.Dtype(), b.Dtype())
	}
	return nil
}

// scale multiplies the scalar node s by the constant c in s's dtype.
func scale(s *gorgonia.Node, c float64) (*gorgonia.Node, error) {
	var k *gorgonia.Node
	if s.Dtype() == tensor.Float32 {
		k = gorgonia.NewConstant(float32(c))
	} else {
		k = gorgonia.NewConstant(c)
	}
	return gorgonia.HadamardProd(s, k)
}
