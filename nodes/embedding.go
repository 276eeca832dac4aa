package nodes

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// EmbeddingSpec says how Embedding names a bad index's row in its error.
type EmbeddingSpec struct {
	// Batch, when positive, is the batch size B of a time-major input
	// (row t·B+b is step t of sequence b): an error then names the
	// sequence and step of the row as well. 0 names the row only.
	Batch int
	// FirstStep is the step of the input's first row: 0 for a whole
	// folded batch, t for a B×1 input that holds step t alone.
	FirstStep int
}

// where names row r of the input.
func (s EmbeddingSpec) where(r int) string {
	if s.Batch <= 0 {
		return fmt.Sprintf("row %d", r)
	}
	return fmt.Sprintf("row %d (sequence %d, step %d)", r, r%s.Batch, s.FirstStep+r/s.Batch)
}

// Embedding maps token indices to vectors: MATLAB's wordEmbeddingLayer and
// PyTorch's nn.Embedding with padding_idx=0. x is an N×1 matrix of indices
// held as floats: a folded batch of T·B steps (time-major, row t·B+b is
// step t of sequence b) or one step's B×1 column. w is the D×V matrix of
// the V embedding vectors of dimension D, one per column, MATLAB's
// Dimension-by-NumWords Weights (PyTorch's weight is its transpose, V×D).
// The result is N×D,
//
//	y[r, :] = w[:, x[r]]  for x[r] ≥ 1,   y[r, :] = 0  for x[r] = 0.
//
// Index 0 is padding: it maps to the zero vector whatever column 0 of w
// holds, and column 0 gets no gradient; padding steps of a batch must hold
// index 0. Real tokens are 1 … V-1. (MATLAB numbers its NumWords words
// from 1 and has no padding index: its Weights fit in columns 1 … NumWords
// of a D×(NumWords+1) w, word i in column i.) An index that is not an
// integer in [0, V) is an error that names its row, and with spec.Batch set
// its sequence and step.
//
// The gradient is with respect to w only:
//
//	∂L/∂w[:, v] = Σ_{r: x[r] = v} ∂L/∂y[r, :]  for v ≥ 1,   ∂L/∂w[:, 0] = 0.
//
// x is data: asking gorgonia.Grad for its gradient is an error ("Non
// Differentiable WRTs").
func Embedding(x, w *gorgonia.Node, spec EmbeddingSpec) (*gorgonia.Node, error) {
	if x == nil || w == nil {
		return nil, errors.New("nodes: embedding: nil indices or weights")
	}
	if x.Dims() != 2 || x.Shape()[1] != 1 {
		return nil, errors.Errorf("nodes: embedding: indices %v are not an N×1 matrix", x.Shape())
	}
	if w.Dims() != 2 {
		return nil, errors.Errorf("nodes: embedding: weights %v are not a Dimension×Vocabulary matrix", w.Shape())
	}
	if x.Dtype() != w.Dtype() {
		return nil, errors.Errorf("nodes: embedding: dtypes differ: indices %v, weights %v", x.Dtype(), w.Dtype())
	}
	if spec.Batch < 0 || spec.FirstStep < 0 {
		return nil, errors.Errorf("nodes: embedding: batch %d and first step %d must not be negative", spec.Batch, spec.FirstStep)
	}
	k := embedKernel{rows: x.Shape()[0], dim: w.Shape()[0], vocab: w.Shape()[1], spec: spec}
	return applyKernel(k, x, w)
}

// embedKernel computes Embedding: (x, w) → y.
type embedKernel struct {
	rows, dim, vocab int
	spec             EmbeddingSpec
}

func (k embedKernel) String() string {
	return fmt.Sprintf("Embedding{N=%d,D=%d,V=%d,B=%d,t0=%d}", k.rows, k.dim, k.vocab, k.spec.Batch, k.spec.FirstStep)
}

func (k embedKernel) dims() []int { return []int{2, 2, 2} }

func (k embedKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{k.rows, k.dim}, checkShapes(k.String(), in, tensor.Shape{k.rows, 1}, tensor.Shape{k.dim, k.vocab})
}

func (k embedKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k, in, out, embedForward[float64], embedForward[float32])
}

// lookups checks the indices x and returns the rows that hold a token
// other than the padding index, with their tokens.
func lookups[T float](k embedKernel, x []T) ([][2]int, error) {
	var out [][2]int
	for r, t := range x {
		v := float64(t)
		if v != math.Trunc(v) || v < 0 || v >= float64(k.vocab) {
			return nil, errors.Errorf("index %v at %s is not an integer in [0, %d)", v, k.spec.where(r), k.vocab)
		}
		if v != 0 {
			out = append(out, [2]int{r, int(v)})
		}
	}
	return out, nil
}

// embedForward sets row r of y to column x[r] of w.
func embedForward[T float](k embedKernel, in [][]T, y []T) error {
	rows, err := lookups(k, in[0])
	w := in[1]
	for _, rv := range rows {
		yr := y[rv[0]*k.dim : (rv[0]+1)*k.dim]
		for d := range yr {
			yr[d] = w[d*k.vocab+rv[1]]
		}
	}
	return err
}

func (k embedKernel) diffWRT() []bool { return []bool{false, true} }

func (k embedKernel) grad(in gorgonia.Nodes, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dw, err := applyKernel(embedGradKernel{k}, in[0], g)
	return gorgonia.Nodes{nil, dw}, err
}

// embedGradKernel computes the gradient of Embedding's weights out of
// (x, g), g the gradient of its output.
type embedGradKernel struct{ embed embedKernel }

func (k embedGradKernel) String() string { return fmt.Sprintf("d%v/dw", k.embed) }
func (k embedGradKernel) dims() []int    { return []int{2, 2, 2} }

func (k embedGradKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	e := k.embed
	return tensor.Shape{e.dim, e.vocab}, checkShapes(k.String(), in, tensor.Shape{e.rows, 1}, tensor.Shape{e.rows, e.dim})
}

func (k embedGradKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k.embed, in, out, embedBackward[float64], embedBackward[float32])
}

// embedBackward adds row r of g into column x[r] of dw.
func embedBackward[T float](k embedKernel, in [][]T, dw []T) error {
	rows, err := lookups(k, in[0])
	for _, rv := range rows {
		for d, gd := range in[1][rv[0]*k.dim : (rv[0]+1)*k.dim] {
			dw[d*k.vocab+rv[1]] += gd
		}
	}
	return err
}
