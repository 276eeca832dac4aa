package nodes

import (
	"fmt"
	"hash"
	"math"
	"strings"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// Activation is an elementwise nonlinearity of a recurrent cell. Its
// derivative is a function of its output alone, which lets the backward pass
// reuse the forward result instead of keeping the input alive.
type Activation int

// The activations MATLAB offers for StateActivationFunction and
// GateActivationFunction. The zero value is no activation and is invalid.
const (
	Tanh Activation = iota + 1
	Sigmoid
	ReLU
	Softsign
)

var activationNames = map[Activation]string{Tanh: "tanh", Sigmoid: "sigmoid", ReLU: "relu", Softsign: "softsign"}

func (a Activation) String() string {
	if s, ok := activationNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Valid reports whether a is one of the defined activations.
func (a Activation) Valid() bool { _, ok := activationNames[a]; return ok }

// ParseActivation returns the activation with MATLAB's name s ("tanh",
// "sigmoid", "relu" or "softsign", any case).
func ParseActivation(s string) (Activation, error) {
	for a, n := range activationNames {
		if strings.EqualFold(s, n) {
			return a, nil
		}
	}
	return 0, errors.Errorf("nodes: unknown activation %q (want tanh, sigmoid, relu or softsign)", s)
}

// f computes the activation of x.
func (a Activation) f(x float64) float64 {
	switch a {
	case Tanh:
		return math.Tanh(x)
	case Sigmoid:
		// Two branches so that exp never overflows.
		if x >= 0 {
			return 1 / (1 + math.Exp(-x))
		}
		e := math.Exp(x)
		return e / (1 + e)
	case ReLU:
		if x > 0 {
			return x
		}
		return 0
	default: // Softsign
		return x / (1 + math.Abs(x))
	}
}

// df computes the derivative at the point whose activation is y.
func (a Activation) df(y float64) float64 {
	switch a {
	case Tanh:
		return 1 - y*y
	case Sigmoid:
		return y * (1 - y)
	case ReLU:
		if y > 0 {
			return 1
		}
		return 0
	default: // Softsign: y = x/(1+|x|) gives 1/(1+|x|) = 1-|y|.
		d := 1 - math.Abs(y)
		return d * d
	}
}

// activate32 sets dst to tanh or sigmoid of src, in float32, with the
// vectorised kernels of package vecmath (a rational approximation of tanh,
// within 4e-7 of the exact value, 10 times faster than math.Tanh through
// float64 here): in float32 training the activations are the larger part of
// a step once the products run on a fast BLAS. float64 keeps the exact
// functions of f.
func activate32(a Activation, dst, src []float32) {
	if a == Sigmoid {
		vecmath.Sigmoid32(dst, src)
		return
	}
	vecmath.Tanh32(dst, src)
}

// Apply returns a(x), elementwise, for a matrix x.
func (a Activation) Apply(x *gorgonia.Node) (*gorgonia.Node, error) {
	return ActivateBlock(x, a, 0, 1)
}

// ActivateBlock splits the columns of the matrix x into blocks equal parts
// and returns a applied to part block. An LSTM computes its four gate
// pre-activations with one matrix product and takes each gate with one
// ActivateBlock: slicing and activating in one node halves the per-timestep
// node count compared with a slice followed by an activation.
func ActivateBlock(x *gorgonia.Node, a Activation, block, blocks int) (*gorgonia.Node, error) {
	if !a.Valid() {
		return nil, errors.Errorf("nodes: activation %v is not valid", a)
	}
	if x == nil || x.Dims() != 2 {
		return nil, errors.Errorf("nodes: %v: input must be a matrix", a)
	}
	if blocks <= 0 || block < 0 || block >= blocks || x.Shape()[1]%blocks != 0 {
		return nil, errors.Errorf("nodes: %v: cannot take block %d of %d from %d columns", a, block, blocks, x.Shape()[1])
	}
	return gorgonia.ApplyOp(actOp{opBase{1}, a, block, blocks, x.Dtype()}, x)
}

type actOp struct {
	opBase
	act           Activation
	block, blocks int
	dt            tensor.Dtype
}

func (op actOp) String() string        { return fmt.Sprintf("%v{%d/%d}", op.act, op.block, op.blocks) }
func (op actOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op actOp) Hashcode() uint32      { return hashOf(op) }
func (op actOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.dt}
	return hm.NewFnType(m, m)
}

func (op actOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0], s[1] / op.blocks}, nil
}

func (op actOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	rows, cols := x.Shape()[0], x.Shape()[1]
	n := cols / op.blocks
	y := newDense(x.Dtype(), tensor.Shape{rows, n})
	switch x.Dtype() {
	case tensor.Float64:
		activateRows(op.act, data[float64](x), data[float64](y), rows, cols, op.block*n, n)
	default:
		activateRows(op.act, data[float32](x), data[float32](y), rows, cols, op.block*n, n)
	}
	return y, nil
}

func activateRows[T float](a Activation, x, y []T, rows, cols, off, n int) {
	if x32, ok := any(x).([]float32); ok && (a == Tanh || a == Sigmoid) {
		y32 := any(y).([]float32)
		if n == cols {
			// One contiguous run: whole vectors but for one partial
			// vector at the end, not one per row (the last 4 of each
			// row of 100 units).
			activate32(a, y32[:rows*n], x32[:rows*n])
			return
		}
		for r := 0; r < rows; r++ {
			activate32(a, y32[r*n:r*n+n], x32[r*cols+off:r*cols+off+n])
		}
		return
	}
	for r := 0; r < rows; r++ {
		xr := x[r*cols+off : r*cols+off+n]
		yr := y[r*n : r*n+n]
		for j, v := range xr {
			yr[j] = T(a.f(float64(v)))
		}
	}
}

func (op actOp) DiffWRT(int) []bool { return []bool{true} }

func (op actOp) SymDiff(_ gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(actGradOp{opBase{2}, op}, out, grad)
	return gorgonia.Nodes{dx}, err
}

// actGradOp maps (y, dy) to dx: dy·a'(y) in the columns of the block and
// zeros elsewhere.
type actGradOp struct {
	opBase
	fwd actOp
}

func (op actGradOp) String() string        { return "d" + op.fwd.String() }
func (op actGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op actGradOp) Hashcode() uint32      { return hashOf(op) }
func (op actGradOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: op.fwd.dt}
	return hm.NewFnType(m, m, m)
}

func (op actGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0], s[1] * op.fwd.blocks}, nil
}

func (op actGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: "+op.String(), vals, 2)
	if err != nil {
		return nil, err
	}
	y, dy := materialize(ts[0]), materialize(ts[1])
	rows, n := y.Shape()[0], y.Shape()[1]
	cols := n * op.fwd.blocks
	dx := newDense(y.Dtype(), tensor.Shape{rows, cols})
	switch y.Dtype() {
	case tensor.Float64:
		activateGradRows(op.fwd.act, data[float64](y), data[float64](dy), data[float64](dx), rows, cols, op.fwd.block*n, n)
	default:
		activateGradRows(op.fwd.act, data[float32](y), data[float32](dy), data[float32](dx), rows, cols, op.fwd.block*n, n)
	}
	return dx, nil
}

func activateGradRows[T float](a Activation, y, dy, dx []T, rows, cols, off, n int) {
	for r := 0; r < rows; r++ {
		yr, dyr := y[r*n:r*n+n], dy[r*n:r*n+n]
		dxr := dx[r*cols+off : r*cols+off+n]
		for j, v := range yr {
			dxr[j] = dyr[j] * T(a.df(float64(v)))
		}
	}
}
