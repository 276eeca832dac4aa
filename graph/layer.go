package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/dataset"
)

// Layer is one entry of a layer array. It says what it takes and what it
// gives (Output), adds its nodes to every graph the network builds (Build),
// and describes itself for checkpoints (Spec):
//
//	layers := []graph.Layer{
//		graph.SequenceInput(12),
//		graph.LSTM(100, graph.WithOutputMode(rnn.Last)),
//		graph.FullyConnected(9),
//		graph.Softmax(),
//		graph.ClassificationOutput(),
//	}
//
// The constructors of this package make the built-in layers. A layer of your
// own is any type with these three methods (docs/custom-layers.md); Load
// declares it again from its Spec with the decoder given by WithLayerKind.
// A layer value is a declaration: NewNetwork never changes it, and one value
// may serve in several networks.
type Layer interface {
	// Spec describes the layer: its kind, the name it was given (empty for
	// the default: the kind and the layer's rank among those of its kind,
	// "lstm1") and its arguments and options as a JSON-encodable value.
	Spec() LayerSpec
	// Output checks that the layer takes input of shape in and returns
	// the shape of its output, or an error that says what is wrong.
	// NewNetwork calls it once per layer, in order; the input layer gets
	// the zero Shape.
	Output(in Shape) (Shape, error)
	// Build adds the layer's nodes to the graph b builds, given the
	// previous layer's output, and returns its own. It is called once per
	// graph (per batch shape and use); b says what the graph is for.
	Build(b *Builder, in Value) (Value, error)
}

// LayerSpec describes a layer in a checkpoint: the layer's JSON object is
// {"kind": Kind, "name": the layer's name, the fields of Fields, "inputSize",
// "outputSize"}.
type LayerSpec struct {
	// Kind names what the layer is ("lstm", "fully-connected"); Load finds
	// the decoder of a kind among the built-in ones and those given with
	// WithLayerKind.
	Kind string
	// Name is the name given to the layer (WithName), or empty.
	Name string
	// Fields are the layer's arguments and options: a struct whose fields
	// have JSON names, or nil. Its fields must not be called kind, name,
	// inputSize or outputSize.
	Fields any
}

// Shape is what a layer gives the next, for each sequence of a batch.
type Shape struct {
	// Features is the number of values per timestep, or per sequence when
	// Sequence is false; for image frames, C·H·W.
	Features int
	// Sequence says that there is a value per timestep; it is false after a
	// recurrent layer with OutputMode Last or Final.
	Sequence bool
	// Frame is the image shape of the features: zero for plain features.
	Frame dataset.FrameShape
	// Folded says that the frames of all timesteps are folded into the
	// batch (SequenceFolding): one [T·B, C, H, W] node.
	Folded bool

	// probabilities marks the output of Softmax, which only a
	// classification output may take.
	probabilities bool
}

// String describes s as a network's listing shows it: "sequence of 12",
// "9", "sequence of 2×4×3 frames", "folded 3×4×4 frames".
func (s Shape) String() string {
	what := fmt.Sprint(s.Features)
	if !s.Frame.IsZero() {
		what = fmt.Sprintf("%d×%d×%d frames", s.Frame.C, s.Frame.H, s.Frame.W)
	}
	switch {
	case s.Folded:
		return "folded " + what
	case s.Sequence:
		return "sequence of " + what
	}
	return what
}

// plain reports whether s holds plain features per timestep or sequence,
// not frames, which is what most layers take.
func (s Shape) plain() bool { return s.Frame.IsZero() && !s.Folded }

// plainFeatures returns an error that says what to do unless in holds
// plain features.
func plainFeatures(in Shape) error {
	switch {
	case in.Folded:
		return errors.New("gets folded frames: unfold them first (sequence unfolding, then flatten)")
	case !in.Frame.IsZero():
		return errors.New("gets image frames: flatten them first")
	}
	return nil
}

// Value is what flows from layer to layer in one graph: a node per
// timestep, one node per batch, or the folded frames, with the mask of the
// real timesteps.
type Value struct {
	// Steps holds one B×Features node per timestep (Shape.Sequence, not
	// folded), unless Rows holds them.
	Steps []*gorgonia.Node
	// Rows, when not nil, holds the timesteps folded into one
	// (T·B)×Features node, timestep-major (row t·B+b is timestep t of
	// sequence b), as the layers over time give them: a layer that treats
	// every row alike applies to it whole (Builder.EachRow), one that needs
	// the timesteps unfolds it (Builder.StepsOf).
	Rows *gorgonia.Node
	// One is the B×Features node when Shape.Sequence is false.
	One *gorgonia.Node
	// Folded is the [T·B, ...] node of folded frames, timestep-major (row
	// t·B+b is timestep t of sequence b).
	Folded *gorgonia.Node
	// Mask says which timesteps of Steps (or of the folded frames) are
	// real.
	Mask Mask

	// logp are Softmax's log-probabilities, per timestep or one, for the
	// classification output's loss.
	logp []*gorgonia.Node
}

// Mask says which timesteps of each sequence of a batch are real. In a
// graph for batches without padding it is empty: every step is real.
type Mask struct {
	// Steps holds one vector of B values per timestep: 1 where the step is
	// real, 0 where it is padding.
	Steps []*gorgonia.Node

	// host is the index of the mask among those the program computes from
	// each batch (program.hostMasks): 0 for the batch's own.
	host int
}

// Traits are what a network needs to know of a layer beyond its shapes. A
// layer that has any implements TraitsLayer.
type Traits struct {
	// WholeSequence says that the layer reads each sequence whole (a
	// bidirectional layer, a convolution over time), so that the network
	// can run neither on chunks of split sequences nor step by step with
	// PredictAndUpdateState.
	WholeSequence bool
	// CostlyPadding says that a padded timestep costs the layer about as
	// much as a real one, so that training does not pad batches to step
	// buckets by default (WithStepBuckets).
	CostlyPadding bool
	// BatchStatistics says that the layer learns statistics of each
	// training batch (batch normalization), which the workers of parallel
	// training cannot share.
	BatchStatistics bool
}

// TraitsLayer is a layer with traits.
type TraitsLayer interface {
	Layer
	Traits() Traits
}

// Describer is a layer that describes itself in a network's listing
// (String, Summary): a title ("LSTM") and details for its input and output
// ("100 hidden units, output mode last"). Without it a layer is listed by
// its kind.
type Describer interface {
	Layer
	Title() string
	Describe(in, out Shape) string
}

// traitsOf returns l's traits, none if it has none.
func traitsOf(l Layer) Traits {
	if t, ok := l.(TraitsLayer); ok {
		return t.Traits()
	}
	return Traits{}
}

// titleOf returns l's title: its Describer title, or its kind.
func titleOf(l Layer) string {
	if d, ok := l.(Describer); ok {
		return d.Title()
	}
	return l.Spec().Kind
}

// The roles that only built-in layers take, found by interface.
type (
	// inputLayer is the layer a network starts with.
	inputLayer interface {
		Layer
		input() inputSpec
	}
	// outputLayer is the layer a network ends with: it reads the
	// outputs and, in training graphs, adds the loss.
	outputLayer interface {
		Layer
		classifies() bool
	}
	// probabilitiesTaker is a layer that takes Softmax's output.
	probabilitiesTaker interface {
		Layer
		takesProbabilities()
	}
	// prefixedLayer names its layers after a prefix other than its kind
	// ("fc1" for "fully-connected").
	prefixedLayer interface {
		Layer
		namePrefix() string
	}
	// erringLayer reports an error found when it was declared (an option
	// it does not take, say), for NewNetwork to return.
	erringLayer interface {
		Layer
		declarationError() error
	}
)

// inputSpec is what an input layer takes: features per timestep, their
// frame shape, and the normalization it applies.
type inputSpec struct {
	features int
	frame    dataset.FrameShape
	norm     dataset.Normalization
}
