package optim

import (
	"math"

	"github.com/pkg/errors"
)

// Option configures a solver. Options only record their arguments; each
// solver's constructor validates them once, so a bad value is reported
// where the solver is built rather than at the first Step.
type Option func(*config)

// optionSet records which options were given, so that a constructor can
// reject options that do not apply to its solver instead of silently
// ignoring them.
type optionSet uint

const (
	optLearnRate optionSet = 1 << iota
	optMomentum
	optBetas
	optEpsilon
	optSquaredGradientDecay
	optInitialAccumulator
	optL2Regularization
	optGradientThreshold

	optLast // one past the last option bit
)

// commonOptions apply to every solver.
const commonOptions = optLearnRate | optL2Regularization | optGradientThreshold

func (o optionSet) name() string {
	switch o {
	case optLearnRate:
		return "WithLearnRate"
	case optMomentum:
		return "WithMomentum"
	case optBetas:
		return "WithBetas"
	case optEpsilon:
		return "WithEpsilon"
	case optSquaredGradientDecay:
		return "WithSquaredGradientDecay"
	case optInitialAccumulator:
		return "WithInitialAccumulator"
	case optL2Regularization:
		return "WithL2Regularization"
	case optGradientThreshold:
		return "WithGradientThreshold"
	}
	return "unknown option"
}

type config struct {
	set optionSet

	learnRate    float64
	momentum     float64
	beta1, beta2 float64
	epsilon      float64
	rho          float64
	initialAcc   float64
	l2           float64
	clipMethod   ThresholdMethod
	clipValue    float64
}

// WithLearnRate sets the learn rate (step size). It must be finite and
// non-negative. It applies to every solver and can be changed later with
// SetLearnRate.
func WithLearnRate(lr float64) Option {
	return func(c *config) { c.set |= optLearnRate; c.learnRate = lr }
}

// WithMomentum sets the momentum of SGDM, the factor by which the velocity
// decays at each step. It must be in [0, 1).
func WithMomentum(momentum float64) Option {
	return func(c *config) { c.set |= optMomentum; c.momentum = momentum }
}

// WithBetas sets Adam's decay rates of the first (b1) and second (b2)
// moment estimates. Both must be in [0, 1).
func WithBetas(b1, b2 float64) Option {
	return func(c *config) { c.set |= optBetas; c.beta1, c.beta2 = b1, b2 }
}

// WithEpsilon sets the term added to the denominator of Adam, RMSProp and
// Adagrad. It must be positive and finite: with zero, an element whose
// gradient has always been zero would be updated by 0/0.
func WithEpsilon(eps float64) Option {
	return func(c *config) { c.set |= optEpsilon; c.epsilon = eps }
}

// WithSquaredGradientDecay sets RMSProp's decay rate rho of the moving
// average of squared gradients. It must be in [0, 1).
func WithSquaredGradientDecay(rho float64) Option {
	return func(c *config) { c.set |= optSquaredGradientDecay; c.rho = rho }
}

// WithInitialAccumulator sets the value with which Adagrad's accumulator of
// squared gradients starts (PyTorch uses 0, TensorFlow 0.1). It must be
// finite and non-negative.
func WithInitialAccumulator(v float64) Option {
	return func(c *config) { c.set |= optInitialAccumulator; c.initialAcc = v }
}

// WithL2Regularization sets the L2 regularization factor lambda: the
// gradient used for a parameter w is g + lambda*factor*w, where factor is
// 1 unless the parameter implements L2Factorer. lambda must be finite and
// non-negative. It applies to every solver.
func WithL2Regularization(lambda float64) Option {
	return func(c *config) { c.set |= optL2Regularization; c.l2 = lambda }
}

// WithGradientThreshold makes Step clip the gradients with ClipGradients
// before the update (after L2 regularization has been added, as MATLAB
// does). threshold must be positive; +Inf disables clipping. It applies to
// every solver.
func WithGradientThreshold(method ThresholdMethod, threshold float64) Option {
	return func(c *config) {
		c.set |= optGradientThreshold
		c.clipMethod, c.clipValue = method, threshold
	}
}

// newConfig applies opts over defaults and validates the result for the
// solver called name, which accepts the options in allowed.
func newConfig(name string, allowed optionSet, defaults config, opts []Option) (config, error) {
	c := defaults
	for i, o := range opts {
		if o == nil {
			return c, errors.Errorf("optim: %s: option %d is nil", name, i)
		}
		o(&c)
	}
	if extra := c.set &^ allowed; extra != 0 {
		for o := optionSet(1); o < optLast; o <<= 1 {
			if extra&o != 0 {
				return c, errors.Errorf("optim: %s: option %s does not apply to the %s solver", name, o.name(), name)
			}
		}
	}
	if err := checkLearnRate(name, c.learnRate); err != nil {
		return c, err
	}
	if c.set&optMomentum != 0 && !inUnitInterval(c.momentum) {
		return c, errors.Errorf("optim: %s: momentum %v is not in [0, 1)", name, c.momentum)
	}
	if c.set&optBetas != 0 {
		if !inUnitInterval(c.beta1) {
			return c, errors.Errorf("optim: %s: beta1 %v is not in [0, 1)", name, c.beta1)
		}
		if !inUnitInterval(c.beta2) {
			return c, errors.Errorf("optim: %s: beta2 %v is not in [0, 1)", name, c.beta2)
		}
	}
	if c.set&optEpsilon != 0 && !(c.epsilon > 0 && !math.IsInf(c.epsilon, 1)) {
		return c, errors.Errorf("optim: %s: epsilon %v is not a positive finite number", name, c.epsilon)
	}
	if c.set&optSquaredGradientDecay != 0 && !inUnitInterval(c.rho) {
		return c, errors.Errorf("optim: %s: squared gradient decay %v is not in [0, 1)", name, c.rho)
	}
	if c.set&optInitialAccumulator != 0 && !finiteNonNegative(c.initialAcc) {
		return c, errors.Errorf("optim: %s: initial accumulator %v is not a finite non-negative number", name, c.initialAcc)
	}
	if c.set&optL2Regularization != 0 && !finiteNonNegative(c.l2) {
		return c, errors.Errorf("optim: %s: L2 regularization %v is not a finite non-negative number", name, c.l2)
	}
	if c.set&optGradientThreshold != 0 {
		if err := checkThreshold(name, c.clipMethod, c.clipValue); err != nil {
			return c, err
		}
	}
	return c, nil
}

func checkLearnRate(name string, lr float64) error {
	if !finiteNonNegative(lr) {
		return errors.Errorf("optim: %s: learn rate %v is not a finite non-negative number", name, lr)
	}
	return nil
}

// inUnitInterval reports whether x is in [0, 1); false for NaN.
func inUnitInterval(x float64) bool { return x >= 0 && x < 1 }

// finiteNonNegative reports whether x is in [0, +Inf); false for NaN.
func finiteNonNegative(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }
