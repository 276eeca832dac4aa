package nodes

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The fixtures come from PyTorch 1.13 (Debian's python3-torch) in float64,
// written by testdata/make_video_fixtures.py, whose docstring gives the
// PyTorch module behind each case: nn.Conv2d, nn.BatchNorm2d in training
// mode, torch.relu, and the three in a row.

// videoFixture is one case of the file; which fields it has depends on
// its op.
type videoFixture struct {
	Name, Op                  string
	Shape                     []int
	K, Kh, Kw, Sh, Sw, Ph, Pw int
	X, Y, Gy, Dx, W, Dw, Db   []float64
	Bias                      []float64 `json:"b"`
	Scale, Offset             []float64
	Dscale, Doffset           []float64
	RunningMean               []float64 `json:"running_mean"`
	RunningVar                []float64 `json:"running_var"`
}

func loadVideoFixtures(t *testing.T) []videoFixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/video_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []videoFixture }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no fixture cases")
	}
	return doc.Cases
}

// TestVideoOpsMatchPyTorch runs each fixture's ops, Conv2D, BatchNorm
// (training, MATLAB's default state, which is PyTorch's) and Rectify, in
// both dtypes, and compares the output, every gradient of the loss
// Σ gy⊙y and the running statistics with PyTorch's: to 1e-11 in float64
// and 1e-4 in float32, relative to the larger of 1 and PyTorch's value.
func TestVideoOpsMatchPyTorch(t *testing.T) {
	for _, f := range loadVideoFixtures(t) {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%s/%s/%v", f.Op, f.Name, dt), func(t *testing.T) {
				tol := 1e-11
				if dt == tensor.Float32 {
					tol = 1e-4
				}
				g := gorgonia.NewGraph()
				node := func(name string, v []float64, shape ...int) *gorgonia.Node {
					return gorgonia.NodeFromAny(g, denseOf(dt, v, shape...), gorgonia.WithName(name))
				}
				x := node("x", f.X, f.Shape...)
				wrt, want := gorgonia.Nodes{x}, [][]float64{f.Dx}
				y := x
				var state *BatchNormState
				if f.Op == "conv2d" || f.Op == "pipeline" {
					w := node("w", f.W, f.K, f.Shape[1], f.Kh, f.Kw)
					b := node("b", f.Bias, f.K)
					var err error
					if y, err = Conv2D(y, w, b, [2]int{f.Ph, f.Pw}, [2]int{f.Sh, f.Sw}); err != nil {
						t.Fatal(err)
					}
					wrt, want = append(wrt, w, b), append(want, f.Dw, f.Db)
				}
				if f.Op == "batchnorm" || f.Op == "pipeline" {
					c := y.Shape()[1]
					scale, offset := node("scale", f.Scale, c), node("offset", f.Offset, c)
					var err error
					if state, err = NewBatchNormState(c); err != nil {
						t.Fatal(err)
					}
					if y, err = BatchNorm(y, scale, offset, state, nil, nil); err != nil {
						t.Fatal(err)
					}
					wrt, want = append(wrt, scale, offset), append(want, f.Dscale, f.Doffset)
				}
				if f.Op == "relu" || f.Op == "pipeline" {
					var err error
					if y, err = Rectify(y); err != nil {
						t.Fatal(err)
					}
				}
				gy := node("gy", f.Gy, y.Shape()...)
				cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, gy))))
				if _, err := gorgonia.Grad(cost, wrt...); err != nil {
					t.Fatal(err)
				}
				var yv gorgonia.Value
				gorgonia.Read(y, &yv)
				vm, err := NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
				if err != nil {
					t.Fatal(err)
				}
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				closeTo(t, "y", toFloat64(yv.(*tensor.Dense)), f.Y, tol)
				for i, n := range wrt {
					d, err := n.Grad()
					if err != nil {
						t.Fatal(err)
					}
					closeTo(t, "d"+n.Name(), toFloat64(d.(*tensor.Dense)), want[i], tol)
				}
				if state != nil {
					closeTo(t, "running mean", state.Mean, f.RunningMean, tol)
					closeTo(t, "running variance", state.Variance, f.RunningVar, tol)
				}
			})
		}
	}
}
