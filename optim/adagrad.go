package optim

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adagrad is the adaptive gradient solver, in PyTorch's form (without
// learn rate decay):
//
//	s ← s + g²
//	w ← w − lr·g / (√s + ε)
//
// s starts at the initial accumulator value, 0 by default as in PyTorch
// (TensorFlow uses 0.1).
//
// An Adagrad is not safe for concurrent use.
type Adagrad struct {
	base
	eps float64
}

var _ gorgonia.Solver = (*Adagrad)(nil)

// NewAdagrad returns an Adagrad solver. The defaults are PyTorch's: learn
// rate 0.01, ε 1e-10 and initial accumulator 0. It accepts WithLearnRate,
// WithEpsilon, WithInitialAccumulator, WithL2Regularization and
// WithGradientThreshold.
func NewAdagrad(opts ...Option) (*Adagrad, error) {
	const name = "adagrad"
	c, err := newConfig(name, commonOptions|optEpsilon|optInitialAccumulator,
		config{learnRate: 0.01, epsilon: 1e-10}, opts)
	if err != nil {
		return nil, err
	}
	return &Adagrad{base: newBase(name, c, 1, c.initialAcc), eps: c.epsilon}, nil
}

// Step updates each parameter of vgs from its gradient, after adding L2
// regularization and clipping if configured, and then zeroes the gradient.
// If a parameter is invalid, Step returns an error and updates nothing.
func (s *Adagrad) Step(vgs []gorgonia.ValueGrad) error {
	if err := s.prepare(vgs); err != nil {
		return err
	}
	for _, p := range s.params {
		acc := p.st.slots[0]
		switch p.w.Dtype() {
		case tensor.Float64:
			adagradUpdate(p.w.Float64s(), p.g.Float64s(), acc.Float64s(), s.lr, s.eps)
		case tensor.Float32:
			adagradUpdate(p.w.Float32s(), p.g.Float32s(), acc.Float32s(), float32(s.lr), float32(s.eps))
		}
	}
	s.release()
	return nil
}

func adagradUpdate[T float](w, g, s []T, lr, eps T) {
	g = g[:len(w)]
	s = s[:len(w)]
	for i := range w {
		gi := g[i]
		s[i] += gi * gi
		w[i] -= lr * gi / (sqrt(s[i]) + eps)
		g[i] = 0
	}
}
