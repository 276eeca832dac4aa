package optim

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RMSProp is root mean square propagation, in PyTorch's form (without
// momentum or centering):
//
//	s ← ρ·s + (1 − ρ)·g²
//	w ← w − lr·g / (√s + ε)
//
// where ρ is the squared gradient decay. s starts at zero.
//
// An RMSProp is not safe for concurrent use.
type RMSProp struct {
	base
	rho, eps float64
}

var _ gorgonia.Solver = (*RMSProp)(nil)

// NewRMSProp returns an RMSProp solver. The defaults are MATLAB's: learn
// rate 0.001, squared gradient decay 0.9 and ε 1e-8. It accepts
// WithLearnRate, WithSquaredGradientDecay, WithEpsilon, WithL2Regularization
// and WithGradientThreshold.
func NewRMSProp(opts ...Option) (*RMSProp, error) {
	const name = "rmsprop"
	c, err := newConfig(name, commonOptions|optSquaredGradientDecay|optEpsilon,
		config{learnRate: 0.001, rho: 0.9, epsilon: 1e-8}, opts)
	if err != nil {
		return nil, err
	}
	return &RMSProp{base: newBase(name, c, 1, 0), rho: c.rho, eps: c.epsilon}, nil
}

// Step updates each parameter of vgs from its gradient, after adding L2
// regularization and clipping if configured, and then zeroes the gradient.
// If a parameter is invalid, Step returns an error and updates nothing.
func (s *RMSProp) Step(vgs []gorgonia.ValueGrad) error {
	if err := s.prepare(vgs); err != nil {
		return err
	}
	for _, p := range s.params {
		acc := p.st.slots[0]
		switch p.w.Dtype() {
		case tensor.Float64:
			rmspropUpdate(p.w.Float64s(), p.g.Float64s(), acc.Float64s(), s.lr, s.rho, 1-s.rho, s.eps)
		case tensor.Float32:
			rmspropUpdate(p.w.Float32s(), p.g.Float32s(), acc.Float32s(), float32(s.lr), float32(s.rho), float32(1-s.rho), float32(s.eps))
		}
	}
	s.release()
	return nil
}

// rmspropUpdate applies one RMSProp update. The caller computes 1 − ρ in
// float64, where it has no cancellation error.
func rmspropUpdate[T float](w, g, s []T, lr, rho, omrho, eps T) {
	g = g[:len(w)]
	s = s[:len(w)]
	for i := range w {
		gi := g[i]
		s[i] = rho*s[i] + omrho*gi*gi
		w[i] -= lr * gi / (sqrt(s[i]) + eps)
		g[i] = 0
	}
}
