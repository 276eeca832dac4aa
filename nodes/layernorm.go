package nodes

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNormEpsilon is MATLAB's default Epsilon of layerNormalizationLayer,
// and PyTorch's default eps of nn.LayerNorm.
const LayerNormEpsilon = 1e-5

// LayerNorm normalizes each row of x, an N×C matrix, over its C channels,
// and scales and shifts it with the learnables scale γ and offset β,
// vectors of C values:
//
//	μ_r = (1/C)·Σ_c x[r, c],   σ²_r = (1/C)·Σ_c (x[r, c] - μ_r)²  (biased)
//	x̂[r, c] = (x[r, c] - μ_r) / √(σ²_r + ε)
//	y[r, c] = γ[c]·x̂[r, c] + β[c]
//
// This is PyTorch's nn.LayerNorm(C) on a [B, T, C] batch. For sequences
// folded time-major ((T·B)×C, row t·B+b is step t of sequence b) it
// normalizes every step of every sequence on its own, so padding steps
// change no real step's output, and a padding row (zeros, say) stays finite
// (its x̂ is 0 when the row is constant); its output is to be masked by
// what follows.
//
// MATLAB's layerNormalizationLayer documentation of R2021a says the mean and
// variance are computed over the spatial, time and channel dimensions of
// each observation, which for "CBT" sequence data would be over all C·T
// values of a sequence; later releases give the layer an
// OperationDimension property, whose "channel-only" choice is what this op
// computes. Per-step normalization over channels is the choice here because
// it is the one PyTorch makes and the one padded batches allow without
// letting the padding into the statistics. ε is MATLAB's Epsilon
// (LayerNormEpsilon by default) and must be positive.
//
// The gradients, with g = ∂L/∂y and ĝ[r, c] = g[r, c]·γ[c], are
//
//	∂L/∂β[c] = Σ_r g[r, c],   ∂L/∂γ[c] = Σ_r g[r, c]·x̂[r, c]
//	∂L/∂x[r, c] = (ĝ[r, c] - mean_c ĝ[r, ·] - x̂[r, c]·mean_c(ĝ[r, ·]·x̂[r, ·])) / √(σ²_r + ε)
//
// The statistics are computed in float64 whatever x's dtype.
func LayerNorm(x, scale, offset *gorgonia.Node, epsilon float64) (*gorgonia.Node, error) {
	if x == nil || scale == nil || offset == nil {
		return nil, errors.New("nodes: layer norm: nil input, scale or offset")
	}
	if x.Dims() != 2 {
		return nil, errors.Errorf("nodes: layer norm: input %v is not an N×C matrix", x.Shape())
	}
	n, c := x.Shape()[0], x.Shape()[1]
	if err := isVectorOf(scale, c, x.Dtype()); err != nil {
		return nil, errors.Wrap(err, "nodes: layer norm: scale")
	}
	if err := isVectorOf(offset, c, x.Dtype()); err != nil {
		return nil, errors.Wrap(err, "nodes: layer norm: offset")
	}
	if !(epsilon > 0) || math.IsInf(epsilon, 1) {
		return nil, errors.Errorf("nodes: layer norm: epsilon %v is not a positive number", epsilon)
	}
	return applyKernel(layerNormKernel{n, c, epsilon}, x, scale, offset)
}

// isVectorOf reports what keeps v from being a vector of n values of dtype
// dt.
func isVectorOf(v *gorgonia.Node, n int, dt tensor.Dtype) error {
	if v.Dims() != 1 || v.Shape()[0] != n || v.Dtype() != dt {
		return errors.Errorf("%v of %v is not a vector of %d %v", v.Shape(), v.Dtype(), n, dt)
	}
	return nil
}

// layerNormKernel computes LayerNorm: (x, γ, β) → y.
type layerNormKernel struct {
	rows, channels int
	eps            float64
}

func (k layerNormKernel) String() string {
	return fmt.Sprintf("LayerNorm{N=%d,C=%d,eps=%g}", k.rows, k.channels, k.eps)
}

func (k layerNormKernel) dims() []int { return []int{2, 1, 1, 2} }

func (k layerNormKernel) xShape() tensor.Shape { return tensor.Shape{k.rows, k.channels} }
func (k layerNormKernel) vShape() tensor.Shape { return tensor.Shape{k.channels} }

func (k layerNormKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	return k.xShape(), checkShapes(k.String(), in, k.xShape(), k.vShape(), k.vShape())
}

func (k layerNormKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k, in, out, layerNormForward[float64], layerNormForward[float32])
}

// normalizeRow sets xh to the normalized row x and returns 1/√(σ²+ε).
func normalizeRow[T float](x []T, xh []float64, eps float64) float64 {
	var mu, v float64
	for _, a := range x {
		mu += float64(a)
	}
	mu /= float64(len(x))
	for i, a := range x {
		xh[i] = float64(a) - mu
		v += xh[i] * xh[i]
	}
	inv := 1 / math.Sqrt(v/float64(len(x))+eps)
	for i := range xh {
		xh[i] *= inv
	}
	return inv
}

func layerNormForward[T float](k layerNormKernel, in [][]T, y []T) error {
	x, gamma, beta := in[0], in[1], in[2]
	c := k.channels
	xh := make([]float64, c)
	for r := range k.rows {
		normalizeRow(x[r*c:(r+1)*c], xh, k.eps)
		for j, v := range xh {
			y[r*c+j] = T(v*float64(gamma[j]) + float64(beta[j]))
		}
	}
	return nil
}

func (k layerNormKernel) diffWRT() []bool { return []bool{true, true, true} }

func (k layerNormKernel) grad(in gorgonia.Nodes, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := applyKernel(layerNormGradKernel{k, true}, in[0], in[1], g)
	if err != nil {
		return nil, err
	}
	dGamma, err := applyKernel(layerNormGradKernel{k, false}, in[0], g)
	if err != nil {
		return nil, err
	}
	dBeta, err := channelSum(g)
	return gorgonia.Nodes{dx, dGamma, dBeta}, err
}

// layerNormGradKernel computes a gradient of LayerNorm from the gradient g
// of its output: of x out of (x, γ, g) when dx is set, of γ out of (x, g)
// otherwise.
type layerNormGradKernel struct {
	ln layerNormKernel
	dx bool
}

func (k layerNormGradKernel) String() string {
	if k.dx {
		return fmt.Sprintf("d%v/dx", k.ln)
	}
	return fmt.Sprintf("d%v/dScale", k.ln)
}

func (k layerNormGradKernel) dims() []int {
	if k.dx {
		return []int{2, 1, 2, 2}
	}
	return []int{2, 2, 1}
}

func (k layerNormGradKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	x := k.ln.xShape()
	if k.dx {
		return x, checkShapes(k.String(), in, x, k.ln.vShape(), x)
	}
	return k.ln.vShape(), checkShapes(k.String(), in, x, x)
}

func (k layerNormGradKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	if k.dx {
		return dispatch(k.ln, in, out, layerNormInputGrad[float64], layerNormInputGrad[float32])
	}
	return dispatch(k.ln, in, out, layerNormScaleGrad[float64], layerNormScaleGrad[float32])
}

// layerNormScaleGrad sets dGamma[c] = Σ_r g[r, c]·x̂[r, c].
func layerNormScaleGrad[T float](k layerNormKernel, in [][]T, dGamma []T) error {
	x, g := in[0], in[1]
	c := k.channels
	xh, acc := make([]float64, c), make([]float64, c)
	for r := range k.rows {
		normalizeRow(x[r*c:(r+1)*c], xh, k.eps)
		for j, v := range xh {
			acc[j] += float64(g[r*c+j]) * v
		}
	}
	for j, v := range acc {
		dGamma[j] = T(v)
	}
	return nil
}

// layerNormInputGrad sets dx row by row from ĝ = g·γ.
func layerNormInputGrad[T float](k layerNormKernel, in [][]T, dx []T) error {
	x, gamma, g := in[0], in[1], in[2]
	c := k.channels
	xh, gh := make([]float64, c), make([]float64, c)
	for r := range k.rows {
		inv := normalizeRow(x[r*c:(r+1)*c], xh, k.eps)
		var mg, mgx float64
		for j := range gh {
			gh[j] = float64(g[r*c+j]) * float64(gamma[j])
			mg += gh[j]
			mgx += gh[j] * xh[j]
		}
		mg /= float64(c)
		mgx /= float64(c)
		for j := range gh {
			dx[r*c+j] = T(inv * (gh[j] - mg - xh[j]*mgx))
		}
	}
	return nil
}
