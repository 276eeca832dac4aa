package nodes

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// globalPool1D builds GlobalMaxPool1D (isMax set) or GlobalAveragePool1D.
func globalPool1D(x, mask *gorgonia.Node, batch int, isMax bool) (*gorgonia.Node, error) {
	k := globalPoolKernel{batch: batch, max: isMax}
	steps, err := checkSeqArgs(x, mask, batch)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: %s", k.name())
	}
	k.steps, k.channels = steps, x.Shape()[1]
	return applyKernel(k, x, mask)
}

// globalPoolKernel computes GlobalMaxPool1D or GlobalAveragePool1D:
// (x, mask) → y.
type globalPoolKernel struct {
	steps, batch, channels int
	max                    bool
}

func (k globalPoolKernel) name() string {
	if k.max {
		return "GlobalMaxPool1D"
	}
	return "GlobalAveragePool1D"
}

func (k globalPoolKernel) String() string {
	return fmt.Sprintf("%s{T=%d,B=%d,C=%d}", k.name(), k.steps, k.batch, k.channels)
}

func (k globalPoolKernel) dims() []int { return []int{2, 1, 2} }

func (k globalPoolKernel) xShape() tensor.Shape { return tensor.Shape{k.steps * k.batch, k.channels} }
func (k globalPoolKernel) mShape() tensor.Shape { return tensor.Shape{k.steps * k.batch} }
func (k globalPoolKernel) yShape() tensor.Shape { return tensor.Shape{k.batch, k.channels} }

func (k globalPoolKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	return k.yShape(), checkShapes(k.String(), in, k.xShape(), k.mShape())
}

func (k globalPoolKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	if out.Dtype() == tensor.Float64 {
		return globalPoolForward(k, floats[float64](in), data[float64](out))
	}
	return globalPoolForward(k, floats[float32](in), data[float32](out))
}

func globalPoolForward[T float](k globalPoolKernel, in [][]T, y []T) error {
	l, err := layoutOf(in[1], k.steps, k.batch)
	if err != nil {
		return err
	}
	if k.max {
		globalMaxForward(l, in[0], y, k.channels)
	} else {
		globalAvgForward(l, in[0], y, k.channels)
	}
	return nil
}

func (k globalPoolKernel) diffWRT() []bool { return []bool{true, false} }

func (k globalPoolKernel) grad(in gorgonia.Nodes, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := applyKernel(globalPoolGradKernel{k}, in[0], in[1], g)
	return gorgonia.Nodes{dx, nil}, err
}

// globalPoolGradKernel computes the gradient of a global pooling's input
// out of (x, mask, g), g the gradient of its output. Average pooling does
// not read x.
type globalPoolGradKernel struct{ pool globalPoolKernel }

func (k globalPoolGradKernel) String() string { return fmt.Sprintf("d%v/dx", k.pool) }
func (k globalPoolGradKernel) dims() []int    { return []int{2, 1, 2, 2} }

func (k globalPoolGradKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	p := k.pool
	return p.xShape(), checkShapes(k.String(), in, p.xShape(), p.mShape(), p.yShape())
}

func (k globalPoolGradKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	if out.Dtype() == tensor.Float64 {
		return globalPoolBackward(k.pool, floats[float64](in), data[float64](out))
	}
	return globalPoolBackward(k.pool, floats[float32](in), data[float32](out))
}

func globalPoolBackward[T float](k globalPoolKernel, in [][]T, dx []T) error {
	l, err := layoutOf(in[1], k.steps, k.batch)
	if err != nil {
		return err
	}
	if k.max {
		globalMaxBackward(l, in[0], in[2], dx, k.channels)
	} else {
		globalAvgBackward(l, in[2], dx, k.channels)
	}
	return nil
}
