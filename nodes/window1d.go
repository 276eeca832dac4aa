package nodes

import (
	"fmt"

	"github.com/pkg/errors"
)

// PaddingMode says how a 1-D convolution or pooling pads a sequence.
type PaddingMode uint8

const (
	// PadExplicit pads Padding1D.Left steps before each sequence and
	// Padding1D.Right after it. The zero Padding1D is MATLAB's default, no
	// padding.
	PadExplicit PaddingMode = iota
	// PadSame is MATLAB's "same": a sequence of L steps gives ⌈L/s⌉
	// outputs for stride s. With the window's extent e = d·(k-1)+1 for
	// filter size k and dilation d (the pool size for pooling), it pads
	// p = max((⌈L/s⌉-1)·s + e - L, 0) steps in all, ⌊p/2⌋ before the
	// sequence and the rest after it. With stride 1 that is e-1 and
	// PyTorch's padding='same'.
	PadSame
	// PadCausal pads e-1 steps before each sequence and none after: output
	// i sees inputs up to step i·s and none later, and a sequence of L
	// steps gives ⌈L/s⌉ outputs. It suits streamed input, whose outputs
	// must not wait for later steps.
	PadCausal
)

// Padding1D is the padding of a 1-D convolution or pooling. Padding is
// worked out for each sequence from its own number of real steps L, never
// from the batch's T, so that a sequence gets the same output in any batch.
type Padding1D struct {
	Mode PaddingMode
	// Left and Right are the steps of zeros before and after each
	// sequence for PadExplicit; they must be 0 for the other modes.
	Left, Right int
}

func (p Padding1D) String() string {
	switch p.Mode {
	case PadSame:
		return "same"
	case PadCausal:
		return "causal"
	}
	return fmt.Sprintf("[%d %d]", p.Left, p.Right)
}

func (p Padding1D) check() error {
	switch p.Mode {
	case PadExplicit:
		if p.Left < 0 || p.Right < 0 {
			return errors.Errorf("padding %v is negative", p)
		}
	case PadSame, PadCausal:
		if p.Left != 0 || p.Right != 0 {
			return errors.Errorf("padding %v has Left %d and Right %d, which only explicit padding uses", p, p.Left, p.Right)
		}
	default:
		return errors.Errorf("padding mode %d is unknown", p.Mode)
	}
	return nil
}

// window1D is the window of a 1-D convolution (size the filter size) or
// pooling (dilation 1); kind names it in errors ("filter" or "pool").
type window1D struct {
	kind                   string
	size, stride, dilation int
	pad                    Padding1D
}

func (w window1D) String() string {
	return fmt.Sprintf("k=%d,s=%d,d=%d,pad=%v", w.size, w.stride, w.dilation, w.pad)
}

func (w window1D) check() error {
	switch {
	case w.size < 1:
		return errors.Errorf("%s size %d is not positive", w.kind, w.size)
	case w.stride < 1:
		return errors.Errorf("stride %d is not positive", w.stride)
	case w.dilation < 1:
		return errors.Errorf("dilation %d is not positive", w.dilation)
	}
	return w.pad.check()
}

// extent is the number of steps the window spans, d·(k-1)+1.
func (w window1D) extent() int { return w.dilation*(w.size-1) + 1 }

// pads returns the steps padded before and after a sequence of n real
// steps.
func (w window1D) pads(n int) (left, right int) {
	switch w.pad.Mode {
	case PadSame:
		p := max(((n+w.stride-1)/w.stride-1)*w.stride+w.extent()-n, 0)
		return p / 2, p - p/2
	case PadCausal:
		return w.extent() - 1, 0
	}
	return w.pad.Left, w.pad.Right
}

// outLen returns the number of outputs of a sequence of n real steps, 0 if
// the padded sequence is shorter than the window.
func (w window1D) outLen(n int) int {
	l, r := w.pads(n)
	if n+l+r < w.extent() {
		return 0
	}
	return (n+l+r-w.extent())/w.stride + 1
}

// outSteps returns the output steps T' of a batch of the given steps T: the
// outputs of a sequence of T real steps.
func (w window1D) outSteps(steps int) (int, error) {
	n := w.outLen(steps)
	if n == 0 {
		l, r := w.pads(steps)
		return 0, errors.Errorf("%d steps, %d with padding, are fewer than the %d steps the %s spans", steps, steps+l+r, w.extent(), w.kind)
	}
	return n, nil
}

// windowPlan is where a window op reads and writes each sequence: out is
// the output's layout, with each sequence's outputs on the side of its
// real steps (from step 0 for a batch padded on the right, up to step T'-1
// for one padded on the left), and padLeft the padding before each input
// sequence.
type windowPlan struct {
	w       window1D
	in, out seqLayout
	padLeft []int
}

func (w window1D) plan(in seqLayout) (windowPlan, error) {
	steps, err := w.outSteps(in.steps)
	if err != nil {
		return windowPlan{}, err
	}
	p := windowPlan{w: w, in: in, padLeft: make([]int, in.batch)}
	p.out = seqLayout{steps: steps, batch: in.batch, left: in.left, start: make([]int, in.batch), length: make([]int, in.batch)}
	for b, n := range in.length {
		m := w.outLen(n)
		if m == 0 {
			l, r := w.pads(n)
			return windowPlan{}, errors.Errorf("sequence %d has %d real steps, %d with padding, fewer than the %d steps the %s spans",
				b, n, n+l+r, w.extent(), w.kind)
		}
		p.out.length[b] = m
		if in.left {
			p.out.start[b] = steps - m
		}
		p.padLeft[b], _ = w.pads(n)
	}
	return p, nil
}

// whole returns the plan of a window over all the real steps of each
// sequence of l, which gives each sequence one output, at row b: a global
// pooling's windows.
func (l seqLayout) whole() windowPlan {
	out := seqLayout{steps: 1, batch: l.batch, start: make([]int, l.batch), length: make([]int, l.batch)}
	for b := range out.length {
		out.length[b] = 1
	}
	w := window1D{kind: "sequence", size: l.steps, stride: 1, dilation: 1}
	return windowPlan{w: w, in: l, out: out, padLeft: make([]int, l.batch)}
}

// planOf reads a batch's layout from its mask and plans a window op on it.
func planOf[T float](w window1D, mask []T, steps, batch int) (windowPlan, error) {
	in, err := layoutOf(mask, steps, batch)
	if err != nil {
		return windowPlan{}, err
	}
	return w.plan(in)
}

// each calls f for every output step of every sequence and every tap u of
// the window whose input step is a real one, with the rows of the output
// and of that input.
func (p windowPlan) each(f func(out, u, in int)) {
	for b, n := range p.out.length {
		for i := range n {
			out := p.out.row(b, i)
			for u := range p.w.size {
				j := i*p.w.stride + u*p.w.dilation - p.padLeft[b]
				if j >= 0 && j < p.in.length[b] {
					f(out, u, p.in.row(b, j))
				}
			}
		}
	}
}

// outputMask returns the mask of a window op's output, T'·B values, and
// T', for the input mask of T·B values.
func (w window1D) outputMask(mask []float64, steps, batch int) ([]float64, int, error) {
	if err := w.check(); err != nil {
		return nil, 0, err
	}
	in, err := layoutOf(mask, steps, batch)
	if err != nil {
		return nil, 0, err
	}
	p, err := w.plan(in)
	if err != nil {
		return nil, 0, err
	}
	return p.out.mask(), p.out.steps, nil
}
