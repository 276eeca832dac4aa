package optim

import (
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ThresholdMethod selects how gradients are clipped, like MATLAB's
// GradientThresholdMethod training option. The zero value is not a valid
// method.
type ThresholdMethod int

const (
	// GlobalL2Norm scales all gradients by threshold/norm when the L2
	// norm of all gradients taken together exceeds the threshold, which
	// keeps the direction of the whole update.
	GlobalL2Norm ThresholdMethod = iota + 1
	// L2Norm scales each parameter's gradient by threshold/norm when its
	// own L2 norm exceeds the threshold.
	L2Norm
	// AbsoluteValue clamps each gradient element to [-threshold, threshold].
	AbsoluteValue
)

// String returns MATLAB's name for m: "global-l2norm", "l2norm" or
// "absolute-value".
func (m ThresholdMethod) String() string {
	switch m {
	case GlobalL2Norm:
		return "global-l2norm"
	case L2Norm:
		return "l2norm"
	case AbsoluteValue:
		return "absolute-value"
	}
	return "ThresholdMethod(" + strconv.Itoa(int(m)) + ")"
}

// ParseThresholdMethod returns the ThresholdMethod with MATLAB's name s:
// "global-l2norm", "l2norm" or "absolute-value". Like MATLAB, it ignores
// case.
func ParseThresholdMethod(s string) (ThresholdMethod, error) {
	switch strings.ToLower(s) {
	case "global-l2norm":
		return GlobalL2Norm, nil
	case "l2norm":
		return L2Norm, nil
	case "absolute-value":
		return AbsoluteValue, nil
	}
	return 0, errors.Errorf(`optim: unknown gradient threshold method %q (want "global-l2norm", "l2norm" or "absolute-value")`, s)
}

func checkThreshold(who string, m ThresholdMethod, threshold float64) error {
	switch m {
	case GlobalL2Norm, L2Norm, AbsoluteValue:
	default:
		return errors.Errorf("optim: %s: unknown gradient threshold method %v", who, m)
	}
	// +Inf is allowed: it is MATLAB's default and means no clipping.
	if !(threshold > 0) {
		return errors.Errorf("optim: %s: gradient threshold %v is not positive", who, threshold)
	}
	return nil
}

// ClipGradients clips the gradients of vgs in place by method, as MATLAB
// does with its GradientThreshold and GradientThresholdMethod options:
//
//   - GlobalL2Norm: if n = sqrt(Σ over all gradients of g²) > threshold,
//     every gradient is multiplied by threshold/n.
//   - L2Norm: each gradient whose own L2 norm n exceeds threshold is
//     multiplied by threshold/n.
//   - AbsoluteValue: each element is clamped to [-threshold, threshold].
//
// threshold must be positive; +Inf leaves the gradients unchanged. Only the
// gradients are read and written. Every gradient is checked first (it must
// be a finite float64 or float32 *tensor.Dense), and none is modified if
// one is invalid.
func ClipGradients(vgs []gorgonia.ValueGrad, method ThresholdMethod, threshold float64) error {
	const who = "clip gradients"
	if err := checkThreshold(who, method, threshold); err != nil {
		return err
	}
	for i, vg := range vgs {
		if _, err := checkGrad(who, vg, i); err != nil {
			return err
		}
	}
	// The gradients are fetched again rather than kept, so that clipping
	// needs no allocation; Grad is an accessor on a *gorgonia.Node.
	clip(len(vgs), func(i int) *tensor.Dense {
		g, _ := vgs[i].Grad()
		return g.(*tensor.Dense)
	}, method, threshold)
	return nil
}

// clip clips the n gradients returned by grad(0), …, grad(n-1), which
// have been validated.
func clip(n int, grad func(int) *tensor.Dense, method ThresholdMethod, threshold float64) {
	switch method {
	case GlobalL2Norm:
		var nrm norm
		for i := 0; i < n; i++ {
			nrm.addDense(grad(i))
		}
		if f, ok := nrm.scaleFor(threshold); ok {
			for i := 0; i < n; i++ {
				scaleDense(grad(i), f)
			}
		}
	case L2Norm:
		for i := 0; i < n; i++ {
			g := grad(i)
			var nrm norm
			nrm.addDense(g)
			if f, ok := nrm.scaleFor(threshold); ok {
				scaleDense(g, f)
			}
		}
	case AbsoluteValue:
		for i := 0; i < n; i++ {
			clampDense(grad(i), threshold)
		}
	}
}

// norm accumulates an L2 norm over several tensors as scale*sqrt(ssq), in
// float64 whatever the tensors' dtype. The squares are summed directly,
// which is exact enough and fast, and the slower scaled sum (as in BLAS
// dnrm2) is used only for a tensor whose sum of squares overflows.
type norm struct {
	scale, ssq float64
}

func (n *norm) addDense(t *tensor.Dense) {
	var s norm
	switch t.Dtype() {
	case tensor.Float64:
		s = sumSquares(t.Float64s())
	case tensor.Float32:
		s = sumSquares(t.Float32s())
	}
	n.add(s)
}

// add merges m into n.
func (n *norm) add(m norm) {
	switch {
	case m.ssq == 0:
	case n.ssq == 0:
		*n = m
	case n.scale >= m.scale:
		r := m.scale / n.scale
		n.ssq += m.ssq * r * r
	default:
		r := n.scale / m.scale
		n.ssq = m.ssq + n.ssq*r*r
		n.scale = m.scale
	}
}

// scaleFor returns the factor threshold/norm and true if the norm exceeds
// threshold.
func (n *norm) scaleFor(threshold float64) (float64, bool) {
	if n.ssq == 0 || !(n.scale*math.Sqrt(n.ssq) > threshold) {
		return 1, false
	}
	// Dividing in two steps avoids overflowing the norm itself.
	return threshold / n.scale / math.Sqrt(n.ssq), true
}

func sumSquares[T float](s []T) norm {
	var sum float64
	for _, x := range s {
		sum += float64(x) * float64(x)
	}
	if !math.IsInf(sum, 1) {
		return norm{scale: 1, ssq: sum}
	}
	n := norm{scale: 0, ssq: 1}
	for _, x := range s {
		a := math.Abs(float64(x))
		if a == 0 {
			continue
		}
		if n.scale < a {
			r := n.scale / a
			n.ssq = 1 + n.ssq*r*r
			n.scale = a
		} else {
			r := a / n.scale
			n.ssq += r * r
		}
	}
	return n
}

func scaleDense(t *tensor.Dense, f float64) {
	switch t.Dtype() {
	case tensor.Float64:
		scale(t.Float64s(), f)
	case tensor.Float32:
		scale(t.Float32s(), float32(f))
	}
}

func scale[T float](s []T, f T) {
	for i := range s {
		s[i] *= f
	}
}

func clampDense(t *tensor.Dense, threshold float64) {
	switch t.Dtype() {
	case tensor.Float64:
		clamp(t.Float64s(), threshold)
	case tensor.Float32:
		// A threshold beyond float32's range becomes +Inf, which clamps
		// nothing, as intended.
		clamp(t.Float32s(), float32(threshold))
	}
}

func clamp[T float](s []T, threshold T) {
	for i, x := range s {
		s[i] = min(max(x, -threshold), threshold)
	}
}
