package graph

import (
	"math"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// CheckGradients compares the gradients that a training step of net
// computes on the batch b with central finite differences of the loss,
//
//	∂L/∂w_i ≈ (L(w_i + h) - L(w_i - h)) / 2h,   h = 1e-6,
//
// for every element of every learnable, and returns the element with the
// largest relative error |tape - numeric| / max(|tape|, |numeric|, 1e-3).
// It checks any network, layers of your own included: a correct one stays
// below about 1e-6. net must compute in float64 (WithDtype(tensor.Float64))
// and is left as it was: learnables, batch normalization's running
// statistics and the state carried between chunks. Every element costs two
// training steps, so check small networks.
func CheckGradients(net *Network, b *dataset.Batch) (nodes.GradientMismatch, error) {
	var worst nodes.GradientMismatch
	if net == nil || net.dtype != tensor.Float64 {
		return worst, errors.New("graph: gradient check: want a float64 network (WithDtype(tensor.Float64))")
	}
	defer net.keepTrainingState()()
	var tape gradientRecorder
	if _, err := net.TrainStep(b, &tape); err != nil {
		return worst, errors.Wrap(err, "graph: gradient check")
	}
	const h = 1e-6
	for _, name := range net.Learnables() {
		vals, _ := net.Learnable(name)
		for i, orig := range vals {
			numeric, err := centralDifference(net, b, name, vals, i, h)
			vals[i] = orig
			if err := errors.Wrap(net.SetLearnable(name, vals), "graph: gradient check"); err != nil {
				return worst, err
			}
			if err != nil {
				return worst, err
			}
			got := tape.grads[name][i]
			rel := math.Abs(numeric-got) / math.Max(1e-3, math.Max(math.Abs(numeric), math.Abs(got)))
			if rel > worst.Relative || worst.Node == "" {
				worst = nodes.GradientMismatch{Node: name, Index: i, Tape: got, Numeric: numeric, Relative: rel}
			}
		}
	}
	return worst, nil
}

// keepTrainingState saves what a training step changes besides the
// learnables, the running statistics of batch normalization and the state
// carried to a next chunk, and returns the function that restores it.
func (n *Network) keepTrainingState() (restore func()) {
	stats := make(map[string][2][]float64, len(n.batchNorm))
	for name, st := range n.batchNorm {
		stats[name] = [2][]float64{slices.Clone(st.Mean), slices.Clone(st.Variance)}
	}
	carried := n.train
	return func() {
		for name, s := range stats {
			copy(n.batchNorm[name].Mean, s[0])
			copy(n.batchNorm[name].Variance, s[1])
		}
		n.train = carried
	}
}

// centralDifference returns (L(w_i + h) - L(w_i - h)) / 2h for element i of
// the learnable called name, whose values are vals; it leaves vals[i]
// changed.
func centralDifference(net *Network, b *dataset.Batch, name string, vals []float64, i int, h float64) (float64, error) {
	orig := vals[i]
	var loss [2]float64
	for k, v := range []float64{orig + h, orig - h} {
		vals[i] = v
		if err := net.SetLearnable(name, vals); err != nil {
			return 0, errors.Wrap(err, "graph: gradient check")
		}
		l, err := net.TrainStep(b, &gradientRecorder{})
		if err != nil {
			return 0, errors.Wrap(err, "graph: gradient check")
		}
		loss[k] = l
	}
	return (loss[0] - loss[1]) / (2 * h), nil
}

// gradientRecorder is a solver that keeps a copy of the gradients it is
// given, by learnable, and zeroes them without changing any learnable.
type gradientRecorder struct{ grads map[string][]float64 }

func (r *gradientRecorder) Step(vgs []gorgonia.ValueGrad) error {
	r.grads = make(map[string][]float64, len(vgs))
	for _, vg := range vgs {
		g, err := vg.Grad()
		if err != nil {
			return err
		}
		d := g.(*tensor.Dense)
		r.grads[vg.(interface{ Name() string }).Name()] = appendFloat64s(nil, d)
		d.Zero()
	}
	return nil
}
