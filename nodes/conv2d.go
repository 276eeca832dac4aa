package nodes

import (
	"fmt"
	"unsafe"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// Conv2D returns the 2-D convolution (in the deep-learning sense: a
// cross-correlation) of the images x, [N, C, H, W], with the filters filter,
// [K, C, kh, kw], plus the bias, [K] or nil for none:
//
//	y[n, k, i, j] = bias[k] + Σ_{c,u,v} filter[k, c, u, v]·x[n, c, i·sh+u-ph, j·sw+v-pw]
//
// with x taken as 0 outside the image, pad = (ph, pw) rows and columns of
// zeros on each side and stride = (sh, sw). The result is [N, K, H', W'] with
// H' = ⌊(H+2ph-kh)/sh⌋+1 and W' = ⌊(W+2pw-kw)/sw⌋+1. This is MATLAB's
// convolution2dLayer with symmetric padding and dilation 1; SamePadding gives
// the padding of its 'same' option.
//
// With g = ∂L/∂y, the gradients are
//
//	∂L/∂bias[k]         = Σ_{n,i,j} g[n, k, i, j]
//	∂L/∂filter[k,c,u,v] = Σ_{n,i,j} g[n, k, i, j]·x[n, c, i·sh+u-ph, j·sw+v-pw]
//	∂L/∂x[n, c, r, q]   = Σ_{k,u,v,i,j: i·sh+u-ph = r, j·sw+v-pw = q} g[n, k, i, j]·filter[k, c, u, v]
//
// Each image is one matrix product on the gemm of MatMul: its windows are
// copied into the (C·kh·kw)×(H'·W') matrix X̃ₙ (im2col: row (c·kh+u)·kw+v
// holds x[n, c, i·sh+u-ph, j·sw+v-pw] at column i·W'+j), and with the
// filters read in place as the K×(C·kh·kw) matrix F,
//
//	yₙ = F·X̃ₙ,  ∂L/∂F = Σₙ gₙ·X̃ₙᵀ,  ∂L/∂X̃ₙ = Fᵀ·gₙ,
//
// gₙ being image n's gradient as a K×(H'·W') matrix; ∂L/∂X̃ₙ is added back
// into the pixels each window read (col2im). X̃ₙ is one image's, so that
// it stays in cache between the copy and the product, and the backward
// pass copies it again rather than keep all of them. The result equals
// Gorgonia's Conv2d, which this replaces, to rounding (the tests hold them
// to 1e-12 in float64), in about a quarter of its time: Gorgonia builds X̃
// for all images at once with per-element index arithmetic, runs its
// product through a transposed copy, and transposes the result
// (BenchmarkConv2D, 64 images of 3×32×32 and 8 filters of 3×3, forward
// and backward: 12-15 ms of CPU against 53-57 ms, float32).
func Conv2D(x, filter, bias *gorgonia.Node, pad, stride [2]int) (*gorgonia.Node, error) {
	k, err := newConv2DKernel(x, filter, bias, pad, stride)
	if err != nil {
		return nil, err
	}
	if bias == nil {
		return applyKernel(k, x, filter)
	}
	return applyKernel(k, x, filter, bias)
}

// newConv2DKernel checks Conv2D's arguments and returns its kernel.
func newConv2DKernel(x, filter, bias *gorgonia.Node, pad, stride [2]int) (conv2DKernel, error) {
	if x == nil || filter == nil {
		return conv2DKernel{}, errors.New("nodes: conv2d: nil input or filter")
	}
	if x.Dims() != 4 || filter.Dims() != 4 {
		return conv2DKernel{}, errors.Errorf("nodes: conv2d: want images [N, C, H, W] and filters [K, C, kh, kw], got %v and %v",
			x.Shape(), filter.Shape())
	}
	if x.Dtype() != filter.Dtype() {
		return conv2DKernel{}, errors.Errorf("nodes: conv2d: dtypes differ: images %v, filters %v", x.Dtype(), filter.Dtype())
	}
	xs, fs := x.Shape(), filter.Shape()
	if xs[1] != fs[1] {
		return conv2DKernel{}, errors.Errorf("nodes: conv2d: images have %d channels, filters %v expect %d", xs[1], fs, fs[1])
	}
	oh, ow, err := convOutSize(xs[2], xs[3], fs[2], fs[3], pad, stride)
	if err != nil {
		return conv2DKernel{}, err
	}
	if bias != nil && (bias.Dims() != 1 || bias.Shape()[0] != fs[0] || bias.Dtype() != x.Dtype()) {
		return conv2DKernel{}, errors.Errorf("nodes: conv2d: bias must be a vector of %d %v, got %v of %v",
			fs[0], x.Dtype(), bias.Shape(), bias.Dtype())
	}
	return conv2DKernel{
		n: xs[0], c: xs[1], h: xs[2], w: xs[3], k: fs[0], kh: fs[2], kw: fs[3],
		pad: pad, stride: stride, oh: oh, ow: ow, bias: bias != nil,
	}, nil
}

// conv2DKernel computes Conv2D: (x, filter[, bias]) → y.
type conv2DKernel struct {
	n, c, h, w  int // images
	k, kh, kw   int // filters
	pad, stride [2]int
	oh, ow      int // output size
	bias        bool
}

func (k conv2DKernel) String() string {
	return fmt.Sprintf("Conv2D{%d×%d×%d×%d,%d×%d×%d×%d,pad=%v,stride=%v,bias=%t}",
		k.n, k.c, k.h, k.w, k.k, k.c, k.kh, k.kw, k.pad, k.stride, k.bias)
}

func (k conv2DKernel) dims() []int {
	if k.bias {
		return []int{4, 4, 1, 4}
	}
	return []int{4, 4, 4}
}

func (k conv2DKernel) xShape() tensor.Shape { return tensor.Shape{k.n, k.c, k.h, k.w} }
func (k conv2DKernel) fShape() tensor.Shape { return tensor.Shape{k.k, k.c, k.kh, k.kw} }
func (k conv2DKernel) yShape() tensor.Shape { return tensor.Shape{k.n, k.k, k.oh, k.ow} }

// rows and cols are the size of X̃ₙ.
func (k conv2DKernel) rows() int { return k.c * k.kh * k.kw }
func (k conv2DKernel) cols() int { return k.oh * k.ow }

func (k conv2DKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	want := []tensor.Shape{k.xShape(), k.fShape()}
	if k.bias {
		want = append(want, tensor.Shape{k.k})
	}
	return k.yShape(), checkShapes(k.String(), in, want...)
}

// fills: the product sets every element of y.
func (k conv2DKernel) fills() bool { return true }

func (k conv2DKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k, in, out, conv2DForward[float64], conv2DForward[float32])
}

// conv2DForward sets y = F·X̃ₙ (+ bias) image by image. The bias is one
// more column of F against a row of ones below X̃ₙ, so that the product
// adds it.
func conv2DForward[T float](k conv2DKernel, in [][]T, y []T) error {
	x, f := in[0], in[1]
	rows, cols, img := k.rows(), k.cols(), k.c*k.h*k.w
	if k.bias {
		f = withBiasColumn(f, in[2], rows)
		rows++
	}
	ld := colStride[T](cols)
	col := make([]T, rows*ld)
	if k.bias {
		for j := range cols {
			col[(rows-1)*ld+j] = 1
		}
	}
	for n := range k.n {
		im2col2D(k, x[n*img:(n+1)*img], col, ld)
		layerGemm(false, false, k.k, cols, rows, f, rows, col, ld, 0, y[n*k.k*cols:(n+1)*k.k*cols], cols)
	}
	return nil
}

// withBiasColumn returns the K×n matrix f with bias as one more column.
func withBiasColumn[T float](f, bias []T, n int) []T {
	out := make([]T, 0, len(f)+len(bias))
	for o, b := range bias {
		out = append(append(out, f[o*n:(o+1)*n]...), b)
	}
	return out
}

// colStride returns the row stride of X̃ₙ for rows of cols values: cols,
// or a little more when rows cols apart would be a multiple of 256 bytes
// apart, which makes the gemm copy X̃ₙ rather than read it in place (see
// nodes/gemm's direct).
func colStride[T float](cols int) int {
	var z T
	if size := int(unsafe.Sizeof(z)); cols*size%256 == 0 {
		return cols + 64/size
	}
	return cols
}

// span returns the outputs j0 ≤ j < j1 of a row or column whose tap at
// offset t (u or v) reads inside an image of size n, with padding p and
// stride s, and the input the first of them reads: those with
// 0 ≤ j·s+t-p < n and j < out.
func span(t, p, s, n, out int) (j0, j1, first int) {
	if t-p >= n {
		return 0, 0, 0 // the tap reads padding only
	}
	j0 = max(0, (p-t+s-1)/s) // ⌈(p-t)/s⌉ when p > t
	j1 = min(out, (n-1+p-t)/s+1)
	return j0, max(j0, j1), j0*s + t - p
}

// tapRun is what a row of X̃ₙ, that of one tap (u, v) of one channel,
// reads inside the image: the elements of output rows i0 ≤ i < i1 and
// columns j0 ≤ j < j1, the pixels from offset src of the channel's plane
// on, stride[1] apart in an output row and stride[0] image rows apart from
// one output row to the next. The other elements read padding.
type tapRun struct{ i0, i1, j0, j1, src int }

func (k conv2DKernel) tap(u, v int) tapRun {
	i0, i1, r := span(u, k.pad[0], k.stride[0], k.h, k.oh)
	j0, j1, q := span(v, k.pad[1], k.stride[1], k.w, k.ow)
	return tapRun{i0, i1, j0, j1, r*k.w + q}
}

// empty reports whether the tap reads padding only.
func (t tapRun) empty() bool { return t.i0 >= t.i1 || t.j0 >= t.j1 }

// flat reports whether a tap's pixels for consecutive output rows are
// consecutive in the plane, as its outputs are in the row of X̃ₙ: with
// stride 1 and an output as wide as the image ('same' padding). Then one
// copy moves a whole row of X̃ₙ, but for the elements between output rows
// that read padding (|v-pw| of them per row).
func (k conv2DKernel) flat() bool { return k.stride == [2]int{1, 1} && k.ow == k.w }

// block returns the elements [start, start+n) of a row of X̃ₙ that a flat
// convolution's tap reads in one run.
func (t tapRun) block(ow int) (start, n int) {
	return t.i0*ow + t.j0, (t.i1-t.i0-1)*ow + t.j1 - t.j0
}

// zeroGaps zeroes the elements of a flat convolution's row of X̃ₙ between
// the end of each output row and the start of the next that read padding.
func zeroGaps[T float](t tapRun, row []T, ow int) {
	for i := t.i0; i < t.i1-1; i++ {
		for j := i*ow + t.j1; j < (i+1)*ow+t.j0; j++ {
			row[j] = 0
		}
	}
}

// im2col2D sets col, X̃ₙ of the image x (C×H×W) with rows ld values apart,
// to x's windows, zero where they reach into the padding.
func im2col2D[T float](k conv2DKernel, x, col []T, ld int) {
	cols, ow := k.cols(), k.ow
	for c := range k.c {
		plane := x[c*k.h*k.w : (c+1)*k.h*k.w]
		for u := range k.kh {
			for v := range k.kw {
				row := col[((c*k.kh+u)*k.kw+v)*ld:][:cols]
				t := k.tap(u, v)
				switch {
				case t.empty():
					clear(row)
				case k.flat():
					start, n := t.block(ow)
					clear(row[:start])
					copy(row[start:start+n], plane[t.src:])
					clear(row[start+n:])
					zeroGaps(t, row, ow)
				default:
					clear(row[:t.i0*ow])
					clear(row[t.i1*ow:])
					for i := t.i0; i < t.i1; i++ {
						dst := row[i*ow : (i+1)*ow]
						clear(dst[:t.j0])
						clear(dst[t.j1:])
						src := plane[t.src+(i-t.i0)*k.stride[0]*k.w:]
						if k.stride[1] == 1 {
							copy(dst[t.j0:t.j1], src)
							continue
						}
						for j := t.j0; j < t.j1; j++ {
							dst[j] = src[(j-t.j0)*k.stride[1]]
						}
					}
				}
			}
		}
	}
}

// col2im2D adds each element of dcol, ∂L/∂X̃ₙ with rows cols apart, into
// the pixel of the image gradient dx (C×H×W) that im2col2D read it from:
// the transpose of im2col2D. It zeroes dcol's elements that read padding.
func col2im2D[T float](k conv2DKernel, dcol, dx []T) {
	cols, ow := k.cols(), k.ow
	for c := range k.c {
		plane := dx[c*k.h*k.w : (c+1)*k.h*k.w]
		for u := range k.kh {
			for v := range k.kw {
				row := dcol[((c*k.kh+u)*k.kw+v)*cols:][:cols]
				t := k.tap(u, v)
				switch {
				case t.empty():
				case k.flat():
					zeroGaps(t, row, ow)
					start, n := t.block(ow)
					addTo(plane[t.src:], row[start:start+n])
				default:
					for i := t.i0; i < t.i1; i++ {
						src := row[i*ow+t.j0 : i*ow+t.j1]
						dst := plane[t.src+(i-t.i0)*k.stride[0]*k.w:]
						if k.stride[1] == 1 {
							addTo(dst, src)
							continue
						}
						for j, g := range src {
							dst[j*k.stride[1]] += g
						}
					}
				}
			}
		}
	}
}

// addTo sets dst += src, elementwise; dst is at least as long as src.
func addTo[T float](dst, src []T) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

func (k conv2DKernel) diffWRT() []bool {
	if k.bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

func (k conv2DKernel) grad(in gorgonia.Nodes, g *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := applyKernel(conv2DGradKernel{k, true}, in[1], g)
	if err != nil {
		return nil, err
	}
	df, err := applyKernel(conv2DGradKernel{k, false}, in[0], g)
	if err != nil {
		return nil, err
	}
	if !k.bias {
		return gorgonia.Nodes{dx, df}, nil
	}
	db, err := channelSum(g)
	return gorgonia.Nodes{dx, df, db}, err
}

// conv2DGradKernel computes a gradient of Conv2D from the gradient g of its
// output: of the images out of (filter, g) when dx is set, of the filters
// out of (x, g) otherwise.
type conv2DGradKernel struct {
	conv conv2DKernel
	dx   bool
}

func (k conv2DGradKernel) String() string {
	if k.dx {
		return "d" + k.conv.String() + "/dx"
	}
	return "d" + k.conv.String() + "/dFilter"
}

func (k conv2DGradKernel) dims() []int { return []int{4, 4, 4} }

func (k conv2DGradKernel) shape(in []tensor.Shape) (tensor.Shape, error) {
	c := k.conv
	if k.dx {
		return c.xShape(), checkShapes(k.String(), in, c.fShape(), c.yShape())
	}
	return c.fShape(), checkShapes(k.String(), in, c.xShape(), c.yShape())
}

func (k conv2DGradKernel) do(in []*tensor.Dense, out *tensor.Dense) error {
	return dispatch(k, in, out, conv2DBackward[float64], conv2DBackward[float32])
}

// addFilterGradient adds gₙ·X̃ₙᵀ to df, K×rows: for float32 with
// vecmath.AddDots32, whose dot products read both operands along their
// rows of cols values as they lie, where the gemm would transpose both
// into panels first (in BenchmarkConv2DKernels/filters more than half of
// its time).
func addFilterGradient[T float](df, gn, col []T, k, rows, cols int) {
	if d32, ok := any(df).([]float32); ok {
		vecmath.AddDots32(d32, rows, any(gn).([]float32), cols, any(col).([]float32), cols, k, rows, cols)
		return
	}
	layerGemm(false, true, k, rows, cols, gn, cols, col, cols, 1, df, rows)
}

// conv2DBackward sets d to ∂L/∂x, col2im of Fᵀ·gₙ image by image, or to
// ∂L/∂F = Σₙ gₙ·X̃ₙᵀ.
func conv2DBackward[T float](k conv2DGradKernel, in [][]T, d []T) error {
	c := k.conv
	g := in[1]
	rows, cols, img := c.rows(), c.cols(), c.c*c.h*c.w
	col := make([]T, rows*cols)
	for n := range c.n {
		gn := g[n*c.k*cols : (n+1)*c.k*cols]
		if k.dx {
			layerGemm(true, false, rows, cols, c.k, in[0], rows, gn, cols, 0, col, cols)
			col2im2D(c, col, d[n*img:(n+1)*img])
			continue
		}
		im2col2D(c, in[0][n*img:(n+1)*img], col, cols)
		addFilterGradient(d, gn, col, c.k, rows, cols)
	}
	return nil
}
