package optim

import (
	"math"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// L2Factorer is implemented by a gorgonia.ValueGrad that scales the L2
// regularization applied to it, like the L2Factor of MATLAB's layers: the
// gradient used for the parameter w is g + lambda*L2Factor()*w. seqgraph
// returns 0 for biases, which are conventionally not decayed. A ValueGrad
// that does not implement L2Factorer has factor 1. The factor must be finite
// and non-negative.
type L2Factorer interface {
	L2Factor() float64
}

// namer is the optional interface used to name parameters in errors;
// *gorgonia.Node implements it.
type namer interface {
	Name() string
}

// paramName describes the i-th ValueGrad for error messages.
func paramName(vg gorgonia.ValueGrad, i int) string {
	if n, ok := vg.(namer); ok {
		return strconv.Quote(n.Name())
	}
	return strconv.Itoa(i)
}

// state is the per-parameter memory of a solver. slots hold the solver's
// per-element accumulators (velocity, moments, squared gradients), shaped
// and typed like the parameter.
type state struct {
	slots [2]*tensor.Dense
	t     int // number of updates applied, for Adam's bias correction

	// stamp and index record the Step call and position at which the
	// parameter was last seen, to detect the same value given twice in one
	// Step.
	stamp uint64
	index int
}

// param is a validated parameter ready to be updated.
type param struct {
	w, g   *tensor.Dense
	factor float64
	st     *state
}

// base holds what all solvers share: the learn rate, L2 regularization,
// gradient clipping and the per-parameter state.
type base struct {
	name string // lower-case solver name used in errors

	lr        float64
	l2        float64
	method    ThresholdMethod // zero means no clipping
	threshold float64

	nslots  int     // number of state slots this solver uses
	initial float64 // value with which new slots are filled

	// states is keyed by the parameter's value rather than by its position
	// in the Step argument, because seqgraph builds one graph per batch
	// shape and the weight nodes of those graphs share the same
	// *tensor.Dense: they must be one parameter to the solver.
	states map[*tensor.Dense]*state
	params []param // reused between Steps to avoid allocation
	calls  uint64
}

func newBase(name string, c config, nslots int, initial float64) base {
	b := base{
		name:    name,
		lr:      c.learnRate,
		l2:      c.l2,
		nslots:  nslots,
		initial: initial,
		states:  make(map[*tensor.Dense]*state),
	}
	// An infinite threshold, MATLAB's default, clips nothing.
	if c.set&optGradientThreshold != 0 && !math.IsInf(c.clipValue, 1) {
		b.method, b.threshold = c.clipMethod, c.clipValue
	}
	return b
}

// SetLearnRate sets the learn rate used by subsequent Steps, for learn rate
// schedules. A negative, NaN or infinite value is not rejected here but makes
// the next Step return an error.
func (b *base) SetLearnRate(lr float64) { b.lr = lr }

// LearnRate returns the current learn rate.
func (b *base) LearnRate() float64 { return b.lr }

// prepare validates every parameter of vgs, then adds the L2 regularization
// and clips the gradients, leaving the parameters to update in b.params.
// Nothing is modified unless every parameter is valid, so that a failed
// Step leaves the model as it was.
func (b *base) prepare(vgs []gorgonia.ValueGrad) error {
	b.calls++
	if err := checkLearnRate(b.name, b.lr); err != nil {
		return err
	}
	b.params = b.params[:0]
	for i, vg := range vgs {
		w, g, err := checkPair(b.name, vg, i)
		if err != nil {
			b.release()
			return err
		}
		factor := 1.0
		if f, ok := vg.(L2Factorer); ok {
			factor = f.L2Factor()
			if !finiteNonNegative(factor) {
				b.release()
				return errors.Errorf("optim: %s: parameter %s: L2 factor %v is not a finite non-negative number", b.name, paramName(vg, i), factor)
			}
		}
		st, err := b.state(w, vg, i)
		if err != nil {
			b.release()
			return err
		}
		b.params = append(b.params, param{w: w, g: g, factor: factor, st: st})
	}

	// MATLAB adds the regularization term before clipping, so a clipped
	// gradient never exceeds the threshold whatever lambda is.
	if b.l2 != 0 {
		for _, p := range b.params {
			if p.factor == 0 {
				continue
			}
			c := b.l2 * p.factor
			switch p.w.Dtype() {
			case tensor.Float64:
				addScaled(p.g.Float64s(), p.w.Float64s(), c)
			case tensor.Float32:
				addScaled(p.g.Float32s(), p.w.Float32s(), float32(c))
			}
		}
	}
	if b.method != 0 {
		clip(len(b.params), func(i int) *tensor.Dense { return b.params[i].g }, b.method, b.threshold)
	}
	return nil
}

// release drops the references to the parameters so that the solver does
// not keep a model's gradients alive between Steps.
func (b *base) release() {
	clear(b.params)
	b.params = b.params[:0]
}

// state returns the state of the parameter whose value is w, creating it on
// first sight.
func (b *base) state(w *tensor.Dense, vg gorgonia.ValueGrad, i int) (*state, error) {
	st, ok := b.states[w]
	if !ok {
		st = &state{}
		for k := 0; k < b.nslots; k++ {
			st.slots[k] = newSlot(w, b.initial)
		}
		b.states[w] = st
	} else {
		s := st.slots[0]
		if s.Dtype() != w.Dtype() || !s.Shape().Eq(w.Shape()) || s.DataSize() != w.DataSize() {
			return nil, errors.Errorf("optim: %s: parameter %s: value changed from %v %v to %v %v since the solver first saw it",
				b.name, paramName(vg, i), s.Dtype(), s.Shape(), w.Dtype(), w.Shape())
		}
		if st.stamp == b.calls {
			return nil, errors.Errorf("optim: %s: parameter %s shares its value with parameter %d in the same Step",
				b.name, paramName(vg, i), st.index)
		}
	}
	st.stamp, st.index = b.calls, i
	return st, nil
}

// newSlot returns a tensor with the shape and dtype of w, filled with v.
func newSlot(w *tensor.Dense, v float64) *tensor.Dense {
	var backing interface{}
	switch w.Dtype() {
	case tensor.Float64:
		s := make([]float64, len(w.Float64s()))
		fill(s, v)
		backing = s
	case tensor.Float32:
		s := make([]float32, len(w.Float32s()))
		fill(s, float32(v))
		backing = s
	}
	return tensor.New(tensor.WithShape(w.Shape().Clone()...), tensor.WithBacking(backing))
}

// checkPair validates the i-th ValueGrad and returns its value and gradient.
func checkPair(who string, vg gorgonia.ValueGrad, i int) (w, g *tensor.Dense, err error) {
	if vg == nil {
		return nil, nil, errors.Errorf("optim: %s: parameter %d is nil", who, i)
	}
	v := vg.Value()
	if v == nil {
		return nil, nil, errors.Errorf("optim: %s: parameter %s has no value", who, paramName(vg, i))
	}
	w, ok := v.(*tensor.Dense)
	if !ok {
		return nil, nil, errors.Errorf("optim: %s: parameter %s: value of type %T is not a *tensor.Dense", who, paramName(vg, i), v)
	}
	if w == nil {
		return nil, nil, errors.Errorf("optim: %s: parameter %s has a nil value", who, paramName(vg, i))
	}
	if err := checkDense(who, vg, i, "value", w); err != nil {
		return nil, nil, err
	}
	g, err = checkGrad(who, vg, i)
	if err != nil {
		return nil, nil, err
	}
	if g.Dtype() != w.Dtype() {
		return nil, nil, errors.Errorf("optim: %s: parameter %s: gradient dtype %v does not match value dtype %v", who, paramName(vg, i), g.Dtype(), w.Dtype())
	}
	if !g.Shape().Eq(w.Shape()) || g.DataSize() != w.DataSize() {
		return nil, nil, errors.Errorf("optim: %s: parameter %s: gradient shape %v does not match value shape %v", who, paramName(vg, i), g.Shape(), w.Shape())
	}
	if g == w {
		return nil, nil, errors.Errorf("optim: %s: parameter %s: gradient is the value itself", who, paramName(vg, i))
	}
	return w, g, nil
}

// checkGrad validates and returns the gradient of the i-th ValueGrad,
// including that it is finite: a NaN or Inf would otherwise spread silently
// to the weights and the solver state.
func checkGrad(who string, vg gorgonia.ValueGrad, i int) (*tensor.Dense, error) {
	if vg == nil {
		return nil, errors.Errorf("optim: %s: parameter %d is nil", who, i)
	}
	gv, err := vg.Grad()
	if err != nil {
		return nil, errors.Wrapf(err, "optim: %s: parameter %s: no gradient", who, paramName(vg, i))
	}
	if gv == nil {
		return nil, errors.Errorf("optim: %s: parameter %s has no gradient", who, paramName(vg, i))
	}
	g, ok := gv.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("optim: %s: parameter %s: gradient of type %T is not a *tensor.Dense", who, paramName(vg, i), gv)
	}
	if g == nil {
		return nil, errors.Errorf("optim: %s: parameter %s has a nil gradient", who, paramName(vg, i))
	}
	if err := checkDense(who, vg, i, "gradient", g); err != nil {
		return nil, err
	}
	var bad int
	var x float64
	switch g.Dtype() {
	case tensor.Float64:
		s := g.Float64s()
		if bad = firstNonFinite(s); bad >= 0 {
			x = s[bad]
		}
	case tensor.Float32:
		s := g.Float32s()
		if bad = firstNonFinite(s); bad >= 0 {
			x = float64(s[bad])
		}
	}
	if bad >= 0 {
		return nil, errors.Errorf("optim: %s: parameter %s: gradient element %d is %v", who, paramName(vg, i), bad, x)
	}
	return g, nil
}

// checkDense checks that t can be updated through its backing slice.
func checkDense(who string, vg gorgonia.ValueGrad, i int, what string, t *tensor.Dense) error {
	if dt := t.Dtype(); dt != tensor.Float64 && dt != tensor.Float32 {
		return errors.Errorf("optim: %s: parameter %s: %s has unsupported dtype %v (want float64 or float32)", who, paramName(vg, i), what, dt)
	}
	if !t.IsNativelyAccessible() {
		return errors.Errorf("optim: %s: parameter %s: %s is not in Go memory", who, paramName(vg, i), what)
	}
	// The backing slice of a view or of a masked tensor does not hold
	// exactly its elements, in order.
	if t.RequiresIterator() || t.IsMaterializable() {
		return errors.Errorf("optim: %s: parameter %s: %s is a view or masked tensor", who, paramName(vg, i), what)
	}
	return nil
}

type float interface{ ~float32 | ~float64 }

// firstNonFinite returns the index of the first NaN or Inf in s, or -1.
func firstNonFinite[T float](s []T) int {
	if s32, ok := any(s).([]float32); ok {
		return vecmath.FirstNonFinite32(s32)
	}
	for i, x := range s {
		// x-x is 0 for finite x and NaN for NaN and ±Inf.
		if x-x != 0 {
			return i
		}
	}
	return -1
}

func fill[T float](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// addScaled computes dst += c*src.
func addScaled[T float](dst, src []T, c T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += c * src[i]
	}
}

func sqrt[T float](x T) T {
	// The float64 square root rounded to float32 is the correctly rounded
	// float32 square root, so this is exact in either precision.
	return T(math.Sqrt(float64(x)))
}
