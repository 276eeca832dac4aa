package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// classificationOutput is the cross-entropy loss over classes.
type classificationOutput struct{ base }

// ClassificationOutput is MATLAB's classificationLayer: the cross-entropy
// over classes of the probabilities Softmax gives, averaged over the
// mini-batch; with a label per timestep, each sequence's cross-entropy is
// averaged over its real timesteps first. It comes last, after Softmax.
func ClassificationOutput(opts ...LayerOption) Layer {
	o, err := declare("Classification Output", opts)
	return &classificationOutput{newBase("classification-output", "Classification Output", "classoutput", o, err)}
}

func (l *classificationOutput) Spec() LayerSpec     { return l.spec(nil) }
func (l *classificationOutput) classifies() bool    { return true }
func (l *classificationOutput) takesProbabilities() {}

func (l *classificationOutput) Output(in Shape) (Shape, error) {
	if !in.probabilities {
		return Shape{}, errors.New("needs a softmax layer before it")
	}
	in.probabilities = false
	return in, nil
}

// Build reads the probabilities and, in a training graph, adds the loss
//
//	-1/B Σ_b w_b,t Σ_k t[b,k]·log p[b,k]   summed over the timesteps t
//
// with one-hot targets t and weights w (see stepWeight): 1 for a sequence's
// one label in the chunk where it ends, 1/L_b at each of the L_b real steps
// of a sequence with a label per timestep, 0 at padding.
func (l *classificationOutput) Build(b *Builder, in Value) (Value, error) {
	in, err := unfolded(b, in)
	if err != nil {
		return in, err
	}
	outs, err := outputsOf(b, in)
	if err != nil || !b.Training() {
		return in, err
	}
	k := b.In().Features
	for t := range outs {
		name, fill := "target", func(bt *dataset.Batch, i int) float64 {
			if bt.Labels[i/k] == i%k && ends(bt, i/k) {
				return 1
			}
			return 0
		}
		if in.Steps != nil {
			name, fill = fmt.Sprintf("target/t%d", t), func(bt *dataset.Batch, i int) float64 {
				if bt.StepLabels[(i/k)*bt.T+t] == i%k {
					return stepWeight(bt, i/k, t)
				}
				return 0
			}
		}
		term, err := nodes.CrossEntropy(in.logp[t], b.Input(name, []int{b.BatchSize(), k}, fill))
		if err != nil {
			return in, err
		}
		if err := b.p.addLoss(term); err != nil {
			return in, err
		}
	}
	return in, nil
}

// unfolded returns in with its timesteps unfolded, one node each (the
// output layers read a sequence's outputs step by step).
func unfolded(b *Builder, in Value) (Value, error) {
	if in.Rows == nil {
		return in, nil
	}
	steps, err := b.StepsOf(in)
	return Value{Steps: steps, Mask: in.Mask, logp: in.logp}, err
}

// outputsOf makes in the network's outputs, one per sequence or one per
// timestep, and returns them.
func outputsOf(b *Builder, in Value) ([]*gorgonia.Node, error) {
	b.p.outputs = in.Steps
	if in.One != nil {
		b.p.outputs = []*gorgonia.Node{in.One}
	}
	if in.Steps != nil && len(in.Steps) != b.Steps() {
		return nil, errors.Errorf("%d output steps for %d input steps: a layer changed the number of timesteps, so that the outputs no longer match the targets of each timestep", len(in.Steps), b.Steps())
	}
	return b.p.outputs, nil
}

// ends reports whether sequence s of a batch ends in it: where a target of
// the whole sequence applies (in one chunk of a split batch).
func ends(bt *dataset.Batch, s int) bool { return bt.Ends == nil || bt.Ends[s] }

// stepWeight is the weight of timestep t of sequence s in a per-step loss:
// 1/L, L the sequence's real steps in the batch, at a real step; 0 at
// padding. A sequence's loss is then the mean over its real steps (MATLAB's
// 1/S Σ_t), whatever its length.
func stepWeight(bt *dataset.Batch, s, t int) float64 {
	if bt.Mask[s*bt.T+t] == 0 {
		return 0
	}
	return 1 / float64(bt.Lengths[s])
}

func init() {
	builtinKinds["classification-output"] = func(name string, fields Fields) (Layer, error) {
		return ClassificationOutput(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
