package graph

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
)

// checkSchema rejects a data source whose observations the network cannot
// take: other features, plain features for an image input, and with
// withTargets targets of another task or size.
func (n *Network) checkSchema(s dataset.Schema, withTargets bool) error {
	if s.NumFeatures != n.InputSize() {
		return errors.Errorf("the data has %d features per timestep; the network's input layer takes %d", s.NumFeatures, n.InputSize())
	}
	if err := n.checkFrame(s.Frame); err != nil {
		return err
	}
	if !withTargets {
		return nil
	}
	k := n.OutputSize()
	perStep := map[bool]string{true: "one per timestep", false: "one per sequence"}
	switch {
	case n.IsClassifier() && s.NumClasses == 0:
		return errors.New("the network classifies, but the data has no class labels (make it with dataset.NewClassification or NewStepClassification)")
	case !n.IsClassifier() && s.ResponseSize == 0:
		return errors.New("the network regresses, but the data has no responses (make it with dataset.NewRegression or NewStepRegression)")
	case s.PerStep != n.PerStep():
		return errors.Errorf("the network outputs %s, but the data has targets %s: end the recurrent layers with OutputMode %s",
			perStep[n.PerStep()], perStep[s.PerStep], map[bool]string{true: "sequence", false: "last"}[s.PerStep])
	case n.IsClassifier() && s.NumClasses != k:
		return errors.Errorf("the data has %d classes; the network has %d outputs: give the last fully connected layer %d outputs", s.NumClasses, k, s.NumClasses)
	case !n.IsClassifier() && s.ResponseSize != k:
		return errors.Errorf("the data has %d responses; the network has %d outputs: give the last fully connected layer %d outputs", s.ResponseSize, k, s.ResponseSize)
	}
	return nil
}

// checkFrame rejects data of frame shape f (zero for plain features) that
// the input layer cannot take: an image input needs frames of its shape;
// plain features may hold flattened frames.
func (n *Network) checkFrame(f dataset.FrameShape) error {
	in := n.input.frame
	switch {
	case in.IsZero() || f == in:
		return nil
	case f.IsZero():
		return errors.Errorf("the network's image sequence input takes frames of %dx%dx%d (CxHxW), but the data holds plain features: "+
			"declare the frames with dataset.WithFrame(dataset.FrameShape{C: %d, H: %d, W: %d})", in.C, in.H, in.W, in.C, in.H, in.W)
	}
	return errors.Errorf("the data has frames of %dx%dx%d (CxHxW); the network's input takes %dx%dx%d", f.C, f.H, f.W, in.C, in.H, in.W)
}

// checkBatch rejects a batch the network cannot use, saying what and where:
// shapes, values, the mask against the lengths, and with withTargets the
// targets. Every entry point that takes a batch checks it here, once.
func (n *Network) checkBatch(b *dataset.Batch, withTargets bool) error {
	if b == nil {
		return errors.New("graph: nil batch")
	}
	if b.B <= 0 || b.T <= 0 {
		return errors.Errorf("graph: empty batch (%d sequences of %d timesteps)", b.B, b.T)
	}
	if b.F != n.InputSize() {
		return errors.Errorf("graph: the batch has %d features per timestep; the network's sequence input takes %d", b.F, n.InputSize())
	}
	if err := n.checkFrame(b.Frame); err != nil {
		return errors.Wrap(err, "graph")
	}
	if len(b.X) != b.B*b.T*b.F || len(b.Mask) != b.B*b.T || len(b.Lengths) != b.B || b.Ends != nil && len(b.Ends) != b.B {
		return errors.Errorf("graph: malformed batch: %d values, %d mask entries, %d lengths and %d end flags for %d×%d×%d",
			len(b.X), len(b.Mask), len(b.Lengths), len(b.Ends), b.B, b.T, b.F)
	}
	if err := n.checkValues("input", b.X, b, b.F); err != nil {
		return err
	}
	if err := checkMask(b); err != nil {
		return err
	}
	if err := n.checkChunks(b); err != nil {
		return err
	}
	if !withTargets {
		return nil
	}
	return n.checkTargets(b)
}

// where says which sequence of a batch sequence s is.
func where(b *dataset.Batch, s int) string {
	if s < len(b.Indices) {
		return fmt.Sprintf("sequence %d of the batch (observation %d)", s, b.Indices[s])
	}
	return fmt.Sprintf("sequence %d of the batch", s)
}

// checkValues rejects a NaN or infinite value of v, a [B, T, width] array
// of b, or one beyond the range of a float32 network.
func (n *Network) checkValues(what string, v []float64, b *dataset.Batch, width int) error {
	limit := math.MaxFloat64
	if n.dtype == tensor.Float32 {
		limit = math.MaxFloat32
	}
	for i, x := range v {
		if math.Abs(x) <= limit {
			continue
		}
		s, rest := i/(b.T*width), i%(b.T*width)
		at := fmt.Sprintf("graph: %s: %s at timestep %d, value %d is %v", where(b, s), what, rest/width, rest%width, x)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New(at)
		}
		return errors.Errorf("%s, beyond the range of the network's float32 (±%.4g): rescale the data or use WithDtype(tensor.Float64)", at, math.MaxFloat32)
	}
	return nil
}

// checkMask checks that each sequence's mask is 1 on exactly the
// timesteps its length and the batch's padding side give (Batch.Span), and
// 0 elsewhere: a mask with a hole, or one that disagrees with Lengths, would
// make a run disagree with itself (the graph reads the mask, Padded the
// lengths).
func checkMask(b *dataset.Batch) error {
	if b.Direction != dataset.PadRight && b.Direction != dataset.PadLeft {
		return errors.Errorf("graph: malformed batch: padding direction %v", b.Direction)
	}
	for s := 0; s < b.B; s++ {
		l := b.Lengths[s]
		if l < 0 || l > b.T {
			return errors.Errorf("graph: %s: length %d outside [0, %d]", where(b, s), l, b.T)
		}
		// In a chunk of a split batch a sequence may have ended already,
		// or (padded on the left) not begun.
		if l == 0 && b.Chunks <= 1 {
			return errors.Errorf("graph: %s is empty", where(b, s))
		}
		start, end := b.Span(s)
		for t := 0; t < b.T; t++ {
			m, want := b.Mask[s*b.T+t], 0.0
			if t >= start && t < end {
				want = 1
			}
			if m != want {
				return errors.Errorf("graph: %s: mask at timestep %d is %v, but its length %d padded on the %v makes it %v", where(b, s), t, m, l, b.Direction, want)
			}
		}
	}
	return nil
}

// checkChunks checks a chunk of a split batch, and that the network can
// carry state across chunks.
func (n *Network) checkChunks(b *dataset.Batch) error {
	if b.Chunks <= 1 {
		return nil
	}
	if b.Chunk < 0 || b.Chunk >= b.Chunks {
		return errors.Errorf("graph: chunk %d of %d", b.Chunk, b.Chunks)
	}
	if l := n.wholeSequence(); l != nil {
		return errors.Errorf("graph: layer %q reads each sequence whole (a bidirectional layer, a convolution or pooling over time), so it cannot run on chunks of split sequences (use SequenceLength longest or shortest)", l.name)
	}
	return nil
}

// checkTargets checks that a batch carries the targets the network trains
// on, in range and finite.
func (n *Network) checkTargets(b *dataset.Batch) error {
	k := n.OutputSize()
	switch {
	case n.PerStep() && n.IsClassifier():
		if len(b.StepLabels) != b.B*b.T {
			return errors.Errorf("graph: the network is trained with a label per timestep; the batch has %d for %d×%d steps", len(b.StepLabels), b.B, b.T)
		}
		for i, l := range b.StepLabels {
			switch real := b.Mask[i] != 0; {
			case real && (l < 0 || l >= k):
				return errors.Errorf("graph: %s: label %d at timestep %d is outside the network's %d classes [0, %d)", where(b, i/b.T), l, i%b.T, k, k)
			case !real && l != -1:
				return errors.Errorf("graph: %s: label %d at timestep %d, which is padding; want -1 there", where(b, i/b.T), l, i%b.T)
			}
		}
	case n.PerStep():
		if b.ResponseSize != k || len(b.StepResponses) != b.B*b.T*k {
			return errors.Errorf("graph: the network is trained with %d responses per timestep; the batch has %d values of size %d for %d×%d steps",
				k, len(b.StepResponses), b.ResponseSize, b.B, b.T)
		}
		return n.checkValues("response", b.StepResponses, b, k)
	case n.IsClassifier():
		if len(b.Labels) != b.B {
			return errors.Errorf("graph: the batch has %d labels for %d sequences (a classifier trains on labelled sequences)", len(b.Labels), b.B)
		}
		for s, l := range b.Labels {
			if l < 0 || l >= k {
				return errors.Errorf("graph: %s: label %d is outside the network's %d classes [0, %d)", where(b, s), l, k, k)
			}
		}
	default:
		if b.ResponseSize != k || len(b.Responses) != b.B*k {
			return errors.Errorf("graph: the batch has %d responses of size %d; the network predicts %d per sequence",
				len(b.Responses), b.ResponseSize, k)
		}
		// One "timestep" of k responses per sequence.
		one := *b
		one.T = 1
		return n.checkValues("response", b.Responses, &one, k)
	}
	return nil
}
