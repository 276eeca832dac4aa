package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// conv1d convolves sequences over time.
type conv1d struct {
	base
	filterSize, filters int
	opts                layerOptions
}

// Convolution1D convolves each sequence over time with filters filters of
// filterSize steps across all its features (MATLAB's convolution1dLayer;
// nodes.Conv1D computes it): Weights filters×features×filterSize (PyTorch's
// nn.Conv1d layout; MATLAB's is its permutation [3 2 1]), Glorot; Bias
// zeros. It takes WithStride (1 by default), WithDilation (1), and
// WithPadding(before, after), WithSamePadding or WithCausalPadding (no
// padding by default).
//
// Each sequence is convolved alone, padded for its own length: a padded
// batch gives every sequence what it gets alone. Causal padding makes an
// output depend on its step and earlier ones only, so that left padding
// (or a stream) adds nothing; same padding keeps the length at stride 1.
// With a stride or without padding the sequences shorten: the layers after
// it get the shorter sequences' mask, and a network with an output per
// timestep cannot follow it (its outputs would not match its targets).
func Convolution1D(filterSize, filters int, opts ...LayerOption) Layer {
	o, err := declare("1-D Convolution", opts, optPadding, optStride, optDilation)
	return &conv1d{base: newBase("convolution-1d", "1-D Convolution", "conv1d", o, err), filterSize: filterSize, filters: filters, opts: o}
}

// spec returns the convolution's window.
func (l *conv1d) window() (nodes.Conv1DSpec, error) {
	stride, err := l.opts.oneStride()
	if err != nil {
		return nodes.Conv1DSpec{}, err
	}
	pad, err := l.opts.padding1D()
	if err != nil {
		return nodes.Conv1DSpec{}, err
	}
	if err := positive("filter size and filters", l.filterSize, l.filters); err != nil {
		return nodes.Conv1DSpec{}, err
	}
	if err := positive("dilation", l.opts.dilation); err != nil {
		return nodes.Conv1DSpec{}, err
	}
	return nodes.Conv1DSpec{FilterSize: l.filterSize, Stride: stride, Dilation: l.opts.dilation, Padding: pad}, nil
}

func (l *conv1d) stepsOut(steps int) (int, error) {
	spec, err := l.window()
	if err != nil {
		return 0, err
	}
	return windowSteps(spec.OutputMask, steps)
}

func (l *conv1d) Traits() Traits { return Traits{WholeSequence: true, CostlyPadding: true} }

func (l *conv1d) Output(in Shape) (Shape, error) {
	if _, err := l.window(); err != nil {
		return Shape{}, err
	}
	if err := sequenceFeatures(in); err != nil {
		return Shape{}, err
	}
	return Shape{Features: l.filters, Sequence: true}, nil
}

func (l *conv1d) Build(b *Builder, in Value) (Value, error) {
	spec, err := l.window()
	if err != nil {
		return Value{}, err
	}
	c, k := b.In().Features, l.filterSize
	w, err := b.Learnable("Weights", tensor.Shape{l.filters, c, k}, nodes.GlorotUniform(c*k, l.filters*k))
	if err != nil {
		return Value{}, err
	}
	bias, err := b.Learnable("Bias", tensor.Shape{l.filters}, nodes.Zeros())
	if err != nil {
		return Value{}, err
	}
	return b.windowed(in, spec.OutputMask, func(x, mask *gorgonia.Node) (*gorgonia.Node, error) {
		return nodes.Conv1D(x, w, bias, mask, b.BatchSize(), spec)
	})
}

func (l *conv1d) Describe(_, _ Shape) string {
	spec, _ := l.window()
	return describe("%d filters of %d steps, stride %d, dilation %d, padding %v", l.filters, l.filterSize, spec.Stride, spec.Dilation, paddingText(spec.Padding))
}

// paddingText describes a padding over time.
func paddingText(p nodes.Padding1D) string {
	switch p.Mode {
	case nodes.PadSame:
		return "same"
	case nodes.PadCausal:
		return "causal"
	}
	return describe("[%d %d]", p.Left, p.Right)
}

// sequenceFeatures returns an error unless in is a sequence of plain
// features, what the layers over time take.
func sequenceFeatures(in Shape) error {
	if err := plainFeatures(in); err != nil {
		return err
	}
	if !in.Sequence {
		return errors.New("needs sequences, but the layer before outputs one step (OutputMode last)")
	}
	return nil
}

// windowFields are the checkpoint fields of the options of the layers over
// time.
type windowFields struct {
	Padding       []int `json:"padding,omitempty"`
	SamePadding   bool  `json:"samePadding,omitempty"`
	CausalPadding bool  `json:"causalPadding,omitempty"`
	Stride        *int  `json:"stride,omitempty"`
}

func windowFieldsOf(o layerOptions) windowFields {
	f := windowFields{Padding: o.pad, SamePadding: o.samePadding, CausalPadding: o.causalPadding}
	if len(o.stride) == 1 {
		f.Stride = ptr(o.stride[0])
	}
	return f
}

// options returns the options that declare a loaded layer over time with
// f's padding and stride.
func (f windowFields) options(name string) ([]LayerOption, error) {
	opts := decodeName(name)
	switch {
	case f.Padding != nil && len(f.Padding) != 2:
		return nil, errors.Errorf("padding %v is not two numbers", f.Padding)
	case f.Padding != nil:
		opts = append(opts, WithPadding(f.Padding[0], f.Padding[1]))
	case f.SamePadding:
		opts = append(opts, WithSamePadding())
	case f.CausalPadding:
		opts = append(opts, WithCausalPadding())
	}
	if f.Stride != nil {
		opts = append(opts, WithStride(*f.Stride))
	}
	return opts, nil
}

// conv1dFields are the checkpoint fields of a 1-D convolution.
type conv1dFields struct {
	FilterSize *int `json:"filterSize"`
	Filters    *int `json:"filters"`
	Dilation   *int `json:"dilation,omitempty"`
	windowFields
}

func (l *conv1d) Spec() LayerSpec {
	return l.spec(conv1dFields{ptr(l.filterSize), ptr(l.filters), ptr(l.opts.dilation), windowFieldsOf(l.opts)})
}

func init() {
	builtinKinds["convolution-1d"] = func(name string, fields Fields) (Layer, error) {
		var f conv1dFields
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("filterSize", f.FilterSize), need("filters", f.Filters)); err != nil {
			return nil, err
		}
		opts, err := f.options(name)
		if err != nil {
			return nil, err
		}
		if f.Dilation != nil {
			opts = append(opts, WithDilation(*f.Dilation))
		}
		return Convolution1D(*f.FilterSize, *f.Filters, opts...), nil
	}
}

// torchModule: nn.Conv1d, weight (K×C×k) and bias (K), Convolution1D's
// Weights and Bias, in the same layout.
func (l *conv1d) torchModule(n *Network, nl netLayer, _ int) (torchModule, error) {
	return n.torchWeightBias("nn.Conv1d", nl.name+"/Weights", nl.name+"/Bias"), nil
}
