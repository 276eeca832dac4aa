package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convOutSize returns H' and W' of a convolution, or an error when the
// arguments make no convolution.
func convOutSize(h, w, kh, kw int, pad, stride [2]int) (int, int, error) {
	if kh <= 0 || kw <= 0 || h <= 0 || w <= 0 {
		return 0, 0, errors.Errorf("nodes: conv2d: image %d×%d and kernel %d×%d must be non-empty", h, w, kh, kw)
	}
	if pad[0] < 0 || pad[1] < 0 {
		return 0, 0, errors.Errorf("nodes: conv2d: padding %v is negative", pad)
	}
	if stride[0] <= 0 || stride[1] <= 0 {
		return 0, 0, errors.Errorf("nodes: conv2d: stride %v must be positive", stride)
	}
	if h+2*pad[0] < kh || w+2*pad[1] < kw {
		return 0, 0, errors.Errorf("nodes: conv2d: kernel %d×%d is larger than the padded image %d×%d",
			kh, kw, h+2*pad[0], w+2*pad[1])
	}
	return (h+2*pad[0]-kh)/stride[0] + 1, (w+2*pad[1]-kw)/stride[1] + 1, nil
}

// SamePadding returns the padding that gives Conv2D the output of MATLAB's
// convolution2dLayer with 'Padding','same' for images of size in = (H, W),
// kernels of size kernel = (kh, kw) and the given stride: an output of
// ⌈H/sh⌉×⌈W/sw⌉. MATLAB pads p = (⌈H/sh⌉-1)·sh + kh - H rows in all (and
// likewise columns), ⌊p/2⌋ on top and the rest below; Conv2D pads
// symmetrically, so SamePadding returns an error when p is odd. With
// stride 1, p = kh-1 and an odd kernel always works.
func SamePadding(in, kernel, stride [2]int) ([2]int, error) {
	var pad [2]int
	for d, name := range []string{"rows", "columns"} {
		if in[d] <= 0 || kernel[d] <= 0 || stride[d] <= 0 {
			return pad, errors.Errorf("nodes: same padding: size %d, kernel %d and stride %d of the %s must be positive",
				in[d], kernel[d], stride[d], name)
		}
		out := (in[d] + stride[d] - 1) / stride[d]
		p := max((out-1)*stride[d]+kernel[d]-in[d], 0)
		if p%2 != 0 {
			return pad, errors.Errorf("nodes: same padding: MATLAB pads %d %s (%d before, %d after), which symmetric padding cannot match",
				p, name, p/2, p-p/2)
		}
		pad[d] = p / 2
	}
	return pad, nil
}

// AddChannelBias returns x + b with b[k] added to every value of channel k
// of x, [N, K, ...]: the bias of a convolution.
func AddChannelBias(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || b == nil {
		return nil, errors.New("nodes: add channel bias: nil operand")
	}
	if x.Dims() < 2 || b.Dims() != 1 || x.Shape()[1] != b.Shape()[0] {
		return nil, errors.Errorf("nodes: add channel bias: want an [N, K, ...] tensor and a K vector, got %v and %v", x.Shape(), b.Shape())
	}
	if x.Dtype() != b.Dtype() {
		return nil, errors.Errorf("nodes: add channel bias: dtypes differ: %v and %v", x.Dtype(), b.Dtype())
	}
	return gorgonia.ApplyOp(channelBiasOp{opBase{2}, x.Dims(), x.Dtype()}, x, b)
}

type channelBiasOp struct {
	opBase
	dims int
	dt   tensor.Dtype
}

func (op channelBiasOp) String() string        { return "AddChannelBias" }
func (op channelBiasOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op channelBiasOp) Hashcode() uint32      { return hashOf(op) }
func (op channelBiasOp) Type() hm.Type {
	t, v := gorgonia.TensorType{Dims: op.dims, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	return hm.NewFnType(t, v, t)
}

func (op channelBiasOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, _, err := twoShapes(in)
	return s.Clone(), err
}

func (op channelBiasOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: add channel bias", vals, 2)
	if err != nil {
		return nil, err
	}
	x, b := materialize(ts[0]), materialize(ts[1])
	if s := x.Shape(); len(s) < 2 || b.Shape().TotalSize() != s[1] {
		return nil, errors.Errorf("nodes: add channel bias: shapes %v and %v", s, b.Shape())
	}
	y := newDense(x.Dtype(), x.Shape())
	inner := x.Shape()[2:].TotalSize()
	switch x.Dtype() {
	case tensor.Float64:
		addChannels(data[float64](x), data[float64](b), data[float64](y), inner)
	default:
		addChannels(data[float32](x), data[float32](b), data[float32](y), inner)
	}
	return y, nil
}

// addChannels sets y = x + b, b[k] added to each run of inner values of
// channel k.
func addChannels[T float](x, b, y []T, inner int) {
	for i := 0; i < len(x); {
		for _, v := range b {
			for end := i + inner; i < end; i++ {
				y[i] = x[i] + v
			}
		}
	}
}

func (op channelBiasOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op channelBiasOp) SymDiff(_ gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	db, err := channelSum(grad)
	return gorgonia.Nodes{grad, db}, err
}

func channelSum(x *gorgonia.Node) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(channelSumOp{opBase{1}, x.Dims(), x.Dtype()}, x)
}

// channelSumOp sums an [N, K, ...] tensor over all axes but the second: the
// gradient of a value shared by every position of a channel.
type channelSumOp struct {
	opBase
	dims int
	dt   tensor.Dtype
}

func (op channelSumOp) String() string        { return fmt.Sprintf("ChannelSum{%d}", op.dims) }
func (op channelSumOp) WriteHash(h hash.Hash) { writeHash(h, op) }
func (op channelSumOp) Hashcode() uint32      { return hashOf(op) }
func (op channelSumOp) Type() hm.Type {
	return hm.NewFnType(gorgonia.TensorType{Dims: op.dims, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt})
}

func (op channelSumOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(in[0])
	if err != nil {
		return nil, err
	}
	if len(s) < 2 {
		return nil, errors.Errorf("nodes: channel sum: shape %v has no channel axis", s)
	}
	return tensor.Shape{s[1]}, nil
}

func (op channelSumOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: channel sum", vals, 1)
	if err != nil {
		return nil, err
	}
	x := materialize(ts[0])
	s, err := op.InferShape(x.Shape())
	if err != nil {
		return nil, err
	}
	y := newDense(x.Dtype(), s)
	inner := x.Shape()[2:].TotalSize()
	switch x.Dtype() {
	case tensor.Float64:
		sumChannels(data[float64](x), data[float64](y), inner)
	default:
		sumChannels(data[float32](x), data[float32](y), inner)
	}
	return y, nil
}

// sumChannels adds the values of each channel of x into y, in float64 so
// that a float32 sum over many frames keeps its precision.
func sumChannels[T float](x, y []T, inner int) {
	acc := make([]float64, len(y))
	for i := 0; i < len(x); {
		for k := range acc {
			acc[k] += sumOf(x[i : i+inner])
			i += inner
		}
	}
	for k, v := range acc {
		y[k] = T(v)
	}
}
