package nodes

import (
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A kernel is the computation of one op of the sequence layers
// (convolution, pooling, embedding, layer normalization) or of one of their
// gradients. kernelOp turns it into a gorgonia.Op, so that each of those ops
// is only what it computes, not another copy of Gorgonia's plumbing.
type kernel interface {
	// String names the kernel and every parameter it computes with: it is
	// the op's hash, and two kernels that compute different things must not
	// share one.
	String() string
	// dims returns the number of dimensions of each input, then of the
	// output.
	dims() []int
	// shape returns the output's shape for inputs of the given shapes.
	shape(in []tensor.Shape) (tensor.Shape, error)
	// do computes out, zeroed and of the shape that shape returned, from
	// contiguous inputs of one float dtype.
	do(in []*tensor.Dense, out *tensor.Dense) error
}

// A diffKernel is a kernel with a symbolic derivative.
type diffKernel interface {
	kernel
	// diffWRT says which inputs have a gradient.
	diffWRT() []bool
	// grad returns the gradient of each input (nil for those that have
	// none) given the inputs and the gradient of the output.
	grad(in gorgonia.Nodes, grad *gorgonia.Node) (gorgonia.Nodes, error)
}

// applyKernel applies k to args, which share one dtype.
func applyKernel(k kernel, args ...*gorgonia.Node) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(kernelOp{opBase{len(args)}, k, args[0].Dtype()}, args...)
}

type kernelOp struct {
	opBase
	k  kernel
	dt tensor.Dtype
}

func (op kernelOp) String() string        { return op.k.String() }
func (op kernelOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op kernelOp) Hashcode() uint32      { return hashOf(op) }

func (op kernelOp) Type() hm.Type {
	dims := op.k.dims()
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = gorgonia.TensorType{Dims: d, Of: op.dt}
	}
	return hm.NewFnType(ts...)
}

func (op kernelOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, err := shapeOf(d)
		if err != nil {
			return nil, err
		}
		shapes[i] = s
	}
	return op.k.shape(shapes)
}

func (op kernelOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, vals...)
}

// A filler is a kernel whose do sets every element of its output, so
// that an output reused from an earlier run needs no zeroing first.
type filler interface{ fills() bool }

// UsePreallocDo computes the kernel into prealloc, the value of an earlier
// run that the caller no longer reads, when prealloc is a dense tensor of
// the output's dtype and shape that shares no memory with an input, and
// into a new tensor otherwise. A large output reused so costs no
// allocation, no garbage and, for the kernels that set every element, no
// zeroing either.
func (op kernelOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	name := "nodes: " + op.k.String()
	ts, err := denseArgs(name, vals, op.arity)
	if err != nil {
		return nil, err
	}
	shapes := make([]tensor.Shape, len(ts))
	for i := range ts {
		ts[i] = materialize(ts[i])
		shapes[i] = ts[i].Shape()
	}
	s, err := op.k.shape(shapes)
	if err != nil {
		return nil, errors.Wrap(err, name)
	}
	y := reusable(prealloc, ts[0].Dtype(), s, ts)
	if y == nil {
		y = newDense(ts[0].Dtype(), s)
	} else if f, ok := op.k.(filler); !ok || !f.fills() {
		zero(y)
	}
	if err := op.k.do(ts, y); err != nil {
		return nil, errors.Wrap(err, name)
	}
	return y, nil
}

// reusable returns v as a dense tensor to write a result of the given
// dtype and shape into, or nil when v is nil, is not a contiguous dense
// tensor of that dtype and shape, or shares memory with one of in.
func reusable(v gorgonia.Value, dt tensor.Dtype, s tensor.Shape, in []*tensor.Dense) *tensor.Dense {
	d, ok := v.(*tensor.Dense)
	if !ok || d.Dtype() != dt || !d.Shape().Eq(s) || !contiguous(d) || d.MemSize() == 0 {
		return nil
	}
	lo, hi := d.Uintptr(), d.Uintptr()+d.MemSize()
	for _, t := range in {
		if t.MemSize() > 0 && t.Uintptr() < hi && lo < t.Uintptr()+t.MemSize() {
			return nil
		}
	}
	return d
}

// zero sets every element of a contiguous float tensor to 0.
func zero(d *tensor.Dense) {
	if d.Dtype() == tensor.Float64 {
		clear(data[float64](d))
		return
	}
	clear(data[float32](d))
}

func (op kernelOp) DiffWRT(n int) []bool {
	if d, ok := op.k.(diffKernel); ok {
		return d.diffWRT()
	}
	return make([]bool, n)
}

func (op kernelOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, ok := op.k.(diffKernel)
	if !ok {
		return nil, errors.Errorf("nodes: %v has no derivative", op.k)
	}
	return d.grad(in, grad)
}

// dispatch runs the kernel function of out's dtype, f64 or f32, on the
// backing slices of in and out.
func dispatch[K any](k K, in []*tensor.Dense, out *tensor.Dense,
	f64 func(K, [][]float64, []float64) error, f32 func(K, [][]float32, []float32) error) error {
	if out.Dtype() == tensor.Float64 {
		return f64(k, floats[float64](in), data[float64](out))
	}
	return f32(k, floats[float32](in), data[float32](out))
}

// floats returns the backing slices of contiguous dense tensors of element
// type T.
func floats[T float](ts []*tensor.Dense) [][]T {
	out := make([][]T, len(ts))
	for i, t := range ts {
		out[i] = data[T](t)
	}
	return out
}

// checkShapes reports the first input whose shape is not the one wanted.
func checkShapes(op string, got []tensor.Shape, want ...tensor.Shape) error {
	if len(got) != len(want) {
		return errors.Errorf("%s: got %d inputs, want %d", op, len(got), len(want))
	}
	for i, w := range want {
		if !got[i].Eq(w) {
			return errors.Errorf("%s: input %d has shape %v, want %v", op, i, got[i], w)
		}
	}
	return nil
}
