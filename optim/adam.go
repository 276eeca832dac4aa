package optim

import (
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// Adam is the Adam solver of Kingma and Ba, in PyTorch's form with bias
// correction. At the t-th update of a parameter w with gradient g,
//
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	m̂ = m / (1 − β1^t)
//	v̂ = v / (1 − β2^t)
//	w ← w − lr·m̂ / (√v̂ + ε)
//
// m and v start at zero. t counts the updates of that parameter, so a
// parameter first stepped later than the others gets its own bias
// correction.
//
// An Adam is not safe for concurrent use.
type Adam struct {
	base
	beta1, beta2, eps float64
}

var _ gorgonia.Solver = (*Adam)(nil)

// NewAdam returns an Adam solver. The defaults are learn rate 0.001,
// β1 0.9, β2 0.999 and ε 1e-8. It accepts WithLearnRate, WithBetas,
// WithEpsilon, WithL2Regularization and WithGradientThreshold.
func NewAdam(opts ...Option) (*Adam, error) {
	const name = "adam"
	c, err := newConfig(name, commonOptions|optBetas|optEpsilon,
		config{learnRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8}, opts)
	if err != nil {
		return nil, err
	}
	return &Adam{base: newBase(name, c, 2, 0), beta1: c.beta1, beta2: c.beta2, eps: c.epsilon}, nil
}

// Step updates each parameter of vgs from its gradient, after adding L2
// regularization and clipping if configured, and then zeroes the gradient.
// If a parameter is invalid, Step returns an error and updates nothing.
func (s *Adam) Step(vgs []gorgonia.ValueGrad) error {
	if err := s.prepare(vgs); err != nil {
		return err
	}
	for _, p := range s.params {
		p.st.t++
		t := float64(p.st.t)
		c1 := 1 - math.Pow(s.beta1, t)
		c2 := 1 - math.Pow(s.beta2, t)
		m, v := p.st.slots[0], p.st.slots[1]
		switch p.w.Dtype() {
		case tensor.Float64:
			adamUpdate(p.w.Float64s(), p.g.Float64s(), m.Float64s(), v.Float64s(),
				s.lr, s.beta1, 1-s.beta1, s.beta2, 1-s.beta2, s.eps, c1, c2)
		case tensor.Float32:
			// The same operations as adamUpdate's, in float32 and
			// vectorised.
			lr, c1, c2 := float32(s.lr), float32(c1), float32(c2)
			vecmath.Adam32(p.w.Float32s(), p.g.Float32s(), m.Float32s(), v.Float32s(), vecmath.AdamCoefficients{
				Step: lr / c1, Beta1: float32(s.beta1), OneMinusBeta1: float32(1 - s.beta1),
				Beta2: float32(s.beta2), OneMinusBeta2: float32(1 - s.beta2),
				Epsilon: float32(s.eps), InvSqrtC2: 1 / sqrt(c2),
			})
		}
	}
	s.release()
	return nil
}

// adamUpdate applies one Adam update (in float64; float32 runs on
// vecmath.Adam32, the same operations); c1 and c2 are the bias corrections
// 1 − β1^t and 1 − β2^t. The caller computes 1 − β1 and 1 − β2 in float64
// because in float32 the rounding error of β2 = 0.999 becomes a relative
// error of 1e-5 in 1 − β2.
func adamUpdate[T float](w, g, m, v []T, lr, b1, omb1, b2, omb2, eps, c1, c2 T) {
	// lr·(m/c1)/(√(v/c2) + ε) = (lr/c1)·m/(√v/√c2 + ε), as PyTorch
	// computes it, saves a division and a square root per element.
	step := lr / c1
	invSqrtC2 := 1 / sqrt(c2)
	g = g[:len(w)]
	m = m[:len(w)]
	v = v[:len(w)]
	for i := range w {
		gi := g[i]
		// The conversions round each product before it is added, so
		// that a compiler that fuses multiply-adds (GOAMD64=v3) gives
		// the same result as the vector kernel of the float32 path.
		m[i] = T(b1*m[i]) + T(omb1*gi)
		v[i] = T(b2*v[i]) + T(T(omb2*gi)*gi)
		w[i] -= T(step*m[i]) / (T(sqrt(v[i])*invSqrtC2) + eps)
		g[i] = 0
	}
}
