package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes"
)

// pool1d is a max or average pooling over time.
type pool1d struct {
	base
	size  int
	isMax bool
	opts  layerOptions
}

// MaxPooling1D takes the max of each feature over windows of poolSize steps
// of each sequence (MATLAB's maxPooling1dLayer; nodes.MaxPool1D computes
// it): padding never wins. It takes WithStride (1 by default, as MATLAB's),
// and WithPadding(before, after), WithSamePadding or WithCausalPadding (no
// padding by default). Each sequence is pooled alone, so a padded batch
// gives every sequence what it gets alone; the sequences' lengths shrink
// with the stride (see Convolution1D).
func MaxPooling1D(poolSize int, opts ...LayerOption) Layer {
	return newPool1D("max-pooling-1d", "1-D Max Pooling", "maxpool", poolSize, true, opts)
}

// AveragePooling1D averages each feature over windows of poolSize steps
// (MATLAB's averagePooling1dLayer; nodes.AveragePool1D computes it):
// padding steps count as zeros, the sum divided by the pool size (MATLAB's
// PaddingValue 0, PyTorch's count_include_pad). It takes the options of
// MaxPooling1D.
func AveragePooling1D(poolSize int, opts ...LayerOption) Layer {
	return newPool1D("average-pooling-1d", "1-D Average Pooling", "avgpool", poolSize, false, opts)
}

func newPool1D(kind, title, prefix string, size int, isMax bool, opts []LayerOption) Layer {
	o, err := declare(title, opts, optPadding, optStride)
	return &pool1d{base: newBase(kind, title, prefix, o, err), size: size, isMax: isMax, opts: o}
}

// window returns the pooling's window.
func (l *pool1d) window() (nodes.Pool1DSpec, error) {
	stride, err := l.opts.oneStride()
	if err != nil {
		return nodes.Pool1DSpec{}, err
	}
	pad, err := l.opts.padding1D()
	if err != nil {
		return nodes.Pool1DSpec{}, err
	}
	if err := positive("pool size", l.size); err != nil {
		return nodes.Pool1DSpec{}, err
	}
	return nodes.Pool1DSpec{Size: l.size, Stride: stride, Padding: pad}, nil
}

func (l *pool1d) stepsOut(steps int) (int, error) {
	spec, err := l.window()
	if err != nil {
		return 0, err
	}
	return windowSteps(spec.OutputMask, steps)
}

func (l *pool1d) Traits() Traits { return Traits{WholeSequence: true} }

func (l *pool1d) Output(in Shape) (Shape, error) {
	if _, err := l.window(); err != nil {
		return Shape{}, err
	}
	if err := sequenceFeatures(in); err != nil {
		return Shape{}, err
	}
	return in, nil
}

func (l *pool1d) Build(b *Builder, in Value) (Value, error) {
	spec, err := l.window()
	if err != nil {
		return Value{}, err
	}
	pool := nodes.AveragePool1D
	if l.isMax {
		pool = nodes.MaxPool1D
	}
	return b.windowed(in, spec.OutputMask, func(x, mask *gorgonia.Node) (*gorgonia.Node, error) {
		return pool(x, mask, b.BatchSize(), spec)
	})
}

func (l *pool1d) Describe(_, _ Shape) string {
	spec, _ := l.window()
	return describe("pool size %d, stride %d, padding %v", l.size, spec.Stride, paddingText(spec.Padding))
}

// pool1dFields are the checkpoint fields of a pooling over time.
type pool1dFields struct {
	PoolSize *int `json:"poolSize"`
	windowFields
}

func (l *pool1d) Spec() LayerSpec { return l.spec(pool1dFields{ptr(l.size), windowFieldsOf(l.opts)}) }

// decodePool1D returns the decoder of a pooling over time.
func decodePool1D(declare func(int, ...LayerOption) Layer) LayerDecoder {
	return func(name string, fields Fields) (Layer, error) {
		var f pool1dFields
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		if err := required(need("poolSize", f.PoolSize)); err != nil {
			return nil, err
		}
		opts, err := f.options(name)
		if err != nil {
			return nil, err
		}
		return declare(*f.PoolSize, opts...), nil
	}
}

func init() {
	builtinKinds["max-pooling-1d"] = decodePool1D(MaxPooling1D)
	builtinKinds["average-pooling-1d"] = decodePool1D(AveragePooling1D)
}
