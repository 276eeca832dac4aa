package graph

import (
	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/nodes"
)

// batchNorm normalizes every channel of folded frames.
type batchNorm struct {
	base
	opts layerOptions
}

// BatchNormalization normalizes every channel of the folded frames with the
// statistics of the mini-batch's real frames (padding frames are left out),
// then scales and shifts it (learnables Scale, 1, and Offset, 0); prediction
// uses running statistics, kept with the network (MATLAB's
// batchNormalizationLayer). It takes WithEpsilon and WithDecay.
func BatchNormalization(opts ...LayerOption) Layer {
	o, err := declare("Batch Normalization", opts, optEpsilon, optDecay)
	return &batchNorm{base: newBase("batch-normalization", "Batch Normalization", "batchnorm", o, err), opts: o}
}

func (l *batchNorm) Traits() Traits { return Traits{CostlyPadding: true, BatchStatistics: true} }

func (l *batchNorm) Output(in Shape) (Shape, error) {
	if !in.Folded {
		return Shape{}, errors.New("works on folded frames: put a sequence folding layer before it")
	}
	if !(l.opts.epsilon > 0) {
		return Shape{}, errors.Errorf("epsilon %v; want more than 0", l.opts.epsilon)
	}
	if err := finiteIn("mean decay", l.opts.meanDecay, 0, 1); err != nil {
		return Shape{}, err
	}
	return in, finiteIn("variance decay", l.opts.varianceDecay, 0, 1)
}

// newStats returns the running statistics of the layer, for frames of in,
// that the network keeps.
func (l *batchNorm) newStats(in Shape) (*nodes.BatchNormState, error) {
	st, err := nodes.NewBatchNormState(in.Frame.C)
	if err != nil {
		return nil, err
	}
	st.Epsilon, st.MeanDecay, st.VarianceDecay = l.opts.epsilon, l.opts.meanDecay, l.opts.varianceDecay
	return st, nil
}

// Build normalizes training batches with the statistics of their real
// frames (the folded mask leaves padding frames out), updating the running
// statistics the network keeps; inference graphs use those.
func (l *batchNorm) Build(b *Builder, in Value) (Value, error) {
	scale, offset, err := nodes.NewBatchNormParams(b.Graph(), b.Params(), b.Name(), b.In().Frame.C)
	if err != nil {
		return Value{}, err
	}
	b.Train(scale, offset)
	var phase *nodes.Phase
	if !b.Training() {
		phase = new(nodes.Phase)
		phase.SetInference(true)
	}
	out, err := nodes.BatchNorm(in.Folded, scale, offset, b.n.batchNorm[b.Name()], phase, b.FoldedMask(in.Mask))
	return Value{Folded: out, Mask: in.Mask}, err
}

// batchNormFields are the checkpoint fields of a batch normalization layer.
type batchNormFields struct {
	Epsilon       *float64 `json:"epsilon,omitempty"`
	MeanDecay     *float64 `json:"meanDecay,omitempty"`
	VarianceDecay *float64 `json:"varianceDecay,omitempty"`
}

func (l *batchNorm) Spec() LayerSpec {
	return l.spec(batchNormFields{ptr(l.opts.epsilon), ptr(l.opts.meanDecay), ptr(l.opts.varianceDecay)})
}

func init() {
	builtinKinds["batch-normalization"] = func(name string, fields Fields) (Layer, error) {
		var f batchNormFields
		if err := fields.Decode(&f); err != nil {
			return nil, err
		}
		opts := decodeName(name)
		if f.Epsilon != nil {
			opts = append(opts, WithEpsilon(*f.Epsilon))
		}
		if f.MeanDecay != nil || f.VarianceDecay != nil {
			d := valueOr(f.MeanDecay, 0.1)
			opts = append(opts, WithDecay(d, valueOr(f.VarianceDecay, 0.1)))
		}
		return BatchNormalization(opts...), nil
	}
}

// valueOr returns *v, or def when v is nil.
func valueOr(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}
