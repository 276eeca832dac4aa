package nodes

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// matmulBLAS returns the BLAS that matrix products run on: the one a
// program installed with gorgonia.Use, or, while Gorgonia still has its
// default (gonum's pure Go, ~7 GFLOP/s here), defaultBLAS: seqgraph's own
// gemm, about eight times faster on the shapes of recurrent layers, or the
// system's OpenBLAS in builds with -tags openblas. Gorgonia's default is
// left as it is: changing process-wide state is the program's choice.
func matmulBLAS() gorgonia.BLAS {
	b := gorgonia.WhichBLAS()
	if _, ok := b.(gonum.Implementation); ok {
		return defaultBLAS()
	}
	return b
}

// opBase holds what every custom op of this package shares: they never
// overwrite inputs, never call cgo, and hash by their String so that two ops
// that compute different things never collide in Gorgonia's node
// de-duplication (Gorgonia's own softmax forgets its isLog flag there).
type opBase struct {
	arity int
}

func (o opBase) Arity() int           { return o.arity }
func (o opBase) ReturnsPtr() bool     { return false }
func (o opBase) CallsExtern() bool    { return false }
func (o opBase) OverwritesInput() int { return -1 }

func hashOf(s fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, s.String())
	return h.Sum32()
}

func writeHash(h hash.Hash, s fmt.Stringer) { fmt.Fprint(h, s.String()) }

// denseArgs checks that every argument is a dense tensor of one float dtype.
func denseArgs(op string, vals []gorgonia.Value, arity int) ([]*tensor.Dense, error) {
	if len(vals) != arity {
		return nil, errors.Errorf("%s: got %d inputs, want %d", op, len(vals), arity)
	}
	out := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("%s: input %d is a %T, want a dense tensor", op, i, v)
		}
		if dt := d.Dtype(); dt != tensor.Float64 && dt != tensor.Float32 {
			return nil, errors.Errorf("%s: input %d has dtype %v, want float64 or float32", op, i, dt)
		}
		if i > 0 && d.Dtype() != out[0].Dtype() {
			return nil, errors.Errorf("%s: input %d has dtype %v, input 0 has %v", op, i, d.Dtype(), out[0].Dtype())
		}
		out[i] = d
	}
	return out, nil
}

// float is the set of element types the custom ops compute in.
type float interface{ ~float32 | ~float64 }

// data returns the backing slice of a dense float tensor as []T. Callers have
// checked the dtype with denseArgs.
// data returns the backing slice of a dense tensor of element type T,
// without Dense.Data, which builds the slice by reflection and allocates on
// every call.
func data[T float](d *tensor.Dense) []T {
	var s []T
	switch v := any(&s).(type) {
	case *[]float64:
		*v = d.Float64s()
	case *[]float32:
		*v = d.Float32s()
	}
	return s
}

func newDense(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.Of(dt))
}

// contiguous reports whether d's backing slice holds its elements in
// row-major order with nothing else, so that kernels may index it directly.
func contiguous(d *tensor.Dense) bool {
	return !d.RequiresIterator() && d.DataSize() == d.Shape().TotalSize()
}

// materialize returns d itself when it is contiguous and a row-major copy
// otherwise (a transposed or sliced view).
func materialize(d *tensor.Dense) *tensor.Dense {
	if contiguous(d) {
		return d
	}
	return d.Materialize().(*tensor.Dense)
}
