package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randMatrix returns an input node with values drawn from U(-1, 1).
func randMatrix(g *gorgonia.ExprGraph, rng *rand.Rand, name string, shape ...int) *gorgonia.Node {
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), gorgonia.WithName(name))
}

// weightedSum returns Σ w⊙y for a fixed random w, a cost whose gradient with
// respect to y is w: every element of y matters and with its own weight.
func weightedSum(t *testing.T, g *gorgonia.ExprGraph, rng *rand.Rand, y *gorgonia.Node) *gorgonia.Node {
	t.Helper()
	w := randMatrix(g, rng, "cost weights", y.Shape()...)
	p, err := gorgonia.HadamardProd(y, w)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gorgonia.Sum(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpGradients(t *testing.T) {
	type build func(g *gorgonia.ExprGraph, rng *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error)
	cases := []struct {
		name  string
		build build
	}{
		{"matmul", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b := randMatrix(g, r, "a", 3, 4), randMatrix(g, r, "b", 4, 2)
			y, err := MatMul(a, b, false, false)
			return gorgonia.Nodes{a, b}, y, err
		}},
		{"matmul aᵀ", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b := randMatrix(g, r, "a", 4, 3), randMatrix(g, r, "b", 4, 2)
			y, err := MatMul(a, b, true, false)
			return gorgonia.Nodes{a, b}, y, err
		}},
		{"matmul bᵀ", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b := randMatrix(g, r, "a", 3, 4), randMatrix(g, r, "b", 2, 4)
			y, err := MatMul(a, b, false, true)
			return gorgonia.Nodes{a, b}, y, err
		}},
		{"matmul aᵀbᵀ", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b := randMatrix(g, r, "a", 4, 3), randMatrix(g, r, "b", 2, 4)
			y, err := MatMul(a, b, true, true)
			return gorgonia.Nodes{a, b}, y, err
		}},
		{"matmul one row", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b := randMatrix(g, r, "a", 1, 4), randMatrix(g, r, "b", 1, 4)
			y, err := MatMul(a, b, false, true)
			return gorgonia.Nodes{a, b}, y, err
		}},
		{"affine", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			x, w, b := randMatrix(g, r, "x", 3, 4), randMatrix(g, r, "w", 5, 4), randMatrix(g, r, "b", 5)
			y, err := Affine(x, w, b)
			return gorgonia.Nodes{x, w, b}, y, err
		}},
		{"masked", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b := randMatrix(g, r, "next", 4, 3), randMatrix(g, r, "prev", 4, 3)
			m := gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking([]float64{1, 0, 0.25, 1})), gorgonia.WithName("mask"))
			y, err := Masked(a, b, m)
			return gorgonia.Nodes{a, b}, y, err
		}},
		{"columns", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			x := randMatrix(g, r, "x", 3, 7)
			y, err := Columns(x, 2, 5)
			return gorgonia.Nodes{x}, y, err
		}},
		{"rows", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			x := randMatrix(g, r, "x", 6, 3)
			y, err := Rows(x, 1, 4)
			return gorgonia.Nodes{x}, y, err
		}},
		{"concat columns", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			a, b, c := randMatrix(g, r, "a", 2, 3), randMatrix(g, r, "b", 2, 1), randMatrix(g, r, "c", 2, 2)
			y, err := ConcatColumns(a, b, c)
			return gorgonia.Nodes{a, b, c}, y, err
		}},
		{"mul rows", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			x, v := randMatrix(g, r, "x", 3, 4), randMatrix(g, r, "v", 4)
			y, err := MulRows(x, v)
			return gorgonia.Nodes{x, v}, y, err
		}},
		{"log-softmax", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			x := randMatrix(g, r, "x", 3, 5)
			y, err := LogSoftmax(x)
			return gorgonia.Nodes{x}, y, err
		}},
		{"softmax", func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
			x := randMatrix(g, r, "x", 3, 5)
			y, err := Softmax(x)
			return gorgonia.Nodes{x}, y, err
		}},
	}
	for _, a := range []Activation{Tanh, Sigmoid, ReLU, Softsign} {
		for _, blk := range []struct{ block, blocks int }{{0, 1}, {2, 4}} {
			a, blk := a, blk
			cases = append(cases, struct {
				name  string
				build build
			}{a.String(), func(g *gorgonia.ExprGraph, r *rand.Rand) (gorgonia.Nodes, *gorgonia.Node, error) {
				x := randMatrix(g, r, "x", 3, 8)
				y, err := ActivateBlock(x, a, blk.block, blk.blocks)
				return gorgonia.Nodes{x}, y, err
			}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(1, 2))
			wrt, y, err := c.build(g, rng)
			if err != nil {
				t.Fatal(err)
			}
			worst, err := CheckGradients(weightedSum(t, g, rng, y), wrt, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-7 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

func TestLossGradientsAndValues(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(3, 4))
	x := randMatrix(g, rng, "logits", 4, 3)
	oneHot := []float64{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1}
	tg := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(oneHot)), gorgonia.WithName("targets"))
	lp, err := LogSoftmax(x)
	if err != nil {
		t.Fatal(err)
	}
	ce, err := CrossEntropy(lp, tg)
	if err != nil {
		t.Fatal(err)
	}
	y := randMatrix(g, rng, "y", 4, 2)
	r := randMatrix(g, rng, "responses", 4, 2)
	mse, err := HalfMeanSquaredError(y, r)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := gorgonia.Add(ce, mse)
	if err != nil {
		t.Fatal(err)
	}
	var ceVal, mseVal gorgonia.Value
	gorgonia.Read(ce, &ceVal)
	gorgonia.Read(mse, &mseVal)
	worst, err := CheckGradients(cost, gorgonia.Nodes{x, y}, 1e-6, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	if worst.Relative > 1e-7 {
		t.Errorf("worst element: %v", worst)
	}

	// The values, against direct computation.
	xs := x.Value().Data().([]float64)
	var want float64
	for b := 0; b < 4; b++ {
		row := xs[b*3 : b*3+3]
		var s float64
		for _, v := range row {
			s += math.Exp(v)
		}
		for k := 0; k < 3; k++ {
			want -= oneHot[b*3+k] * (row[k] - math.Log(s))
		}
	}
	want /= 4
	if got := ceVal.Data().(float64); math.Abs(got-want) > 1e-12 {
		t.Errorf("cross-entropy = %v, want %v", got, want)
	}
	ys, rs := y.Value().Data().([]float64), r.Value().Data().([]float64)
	want = 0
	for i := range ys {
		want += (ys[i] - rs[i]) * (ys[i] - rs[i])
	}
	want /= 2 * 4
	if got := mseVal.Data().(float64); math.Abs(got-want) > 1e-12 {
		t.Errorf("half MSE = %v, want %v", got, want)
	}
}

func TestLogSoftmaxStableForLargeScores(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1000, 0, -1000})), gorgonia.WithName("x"))
	y, err := LogSoftmax(x)
	if err != nil {
		t.Fatal(err)
	}
	var v gorgonia.Value
	gorgonia.Read(y, &v)
	vm, err := NewTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := v.Data().([]float64)
	want := []float64{0, -1000, -2000}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Fatalf("log-softmax = %v, want %v", got, want)
		}
	}
}

func TestMaskedKeepsStateExactlyAndStopsNaN(t *testing.T) {
	g := gorgonia.NewGraph()
	next := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{math.NaN(), math.Inf(1), 3, 4})), gorgonia.WithName("next"))
	prev := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0.1, 0.2, math.NaN(), 0.4})), gorgonia.WithName("prev"))
	m := gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking([]float64{0, 1})), gorgonia.WithName("mask"))
	y, err := Masked(next, prev, m)
	if err != nil {
		t.Fatal(err)
	}
	var v gorgonia.Value
	gorgonia.Read(y, &v)
	vm, err := NewTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := v.Data().([]float64)
	want := []float64{0.1, 0.2, 3, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("masked = %v, want %v", got, want)
		}
	}
}

func TestBlockValues(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8})), gorgonia.WithName("x"))
	v := gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking([]float64{10, 20, 30, 40})), gorgonia.WithName("v"))
	cols := gorgonia.Must(Columns(x, 1, 3))
	rows := gorgonia.Must(Rows(x, 1, 2))
	cat := gorgonia.Must(ConcatColumns(cols, x))
	mul := gorgonia.Must(MulRows(x, v))
	want := map[*gorgonia.Node][]float64{
		cols: {2, 3, 6, 7},
		rows: {5, 6, 7, 8},
		cat:  {2, 3, 1, 2, 3, 4, 6, 7, 5, 6, 7, 8},
		mul:  {10, 40, 90, 160, 50, 120, 210, 320},
	}
	vals := map[*gorgonia.Node]*gorgonia.Value{}
	for n := range want {
		vals[n] = new(gorgonia.Value)
		gorgonia.Read(n, vals[n])
	}
	vm, err := NewTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for n, w := range want {
		got := (*vals[n]).Data().([]float64)
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("%v = %v, want %v", n.Op(), got, w)
				break
			}
		}
	}
}
