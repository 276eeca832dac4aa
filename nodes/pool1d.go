package nodes

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pool1DSpec is the window of a 1-D max or average pooling over time:
// MATLAB's maxPooling1dLayer and averagePooling1dLayer options, PyTorch's
// nn.MaxPool1d and nn.AvgPool1d arguments.
type Pool1DSpec struct {
	// Size is the pool size k (≥ 1). Stride s (≥ 1) is the step between
	// outputs: MATLAB's default is 1, PyTorch's is the pool size, so it
	// has no default here and 0 is an error.
	Size, Stride int
	// Padding is "same", "causal" or explicit [left right] (see
	// PaddingMode), worked out per sequence. Explicit padding must be
	// smaller than the pool size on each side, so that every window holds
	// a real step.
	Padding Padding1D
}

func (s Pool1DSpec) window() window1D {
	return window1D{kind: "pool", size: s.Size, stride: s.Stride, dilation: 1, pad: s.Padding}
}

func (s Pool1DSpec) check() error {
	w := s.window()
	if err := w.check(); err != nil {
		return err
	}
	if s.Padding.Left >= s.Size || s.Padding.Right >= s.Size {
		return errors.Errorf("padding %v is not smaller than the pool size %d", s.Padding, s.Size)
	}
	return nil
}

// OutputMask returns the mask of the output of MaxPool1D or AveragePool1D
// for a batch of the given steps T and batch size B with the given input
// mask (T·B values, time-major, 1 for real steps), and the output's steps
// T'. Sequence b's L'_b real outputs are at the start of the output steps
// when the batch is padded on the right and at their end when it is padded
// on the left. It returns an error when the mask is malformed or a
// sequence is shorter, with its padding, than the pool, naming the
// sequence.
func (s Pool1DSpec) OutputMask(mask []float64, steps, batch int) ([]float64, int, error) {
	if err := s.check(); err != nil {
		return nil, 0, errors.Wrap(err, "nodes: pool1d")
	}
	m, n, err := s.window().outputMask(mask, steps, batch)
	return m, n, errors.Wrap(err, "nodes: pool1d")
}

// pool1D builds MaxPool1D (isMax set) or AveragePool1D.
func pool1D(x, mask *gorgonia.Node, batch int, spec Pool1DSpec, isMax bool) (*gorgonia.Node, error) {
	k := poolKernel{win: spec.window(), batch: batch, max: isMax}
	steps, err := checkSeqArgs(x, mask, batch)
	if err == nil {
		err = spec.check()
	}
	if err == nil {
		k.out, err = k.win.outSteps(steps)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: %s", k.name())
	}
	k.steps, k.channels = steps, x.Shape()[1]
	return applyKernel(k, x, mask)
}

// globalPool1D builds GlobalMaxPool1D (isMax set) or GlobalAveragePool1D.
func globalPool1D(x, mask *gorgonia.Node, batch int, isMax bool) (*gorgonia.Node, error) {
	k := poolKernel{batch: batch, max: isMax, global: true}
	steps, err := checkSeqArgs(x, mask, batch)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: %s", k.name())
	}
	k.steps, k.channels = steps, x.Shape()[1]
	return applyKernel(k, x, mask)
}

// poolKernel computes MaxPool1D, AveragePool1D or, with global set,
// GlobalMaxPool1D or GlobalAveragePool1D: (x, mask) → y.
type poolKernel struct {
	win                         window1D
	steps, out, batch, channels int
	max, global                 bool
}

func (k poolKernel) name() string {
	name := "AveragePool1D"
	if k.max {
		name = "MaxPool1D"
	}
	if k.global {
		return "Global" + name
	}
	return name
}

func (k poolKernel) String() string {
	if k.global {
		return fmt.Sprintf("%s{T=%d,B=%d,C=%d}", k.name(), k.steps, k.batch, k.channels)
	}
	return fmt.Sprintf("%s{%v,T=%d,B=%d,C=%d}", k.name(), k.win, k.steps, k.batch, k.channels)
}

func (k poolKernel) dims() []int { return []int{2, 1, 2} }

func (k poolKernel) xShape() tensor.Shape { return tensor.Shape{k.steps * k.batch, k.channels} }
func (k poolKernel) mShape() tensor.Shape { return tensor.Shape{k.steps * k.batch} }

func (k poolKernel) yShape() tensor.Shape {
	if k.global {
		return tensor.Shape{k.batch, k.channels}
	}
	return tensor.Shape{k.out * k.batch, k.channels}
}

func (k poolKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	return k.yShape(), checkShapes(k.String(), in, k.xShape(), k.mShape())
}

func (k poolKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k, in, out, poolForward[float64], poolForward[float32])
}

func poolForward[T float](k poolKernel, in [][]T, y []T) error {
	p, err := poolPlan(k, in[1])
	if err != nil {
		return err
	}
	if k.max {
		maxPoolForward(p, in[0], y, k.channels)
	} else {
		avgPoolForward(p, in[0], y, k.channels, k.global)
	}
	return nil
}

// poolPlan returns the windows of a pooling: the plan of its window, or for
// a global pooling one window per sequence over its real steps.
func poolPlan[T float](k poolKernel, mask []T) (windowPlan, error) {
	if !k.global {
		return planOf(k.win, mask, k.steps, k.batch)
	}
	l, err := layoutOf(mask, k.steps, k.batch)
	if err != nil {
		return windowPlan{}, err
	}
	return l.whole(), nil
}

func (k poolKernel) diffWRT() []bool { return []bool{true, false} }

func (k poolKernel) grad(in gorgonia.Nodes, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := applyKernel(poolGradKernel{k}, in[0], in[1], g)
	return gorgonia.Nodes{dx, nil}, err
}

// poolGradKernel computes the gradient of a pooling's input out of
// (x, mask, g), g the gradient of its output. Average pooling does not
// read x.
type poolGradKernel struct{ pool poolKernel }

func (k poolGradKernel) String() string { return fmt.Sprintf("d%v/dx", k.pool) }
func (k poolGradKernel) dims() []int    { return []int{2, 1, 2, 2} }

func (k poolGradKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	p := k.pool
	return p.xShape(), checkShapes(k.String(), in, p.xShape(), p.mShape(), p.yShape())
}

func (k poolGradKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k.pool, in, out, poolBackward[float64], poolBackward[float32])
}

func poolBackward[T float](k poolKernel, in [][]T, dx []T) error {
	p, err := poolPlan(k, in[1])
	if err != nil {
		return err
	}
	if k.max {
		maxPoolBackward(p, in[0], in[2], dx, k.channels)
	} else {
		avgPoolBackward(p, in[2], dx, k.channels, k.global)
	}
	return nil
}
