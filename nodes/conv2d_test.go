package nodes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// conv2DGeometries are the cases Conv2D is held to Gorgonia's Conv2d on:
// padding and stride in each direction, 'same' padding, filters as large as
// the padded image, and taps that read padding only (kernel 5 on an image
// of 2 rows padded by 2, stride 3).
var conv2DGeometries = append([]convCase{
	{n: 2, c: 3, h: 6, w: 6, k: 4, kh: 3, kw: 3, pad: [2]int{1, 1}, stride: [2]int{1, 1}}, // 'same', as in the video layer
	{n: 2, c: 2, h: 2, w: 7, k: 3, kh: 5, kw: 3, pad: [2]int{2, 1}, stride: [2]int{3, 2}},
	{n: 2, c: 1, h: 6, w: 5, k: 2, kh: 1, kw: 1, stride: [2]int{2, 1}},
	{n: 1, c: 2, h: 5, w: 9, k: 7, kh: 2, kw: 4, pad: [2]int{0, 3}, stride: [2]int{1, 3}},
	{n: 2, c: 2, h: 4, w: 5, k: 3, kh: 5, kw: 3, pad: [2]int{2, 1}, stride: [2]int{1, 1}}, // 'same', the kernel taller than the image
}, convCases...)

// convGraph is y = Conv2D(x, f, b) or Gorgonia's Conv2d plus
// AddChannelBias, and the cost Σ costW⊙y, differentiated for x, f and b.
type convGraph struct {
	g          *gorgonia.ExprGraph
	x, f, b, y *gorgonia.Node
}

func newConvGraph(t *testing.T, cc convCase, dt tensor.Dtype, seed uint64, gorgoniaConv bool) convGraph {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	g := gorgonia.NewGraph()
	node := func(name string, shape ...int) *gorgonia.Node {
		return gorgonia.NodeFromAny(g, denseOf(dt, uniform(rng, tensor.Shape(shape).TotalSize()), shape...), gorgonia.WithName(name))
	}
	c := convGraph{g: g, x: node("x", cc.n, cc.c, cc.h, cc.w), f: node("f", cc.k, cc.c, cc.kh, cc.kw), b: node("b", cc.k)}
	var err error
	if gorgoniaConv {
		c.y, err = gorgonia.Conv2d(c.x, c.f, tensor.Shape{cc.kh, cc.kw}, cc.pad[:], cc.stride[:], []int{1, 1})
		if err == nil {
			c.y, err = AddChannelBias(c.y, c.b)
		}
	} else {
		c.y, err = Conv2D(c.x, c.f, c.b, cc.pad, cc.stride)
	}
	if err != nil {
		t.Fatal(err)
	}
	cw := node("cost weights", c.y.Shape()...)
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(c.y, cw))))
	if _, err := gorgonia.Grad(cost, c.x, c.f, c.b); err != nil {
		t.Fatal(err)
	}
	return c
}

// run returns y and the gradients of x, f and b.
func (c convGraph) run(t *testing.T) [][]float64 {
	t.Helper()
	var y gorgonia.Value
	gorgonia.Read(c.y, &y)
	vm, err := NewTapeMachine(c.g, gorgonia.BindDualValues(c.x, c.f, c.b))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := [][]float64{toFloat64(y.(*tensor.Dense))}
	for _, n := range []*gorgonia.Node{c.x, c.f, c.b} {
		d, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, toFloat64(d.(*tensor.Dense)))
	}
	return out
}

// TestConv2DEqualsGorgoniaConv2d holds Conv2D, its output and the gradients
// of images, filters and bias, to Gorgonia's Conv2d (im2col, product,
// transpose), which it replaces: 1e-12 relative to the largest magnitude in
// float64, 1e-5 in float32.
func TestConv2DEqualsGorgoniaConv2d(t *testing.T) {
	for ci, cc := range conv2DGeometries {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%d/%v", ci, dt), func(t *testing.T) {
				want := newConvGraph(t, cc, dt, uint64(ci), true).run(t)
				got := newConvGraph(t, cc, dt, uint64(ci), false).run(t)
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for i, what := range []string{"y", "dx", "dFilter", "dBias"} {
					if len(got[i]) != len(want[i]) {
						t.Fatalf("%s has %d values, Gorgonia's %d", what, len(got[i]), len(want[i]))
					}
					scale := 0.0
					for _, v := range want[i] {
						scale = math.Max(scale, math.Abs(v))
					}
					for j, v := range want[i] {
						if math.Abs(got[i][j]-v) > tol*math.Max(scale, 1) {
							t.Fatalf("%+v: %s[%d] = %v, Gorgonia's Conv2d %v", cc, what, j, got[i][j], v)
						}
					}
				}
			})
		}
	}
}

// TestConv2DGradientsOfEveryGeometry checks the gradients of images,
// filters and bias against central finite differences in float64, with
// and without bias.
func TestConv2DGradientsOfEveryGeometry(t *testing.T) {
	for ci, cc := range conv2DGeometries[:4] {
		for _, withBias := range []bool{true, false} {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(18, uint64(ci)))
			x := randMatrix(g, rng, "x", cc.n, cc.c, cc.h, cc.w)
			f := randMatrix(g, rng, "f", cc.k, cc.c, cc.kh, cc.kw)
			wrt := gorgonia.Nodes{x, f}
			var b *gorgonia.Node
			if withBias {
				b = randMatrix(g, rng, "b", cc.k)
				wrt = append(wrt, b)
			}
			y, err := Conv2D(x, f, b, cc.pad, cc.stride)
			if err != nil {
				t.Fatal(err)
			}
			worst, err := CheckGradients(weightedSum(t, g, rng, y), wrt, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("case %+v, bias %t: worst element: %v", cc, withBias, worst)
			}
		}
	}
}

// TestSpan checks span, the outputs of a row whose tap reads inside the
// image, against the definition 0 ≤ j·s+t-p < n, over all small geometries.
func TestSpan(t *testing.T) {
	for n := 1; n <= 5; n++ {
		for p := 0; p <= 3; p++ {
			for size := 1; size <= n+2*p; size++ {
				for s := 1; s <= 4; s++ {
					out := (n+2*p-size)/s + 1
					for tap := range size {
						j0, j1, first := span(tap, p, s, n, out)
						for j := range out {
							in := j*s + tap - p
							if inside, spanned := in >= 0 && in < n, j >= j0 && j < j1; inside != spanned {
								t.Fatalf("n=%d p=%d s=%d tap %d: output %d reads %d, span [%d, %d)", n, p, s, tap, j, in, j0, j1)
							}
						}
						if j1 > j0 && first != j0*s+tap-p {
							t.Fatalf("n=%d p=%d s=%d tap %d: first %d, want %d", n, p, s, tap, first, j0*s+tap-p)
						}
					}
				}
			}
		}
	}
}

// The benchmarks' convolution: the video benchmark's frames of 3×32×32,
// 8 filters of 3×3 with 'same' padding, 64 images.
var benchConv = convCase{n: 64, c: 3, h: 32, w: 32, k: 8, kh: 3, kw: 3, pad: [2]int{1, 1}, stride: [2]int{1, 1}}

// BenchmarkConv2D times the forward and backward passes (y, ∂L/∂x, ∂L/∂F,
// ∂L/∂bias) of Conv2D and of Gorgonia's Conv2d, float32.
func BenchmarkConv2D(b *testing.B) {
	for _, impl := range []string{"seqgraph", "gorgonia"} {
		b.Run(impl, func(b *testing.B) {
			t := &testing.T{}
			c := newConvGraph(t, benchConv, tensor.Float32, 1, impl == "gorgonia")
			vm, err := NewTapeMachine(c.g, gorgonia.BindDualValues(c.x, c.f, c.b))
			if err != nil {
				b.Fatal(err)
			}
			defer vm.Close()
			for b.Loop() {
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
				vm.Reset()
			}
		})
	}
}

// BenchmarkConv2DKernels times the kernels alone, float32, on benchConv:
// the forward pass, and the gradients of the filters and of the images.
func BenchmarkConv2DKernels(b *testing.B) {
	cc := benchConv
	rng := rand.New(rand.NewPCG(1, 1))
	k := conv2DKernel{n: cc.n, c: cc.c, h: cc.h, w: cc.w, k: cc.k, kh: cc.kh, kw: cc.kw, pad: cc.pad, stride: cc.stride, bias: true}
	k.oh, k.ow, _ = convOutSize(cc.h, cc.w, cc.kh, cc.kw, cc.pad, cc.stride)
	f32 := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(2*rng.Float64() - 1)
		}
		return out
	}
	x, f, bias := f32(k.xShape().TotalSize()), f32(k.fShape().TotalSize()), f32(cc.k)
	g, y := f32(k.yShape().TotalSize()), make([]float32, k.yShape().TotalSize())
	dx, df := make([]float32, len(x)), make([]float32, len(f))
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			if err := conv2DForward(k, [][]float32{x, f, bias}, y); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("filters", func(b *testing.B) {
		for b.Loop() {
			clear(df)
			if err := conv2DBackward(conv2DGradKernel{k, false}, [][]float32{x, g}, df); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("images", func(b *testing.B) {
		for b.Loop() {
			clear(dx)
			if err := conv2DBackward(conv2DGradKernel{k, true}, [][]float32{f, g}, dx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
