package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// The helpers of the layers over time (convolution, pooling): they fold a
// sequence's timesteps into one (T·B)×C matrix, timestep-major, run an op
// of package nodes on it with the mask in the same layout, and unfold the
// result.

// foldSteps returns the steps of in, B×C each, as one (T·B)×C matrix,
// row t·B+b for step t of sequence b.
func foldSteps(steps []*gorgonia.Node) (*gorgonia.Node, error) {
	c := steps[0].Shape()[1]
	folded, err := nodes.FoldSequence(steps, c, 1, 1)
	if err != nil {
		return nil, err
	}
	return gorgonia.Reshape(folded, []int{folded.Shape()[0], c})
}

// foldedMaskOrOnes returns the folded mask of m, or, when every step is
// real (a graph for unpadded batches), a vector of T·B ones for the ops that
// take a mask whatever the batch.
func (b *Builder) foldedMaskOrOnes(m Mask, steps int) *gorgonia.Node {
	if f := b.FoldedMask(m); f != nil {
		return f
	}
	return b.Input(b.name+"/mask/ones", []int{steps * b.key.batch}, func(*dataset.Batch, int) float64 { return 1 })
}

// outputMaskFunc is the mask of a windowed op's output: nodes'
// Conv1DSpec.OutputMask or Pool1DSpec.OutputMask, on time-major masks.
type outputMaskFunc func(mask []float64, steps, batch int) ([]float64, int, error)

// windowed runs a windowed op over time (a 1-D convolution or pooling) on
// in and returns its output, folded (Rows: the layers after it that treat
// rows alike take it whole), with the mask its outputs have.
func (b *Builder) windowed(in Value, outMask outputMaskFunc, op func(x, mask *gorgonia.Node) (*gorgonia.Node, error)) (Value, error) {
	batch := b.key.batch
	x, err := b.RowsOf(in)
	if err != nil {
		return Value{}, err
	}
	y, err := op(x, b.foldedMaskOrOnes(in.Mask, x.Shape()[0]/batch))
	if err != nil {
		return Value{}, err
	}
	outSteps := y.Shape()[0] / batch
	mask := b.DeriveMask(in.Mask, outSteps, func(m []float64, inSteps int) ([]float64, error) {
		out, n, err := outMask(transposeMask(m, batch, inSteps), inSteps, batch)
		if err != nil {
			return nil, err
		}
		return transposeMask(out, n, batch), nil
	})
	return Value{Rows: y, Mask: mask}, nil
}

// transposeMask returns a rows×cols mask, row-major, as cols×rows.
func transposeMask(m []float64, rows, cols int) []float64 {
	out := make([]float64, len(m))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			out[c*rows+r] = m[r*cols+c]
		}
	}
	return out
}

// windowSteps returns the output steps of a windowed op over steps
// timesteps: those of a sequence of that length, as the op places them.
func windowSteps(outMask outputMaskFunc, steps int) (int, error) {
	ones := make([]float64, steps)
	for i := range ones {
		ones[i] = 1
	}
	_, n, err := outMask(ones, steps, 1)
	return n, err
}
