package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fusedLayer is what the token and gradient ops need of a fused layer's
// op (lstmOp, gruOp).
type fusedLayer interface {
	fmt.Stringer
	dtype() tensor.Dtype
	// shape returns the shape of input i of the layer.
	shape(i int) tensor.Shape
	// gradient returns the buffer that holds the gradient of input i
	// after the layer's last backward pass, a []float64 or []float32 by
	// dtype, nil before the first.
	gradient(i int) any
}

// layerTokenOp returns a 1-element zero vector: the gradient the read nodes
// hand to the layer node.
type layerTokenOp struct {
	opBase
	l fusedLayer
}

func (op layerTokenOp) String() string        { return fmt.Sprintf("%v.token", op.l) }
func (op layerTokenOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.l) }
func (op layerTokenOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op layerTokenOp) Type() hm.Type {
	v := gorgonia.TensorType{Dims: 1, Of: op.l.dtype()}
	return hm.NewFnType(v, v)
}
func (op layerTokenOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1}, nil
}
func (op layerTokenOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	return newDense(op.l.dtype(), tensor.Shape{1}), nil
}

// layerGradOp hands out the gradient of input i of the layer from the
// buffers of the layer's last backward pass.
type layerGradOp struct {
	opBase
	l fusedLayer
	i int
}

func (op layerGradOp) String() string        { return fmt.Sprintf("d%v/d%d", op.l, op.i) }
func (op layerGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.l) }
func (op layerGradOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op layerGradOp) Type() hm.Type {
	dt := op.l.dtype()
	return hm.NewFnType(gorgonia.TensorType{Dims: 1, Of: dt}, gorgonia.TensorType{Dims: op.l.shape(op.i).Dims(), Of: dt})
}
func (op layerGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.l.shape(op.i), nil
}

// Do returns a view of the layer's gradient buffer, not a copy: the
// gradients of the weights are the largest values of a training step (dR
// alone is 4H×H for an LSTM), and copying them into new tensors every run
// was more than half of the bytes a step allocated (467 kB per step
// before the views, 215 kB after, T=30 float32). The view holds the
// gradient until the layer's next backward pass, which is as long as the
// value of any node lives in a run.
func (op layerGradOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	var backing any
	switch g := op.l.gradient(op.i).(type) {
	case []float64:
		if g != nil {
			backing = g
		}
	case []float32:
		if g != nil {
			backing = g
		}
	}
	if backing == nil {
		return nil, errors.Errorf("nodes: %v: read before the backward pass", op)
	}
	return tensor.New(tensor.WithShape(op.l.shape(op.i).Clone()...), tensor.WithBacking(backing)), nil
}

// inputGradient sets dX = dZ·W for a fused layer with g gate columns and f
// inputs: over the rows lo to lo+rows-1 of dZ at once (the steps from the
// first to the last that are not padding only), zero for the others, whose
// rows of dZ are zero. w is Wᵀ, f×g, when transposed, and W, g×f, when not.
func inputGradient[T float](dx, dz, w []T, transposed bool, lo, rows, f, g int) {
	if rows == 0 {
		clear(dx)
		return
	}
	clear(dx[:lo*f])
	clear(dx[(lo+rows)*f:])
	if transposed {
		layerGemm(false, true, rows, f, g, dz[lo*g:(lo+rows)*g], g, w, g, 0, dx[lo*f:], f)
		return
	}
	layerGemm(false, false, rows, f, g, dz[lo*g:(lo+rows)*g], g, w, f, 0, dx[lo*f:], f)
}
