package nodes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestRectifyEqualsGorgoniaRectify holds Rectify's output and gradient,
// on a 4-D tensor and a vector, in both dtypes, to Gorgonia's Rectify,
// which the ReLU layer used on folded frames: they agree everywhere but at
// x = 0, where Gorgonia passes the gradient and Rectify, as PyTorch, does
// not (random inputs are never 0).
func TestRectifyEqualsGorgoniaRectify(t *testing.T) {
	for _, shape := range []tensor.Shape{{3, 2, 4, 5}, {7}} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%v/%v", shape, dt), func(t *testing.T) {
				var runs [2][][]float64
				for i, ours := range []bool{false, true} {
					rng := rand.New(rand.NewPCG(31, 32))
					g := gorgonia.NewGraph()
					x := gorgonia.NodeFromAny(g, denseOf(dt, uniform(rng, shape.TotalSize()), shape...), gorgonia.WithName("x"))
					y, err := gorgonia.Rectify(x)
					if ours {
						y, err = Rectify(x)
					}
					if err != nil {
						t.Fatal(err)
					}
					cw := gorgonia.NodeFromAny(g, denseOf(dt, uniform(rng, shape.TotalSize()), shape...), gorgonia.WithName("w"))
					cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, cw))))
					if _, err := gorgonia.Grad(cost, x); err != nil {
						t.Fatal(err)
					}
					var yv gorgonia.Value
					gorgonia.Read(y, &yv)
					vm, err := NewTapeMachine(g, gorgonia.BindDualValues(x))
					if err != nil {
						t.Fatal(err)
					}
					if err := vm.RunAll(); err != nil {
						t.Fatal(err)
					}
					dx, _ := x.Grad()
					runs[i] = [][]float64{toFloat64(yv.(*tensor.Dense)), toFloat64(dx.(*tensor.Dense))}
					vm.Close()
				}
				for k, what := range []string{"y", "dx"} {
					for j, want := range runs[0][k] {
						if got := runs[1][k][j]; got != want {
							t.Fatalf("%s[%d] = %v, Gorgonia's Rectify %v", what, j, got, want)
						}
					}
				}
			})
		}
	}
}

// TestRectifyGradients checks Rectify's gradient against central finite
// differences in float64, with no input within the step of 0.
func TestRectifyGradients(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(33, 34))
	v := uniform(rng, 2*3*2*2)
	for i := range v {
		v[i] = math.Copysign(0.05+math.Abs(v[i]), v[i])
	}
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 3, 2, 2), tensor.WithBacking(v)), gorgonia.WithName("x"))
	y, err := Rectify(x)
	if err != nil {
		t.Fatal(err)
	}
	worst, err := CheckGradients(weightedSum(t, g, rng, y), gorgonia.Nodes{x}, 1e-6, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	if worst.Relative > 1e-7 {
		t.Errorf("worst element: %v", worst)
	}
}

// TestRectifySpecialValues checks the values at 0, -0, ±Inf and NaN, and
// the gradient there, in both dtypes.
func TestRectifySpecialValues(t *testing.T) {
	negZero := math.Copysign(0, -1)
	in := []float64{0, negZero, math.Inf(1), math.Inf(-1), math.NaN(), -3, 2}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := gorgonia.NewGraph()
		x := gorgonia.NodeFromAny(g, denseOf(dt, in, len(in)), gorgonia.WithName("x"))
		y, err := Rectify(x)
		if err != nil {
			t.Fatal(err)
		}
		ones := gorgonia.NodeFromAny(g, denseOf(dt, []float64{1, 1, 1, 1, 1, 1, 1}, len(in)), gorgonia.WithName("g"))
		dx, err := applyKernel(rectifyKernel{tensor.Shape{len(in)}, true}, x, ones)
		if err != nil {
			t.Fatal(err)
		}
		got := evalNodes(t, g, y, dx)
		wantY := []float64{0, negZero, math.Inf(1), 0, math.NaN(), 0, 2}
		wantDx := []float64{0, 0, 1, 0, 0, 0, 1}
		for i := range in {
			same := math.Float64bits(got[0][i]) == math.Float64bits(wantY[i]) || (math.IsNaN(got[0][i]) && math.IsNaN(wantY[i]))
			if !same || got[1][i] != wantDx[i] {
				t.Errorf("%v: at %v: y %v, dx %v; want %v, %v", dt, in[i], got[0][i], got[1][i], wantY[i], wantDx[i])
			}
		}
	}
}
