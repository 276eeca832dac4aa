package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// conv2d convolves every folded frame.
type conv2d struct {
	base
	height, width, filters int
	opts                   layerOptions
}

// Convolution2D convolves every folded frame with filters filters of
// height×width (MATLAB's convolution2dLayer; Weights filters×C×h×w, Glorot;
// Bias zeros). It takes WithPadding, WithSamePadding and WithStride.
func Convolution2D(height, width, filters int, opts ...LayerOption) Layer {
	o, err := declare("2-D Convolution", opts, optPadding, optStride)
	return &conv2d{base: newBase("convolution-2d", "2-D Convolution", "conv", o, err), height: height, width: width, filters: filters, opts: o}
}

// geometry returns the convolution's padding and stride for frames of in.
func (l *conv2d) geometry(in dataset.FrameShape) (pad, stride [2]int, err error) {
	stride = [2]int{1, 1}
	if l.opts.stride != nil {
		if len(l.opts.stride) != 2 {
			return pad, stride, errors.Errorf("stride %v: a 2-D convolution takes a vertical and a horizontal stride", l.opts.stride)
		}
		stride = [2]int{l.opts.stride[0], l.opts.stride[1]}
	}
	if l.opts.pad != nil {
		pad = [2]int{l.opts.pad[0], l.opts.pad[1]}
	}
	if stride[0] <= 0 || stride[1] <= 0 || pad[0] < 0 || pad[1] < 0 || l.opts.causalPadding {
		return pad, stride, errors.Errorf("stride %v and padding %v; want positive strides and non-negative padding (causal padding is for layers over time)", stride, pad)
	}
	if l.opts.samePadding {
		pad, err = nodes.SamePadding([2]int{in.H, in.W}, [2]int{l.height, l.width}, stride)
	}
	return pad, stride, err
}

func (l *conv2d) Output(in Shape) (Shape, error) {
	if l.filters <= 0 || l.height <= 0 || l.width <= 0 {
		return Shape{}, errors.Errorf("%d filters of %dx%d; want positive sizes", l.filters, l.height, l.width)
	}
	if !in.Folded {
		return Shape{}, errors.New("works on folded frames: put a sequence folding layer before it")
	}
	pad, stride, err := l.geometry(in.Frame)
	if err != nil {
		return Shape{}, err
	}
	f := in.Frame
	if f.H+2*pad[0] < l.height || f.W+2*pad[1] < l.width {
		return Shape{}, errors.Errorf("%dx%d filters do not fit %dx%d frames padded by %v", l.height, l.width, f.H, f.W, pad)
	}
	out := dataset.FrameShape{C: l.filters, H: (f.H+2*pad[0]-l.height)/stride[0] + 1, W: (f.W+2*pad[1]-l.width)/stride[1] + 1}
	return Shape{Features: out.Size(), Sequence: true, Frame: out, Folded: true}, nil
}

// Traits: every frame of padding goes through the convolution as a real
// frame does.
func (l *conv2d) Traits() Traits { return Traits{CostlyPadding: true} }

func (l *conv2d) Build(b *Builder, in Value) (Value, error) {
	c := b.In().Frame.C
	kh, kw, k := l.height, l.width, l.filters
	w, err := b.Learnable("Weights", tensor.Shape{k, c, kh, kw}, nodes.GlorotUniform(c*kh*kw, k*kh*kw))
	if err != nil {
		return Value{}, err
	}
	bias, err := b.Learnable("Bias", tensor.Shape{k}, nodes.Zeros())
	if err != nil {
		return Value{}, err
	}
	pad, stride, err := l.geometry(b.In().Frame)
	if err != nil {
		return Value{}, err
	}
	out, err := nodes.Conv2D(in.Folded, w, bias, pad, stride)
	return Value{Folded: out, Mask: in.Mask}, err
}

func (l *conv2d) Describe(in, out Shape) string {
	pad, stride, _ := l.geometry(in.Frame)
	return describe("%d %dx%d filters, stride %v, padding %v -> %dx%dx%d", l.filters, l.height, l.width, stride, pad, out.Frame.H, out.Frame.W, out.Frame.C)
}

// conv2dFields are the checkpoint fields of a 2-D convolution.
type conv2dFields struct {
	FilterSize  []int `json:"filterSize"`
	Filters     *int  `json:"filters"`
	Padding     []int `json:"padding,omitempty"`
	SamePadding bool  `json:"samePadding,omitempty"`
	Stride      []int `json:"stride,omitempty"`
}

func (l *conv2d) Spec() LayerSpec {
	return l.spec(conv2dFields{FilterSize: []int{l.height, l.width}, Filters: ptr(l.filters),
		Padding: l.opts.pad, SamePadding: l.opts.samePadding, Stride: l.opts.stride})
}

func init() {
	builtinKinds["convolution-2d"] = func(name string, fields Fields) (Layer, error) {
		var f conv2dFields
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("filters", f.Filters), requiredField{"filterSize", f.FilterSize != nil}); err != nil {
			return nil, err
		}
		for _, p := range []struct {
			name string
			v    []int
		}{{"filter size", f.FilterSize}, {"padding", f.Padding}, {"stride", f.Stride}} {
			if p.v != nil && len(p.v) != 2 {
				return nil, errors.Errorf("%s %v is not two numbers", p.name, p.v)
			}
		}
		opts := decodeName(name)
		if f.Padding != nil {
			opts = append(opts, WithPadding(f.Padding[0], f.Padding[1]))
		}
		if f.SamePadding {
			opts = append(opts, WithSamePadding())
		}
		if f.Stride != nil {
			opts = append(opts, WithStride(f.Stride...))
		}
		return Convolution2D(f.FilterSize[0], f.FilterSize[1], *f.Filters, opts...), nil
	}
}
