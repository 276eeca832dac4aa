package graph

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// regressionOutput is the half mean squared error.
type regressionOutput struct{ base }

// RegressionOutput is MATLAB's regressionLayer: the half squared error
// summed over the responses (not divided by their number) and averaged over
// the mini-batch; with responses per timestep, each sequence's error is
// averaged over its real timesteps first, 1/(2S) Σ_t Σ_r (y - t)². It comes
// last.
func RegressionOutput(opts ...LayerOption) Layer {
	o, err := declare("Regression Output", opts)
	return &regressionOutput{newBase("regression-output", "Regression Output", "regressionoutput", o, err)}
}

func (l *regressionOutput) Spec() LayerSpec  { return l.spec(nil) }
func (l *regressionOutput) classifies() bool { return false }

func (l *regressionOutput) Output(in Shape) (Shape, error) {
	if !in.plain() {
		return Shape{}, plainFeatures(in)
	}
	return in, nil
}

// Build reads the outputs and, in a training graph, adds the loss
// (1/(2B)) Σ_b Σ_r (y' - t)² summed over the timesteps, where
// y' = Masked(y, t, √w) = √w·y + (1-√w)·t, so that (y' - t)² = w·(y - t)²
// with the weights w of stepWeight (and, with one response per sequence, 1
// in the chunk where the sequence ends). Where w is 0 the prediction is the
// target itself, copied: no loss and no gradient, even from NaN.
func (l *regressionOutput) Build(b *Builder, in Value) (Value, error) {
	in, err := unfolded(b, in)
	if err != nil {
		return in, err
	}
	outs, err := outputsOf(b, in)
	if err != nil || !b.Training() {
		return in, err
	}
	r, batch := b.In().Features, b.BatchSize()
	for t, out := range outs {
		name, fill := "target", func(bt *dataset.Batch, i int) float64 { return bt.Responses[i] }
		wName, weight := "target/weight", func(bt *dataset.Batch, s int) float64 {
			if ends(bt, s) {
				return 1
			}
			return 0
		}
		if in.Steps != nil {
			name, fill = fmt.Sprintf("target/t%d", t), func(bt *dataset.Batch, i int) float64 { return bt.StepResponses[((i/r)*bt.T+t)*r+i%r] }
			wName, weight = fmt.Sprintf("target/weight/t%d", t), func(bt *dataset.Batch, s int) float64 { return math.Sqrt(stepWeight(bt, s, t)) }
		}
		target := b.Input(name, []int{batch, r}, fill)
		y, err := nodes.Masked(out, target, b.Input(wName, []int{batch}, weight))
		if err != nil {
			return in, err
		}
		term, err := nodes.HalfMeanSquaredError(y, target)
		if err != nil {
			return in, err
		}
		if err := b.p.addLoss(term); err != nil {
			return in, err
		}
	}
	return in, nil
}

// addLoss adds a term to the program's loss.
func (p *program) addLoss(term *gorgonia.Node) error {
	if p.loss == nil {
		p.loss = term
		return nil
	}
	var err error
	p.loss, err = gorgonia.Add(p.loss, term)
	return err
}

func init() {
	builtinKinds["regression-output"] = func(name string, fields Fields) (Layer, error) {
		return RegressionOutput(decodeName(name)...), fields.Decode(&struct{}{})
	}
}
