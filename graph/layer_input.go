package graph

import (
	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
)

// sequenceInput is the input layer: plain features per timestep, or image
// frames (video).
type sequenceInput struct {
	base
	features int
	frame    dataset.FrameShape
	norm     dataset.Normalization
}

// SequenceInput is the input of sequences of the given number of features
// per timestep, MATLAB's sequenceInputLayer. It comes first. It takes
// WithInputNormalization.
func SequenceInput(features int, opts ...LayerOption) Layer {
	o, err := declare("Sequence Input", opts, optNorm)
	return &sequenceInput{base: newBase("sequence-input", "Sequence Input", "sequenceinput", o, err), features: features, norm: o.norm}
}

// ImageSequenceInput is the input of sequences of images (video) of the
// given height, width and channels: MATLAB's sequenceInputLayer([h w c]).
// Batches carry each frame as C·H·W features in channel, row, column order
// (dataset.FrameShape). It comes first. It takes WithInputNormalization.
func ImageSequenceInput(height, width, channels int, opts ...LayerOption) Layer {
	o, err := declare("Image Sequence Input", opts, optNorm)
	frame := dataset.FrameShape{C: channels, H: height, W: width}
	return &sequenceInput{base: newBase("image-sequence-input", "Image Sequence Input", "sequenceinput", o, err), frame: frame, norm: o.norm}
}

func (l *sequenceInput) input() inputSpec {
	return inputSpec{features: l.features, frame: l.frame, norm: l.norm}
}

func (l *sequenceInput) Output(Shape) (Shape, error) {
	if !l.frame.IsZero() {
		if l.frame.C <= 0 || l.frame.H <= 0 || l.frame.W <= 0 {
			return Shape{}, errors.Errorf("image size %dx%dx%d; want positive sizes", l.frame.H, l.frame.W, l.frame.C)
		}
		return Shape{Features: l.frame.Size(), Sequence: true, Frame: l.frame}, nil
	}
	if l.features <= 0 {
		return Shape{}, errors.Errorf("%d features; want at least 1", l.features)
	}
	return Shape{Features: l.features, Sequence: true}, nil
}

// Build passes the input on: the network feeds it, normalized.
func (l *sequenceInput) Build(_ *Builder, in Value) (Value, error) { return in, nil }

func (l *sequenceInput) Describe(_, out Shape) string {
	if !l.frame.IsZero() {
		return describe("%dx%dx%d images", l.frame.H, l.frame.W, l.frame.C)
	}
	return describe("%d features", out.Features)
}

// inputFields are the checkpoint fields of the input layers.
type inputFields struct {
	Features      *int    `json:"features,omitempty"`
	Height        *int    `json:"height,omitempty"`
	Width         *int    `json:"width,omitempty"`
	Channels      *int    `json:"channels,omitempty"`
	Normalization *string `json:"normalization,omitempty"`
}

func (l *sequenceInput) Spec() LayerSpec {
	f := inputFields{Normalization: ptr(l.norm.String())}
	if l.frame.IsZero() {
		f.Features = ptr(l.features)
	} else {
		f.Height, f.Width, f.Channels = ptr(l.frame.H), ptr(l.frame.W), ptr(l.frame.C)
	}
	return l.spec(f)
}

// normalizationOption returns the options of a decoded input layer: its
// name and its normalization, if saved.
func normalizationOption(name string, norm *string) ([]LayerOption, error) {
	opts := decodeName(name)
	if norm == nil {
		return opts, nil
	}
	m, err := dataset.ParseNormalization(*norm)
	return append(opts, WithInputNormalization(m)), err
}

func init() {
	builtinKinds["sequence-input"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			Features      *int    `json:"features"`
			Normalization *string `json:"normalization"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("features", f.Features)); err != nil {
			return nil, err
		}
		opts, err := normalizationOption(name, f.Normalization)
		if err != nil {
			return nil, err
		}
		return SequenceInput(*f.Features, opts...), nil
	}
	builtinKinds["image-sequence-input"] = func(name string, fields Fields) (Layer, error) {
		var f struct {
			Height        *int    `json:"height"`
			Width         *int    `json:"width"`
			Channels      *int    `json:"channels"`
			Normalization *string `json:"normalization"`
		}
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("height", f.Height), need("width", f.Width), need("channels", f.Channels)); err != nil {
			return nil, err
		}
		opts, err := normalizationOption(name, f.Normalization)
		if err != nil {
			return nil, err
		}
		return ImageSequenceInput(*f.Height, *f.Width, *f.Channels, opts...), nil
	}
}
