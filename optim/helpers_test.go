package optim_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
)

// testVG is a gorgonia.ValueGrad without a graph.
type testVG struct {
	w, g    gorgonia.Value
	gradErr error
}

func (p *testVG) Value() gorgonia.Value { return p.w }

func (p *testVG) Grad() (gorgonia.Value, error) {
	if p.gradErr != nil {
		return nil, p.gradErr
	}
	return p.g, nil
}

// namedVG is a testVG with a name, as *gorgonia.Node has.
type namedVG struct {
	testVG
	name string
}

func (p *namedVG) Name() string { return p.name }

// factorVG is a testVG with its own L2 factor.
type factorVG struct {
	testVG
	factor float64
}

func (p *factorVG) L2Factor() float64 { return p.factor }

// dense returns a tensor of dtype dt holding data, or zeros if data is nil.
func dense(dt tensor.Dtype, shape []int, data []float64) *tensor.Dense {
	if data == nil {
		data = make([]float64, tensor.Shape(shape).TotalSize())
	}
	switch dt {
	case tensor.Float32:
		s := make([]float32, len(data))
		for i, x := range data {
			s[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
	default:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
	}
}

// values returns the elements of a float64 or float32 tensor as float64.
func values(t *tensor.Dense) []float64 {
	switch s := t.Data().(type) {
	case []float64:
		return append([]float64(nil), s...)
	case []float32:
		r := make([]float64, len(s))
		for i, x := range s {
			r[i] = float64(x)
		}
		return r
	}
	panic("unsupported dtype")
}

// setGrad copies data into the gradient of p.
func setGrad(p *testVG, data []float64) {
	switch s := p.g.(*tensor.Dense).Data().(type) {
	case []float64:
		copy(s, data)
	case []float32:
		for i, x := range data {
			s[i] = float32(x)
		}
	}
}

// closeTo reports whether got and want agree within tol, relative to the
// magnitude of want when it exceeds 1.
func closeTo(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

// ref is an independent scalar implementation of the solvers' updates,
// including L2 regularization and clipping, for a single parameter.
type ref struct {
	solver string // "sgdm", "adam", "rmsprop" or "adagrad"

	lr, momentum, b1, b2, eps, rho, acc0 float64

	l2, factor float64

	method    optim.ThresholdMethod
	threshold float64
}

// defaultRef returns the reference with the solver's default settings.
func defaultRef(solver string) ref {
	r := ref{solver: solver, factor: 1}
	switch solver {
	case "sgdm":
		r.lr, r.momentum = 0.01, 0.9
	case "adam":
		r.lr, r.b1, r.b2, r.eps = 0.001, 0.9, 0.999, 1e-8
	case "rmsprop":
		r.lr, r.rho, r.eps = 0.001, 0.9, 1e-8
	case "adagrad":
		r.lr, r.eps = 0.01, 1e-10
	}
	return r
}

// run applies one update per gradient in grads to w0 and returns the
// result.
func (r ref) run(w0 []float64, grads [][]float64) []float64 {
	n := len(w0)
	w := append([]float64(nil), w0...)
	a := make([]float64, n) // velocity, first moment or accumulator
	b := make([]float64, n) // second moment
	if r.solver == "adagrad" {
		for i := range a {
			a[i] = r.acc0
		}
	}
	for step, g0 := range grads {
		t := float64(step + 1)
		g := make([]float64, n)
		for i := range g {
			g[i] = g0[i] + r.l2*r.factor*w[i]
		}
		switch r.method {
		case optim.GlobalL2Norm, optim.L2Norm:
			var ss float64
			for _, x := range g {
				ss += x * x
			}
			if norm := math.Sqrt(ss); norm > r.threshold {
				for i := range g {
					g[i] *= r.threshold / norm
				}
			}
		case optim.AbsoluteValue:
			for i := range g {
				g[i] = math.Max(-r.threshold, math.Min(r.threshold, g[i]))
			}
		}
		for i := range w {
			switch r.solver {
			case "sgdm":
				a[i] = r.momentum*a[i] + g[i]
				w[i] -= r.lr * a[i]
			case "adam":
				a[i] = r.b1*a[i] + (1-r.b1)*g[i]
				b[i] = r.b2*b[i] + (1-r.b2)*g[i]*g[i]
				mhat := a[i] / (1 - math.Pow(r.b1, t))
				vhat := b[i] / (1 - math.Pow(r.b2, t))
				w[i] -= r.lr * mhat / (math.Sqrt(vhat) + r.eps)
			case "rmsprop":
				a[i] = r.rho*a[i] + (1-r.rho)*g[i]*g[i]
				w[i] -= r.lr * g[i] / (math.Sqrt(a[i]) + r.eps)
			case "adagrad":
				a[i] += g[i] * g[i]
				w[i] -= r.lr * g[i] / (math.Sqrt(a[i]) + r.eps)
			}
		}
	}
	return w
}

// solver is the part of the solvers' API the tests use.
type solver interface {
	gorgonia.Solver
	SetLearnRate(float64)
	LearnRate() float64
}

// newSolver builds the solver called name.
func newSolver(name string, opts ...optim.Option) (solver, error) {
	switch name {
	case "sgdm":
		return optim.NewSGDM(opts...)
	case "adam":
		return optim.NewAdam(opts...)
	case "rmsprop":
		return optim.NewRMSProp(opts...)
	case "adagrad":
		return optim.NewAdagrad(opts...)
	}
	panic("unknown solver " + name)
}

func solverNames() []string { return []string{"sgdm", "adam", "rmsprop", "adagrad"} }

func mustSolver(t testing.TB, name string, opts ...optim.Option) solver {
	t.Helper()
	s, err := newSolver(name, opts...)
	if err != nil {
		t.Fatalf("new %s: %v", name, err)
	}
	return s
}

// stepAll sets the gradient of p (whose wrapper is vg) to each of grads in
// turn, stepping s each time, and returns the final value of p.
func stepAll(t *testing.T, s gorgonia.Solver, vg gorgonia.ValueGrad, p *testVG, grads [][]float64) []float64 {
	t.Helper()
	for i, g := range grads {
		setGrad(p, g)
		if err := s.Step([]gorgonia.ValueGrad{vg}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	return values(p.w.(*tensor.Dense))
}
