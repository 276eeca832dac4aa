package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func naiveConv(x, f []float64, n, c, h, w, k, kh, kw, ph, pw, sh, sw int) ([]float64, int, int) {
	oh := (h+2*ph-kh)/sh + 1
	ow := (w+2*pw-kw)/sw + 1
	y := make([]float64, n*k*oh*ow)
	for b := 0; b < n; b++ {
		for o := 0; o < k; o++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					for ch := 0; ch < c; ch++ {
						for u := 0; u < kh; u++ {
							for v := 0; v < kw; v++ {
								r, q := i*sh-ph+u, j*sw-pw+v
								if r < 0 || r >= h || q < 0 || q >= w {
									continue
								}
								s += x[((b*c+ch)*h+r)*w+q] * f[((o*c+ch)*kh+u)*kw+v]
							}
						}
					}
					y[((b*k+o)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y, oh, ow
}

func TestProbeGorgoniaConv(t *testing.T) {
	cases := [][11]int{
		{2, 2, 5, 6, 3, 3, 2, 1, 1, 2, 2},
		{1, 1, 3, 3, 1, 3, 3, 0, 0, 1, 1},
		{3, 2, 4, 4, 1, 3, 3, 1, 1, 1, 1},
		{1, 3, 4, 5, 2, 3, 3, 1, 1, 1, 1},
		{2, 1, 5, 5, 2, 3, 3, 1, 0, 2, 1},
		{1, 2, 3, 3, 1, 3, 3, 0, 0, 1, 1},
		{2, 2, 3, 3, 4, 3, 3, 0, 0, 1, 1},
	}
	for ci, cs := range cases {
		n, c, h, w, k, kh, kw, ph, pw, sh, sw := cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7], cs[8], cs[9], cs[10]
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			rng := rand.New(rand.NewPCG(1, uint64(ci)))
			xv := make([]float64, n*c*h*w)
			fv := make([]float64, k*c*kh*kw)
			for i := range xv {
				xv[i] = 2*rng.Float64() - 1
			}
			for i := range fv {
				fv[i] = 2*rng.Float64() - 1
			}
			want, oh, ow := naiveConv(xv, fv, n, c, h, w, k, kh, kw, ph, pw, sh, sw)
			g := gorgonia.NewGraph()
			mk := func(v []float64, s ...int) *tensor.Dense {
				d := newDense(dt, s)
				copyInto(d, v)
				return d
			}
			x := gorgonia.NodeFromAny(g, mk(xv, n, c, h, w), gorgonia.WithName("x"))
			f := gorgonia.NodeFromAny(g, mk(fv, k, c, kh, kw), gorgonia.WithName("f"))
			y, err := gorgonia.Conv2d(x, f, tensor.Shape{kh, kw}, []int{ph, pw}, []int{sh, sw}, []int{1, 1})
			if err != nil {
				t.Errorf("case %d %v: %v", ci, dt, err)
				continue
			}
			var yv gorgonia.Value
			gorgonia.Read(y, &yv)
			vm, err := NewTapeMachine(g)
			if err != nil {
				t.Errorf("case %d %v: %v", ci, dt, err)
				continue
			}
			for run := 0; run < 2; run++ {
				if err := vm.RunAll(); err != nil {
					t.Errorf("case %d %v: %v", ci, dt, err)
					break
				}
				got := toFloat64(yv.(*tensor.Dense))
				t.Logf("case %d %v shape %v want %v", ci, dt, yv.Shape(), []int{n, k, oh, ow})
				var md float64
				for i := range want {
					md = math.Max(md, math.Abs(got[i]-want[i]))
				}
				t.Logf("case %d %v run %d maxdiff %g", ci, dt, run, md)
				vm.Reset()
			}
			vm.Close()
			if dt == tensor.Float64 {
				g := gorgonia.NewGraph()
				rng := rand.New(rand.NewPCG(3, uint64(ci)))
				x := gorgonia.NodeFromAny(g, mk(xv, n, c, h, w), gorgonia.WithName("x"))
				f := gorgonia.NodeFromAny(g, mk(fv, k, c, kh, kw), gorgonia.WithName("f"))
				y, err := gorgonia.Conv2d(x, f, tensor.Shape{kh, kw}, []int{ph, pw}, []int{sh, sw}, []int{1, 1})
				if err != nil {
					t.Fatal(err)
				}
				worst, err := CheckGradients(weightedSum(t, g, rng, y), gorgonia.Nodes{x, f}, 1e-6, 1e-3)
				t.Logf("case %d grad: %v %v", ci, worst, err)
			}
		}
	}
}
