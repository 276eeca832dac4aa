package optim

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SGDM is stochastic gradient descent with momentum, in PyTorch's form with
// zero dampening:
//
//	v ← momentum·v + g
//	w ← w − lr·v
//
// MATLAB's sgdm keeps v ← momentum·v − lr·g and w ← w + v instead, which is
// the same for a constant learn rate but, after the learn rate changes,
// keeps moving with the velocity built up under the old rate; PyTorch's form
// applies a new learn rate immediately. The velocity starts at zero.
//
// An SGDM is not safe for concurrent use.
type SGDM struct {
	base
	momentum float64
}

var _ gorgonia.Solver = (*SGDM)(nil)

// NewSGDM returns an SGDM solver. The defaults are MATLAB's: learn rate 0.01
// and momentum 0.9. It accepts WithLearnRate, WithMomentum,
// WithL2Regularization and WithGradientThreshold.
func NewSGDM(opts ...Option) (*SGDM, error) {
	const name = "sgdm"
	c, err := newConfig(name, commonOptions|optMomentum, config{learnRate: 0.01, momentum: 0.9}, opts)
	if err != nil {
		return nil, err
	}
	return &SGDM{base: newBase(name, c, 1, 0), momentum: c.momentum}, nil
}

// Step updates each parameter of vgs from its gradient, after adding L2
// regularization and clipping if configured, and then zeroes the gradient.
// If a parameter is invalid, Step returns an error and updates nothing.
func (s *SGDM) Step(vgs []gorgonia.ValueGrad) error {
	if err := s.prepare(vgs); err != nil {
		return err
	}
	for _, p := range s.params {
		v := p.st.slots[0]
		switch p.w.Dtype() {
		case tensor.Float64:
			sgdmUpdate(p.w.Float64s(), p.g.Float64s(), v.Float64s(), s.lr, s.momentum)
		case tensor.Float32:
			sgdmUpdate(p.w.Float32s(), p.g.Float32s(), v.Float32s(), float32(s.lr), float32(s.momentum))
		}
	}
	s.release()
	return nil
}

func sgdmUpdate[T float](w, g, v []T, lr, momentum T) {
	g = g[:len(w)]
	v = v[:len(w)]
	for i := range w {
		v[i] = momentum*v[i] + g[i]
		w[i] -= lr * v[i]
		g[i] = 0
	}
}
