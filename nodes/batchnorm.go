package nodes

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNormState holds the running statistics of one batch normalization,
// MATLAB's TrainedMean and TrainedVariance, with the constants that update
// and use them. Every graph built for the layer shares one state, as they
// share the layer's learnables in Params; the state is part of a trained
// network and must be saved with it.
//
// A BatchNormState is not safe for concurrent use: each training run of a
// graph that uses it writes Mean and Variance.
type BatchNormState struct {
	// Mean and Variance are the running mean and variance of each channel,
	// used in inference.
	Mean, Variance []float64

	// MeanDecay and VarianceDecay weigh each training batch in the running
	// statistics (MATLAB's MeanDecay and VarianceDecay):
	//
	//	Mean     ← (1-MeanDecay)·Mean + MeanDecay·μ
	//	Variance ← (1-VarianceDecay)·Variance + VarianceDecay·σ²·M/(M-1)
	//
	// where μ and σ² are the batch mean and (biased) variance of M values.
	MeanDecay, VarianceDecay float64

	// Epsilon is added to the variance before its square root is taken.
	Epsilon float64
}

// NewBatchNormState returns the state of a batch normalization of the given
// number of channels with MATLAB's defaults: running mean 0, running
// variance 1, both decays 0.1 and Epsilon 1e-5.
func NewBatchNormState(channels int) (*BatchNormState, error) {
	if channels <= 0 {
		return nil, errors.Errorf("nodes: batch norm state: %d channels", channels)
	}
	s := &BatchNormState{
		Mean:      make([]float64, channels),
		Variance:  make([]float64, channels),
		MeanDecay: 0.1, VarianceDecay: 0.1,
		Epsilon: 1e-5,
	}
	for i := range s.Variance {
		s.Variance[i] = 1
	}
	return s, nil
}

// check reports what makes s unusable for c channels.
func (s *BatchNormState) check(c int) error {
	switch {
	case s == nil:
		return errors.New("nil state")
	case len(s.Mean) != c || len(s.Variance) != c:
		return errors.Errorf("state has %d means and %d variances for %d channels", len(s.Mean), len(s.Variance), c)
	case !(s.MeanDecay >= 0 && s.MeanDecay <= 1) || !(s.VarianceDecay >= 0 && s.VarianceDecay <= 1):
		return errors.Errorf("decays %v and %v are outside [0, 1]", s.MeanDecay, s.VarianceDecay)
	case !(s.Epsilon > 0):
		return errors.Errorf("epsilon %v is not positive", s.Epsilon)
	}
	return nil
}

// NewBatchNormParams binds the learnables of the batch normalization called
// name in graph g, creating them in p on first use: the scale γ,
// name+"/Scale", initialized to ones, and the offset β, name+"/Offset",
// initialized to zeros, each a vector of channels values (MATLAB's Scale and
// Offset).
func NewBatchNormParams(g *gorgonia.ExprGraph, p *Params, name string, channels int) (scale, offset *gorgonia.Node, err error) {
	if p == nil {
		return nil, nil, errors.Errorf("nodes: batch norm %q: nil params", name)
	}
	if channels <= 0 {
		return nil, nil, errors.Errorf("nodes: batch norm %q: %d channels", name, channels)
	}
	if scale, err = p.Node(g, name+"/Scale", tensor.Shape{channels}, Ones()); err != nil {
		return nil, nil, err
	}
	if offset, err = p.Node(g, name+"/Offset", tensor.Shape{channels}, Zeros()); err != nil {
		return nil, nil, err
	}
	return scale, offset, nil
}

// BatchNorm normalizes each channel of x, [N, C, H, W] images or any
// [N, C, ...] tensor ([N, C] normalizes each feature), and scales and shifts
// it with the learnables scale γ and offset β, vectors of C values:
//
//	y[n, c, …] = γ[c]·(x[n, c, …] - μ[c]) / √(σ²[c] + ε) + β[c]
//
// In training (phase nil or not in inference) μ and σ² are the mean and
// biased variance of channel c over the M values of the frames with weight
// 1,
//
//	μ = Σ w[n]·x[n, c, …] / M,  σ² = Σ w[n]·(x[n, c, …] - μ)² / M,  M = Σ w[n]·H·W,
//
// and each training run moves state's running statistics towards them (see
// BatchNormState). The running variance takes the unbiased batch variance
// σ²·M/(M-1), as PyTorch documents for its BatchNorm2d; MATLAB's
// documentation does not say which it uses. In inference μ and σ² are the
// running statistics and state is left alone. Training on fewer than 2
// values per channel is an error, as in PyTorch.
//
// weights is nil (every frame counts) or a vector of N values, each 0 or 1:
// the padding frames of padded sequences get 0 (for FoldSequence's output,
// weight t·B+b is the mask of sequence b at timestep t), so that they
// change neither the statistics nor, through them, any other frame's output
// or gradient.
// Their own outputs are still computed, normalized with the statistics of
// the real frames; their values must be finite (zeros, say), since their
// outputs reach ∂L/∂γ even where ∂L/∂y is 0. Inference ignores weights.
//
// The gradient is the full one through the batch statistics in training,
// with g = ∂L/∂y, x̂ = (x-μ)/√(σ²+ε) and sums over every frame and position
// of channel c:
//
//	∂L/∂β = Σ g,  ∂L/∂γ = Σ g·x̂,
//	∂L/∂x = γ/√(σ²+ε) · (g - w[n]·(∂L/∂β + x̂·∂L/∂γ)/M),
//
// and the affine γ/√(σ²+ε)·g in inference. A padding frame's x has no part
// in the statistics and gets γ/√(σ²+ε)·g alone.
//
// The statistics are computed in float64 whatever x's dtype.
func BatchNorm(x, scale, offset *gorgonia.Node, state *BatchNormState, phase *Phase, weights *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || scale == nil || offset == nil {
		return nil, errors.New("nodes: batch norm: nil input, scale or offset")
	}
	if x.Dims() < 2 {
		return nil, errors.Errorf("nodes: batch norm: input %v is not [N, C, ...]", x.Shape())
	}
	n, c := x.Shape()[0], x.Shape()[1]
	for _, v := range []*gorgonia.Node{scale, offset} {
		if v.Dims() != 1 || v.Shape()[0] != c || v.Dtype() != x.Dtype() {
			return nil, errors.Errorf("nodes: batch norm: scale and offset must be vectors of %d %v, got %v of %v",
				c, x.Dtype(), v.Shape(), v.Dtype())
		}
	}
	if err := state.check(c); err != nil {
		return nil, errors.Wrap(err, "nodes: batch norm")
	}
	args := []*gorgonia.Node{x, scale, offset}
	if weights != nil {
		if weights.Dims() != 1 || weights.Shape()[0] != n || weights.Dtype() != x.Dtype() {
			return nil, errors.Errorf("nodes: batch norm: frame weights must be a vector of %d %v, got %v of %v",
				n, x.Dtype(), weights.Shape(), weights.Dtype())
		}
		args = append(args, weights)
	}
	op := &batchNormOp{opBase: opBase{len(args)}, state: state, phase: phase, dims: x.Dims(), dt: x.Dtype()}
	return gorgonia.ApplyOp(op, args...)
}

type batchNormOp struct {
	opBase
	state *BatchNormState
	phase *Phase
	dims  int
	dt    tensor.Dtype
	last  bnRun
}

// bnRun is what the backward pass needs of the last forward run.
type bnRun struct {
	training bool
	// mean and invStd are μ and 1/√(σ²+ε) of each channel.
	mean, invStd []float64
	// count is M; weights the frame weights, nil if every frame counted.
	count   float64
	weights []float64
}

// String names the state: two normalizations of one input that keep
// different running statistics must not hash alike, or Gorgonia would merge
// them and one state would never learn.
func (op *batchNormOp) String() string        { return fmt.Sprintf("BatchNorm{%p}", op.state) }
func (op *batchNormOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op *batchNormOp) Hashcode() uint32      { return hashOf(op) }
func (op *batchNormOp) Type() hm.Type {
	t, v := gorgonia.TensorType{Dims: op.dims, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	ts := []hm.Type{t, v, v}
	if op.arity == 4 {
		ts = append(ts, v)
	}
	return hm.NewFnType(append(ts, t)...)
}

func (op *batchNormOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op *batchNormOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: batch norm", vals, op.arity)
	if err != nil {
		return nil, err
	}
	x, gamma, beta := materialize(ts[0]), materialize(ts[1]), materialize(ts[2])
	s := x.Shape()
	if len(s) < 2 || gamma.Shape().TotalSize() != s[1] || beta.Shape().TotalSize() != s[1] {
		return nil, errors.Errorf("nodes: batch norm: shapes %v, %v and %v", s, gamma.Shape(), beta.Shape())
	}
	n, c, inner := s[0], s[1], s[2:].TotalSize()
	if err := op.state.check(c); err != nil {
		return nil, errors.Wrap(err, "nodes: batch norm")
	}
	run := bnRun{training: !op.phase.Inference(), mean: make([]float64, c), invStd: make([]float64, c)}
	if op.arity == 4 && run.training {
		if run.weights, err = frameWeights(ts[3], n); err != nil {
			return nil, err
		}
	}
	xs := asFloat64(x)
	if run.training {
		if err := run.batchStats(xs, n, c, inner, op.state); err != nil {
			return nil, err
		}
	} else {
		copy(run.mean, op.state.Mean)
		for k, v := range op.state.Variance {
			if !(v >= 0) {
				return nil, errors.Errorf("nodes: batch norm: running variance of channel %d is %v", k, v)
			}
			run.invStd[k] = 1 / math.Sqrt(v+op.state.Epsilon)
		}
	}
	y := newDense(x.Dtype(), s)
	switch x.Dtype() {
	case tensor.Float64:
		normalize(xs, data[float64](gamma), data[float64](beta), data[float64](y), &run, inner)
	default:
		normalize(xs, data[float32](gamma), data[float32](beta), data[float32](y), &run, inner)
	}
	op.last = run
	return y, nil
}

// asFloat64 returns the values of a contiguous dense tensor as float64: its
// own backing slice when it is float64, which callers must not modify, and
// a converted copy when it is float32.
func asFloat64(d *tensor.Dense) []float64 {
	if v, ok := d.Data().([]float64); ok {
		return v
	}
	return toFloat64(d)
}

// frameWeights returns the frame weights as float64, checking that there are
// n of them and each is 0 or 1.
func frameWeights(w *tensor.Dense, n int) ([]float64, error) {
	ws := toFloat64(w)
	if len(ws) != n {
		return nil, errors.Errorf("nodes: batch norm: %d frame weights for %d frames", len(ws), n)
	}
	for i, v := range ws {
		if v != 0 && v != 1 {
			return nil, errors.Errorf("nodes: batch norm: frame weight %d is %v, want 0 or 1", i, v)
		}
	}
	return ws, nil
}

// batchStats sets r's statistics to those of the frames of xs with weight 1
// and moves the running statistics of st towards them.
func (r *bnRun) batchStats(xs []float64, n, c, inner int, st *BatchNormState) error {
	frames := n
	if r.weights != nil {
		frames = 0
		for _, w := range r.weights {
			frames += int(w)
		}
	}
	m := frames * inner
	if m < 2 {
		return errors.Errorf("nodes: batch norm: training needs at least 2 values per channel, the %d frames of weight 1 have %d", frames, m)
	}
	r.count = float64(m)
	counts := func(f int) bool { return r.weights == nil || r.weights[f] == 1 }
	for f := range n {
		if !counts(f) {
			continue
		}
		for k := range c {
			for _, v := range xs[(f*c+k)*inner : (f*c+k+1)*inner] {
				r.mean[k] += v
			}
		}
	}
	for k := range r.mean {
		r.mean[k] /= r.count
	}
	// Two passes, so that a large mean does not cancel the variance away.
	variance := make([]float64, c)
	for f := range n {
		if !counts(f) {
			continue
		}
		for k, mu := range r.mean {
			for _, v := range xs[(f*c+k)*inner : (f*c+k+1)*inner] {
				variance[k] += (v - mu) * (v - mu)
			}
		}
	}
	unbias := r.count / (r.count - 1)
	for k, v := range variance {
		v /= r.count
		r.invStd[k] = 1 / math.Sqrt(v+st.Epsilon)
		st.Mean[k] = (1-st.MeanDecay)*st.Mean[k] + st.MeanDecay*r.mean[k]
		st.Variance[k] = (1-st.VarianceDecay)*st.Variance[k] + st.VarianceDecay*v*unbias
	}
	return nil
}

// normalize sets y = γ·(x-μ)·invStd + β channel by channel.
func normalize[T float](xs []float64, gamma, beta, y []T, r *bnRun, inner int) {
	c := len(gamma)
	for i := 0; i < len(xs); {
		for k := range c {
			a, mu, b := float64(gamma[k])*r.invStd[k], r.mean[k], float64(beta[k])
			for end := i + inner; i < end; i++ {
				y[i] = T((xs[i]-mu)*a + b)
			}
		}
	}
}

func (op *batchNormOp) DiffWRT(n int) []bool {
	d := []bool{true, true, true}
	if n == 4 {
		d = append(d, false)
	}
	return d
}

func (op *batchNormOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dBeta, err := channelSum(grad)
	if err != nil {
		return nil, err
	}
	dGamma, err := gorgonia.ApplyOp(bnGradOp{opBase{2}, op, false}, in[0], grad)
	if err != nil {
		return nil, err
	}
	dx, err := gorgonia.ApplyOp(bnGradOp{opBase{5}, op, true}, in[0], in[1], grad, dGamma, dBeta)
	if err != nil {
		return nil, err
	}
	out := gorgonia.Nodes{dx, dGamma, dBeta}
	if len(in) == 4 {
		out = append(out, nil)
	}
	return out, nil
}

// bnGradOp computes, with the statistics of its forward op's last run, ∂L/∂γ
// out of (x, g), or ∂L/∂x out of (x, γ, g, ∂L/∂γ, ∂L/∂β).
type bnGradOp struct {
	opBase
	fwd *batchNormOp
	dx  bool
}

func (op bnGradOp) String() string {
	if op.dx {
		return "d" + op.fwd.String() + "/dx"
	}
	return "d" + op.fwd.String() + "/dScale"
}
func (op bnGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op bnGradOp) Hashcode() uint32      { return hashOf(op) }
func (op bnGradOp) Type() hm.Type {
	t, v := gorgonia.TensorType{Dims: op.fwd.dims, Of: op.fwd.dt}, gorgonia.TensorType{Dims: 1, Of: op.fwd.dt}
	if op.dx {
		return hm.NewFnType(t, v, t, v, v, t)
	}
	return hm.NewFnType(t, t, v)
}

func (op bnGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if op.dx {
		return s.Clone(), nil
	}
	return tensor.Shape{s[1]}, nil
}

func (op bnGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	name := "nodes: " + op.String()
	ts, err := denseArgs(name, vals, op.arity)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i] = materialize(ts[i])
	}
	x := ts[0]
	g := ts[1]
	if op.dx {
		g = ts[2]
	}
	s := x.Shape()
	r := &op.fwd.last
	if len(s) < 2 || !g.Shape().Eq(s) || len(r.mean) != s[1] {
		return nil, errors.Errorf("%s: input %v, gradient %v, last forward run had %d channels", name, s, g.Shape(), len(r.mean))
	}
	if op.dx {
		for i, v := range []*tensor.Dense{ts[1], ts[3], ts[4]} {
			if v.Shape().TotalSize() != s[1] {
				return nil, errors.Errorf("%s: per-channel input %d has shape %v for %d channels", name, i, v.Shape(), s[1])
			}
		}
	}
	out, _ := op.InferShape(s)
	d := newDense(x.Dtype(), out)
	xs, inner := asFloat64(x), s[2:].TotalSize()
	switch x.Dtype() {
	case tensor.Float64:
		if op.dx {
			bnInputGrad(xs, data[float64](ts[1]), data[float64](g), data[float64](ts[3]), data[float64](ts[4]), data[float64](d), r, inner)
		} else {
			bnScaleGrad(xs, data[float64](g), data[float64](d), r, inner)
		}
	default:
		if op.dx {
			bnInputGrad(xs, data[float32](ts[1]), data[float32](g), data[float32](ts[3]), data[float32](ts[4]), data[float32](d), r, inner)
		} else {
			bnScaleGrad(xs, data[float32](g), data[float32](d), r, inner)
		}
	}
	return d, nil
}

// bnScaleGrad sets dGamma[k] = Σ g·x̂ over channel k.
func bnScaleGrad[T float](xs []float64, g, dGamma []T, r *bnRun, inner int) {
	acc := make([]float64, len(dGamma))
	for i := 0; i < len(xs); {
		for k := range acc {
			mu, is := r.mean[k], r.invStd[k]
			for end := i + inner; i < end; i++ {
				acc[k] += float64(g[i]) * (xs[i] - mu) * is
			}
		}
	}
	for k, v := range acc {
		dGamma[k] = T(v)
	}
}

// bnInputGrad sets dx = γ·invStd·(g - w·(dβ + x̂·dγ)/M) in training and
// γ·invStd·g in inference.
func bnInputGrad[T float](xs []float64, gamma, g, dGamma, dBeta, dx []T, r *bnRun, inner int) {
	c := len(gamma)
	for i := 0; i < len(xs); {
		f := i / (c * inner)
		w := 0.0
		if r.training && (r.weights == nil || r.weights[f] == 1) {
			w = 1 / r.count
		}
		for k := range c {
			a, mu, is := float64(gamma[k])*r.invStd[k], r.mean[k], r.invStd[k]
			db, dg := float64(dBeta[k]), float64(dGamma[k])
			for end := i + inner; i < end; i++ {
				dx[i] = T(a * (float64(g[i]) - w*(db+(xs[i]-mu)*is*dg)))
			}
		}
	}
}
