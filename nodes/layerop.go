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

// fusedDims are the sizes of a fused recurrent layer (lstmOp, gruOp): B
// sequences of F features, H hidden units, and the dtype and graph of its
// inputs.
type fusedDims struct {
	b, f, h int
	dt      tensor.Dtype
	g       *gorgonia.ExprGraph
}

// fusedLayerDims returns the sizes of the fused recurrent layer of kind
// ("lstm", "gru") called name, whose weights have gates blocks of H rows,
// from its inputs x and recurrent weights r.
func fusedLayerDims(kind, name string, gates int, x []*gorgonia.Node, r *gorgonia.Node) (fusedDims, error) {
	fail := func(format string, args ...any) (fusedDims, error) {
		return fusedDims{}, errors.Errorf("nodes: %s layer %q: "+format, append([]any{kind, name}, args...)...)
	}
	if len(x) == 0 {
		return fail("no timesteps")
	}
	if x[0] == nil || x[0].Dims() != 2 {
		return fail("input at t=0 must be a B×F matrix, got %v", lstmShapeOf(x[0]))
	}
	d := fusedDims{b: x[0].Shape()[0], f: x[0].Shape()[1], dt: x[0].Dtype(), g: x[0].Graph()}
	if d.dt != tensor.Float64 && d.dt != tensor.Float32 {
		return fail("dtype %v, want float64 or float32", d.dt)
	}
	if r == nil || r.Dims() != 2 || r.Shape()[0]%gates != 0 || r.Shape()[0] == 0 || r.Shape()[1] != r.Shape()[0]/gates {
		return fail("recurrent weights must be a %dH×H matrix, got %v", gates, lstmShapeOf(r))
	}
	d.h = r.Shape()[1]
	return d, nil
}

// fusedParam is an input of a fused recurrent layer other than its x_t and
// masks, and the shape it must have.
type fusedParam struct {
	what  string
	n     *gorgonia.Node
	shape []int
}

// fusedLayerArgs checks the inputs of the fused recurrent layer of kind
// called name against its sizes d, and returns them in the order of the
// op's inputs: the x_t, the params, then the masks (none when nil).
func fusedLayerArgs(kind, name string, d fusedDims, x []*gorgonia.Node, params []fusedParam, masks []*gorgonia.Node) (gorgonia.Nodes, error) {
	check := func(what string, n *gorgonia.Node, shape ...int) error {
		if n == nil || n.Dims() != len(shape) || !n.Shape().Eq(tensor.Shape(shape)) || n.Dtype() != d.dt || n.Graph() != d.g {
			got := any("nil")
			if n != nil {
				got = fmt.Sprintf("%v of %v", n.Shape(), n.Dtype())
			}
			return errors.Errorf("nodes: %s layer %q: %s must be %v of %v in the inputs' graph, got %v", kind, name, what, tensor.Shape(shape), d.dt, got)
		}
		return nil
	}
	args := make(gorgonia.Nodes, 0, len(x)+len(params)+len(masks))
	for t, n := range x {
		if err := check(fmt.Sprintf("input at t=%d", t), n, d.b, d.f); err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	for _, p := range params {
		if err := check(p.what, p.n, p.shape...); err != nil {
			return nil, err
		}
		args = append(args, p.n)
	}
	if masks != nil {
		if len(masks) != len(x) {
			return nil, errors.Errorf("nodes: %s layer %q: %d masks for %d timesteps", kind, name, len(masks), len(x))
		}
		for t, m := range masks {
			if err := check(fmt.Sprintf("mask at t=%d", t), m, d.b); err != nil {
				return nil, err
			}
			args = append(args, m)
		}
	}
	return args, nil
}
