package nodes

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
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
// The statistics and sums are accumulated in float64 whatever x's dtype;
// float32 values are normalized, and their gradient computed, in float32
// (vecmath's kernels).
// Training takes one pass over x for the statistics (each frame's channel is
// summed and its squared deviations taken while it is in cache, and the
// frames' partial results combined exactly as a second pass over all of x
// would, with Chan's update) and one to normalize; the backward pass one
// for ∂L/∂γ and ∂L/∂β together and one for ∂L/∂x.
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
	op := &batchNormOp{opBase: opBase{len(args)}, state: state, phase: phase, dims: x.Dims(), dt: x.Dtype(), channels: c}
	return gorgonia.ApplyOp(op, args...)
}

type batchNormOp struct {
	opBase
	state *BatchNormState
	phase *Phase
	dims  int
	dt    tensor.Dtype
	// channels is C, the size of the scale and offset.
	channels int
	last     bnRun
}

// bnRun is what the backward pass needs of the last forward run, and the
// gradients of the scale and offset of the last backward pass.
type bnRun struct {
	training bool
	// mean and invStd are μ and 1/√(σ²+ε) of each channel.
	mean, invStd []float64
	// count is M; weights the frame weights, nil if every frame counted.
	count   float64
	weights []float64
	// dScale and dOffset are ∂L/∂γ and ∂L/∂β, []float64 or []float32 by
	// the op's dtype, nil before the first backward pass.
	dScale, dOffset any
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
	return op.UsePreallocDo(nil, vals...)
}

// UsePreallocDo writes y into prealloc when it can be reused (see
// reusable).
func (op *batchNormOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: batch norm", vals, op.arity)
	if err != nil {
		return nil, err
	}
	x, gamma, beta := materialize(ts[0]), materialize(ts[1]), materialize(ts[2])
	s := x.Shape()
	if len(s) < 2 || gamma.Shape().TotalSize() != s[1] || beta.Shape().TotalSize() != s[1] {
		return nil, errors.Errorf("nodes: batch norm: shapes %v, %v and %v", s, gamma.Shape(), beta.Shape())
	}
	n, c := s[0], s[1]
	if err := op.state.check(c); err != nil {
		return nil, errors.Wrap(err, "nodes: batch norm")
	}
	run := bnRun{training: !op.phase.Inference(), mean: make([]float64, c), invStd: make([]float64, c)}
	if op.arity == 4 && run.training {
		if run.weights, err = frameWeights(ts[3], n); err != nil {
			return nil, err
		}
	}
	if !run.training {
		copy(run.mean, op.state.Mean)
		for k, v := range op.state.Variance {
			if !(v >= 0) {
				return nil, errors.Errorf("nodes: batch norm: running variance of channel %d is %v", k, v)
			}
			run.invStd[k] = 1 / math.Sqrt(v+op.state.Epsilon)
		}
	}
	y := reusable(prealloc, x.Dtype(), s, ts)
	if y == nil {
		y = newDense(x.Dtype(), s)
	}
	dims := bnDims{n, c, s[2:].TotalSize()}
	if x.Dtype() == tensor.Float64 {
		err = bnForward(data[float64](x), data[float64](gamma), data[float64](beta), data[float64](y), &run, dims, op.state)
	} else {
		err = bnForward(data[float32](x), data[float32](gamma), data[float32](beta), data[float32](y), &run, dims, op.state)
	}
	if err != nil {
		return nil, err
	}
	run.dScale, run.dOffset = op.last.dScale, op.last.dOffset
	op.last = run
	return y, nil
}

// bnDims are the frames, channels and values per channel of a frame of a
// batch normalization's input.
type bnDims struct{ n, c, inner int }

// bnForward sets r's statistics (in training, updating st's running
// statistics) and y = γ·(x-μ)·invStd + β.
func bnForward[T float](x, gamma, beta, y []T, r *bnRun, d bnDims, st *BatchNormState) error {
	if r.training {
		if err := bnBatchStats(r, x, d, st); err != nil {
			return err
		}
	}
	for f := range d.n {
		for k := range d.c {
			i := (f*d.c + k) * d.inner
			normalize(y[i:i+d.inner], x[i:i+d.inner], r.mean[k], float64(gamma[k])*r.invStd[k], float64(beta[k]))
		}
	}
	return nil
}

// normalize sets y = (x-mu)·a + b, in float32 with vecmath.Normalize32 for
// float32 values.
func normalize[T float](y, x []T, mu, a, b float64) {
	if x32, ok := any(x).([]float32); ok {
		vecmath.Normalize32(any(y).([]float32), x32, float32(mu), float32(a), float32(b))
		return
	}
	y = y[:len(x)]
	for j, v := range x {
		y[j] = T((float64(v)-mu)*a + b)
	}
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

// counts reports whether frame f is in the statistics.
func (r *bnRun) counts(f int) bool { return r.weights == nil || r.weights[f] == 1 }

// bnBatchStats sets r's statistics to those of the frames of x with weight
// 1 and moves the running statistics of st towards them. Each frame's
// channel, a block of inner values, is summed and then its squared
// deviations from its own mean m_b taken while it is in cache; the blocks
// combine into the channel's sum of squares (Chan, Golub and LeVeque) as
//
//	Σ (x-μ)² = Σ_blocks [ Σ_block (x-m_b)² + inner·(m_b-μ)² ],
//
// which is as stable as a second pass over all of x and reads x once.
func bnBatchStats[T float](r *bnRun, x []T, d bnDims, st *BatchNormState) error {
	frames := 0
	for f := range d.n {
		if r.counts(f) {
			frames++
		}
	}
	m := frames * d.inner
	if m < 2 {
		return errors.Errorf("nodes: batch norm: training needs at least 2 values per channel, the %d frames of weight 1 have %d", frames, m)
	}
	r.count = float64(m)
	blockMean := make([]float64, d.n*d.c)
	squares := make([]float64, d.c)
	for f := range d.n {
		if !r.counts(f) {
			continue
		}
		for k := range d.c {
			i := (f*d.c + k) * d.inner
			blk := x[i : i+d.inner]
			sum := sumOf(blk)
			mb := sum / float64(d.inner)
			blockMean[f*d.c+k] = mb
			r.mean[k] += sum
			squares[k] += squaredDeviations(blk, mb)
		}
	}
	for k := range r.mean {
		r.mean[k] /= r.count
	}
	for f := range d.n {
		if !r.counts(f) {
			continue
		}
		for k, mu := range r.mean {
			dm := blockMean[f*d.c+k] - mu
			squares[k] += float64(d.inner) * dm * dm
		}
	}
	unbias := r.count / (r.count - 1)
	for k, sq := range squares {
		v := sq / r.count
		r.invStd[k] = 1 / math.Sqrt(v+st.Epsilon)
		st.Mean[k] = (1-st.MeanDecay)*st.Mean[k] + st.MeanDecay*r.mean[k]
		st.Variance[k] = (1-st.VarianceDecay)*st.Variance[k] + st.VarianceDecay*v*unbias
	}
	return nil
}

// sumOf returns Σ v in float64, with four running sums so that the adds do
// not wait on one another (vecmath.Sum32 for float32 values).
func sumOf[T float](v []T) float64 {
	if v32, ok := any(v).([]float32); ok {
		return vecmath.Sum32(v32)
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += float64(v[i])
		s1 += float64(v[i+1])
		s2 += float64(v[i+2])
		s3 += float64(v[i+3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// squaredDeviations returns Σ (v-m)² in float64, as sumOf.
func squaredDeviations[T float](v []T, m float64) float64 {
	if v32, ok := any(v).([]float32); ok {
		return vecmath.SquaredDeviations32(v32, m)
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		d0, d1, d2, d3 := float64(v[i])-m, float64(v[i+1])-m, float64(v[i+2])-m, float64(v[i+3])-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(v); i++ {
		d := float64(v[i]) - m
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func (op *batchNormOp) DiffWRT(n int) []bool {
	d := []bool{true, true, true}
	if n == 4 {
		d = append(d, false)
	}
	return d
}

// SymDiff computes ∂L/∂γ and ∂L/∂β in one op, which keeps them for
// layerGradOp to hand out, and ∂L/∂x in another, which reads them.
func (op *batchNormOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	sums, err := gorgonia.ApplyOp(bnSumsOp{opBase{2}, op}, in[0], grad)
	if err != nil {
		return nil, err
	}
	out := make(gorgonia.Nodes, len(in))
	for i := 1; i <= 2; i++ {
		if out[i], err = gorgonia.ApplyOp(layerGradOp{opBase{1}, op, i}, sums); err != nil {
			return nil, err
		}
	}
	out[0], err = gorgonia.ApplyOp(bnInputGradOp{opBase{4}, op}, in[0], in[1], grad, sums)
	return out, err
}

// The batch normalization is a fusedLayer whose scale and offset gradients
// layerGradOp hands out.
func (op *batchNormOp) dtype() tensor.Dtype { return op.dt }

func (op *batchNormOp) shape(int) tensor.Shape { return tensor.Shape{op.channels} }

func (op *batchNormOp) gradient(i int) any {
	if i == 1 {
		return op.last.dScale
	}
	return op.last.dOffset
}

// bnSumsOp computes ∂L/∂γ and ∂L/∂β of its forward op's last run out of
// (x, g) into the forward op's buffers, and returns a 1-element zero.
type bnSumsOp struct {
	opBase
	fwd *batchNormOp
}

func (op bnSumsOp) String() string        { return "d" + op.fwd.String() + "/dScale,dOffset" }
func (op bnSumsOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op bnSumsOp) Hashcode() uint32      { return hashOf(op) }
func (op bnSumsOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: op.fwd.dims, Of: op.fwd.dt}
	return hm.NewFnType(t, t, gorgonia.TensorType{Dims: 1, Of: op.fwd.dt})
}

func (op bnSumsOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1}, nil
}

func (op bnSumsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	x, g, d, err := op.fwd.gradArgs(op.String(), vals, 0, 1)
	if err != nil {
		return nil, err
	}
	r := &op.fwd.last
	if x.Dtype() == tensor.Float64 {
		bnSums(data[float64](x), data[float64](g), r, d)
	} else {
		bnSums(data[float32](x), data[float32](g), r, d)
	}
	return newDense(x.Dtype(), tensor.Shape{1}), nil
}

// gradArgs returns the inputs x and g of a gradient op, at indices ix and
// ig of vals, and their dimensions, checking them against the last forward
// run.
func (op *batchNormOp) gradArgs(name string, vals []gorgonia.Value, ix, ig int) (x, g *tensor.Dense, d bnDims, err error) {
	ts, err := denseArgs("nodes: "+name, vals, len(vals))
	if err != nil {
		return nil, nil, d, err
	}
	x, g = materialize(ts[ix]), materialize(ts[ig])
	s := x.Shape()
	if len(s) < 2 || !g.Shape().Eq(s) || len(op.last.mean) != s[1] {
		return nil, nil, d, errors.Errorf("nodes: %s: input %v, gradient %v, last forward run had %d channels", name, s, g.Shape(), len(op.last.mean))
	}
	return x, g, bnDims{s[0], s[1], s[2:].TotalSize()}, nil
}

// bnSums sets r.dScale to Σ g·x̂ and r.dOffset to Σ g over each channel,
// allocating them on first use.
func bnSums[T float](x, g []T, r *bnRun, d bnDims) {
	dScale, _ := r.dScale.([]T)
	dOffset, _ := r.dOffset.([]T)
	if len(dScale) != d.c {
		dScale, dOffset = make([]T, d.c), make([]T, d.c)
		r.dScale, r.dOffset = dScale, dOffset
	}
	sg, sgx := make([]float64, d.c), make([]float64, d.c)
	for f := range d.n {
		for k, mu := range r.mean {
			i := (f*d.c + k) * d.inner
			a, b := gradientSums(x[i:i+d.inner], g[i:i+d.inner], mu)
			sg[k] += a
			sgx[k] += b
		}
	}
	for k := range d.c {
		dOffset[k] = T(sg[k])
		dScale[k] = T(sgx[k] * r.invStd[k])
	}
}

// gradientSums returns Σ g and Σ g·(x-mu) in float64, with two running
// sums of each (vecmath.GradSums32 for float32 values).
func gradientSums[T float](x, g []T, mu float64) (sg, sgx float64) {
	if x32, ok := any(x).([]float32); ok {
		return vecmath.GradSums32(x32, any(g).([]float32), mu)
	}
	g = g[:len(x)]
	var a0, a1, b0, b1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		g0, g1 := float64(g[i]), float64(g[i+1])
		a0 += g0
		a1 += g1
		b0 += g0 * (float64(x[i]) - mu)
		b1 += g1 * (float64(x[i+1]) - mu)
	}
	if i < len(x) {
		a0 += float64(g[i])
		b0 += float64(g[i]) * (float64(x[i]) - mu)
	}
	return a0 + a1, b0 + b1
}

// bnInputGradOp computes ∂L/∂x out of (x, γ, g, token), the token ordering
// it after the bnSumsOp whose sums it reads.
type bnInputGradOp struct {
	opBase
	fwd *batchNormOp
}

func (op bnInputGradOp) String() string        { return "d" + op.fwd.String() + "/dx" }
func (op bnInputGradOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op bnInputGradOp) Hashcode() uint32      { return hashOf(op) }
func (op bnInputGradOp) Type() hm.Type {
	t, v := gorgonia.TensorType{Dims: op.fwd.dims, Of: op.fwd.dt}, gorgonia.TensorType{Dims: 1, Of: op.fwd.dt}
	return hm.NewFnType(t, v, t, v, t)
}

func (op bnInputGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	return s.Clone(), err
}

func (op bnInputGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.UsePreallocDo(nil, vals...)
}

// UsePreallocDo writes ∂L/∂x into prealloc when it can be reused (see
// reusable).
func (op bnInputGradOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	x, g, d, err := op.fwd.gradArgs(op.String(), vals, 0, 2)
	if err != nil {
		return nil, err
	}
	gamma := materialize(vals[1].(*tensor.Dense))
	r := &op.fwd.last
	if gamma.Shape().TotalSize() != d.c || r.dScale == nil {
		return nil, errors.Errorf("nodes: %v: scale of shape %v for %d channels, or no gradient sums", op, gamma.Shape(), d.c)
	}
	dx := reusable(prealloc, x.Dtype(), x.Shape(), []*tensor.Dense{x, gamma, g})
	if dx == nil {
		dx = newDense(x.Dtype(), x.Shape())
	}
	if x.Dtype() == tensor.Float64 {
		bnInputGrad(data[float64](x), data[float64](gamma), data[float64](g), data[float64](dx), r, d)
	} else {
		bnInputGrad(data[float32](x), data[float32](gamma), data[float32](g), data[float32](dx), r, d)
	}
	return dx, nil
}

// bnInputGrad sets dx = γ·invStd·(g - w·(dβ + x̂·dγ)/M) in training and
// γ·invStd·g in inference.
func bnInputGrad[T float](x, gamma, g, dx []T, r *bnRun, d bnDims) {
	dScale, dOffset := r.dScale.([]T), r.dOffset.([]T)
	for f := range d.n {
		w := 0.0
		if r.training && r.counts(f) {
			w = 1 / r.count
		}
		for k := range d.c {
			i := (f*d.c + k) * d.inner
			a, mu, is := float64(gamma[k])*r.invStd[k], r.mean[k], r.invStd[k]
			cb, cx := a*w*float64(dOffset[k]), a*w*float64(dScale[k])*is
			xs, gs, dxs := x[i:i+d.inner], g[i:i+d.inner], dx[i:i+d.inner]
			if x32, ok := any(xs).([]float32); ok {
				vecmath.NormalizeGrad32(any(dxs).([]float32), any(gs).([]float32), x32, float32(a), float32(-cx), float32(mu), float32(-cb))
				continue
			}
			for j, v := range xs {
				dxs[j] = T(a*float64(gs[j]) - cb - cx*(float64(v)-mu))
			}
		}
	}
}
