package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convCase is a convolution of n images of c×h×w with k filters of c×kh×kw.
type convCase struct {
	n, c, h, w, k, kh, kw int
	pad, stride           [2]int
}

// directConv computes convCase's convolution, plus bias, by its definition.
func (cc convCase) directConv(x, f, bias []float64) []float64 {
	oh := (cc.h+2*cc.pad[0]-cc.kh)/cc.stride[0] + 1
	ow := (cc.w+2*cc.pad[1]-cc.kw)/cc.stride[1] + 1
	y := make([]float64, cc.n*cc.k*oh*ow)
	for b := range cc.n {
		for o := range cc.k {
			for i := range oh {
				for j := range ow {
					s := bias[o]
					for ch := range cc.c {
						for u := range cc.kh {
							for v := range cc.kw {
								r, q := i*cc.stride[0]-cc.pad[0]+u, j*cc.stride[1]-cc.pad[1]+v
								if r < 0 || r >= cc.h || q < 0 || q >= cc.w {
									continue
								}
								s += x[((b*cc.c+ch)*cc.h+r)*cc.w+q] * f[((o*cc.c+ch)*cc.kh+u)*cc.kw+v]
							}
						}
					}
					y[((b*cc.k+o)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y
}

func uniform(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return v
}

var convCases = []convCase{
	{n: 2, c: 2, h: 5, w: 6, k: 3, kh: 3, kw: 2, pad: [2]int{1, 1}, stride: [2]int{2, 2}},
	{n: 3, c: 2, h: 4, w: 4, k: 1, kh: 3, kw: 3, pad: [2]int{1, 1}, stride: [2]int{1, 1}},
	{n: 1, c: 3, h: 4, w: 5, k: 2, kh: 3, kw: 3, pad: [2]int{1, 0}, stride: [2]int{1, 2}},
	{n: 2, c: 1, h: 3, w: 3, k: 4, kh: 3, kw: 3, stride: [2]int{1, 1}}, // one output pixel per image and filter
	{n: 1, c: 1, h: 3, w: 3, k: 1, kh: 3, kw: 3, stride: [2]int{1, 1}},
	{n: 2, c: 2, h: 7, w: 7, k: 2, kh: 5, kw: 5, pad: [2]int{2, 2}, stride: [2]int{2, 2}},
}

func TestConv2DMatchesDirectLoop(t *testing.T) {
	for ci, cc := range convCases {
		rng := rand.New(rand.NewPCG(7, uint64(ci)))
		xv, fv, bv := uniform(rng, cc.n*cc.c*cc.h*cc.w), uniform(rng, cc.k*cc.c*cc.kh*cc.kw), uniform(rng, cc.k)
		want := cc.directConv(xv, fv, bv)
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			for _, withBias := range []bool{false, true} {
				g := gorgonia.NewGraph()
				x := gorgonia.NodeFromAny(g, denseOf(dt, xv, cc.n, cc.c, cc.h, cc.w), gorgonia.WithName("x"))
				f := gorgonia.NodeFromAny(g, denseOf(dt, fv, cc.k, cc.c, cc.kh, cc.kw), gorgonia.WithName("f"))
				var b *gorgonia.Node
				if withBias {
					b = gorgonia.NodeFromAny(g, denseOf(dt, bv, cc.k), gorgonia.WithName("b"))
				}
				y, err := Conv2D(x, f, b, cc.pad, cc.stride)
				if err != nil {
					t.Fatalf("case %d: %v", ci, err)
				}
				oh, ow, _ := convOutSize(cc.h, cc.w, cc.kh, cc.kw, cc.pad, cc.stride)
				if s := (tensor.Shape{cc.n, cc.k, oh, ow}); !y.Shape().Eq(s) {
					t.Fatalf("case %d: shape %v, want %v", ci, y.Shape(), s)
				}
				got := evalNodes(t, g, y)[0]
				tol := 1e-13
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for i, v := range want {
					if !withBias {
						v -= bv[i/(oh*ow)%cc.k]
					}
					if math.Abs(got[i]-v) > tol {
						t.Fatalf("case %d, %v, bias %t: y[%d] = %v, direct loop %v", ci, dt, withBias, i, got[i], v)
					}
				}
			}
		}
	}
}

func TestConv2DGradients(t *testing.T) {
	for ci, cc := range []convCase{convCases[0], convCases[2], convCases[5]} {
		g := gorgonia.NewGraph()
		rng := rand.New(rand.NewPCG(8, uint64(ci)))
		x := randMatrix(g, rng, "x", cc.n, cc.c, cc.h, cc.w)
		f := randMatrix(g, rng, "f", cc.k, cc.c, cc.kh, cc.kw)
		b := randMatrix(g, rng, "b", cc.k)
		y, err := Conv2D(x, f, b, cc.pad, cc.stride)
		if err != nil {
			t.Fatal(err)
		}
		worst, err := CheckGradients(weightedSum(t, g, rng, y), gorgonia.Nodes{x, f, b}, 1e-6, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		if worst.Relative > 1e-6 {
			t.Errorf("case %+v: worst element: %v", cc, worst)
		}
	}
}

func TestSamePadding(t *testing.T) {
	cases := []struct {
		in, kernel, stride, want [2]int
		err                      bool
	}{
		{in: [2]int{8, 8}, kernel: [2]int{3, 3}, stride: [2]int{1, 1}, want: [2]int{1, 1}},
		{in: [2]int{6, 9}, kernel: [2]int{5, 1}, stride: [2]int{1, 1}, want: [2]int{2, 0}},
		{in: [2]int{7, 9}, kernel: [2]int{3, 5}, stride: [2]int{2, 2}, want: [2]int{1, 2}},
		{in: [2]int{8, 8}, kernel: [2]int{3, 3}, stride: [2]int{2, 1}, err: true}, // MATLAB pads 0 above, 1 below
		{in: [2]int{8, 8}, kernel: [2]int{2, 3}, stride: [2]int{1, 1}, err: true}, // even kernel
		{in: [2]int{8, 8}, kernel: [2]int{3, 3}, stride: [2]int{0, 1}, err: true},
	}
	for _, c := range cases {
		pad, err := SamePadding(c.in, c.kernel, c.stride)
		if c.err {
			if err == nil {
				t.Errorf("SamePadding(%v, %v, %v) = %v, want an error", c.in, c.kernel, c.stride, pad)
			}
			continue
		}
		if err != nil || pad != c.want {
			t.Errorf("SamePadding(%v, %v, %v) = %v, %v, want %v", c.in, c.kernel, c.stride, pad, err, c.want)
			continue
		}
		oh, ow, err := convOutSize(c.in[0], c.in[1], c.kernel[0], c.kernel[1], pad, c.stride)
		if err != nil {
			t.Fatal(err)
		}
		if wh, ww := (c.in[0]+c.stride[0]-1)/c.stride[0], (c.in[1]+c.stride[1]-1)/c.stride[1]; oh != wh || ow != ww {
			t.Errorf("SamePadding(%v, %v, %v): output %d×%d, want %d×%d", c.in, c.kernel, c.stride, oh, ow, wh, ww)
		}
	}
}

func TestConv2DErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	x := randMatrix(g, rng, "x", 2, 3, 4, 4)
	f := randMatrix(g, rng, "f", 5, 3, 3, 3)
	cases := map[string]func() (*gorgonia.Node, error){
		"channels differ": func() (*gorgonia.Node, error) {
			return Conv2D(x, randMatrix(g, rng, "f2", 5, 2, 3, 3), nil, [2]int{}, [2]int{1, 1})
		},
		"kernel larger than image": func() (*gorgonia.Node, error) {
			return Conv2D(x, randMatrix(g, rng, "f3", 5, 3, 5, 5), nil, [2]int{}, [2]int{1, 1})
		},
		"zero stride":  func() (*gorgonia.Node, error) { return Conv2D(x, f, nil, [2]int{}, [2]int{0, 1}) },
		"negative pad": func() (*gorgonia.Node, error) { return Conv2D(x, f, nil, [2]int{-1, 0}, [2]int{1, 1}) },
		"bias size": func() (*gorgonia.Node, error) {
			return Conv2D(x, f, randMatrix(g, rng, "b", 4), [2]int{}, [2]int{1, 1})
		},
		"matrix input": func() (*gorgonia.Node, error) {
			return Conv2D(randMatrix(g, rng, "m", 2, 48), f, nil, [2]int{}, [2]int{1, 1})
		},
	}
	for name, c := range cases {
		if _, err := c(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
