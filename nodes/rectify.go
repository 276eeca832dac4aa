package nodes

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// Rectify returns max(x, 0), elementwise, for a tensor x of any shape (the
// rectified linear unit of MATLAB's reluLayer on folded frames), with the
// gradient
//
//	∂L/∂x = ∂L/∂y where x > 0, 0 elsewhere,
//
// as PyTorch's relu (0 at x = 0). NaN stays NaN, and so does -0. It is
// one op each way, with vectorised kernels (vecmath.ReLU32, ReLUGrad32
// and their float64 twins), where Gorgonia's Rectify is a comparison, a
// product, and their gradients summed.
func Rectify(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("nodes: rectify: nil input")
	}
	if dt := x.Dtype(); dt != tensor.Float64 && dt != tensor.Float32 {
		return nil, errors.Errorf("nodes: rectify: dtype %v, want float64 or float32", dt)
	}
	return applyKernel(rectifyKernel{x.Shape().Clone(), false}, x)
}

// rectifyKernel computes y = max(x, 0) out of x, or with back set
// ∂L/∂x out of (x, ∂L/∂y).
type rectifyKernel struct {
	s    tensor.Shape
	back bool
}

func (k rectifyKernel) String() string {
	if k.back {
		return fmt.Sprintf("dRectify%v", k.s)
	}
	return fmt.Sprintf("Rectify%v", k.s)
}

func (k rectifyKernel) dims() []int {
	d := []int{k.s.Dims(), k.s.Dims()}
	if k.back {
		d = append(d, k.s.Dims())
	}
	return d
}

func (k rectifyKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	want := []tensor.Shape{k.s}
	if k.back {
		want = append(want, k.s)
	}
	return k.s.Clone(), checkShapes(k.String(), in, want...)
}

func (k rectifyKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k, in, out, rectify[float64], rectify[float32])
}

func rectify[T float](k rectifyKernel, in [][]T, out []T) error {
	switch x := any(in[0]).(type) {
	case []float32:
		if k.back {
			vecmath.ReLUGrad32(any(out).([]float32), x, any(in[1]).([]float32))
		} else {
			vecmath.ReLU32(any(out).([]float32), x)
		}
	case []float64:
		if k.back {
			vecmath.ReLUGrad64(any(out).([]float64), x, any(in[1]).([]float64))
		} else {
			vecmath.ReLU64(any(out).([]float64), x)
		}
	}
	return nil
}

// fills: both directions set every element.
func (k rectifyKernel) fills() bool { return true }

func (k rectifyKernel) diffWRT() []bool { return []bool{true} }

func (k rectifyKernel) grad(in gorgonia.Nodes, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := applyKernel(rectifyKernel{k.s, true}, in[0], g)
	return gorgonia.Nodes{dx}, err
}
