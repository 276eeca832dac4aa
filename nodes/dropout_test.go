package nodes

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// dropoutGraph builds y = Dropout(x) and cost = Σ w⊙y in a new graph and
// compiles it with gradients for x.
type dropoutGraph struct {
	x, w  []float64
	y     gorgonia.Value
	vm    gorgonia.VM
	xNode *gorgonia.Node
	phase Phase
	yNode *gorgonia.Node
}

func newDropoutGraph(t *testing.T, p float64, seed uint64, n int) *dropoutGraph {
	t.Helper()
	d := &dropoutGraph{x: make([]float64, n), w: make([]float64, n)}
	for i := range d.x {
		d.x[i] = 1 + float64(i%7)
		d.w[i] = 0.5 + float64(i%3)
	}
	g := gorgonia.NewGraph()
	d.xNode = gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, n), tensor.WithBacking(d.x)), gorgonia.WithName("x"))
	wNode := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, n), tensor.WithBacking(d.w)), gorgonia.WithName("w"))
	var err error
	if d.yNode, err = Dropout(d.xNode, "drop", p, seed, &d.phase); err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(d.yNode, wNode))))
	if _, err := gorgonia.Grad(cost, d.xNode); err != nil {
		t.Fatal(err)
	}
	gorgonia.Read(d.yNode, &d.y)
	if d.vm, err = NewTapeMachine(g, gorgonia.BindDualValues(d.xNode)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.vm.Close() })
	return d
}

// run returns y and the gradient of the cost with respect to x.
func (d *dropoutGraph) run(t *testing.T) (y, dx []float64) {
	t.Helper()
	defer d.vm.Reset()
	if err := d.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	g, _ := d.xNode.Grad()
	dx = append([]float64(nil), g.Data().([]float64)...)
	g.(*tensor.Dense).Zero()
	return append([]float64(nil), d.y.Data().([]float64)...), dx
}

func TestDropoutScalesKeepsAndMatchesItsGradient(t *testing.T) {
	const n, p = 20000, 0.3
	d := newDropoutGraph(t, p, 42, n)
	y, dx := d.run(t)
	dropped := 0
	for i := range y {
		switch {
		case y[i] == 0:
			dropped++
			if dx[i] != 0 {
				t.Fatalf("element %d dropped forward but not backward: dx = %v", i, dx[i])
			}
		case math.Abs(y[i]-d.x[i]/(1-p)) > 1e-12:
			t.Fatalf("kept element %d = %v, want x/(1-p) = %v", i, y[i], d.x[i]/(1-p))
		case math.Abs(dx[i]-d.w[i]/(1-p)) > 1e-12:
			t.Fatalf("kept element %d: dx = %v, want w/(1-p) = %v", i, dx[i], d.w[i]/(1-p))
		}
	}
	// 3.5 standard deviations of a binomial(n, p) count.
	if frac := float64(dropped) / n; math.Abs(frac-p) > 3.5*math.Sqrt(p*(1-p)/n) {
		t.Errorf("dropped %.4f of the elements, want about %v", frac, p)
	}
	// The next run draws a new mask.
	y2, _ := d.run(t)
	same := true
	for i := range y {
		same = same && (y[i] == 0) == (y2[i] == 0)
	}
	if same {
		t.Error("two training runs used the same mask")
	}
}

func TestDropoutIsSeeded(t *testing.T) {
	a, _ := newDropoutGraph(t, 0.5, 7, 500).run(t)
	b, _ := newDropoutGraph(t, 0.5, 7, 500).run(t)
	c, _ := newDropoutGraph(t, 0.5, 8, 500).run(t)
	differs := false
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("one seed gave two masks")
		}
		differs = differs || a[i] != c[i]
	}
	if !differs {
		t.Error("two seeds gave one mask")
	}
}

func TestDropoutInferenceIsIdentityAndPhasesAreIndependent(t *testing.T) {
	a := newDropoutGraph(t, 0.5, 1, 200)
	b := newDropoutGraph(t, 0.5, 1, 200)
	a.phase.SetInference(true)
	ya, dxa := a.run(t)
	for i := range ya {
		if ya[i] != a.x[i] || dxa[i] != a.w[i] {
			t.Fatalf("inference: element %d: y = %v (x %v), dx = %v (w %v)", i, ya[i], a.x[i], dxa[i], a.w[i])
		}
	}
	yb, _ := b.run(t)
	zeros := 0
	for _, v := range yb {
		if v == 0 {
			zeros++
		}
	}
	if zeros == 0 {
		t.Error("switching one graph to inference switched the other too")
	}
	a.phase.SetInference(false)
	if ya, _ = a.run(t); func() bool {
		for _, v := range ya {
			if v == 0 {
				return false
			}
		}
		return true
	}() {
		t.Error("back in training, nothing is dropped")
	}
}

func TestDropoutRejectsBadProbability(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 2})), gorgonia.WithName("x"))
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := Dropout(x, "d", p, 1, nil); err == nil {
			t.Errorf("p = %v: no error", p)
		}
	}
}
