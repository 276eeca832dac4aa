package nodes

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// seqOpCase is a sequence op for the property tests: finite-difference
// gradients on padded batches, and each sequence getting in a padded batch
// exactly what it gets alone.
type seqOpCase struct {
	name   string
	c      int   // channels of x
	params []tin // learnables
	op     func(in map[string]*gorgonia.Node, batch int) (*gorgonia.Node, error)
	// outRows returns the rows of sequence seq's outputs in the op's
	// output for batch s.
	outRows func(t *testing.T, s seqBatch, seq int) []int
	// data, if set, turns a batch's x into the op's input (indices for
	// Embedding), which then has no gradient.
	data func(s seqBatch) seqBatch
	// gradTol is the largest relative error of a gradient allowed, 1e-6
	// if 0.
	gradTol float64
}

// windowRows returns the output rows of a windowed op of the given output
// mask function: sequence seq's columns of the output mask, in time order.
func windowRows(mask func([]float64, int, int) ([]float64, int, error)) func(*testing.T, seqBatch, int) []int {
	return func(t *testing.T, s seqBatch, seq int) []int {
		m, _, err := mask(s.mask, s.steps, s.batch)
		if err != nil {
			t.Fatal(err)
		}
		var rows []int
		for r := seq; r < len(m); r += s.batch {
			if m[r] == 1 {
				rows = append(rows, r)
			}
		}
		return rows
	}
}

func globalRows(_ *testing.T, _ seqBatch, seq int) []int { return []int{seq} }

func stepRows(_ *testing.T, s seqBatch, seq int) []int {
	rows := make([]int, s.lengths[seq])
	for j := range rows {
		rows[j] = s.row(seq, j)
	}
	return rows
}

func seqOpCases(rng *rand.Rand) []seqOpCase {
	const c, k = 2, 3
	conv := func(name string, spec Conv1DSpec) seqOpCase {
		return seqOpCase{
			name: name, c: c,
			params: []tin{{"w", []int{k, c, spec.FilterSize}, uniform(rng, k*c*spec.FilterSize)}, {"b", []int{k}, uniform(rng, k)}},
			op: func(in map[string]*gorgonia.Node, batch int) (*gorgonia.Node, error) {
				return Conv1D(in["x"], in["w"], in["b"], in["mask"], batch, spec)
			},
			outRows: windowRows(spec.OutputMask),
		}
	}
	pool := func(name string, f func(x, mask *gorgonia.Node, batch int, spec Pool1DSpec) (*gorgonia.Node, error), spec Pool1DSpec) seqOpCase {
		return seqOpCase{
			name: name, c: c,
			op: func(in map[string]*gorgonia.Node, batch int) (*gorgonia.Node, error) {
				return f(in["x"], in["mask"], batch, spec)
			},
			outRows: windowRows(spec.OutputMask),
		}
	}
	global := func(name string, f func(x, mask *gorgonia.Node, batch int) (*gorgonia.Node, error)) seqOpCase {
		return seqOpCase{
			name: name, c: c,
			op: func(in map[string]*gorgonia.Node, batch int) (*gorgonia.Node, error) {
				return f(in["x"], in["mask"], batch)
			},
			outRows: globalRows,
		}
	}
	const dim, vocab = 3, 6
	return []seqOpCase{
		conv("conv same stride 2 dilation 2", Conv1DSpec{FilterSize: 3, Stride: 2, Dilation: 2, Padding: Padding1D{Mode: PadSame}}),
		conv("conv same even filter", Conv1DSpec{FilterSize: 2, Stride: 1, Dilation: 1, Padding: Padding1D{Mode: PadSame}}),
		conv("conv causal dilation 2", Conv1DSpec{FilterSize: 2, Stride: 1, Dilation: 2, Padding: Padding1D{Mode: PadCausal}}),
		conv("conv explicit [2 1] stride 3", Conv1DSpec{FilterSize: 3, Stride: 3, Dilation: 1, Padding: Padding1D{Left: 2, Right: 1}}),
		conv("conv no padding", Conv1DSpec{FilterSize: 2, Stride: 1, Dilation: 1}),
		pool("max same stride 2", MaxPool1D, Pool1DSpec{Size: 3, Stride: 2, Padding: Padding1D{Mode: PadSame}}),
		pool("max explicit [1 0]", MaxPool1D, Pool1DSpec{Size: 2, Stride: 1, Padding: Padding1D{Left: 1}}),
		pool("max causal stride 2", MaxPool1D, Pool1DSpec{Size: 3, Stride: 2, Padding: Padding1D{Mode: PadCausal}}),
		pool("average same", AveragePool1D, Pool1DSpec{Size: 2, Stride: 1, Padding: Padding1D{Mode: PadSame}}),
		pool("average explicit [1 2] stride 2", AveragePool1D, Pool1DSpec{Size: 3, Stride: 2, Padding: Padding1D{Left: 1, Right: 2}}),
		global("global max", GlobalMaxPool1D),
		global("global average", GlobalAveragePool1D),
		{
			name: "embedding", c: 1,
			params: []tin{{"w", []int{dim, vocab}, uniform(rng, dim*vocab)}},
			op: func(in map[string]*gorgonia.Node, batch int) (*gorgonia.Node, error) {
				return Embedding(in["x"], in["w"], EmbeddingSpec{Batch: batch})
			},
			outRows: stepRows,
			data:    func(s seqBatch) seqBatch { return s.tokens(vocab) },
		},
		{
			name: "layer norm", c: 3,
			params: []tin{{"scale", []int{3}, uniform(rng, 3)}, {"offset", []int{3}, uniform(rng, 3)}},
			op: func(in map[string]*gorgonia.Node, _ int) (*gorgonia.Node, error) {
				return LayerNorm(in["x"], in["scale"], in["offset"], LayerNormEpsilon)
			},
			outRows: stepRows,
			// The padding rows' values near 550 leave the finite
			// differences of their rows only 6 good digits.
			gradTol: 1e-5,
		},
	}
}

// tokens returns the batch with each real value of x in [-1, 1] made an
// index in [1, vocab) and each padding row index 0.
func (s seqBatch) tokens(vocab int) seqBatch {
	out := s
	out.x = make([]float64, len(s.x))
	for r, m := range s.mask {
		if m == 1 {
			out.x[r] = 1 + math.Min(math.Floor((s.x[r]+1)/2*float64(vocab-1)), float64(vocab-2))
		}
	}
	return out
}

// prepare returns the inputs of the case's graph for batch s and the names
// of the inputs with a gradient.
func (c seqOpCase) prepare(s seqBatch) ([]tin, []string) {
	wrt := []string{"x"}
	if c.data != nil {
		s, wrt = c.data(s), nil
	}
	ins := append(s.inputs(), c.params...)
	for _, p := range c.params {
		wrt = append(wrt, p.name)
	}
	return ins, wrt
}

var propLengths = []int{4, 2, 5, 3}

// TestSeqOpGradients compares each op's gradients with central finite
// differences in float64, on batches padded on the left and on the right
// (padding rows included among the perturbed values: their gradient must
// be 0 both ways).
func TestSeqOpGradients(t *testing.T) {
	for _, c := range seqOpCases(rand.New(rand.NewPCG(5, 6))) {
		for _, left := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/left=%t", c.name, left), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, 8))
				ins, wrt := c.prepare(newSeqBatch(rng, propLengths, left, c.c))
				build := func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return c.op(in, len(propLengths)) }
				og, err := newOpGraph(t, tensor.Float64, ins, nil, nil, build)
				if err != nil {
					t.Fatal(err)
				}
				var ws gorgonia.Nodes
				for _, name := range wrt {
					ws = append(ws, og.in[name])
				}
				worst, err := CheckGradients(weightedSum(t, og.g, rng, og.y), ws, 1e-6, 1e-3)
				if err != nil {
					t.Fatal(err)
				}
				if tol := cmp.Or(c.gradTol, 1e-6); worst.Relative > tol {
					t.Errorf("worst element: %v", worst)
				}
			})
		}
	}
}

// TestSeqOpsPaddingChangesNothing checks that each sequence of a batch
// padded on the left or on the right (with large values in the padding
// rows) gets the outputs and the gradients it gets alone, unpadded: the
// cost weighs only that sequence's outputs, so the batch's gradients of the
// learnables must be the lone sequence's, its rows of ∂L/∂x the lone
// sequence's, and every other row of ∂L/∂x 0.
func TestSeqOpsPaddingChangesNothing(t *testing.T) {
	for _, c := range seqOpCases(rand.New(rand.NewPCG(9, 10))) {
		for _, left := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/left=%t", c.name, left), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(11, 12))
				s := newSeqBatch(rng, propLengths, left, c.c)
				for seq := range propLengths {
					c.checkAlone(t, rng, s, seq)
				}
			})
		}
	}
}

func (c seqOpCase) checkAlone(t *testing.T, rng *rand.Rand, s seqBatch, seq int) {
	t.Helper()
	ins, wrt := c.prepare(s)
	aloneIns, _ := c.prepare(s.alone(seq))
	batched := func(b int) seqBuild {
		return func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return c.op(in, b) }
	}
	r0 := mustRun(t, tensor.Float64, ins, nil, nil, batched(s.batch))
	y0, width := r0.y, r0.shape[1]
	rows := c.outRows(t, s, seq)
	gy, gyAlone := make([]float64, len(y0)), uniform(rng, len(rows)*width)
	for i, r := range rows {
		copy(gy[r*width:(r+1)*width], gyAlone[i*width:])
	}
	got := mustRun(t, tensor.Float64, ins, wrt, gy, batched(s.batch))
	want := mustRun(t, tensor.Float64, aloneIns, wrt, gyAlone, batched(1))
	what := fmt.Sprintf("sequence %d", seq)
	closeTo(t, what+" y", pickRows(got.y, rows, width), want.y, 1e-12)
	for _, name := range wrt {
		if name != "x" {
			closeTo(t, what+" d"+name, got.grads[name], want.grads[name], 1e-12)
			continue
		}
		xRows := stepRows(t, s, seq)
		closeTo(t, what+" dx", pickRows(got.grads["x"], xRows, c.c), want.grads["x"], 1e-12)
		for _, r := range xRows {
			clear(got.grads["x"][r*c.c : (r+1)*c.c])
		}
		closeTo(t, what+" dx of the other rows", got.grads["x"], make([]float64, len(got.grads["x"])), 0)
	}
}

// pickRows returns the given rows of a matrix of the given width.
func pickRows(m []float64, rows []int, width int) []float64 {
	out := make([]float64, 0, len(rows)*width)
	for _, r := range rows {
		out = append(out, m[r*width:(r+1)*width]...)
	}
	return out
}
