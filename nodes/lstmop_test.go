package nodes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmInputs returns the input nodes of a layer of steps timesteps of b
// sequences, f features and h hidden units, with values in U(-1, 1).
func lstmInputs(g *gorgonia.ExprGraph, rng *rand.Rand, prefix string, steps, b, f, h int) LSTMSpec {
	s := LSTMSpec{
		Name: prefix,
		W:    randMatrix(g, rng, prefix+"W", 4*h, f),
		R:    randMatrix(g, rng, prefix+"R", 4*h, h),
		B:    randMatrix(g, rng, prefix+"b", 4*h),
		H0:   randMatrix(g, rng, prefix+"h0", b, h),
		C0:   randMatrix(g, rng, prefix+"c0", b, h),
	}
	for t := range steps {
		s.X = append(s.X, randMatrix(g, rng, fmt.Sprintf("%sx%d", prefix, t), b, f))
	}
	return s
}

func (s LSTMSpec) wrt() gorgonia.Nodes {
	return append(gorgonia.Nodes{s.W, s.R, s.B, s.H0, s.C0}, s.X...)
}

func lstmMasks(g *gorgonia.ExprGraph, m [][]float64) []*gorgonia.Node {
	ns := make([]*gorgonia.Node, len(m))
	for t, v := range m {
		ns[t] = gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(append([]float64(nil), v...))), gorgonia.WithName(fmt.Sprintf("m%d", t)))
	}
	return ns
}

// sumCosts adds up weighted sums of ns, a node used twice getting both
// weights.
func sumCosts(t *testing.T, g *gorgonia.ExprGraph, rng *rand.Rand, ns ...*gorgonia.Node) *gorgonia.Node {
	t.Helper()
	var cost *gorgonia.Node
	for _, n := range ns {
		s := weightedSum(t, g, rng, n)
		if cost == nil {
			cost = s
		} else {
			cost = gorgonia.Must(gorgonia.Add(cost, s))
		}
	}
	return cost
}

// TestLSTMLayerGradients checks the layer against finite differences with
// costs that read what rnn.UnrollLSTM does not: cell states of single
// timesteps, some states only, one state twice.
func TestLSTMLayerGradients(t *testing.T) {
	const T, B, F, H = 4, 3, 2, 3
	cases := []struct {
		name    string
		masks   [][]float64
		reverse bool
		gate    Activation
		state   Activation
		reads   func(l *LSTMLayer) []*gorgonia.Node
	}{
		{"cells and one hidden", nil, false, 0, 0, func(l *LSTMLayer) []*gorgonia.Node {
			return []*gorgonia.Node{must(l.Cell(0)), must(l.Cell(2)), must(l.Hidden(1))}
		}},
		{"one state twice", nil, true, 0, 0, func(l *LSTMLayer) []*gorgonia.Node {
			return []*gorgonia.Node{must(l.Hidden(2)), must(l.Hidden(2)), must(l.Cell(3))}
		}},
		{"final cell only, masked", [][]float64{{1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {0, 1, 0}}, false, 0, 0, func(l *LSTMLayer) []*gorgonia.Node {
			_, c, err := l.Final()
			if err != nil {
				panic(err)
			}
			return []*gorgonia.Node{c}
		}},
		{"every state, fractional masks, reverse", [][]float64{{1, 0.3, 0}, {0.5, 1, 1}, {1, 0, 0.75}, {0, 1, 1}}, true, Softsign, ReLU, func(l *LSTMLayer) []*gorgonia.Node {
			var ns []*gorgonia.Node
			for t := range T {
				ns = append(ns, must(l.Hidden(t)), must(l.Cell(t)))
			}
			return ns
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(4, 4))
			spec := lstmInputs(g, rng, "", T, B, F, H)
			spec.Name, spec.Reverse, spec.Gate, spec.State = c.name, c.reverse, c.gate, c.state
			if c.masks != nil {
				spec.Masks = lstmMasks(g, c.masks)
			}
			l, err := NewLSTMLayer(spec)
			if err != nil {
				t.Fatal(err)
			}
			cost := sumCosts(t, g, rng, c.reads(l)...)
			worst, err := CheckGradients(cost, spec.wrt(), 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

func must(n *gorgonia.Node, err error) *gorgonia.Node {
	if err != nil {
		panic(err)
	}
	return n
}

// TestStackedLSTMLayerGradients checks two layers, the second reading the
// first's hidden states, and the first's final state read as well: the
// first's backward pass gets the gradients of its outputs from the second's
// backward pass.
func TestStackedLSTMLayerGradients(t *testing.T) {
	const T, B, F, H = 3, 2, 2, 3
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(5, 5))
	s1 := lstmInputs(g, rng, "1/", T, B, F, H)
	s1.Masks = lstmMasks(g, [][]float64{{1, 1}, {1, 0}, {0, 0}})
	l1, err := NewLSTMLayer(s1)
	if err != nil {
		t.Fatal(err)
	}
	s2 := lstmInputs(g, rng, "2/", 0, B, H, H)
	for t := range T {
		s2.X = append(s2.X, must(l1.Hidden(t)))
	}
	s2.Reverse = true
	l2, err := NewLSTMLayer(s2)
	if err != nil {
		t.Fatal(err)
	}
	h1, c1, err := l1.Final()
	if err != nil {
		t.Fatal(err)
	}
	cost := sumCosts(t, g, rng, must(l2.Hidden(0)), must(l2.Hidden(2)), h1, c1)
	wrt := append(s1.wrt(), s2.W, s2.R, s2.B, s2.H0, s2.C0)
	worst, err := CheckGradients(cost, wrt, 1e-6, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	if worst.Relative > 1e-6 {
		t.Errorf("worst element: %v", worst)
	}
}

// TestLSTMLayerWithoutInputGradients differentiates with respect to the
// learnables only, as a network's training graph does, in float32.
func TestLSTMLayerWithoutInputGradients(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(6, 6))
	f32 := func(name string, shape ...int) *gorgonia.Node {
		v := make([]float32, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = float32(2*rng.Float64() - 1)
		}
		return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), gorgonia.WithName(name))
	}
	s := LSTMSpec{Name: "l", W: f32("W", 8, 3), R: f32("R", 8, 2), B: f32("b", 8), H0: f32("h0", 4, 2), C0: f32("c0", 4, 2)}
	for t := range 3 {
		s.X = append(s.X, f32(fmt.Sprintf("x%d", t), 4, 3))
	}
	l, err := NewLSTMLayer(s)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := l.Final()
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(h))
	if _, err := gorgonia.Grad(cost, s.W, s.R, s.B); err != nil {
		t.Fatal(err)
	}
	vm, err := NewTapeMachine(g, gorgonia.BindDualValues(s.W, s.R, s.B))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*gorgonia.Node{s.W, s.R, s.B} {
		d, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		nonzero := false
		for _, v := range d.Data().([]float32) {
			nonzero = nonzero || v != 0
		}
		if !nonzero {
			t.Errorf("gradient of %s is zero", n.Name())
		}
	}
}

func TestLSTMLayerNodes(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(7, 7))
	s := lstmInputs(g, rng, "", 3, 2, 2, 3)
	s.Reverse = true
	a, err := NewLSTMLayer(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLSTMLayer(s)
	if err != nil {
		t.Fatal(err)
	}
	if a.Node() == b.Node() {
		t.Error("two layers over the same inputs share a node")
	}
	if a.Steps() != 3 {
		t.Errorf("%d steps", a.Steps())
	}
	h, c, err := a.Final()
	if err != nil {
		t.Fatal(err)
	}
	if must(a.Hidden(0)) != h || must(a.Cell(0)) != c {
		t.Error("the state after timestep 0, read last in reverse, is not the final state")
	}
	if first := must(a.Hidden(1)); must(a.Hidden(1)) != first {
		t.Error("reading a state twice gave two nodes")
	}
	if must(a.Hidden(1)) == must(b.Hidden(1)) {
		t.Error("two layers share a read node")
	}
	for _, bad := range []int{-1, 3} {
		if _, err := a.Hidden(bad); err == nil {
			t.Errorf("Hidden(%d) gave no error", bad)
		}
	}
	if h.Shape()[0] != 2 || h.Shape()[1] != 3 {
		t.Errorf("final hidden state has shape %v", h.Shape())
	}
}

func TestLSTMLayerRejectsBadSpecs(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(8, 8))
	good := func() LSTMSpec { return lstmInputs(g, rng, "", 3, 2, 2, 3) }
	f32 := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float32)), gorgonia.WithName("f32"))
	other := gorgonia.NewGraph()
	cases := []struct {
		name, want string
		edit       func(s *LSTMSpec)
	}{
		{"no timesteps", "no timesteps", func(s *LSTMSpec) { s.X = nil }},
		{"nil input", "input at t=0", func(s *LSTMSpec) { s.X[0] = nil }},
		{"input of another width", "input at t=2", func(s *LSTMSpec) { s.X[2] = randMatrix(g, rng, "x", 2, 3) }},
		{"input of another dtype", "input at t=1", func(s *LSTMSpec) { s.X[1] = f32 }},
		{"input in another graph", "input at t=1", func(s *LSTMSpec) { s.X[1] = randMatrix(other, rng, "x", 2, 2) }},
		{"vector input", "input at t=0", func(s *LSTMSpec) { s.X[0] = randMatrix(g, rng, "v", 2) }},
		{"nil input weights", "input weights", func(s *LSTMSpec) { s.W = nil }},
		{"input weights of another size", "input weights", func(s *LSTMSpec) { s.W = randMatrix(g, rng, "W2", 12, 3) }},
		{"recurrent weights not 4H×H", "recurrent weights", func(s *LSTMSpec) { s.R = randMatrix(g, rng, "R2", 12, 2) }},
		{"nil recurrent weights", "recurrent weights", func(s *LSTMSpec) { s.R = nil }},
		{"bias matrix", "bias", func(s *LSTMSpec) { s.B = randMatrix(g, rng, "b2", 12, 1) }},
		{"nil initial hidden state", "initial hidden state", func(s *LSTMSpec) { s.H0 = nil }},
		{"initial cell state of another batch", "initial cell state", func(s *LSTMSpec) { s.C0 = randMatrix(g, rng, "c02", 3, 3) }},
		{"too few masks", "2 masks for 3 timesteps", func(s *LSTMSpec) { s.Masks = lstmMasks(g, [][]float64{{1, 1}, {1, 1}}) }},
		{"mask of another batch", "mask at t=1", func(s *LSTMSpec) {
			s.Masks = lstmMasks(g, [][]float64{{1, 1}, {1, 1, 1}, {1, 1}})
		}},
		{"invalid activation", "activation", func(s *LSTMSpec) { s.Gate = Activation(42) }},
	}
	for _, c := range cases {
		s := good()
		s.Name = "bad"
		c.edit(&s)
		_, err := NewLSTMLayer(s)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `lstm layer "bad"`) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}
}

// TestLSTMLayerReadBeforeRun reads a state without running the layer,
// as a hand-built program might: an error, not a panic.
func TestLSTMLayerReadBeforeRun(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(9, 9))
	l, err := NewLSTMLayer(lstmInputs(g, rng, "", 2, 1, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	h := must(l.Hidden(0))
	if _, err := h.Op().Do(); err == nil {
		t.Error("no error")
	}
}

// TestLSTMLayerRunsAreIndependent runs a layer, changes its inputs and
// masks in place, as a training loop feeding the next batch does, and
// checks the next run against a fresh graph: nothing of a run may leak
// into the next through the layer's buffers.
func TestLSTMLayerRunsAreIndependent(t *testing.T) {
	const T, B, F, H = 3, 3, 2, 2
	first := [][]float64{{1, 1, 0}, {1, 0, 0}, {1, 0, 1}}
	second := [][]float64{{0, 1, 1}, {1, 1, 0}, {0, 1, 1}}
	type run struct {
		vm    gorgonia.VM
		spec  LSTMSpec
		reads map[string]*gorgonia.Value
	}
	build := func(masks [][]float64) *run {
		g := gorgonia.NewGraph()
		rng := rand.New(rand.NewPCG(10, 10))
		s := lstmInputs(g, rng, "", T, B, F, H)
		s.Masks = lstmMasks(g, masks)
		s.Reverse = true
		l, err := NewLSTMLayer(s)
		if err != nil {
			t.Fatal(err)
		}
		var outs []*gorgonia.Node
		for t := range T {
			outs = append(outs, must(l.Hidden(t)))
		}
		h, c, err := l.Final()
		if err != nil {
			t.Fatal(err)
		}
		cost := sumCosts(t, g, rng, append(outs, c, h)...)
		if _, err := gorgonia.Grad(cost, s.wrt()...); err != nil {
			t.Fatal(err)
		}
		r := &run{spec: s, reads: map[string]*gorgonia.Value{}}
		for i, n := range append(outs, c, h) {
			v := new(gorgonia.Value)
			gorgonia.Read(n, v)
			r.reads[fmt.Sprint(i)] = v
		}
		if r.vm, err = NewTapeMachine(g, gorgonia.BindDualValues(s.wrt()...)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	exec := func(r *run) map[string][]float64 {
		defer r.vm.Reset()
		if err := r.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := map[string][]float64{}
		for name, v := range r.reads {
			got[name] = toFloat64((*v).(*tensor.Dense))
		}
		for _, n := range r.spec.wrt() {
			d, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			got["d"+n.Name()] = toFloat64(d.(*tensor.Dense))
			d.(*tensor.Dense).Zero()
		}
		return got
	}
	reused := build(first)
	defer reused.vm.Close()
	exec(reused)
	for i, m := range reused.spec.Masks {
		copy(m.Value().Data().([]float64), second[i])
	}
	got := exec(reused)
	fresh := build(second)
	defer fresh.vm.Close()
	want := exec(fresh)
	for name, w := range want {
		for i := range w {
			if got[name][i] != w[i] {
				t.Errorf("%s[%d] = %v after another run, %v fresh", name, i, got[name][i], w[i])
				break
			}
		}
	}
}

// TestActivateIsActivationF checks the layer's slice activations:
// Activation.f bit for bit in float64, and in float32 as well except tanh
// and sigmoid, which use the vectorised activate32 there, within 4e-7 of the
// exact function.
func TestActivateIsActivationF(t *testing.T) {
	xs := []float64{0, math.Copysign(0, -1), 1e-300, -1e-300, 1e-9, -0.3, 0.5, 0.625, -0.625, 1, -2.5, 20, -20, 40, -40, 400, -800, 800, math.Inf(1), math.Inf(-1), math.NaN()}
	rng := rand.New(rand.NewPCG(11, 11))
	for range 2000 {
		xs = append(xs, 30*rng.NormFloat64(), rng.NormFloat64())
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for _, a := range []Activation{Tanh, Sigmoid, ReLU, Softsign} {
		v64 := append([]float64(nil), xs...)
		activateSlice(a, v64)
		v32 := make([]float32, len(xs))
		for i, x := range xs {
			v32[i] = float32(x)
		}
		activateSlice(a, v32)
		for i, x := range xs {
			if want := a.f(x); !same(v64[i], want) {
				t.Errorf("%v(%v) = %v in float64, Activation.f gives %v", a, x, v64[i], want)
			}
			exact := a.f(float64(float32(x)))
			if a == Tanh || a == Sigmoid {
				// Vectorised with FMA: the rounding depends on where an
				// element falls in its slice, so the bound is what holds.
				if d := math.Abs(float64(v32[i]) - exact); d > 4e-7 || math.IsNaN(d) != math.IsNaN(exact) {
					t.Errorf("%v(%v) = %v in float32, %v away from the exact %v", a, float32(x), v32[i], d, exact)
				}
				continue
			}
			if want := float32(exact); !same(float64(v32[i]), float64(want)) {
				t.Errorf("%v(%v) = %v in float32, Activation.f gives %v", a, float32(x), v32[i], want)
			}
		}
	}
}

// TestLSTMLayerDoRejectsBadValues gives the forward op values that do not
// fit its graph, as a caller who Lets a wrong tensor into an input would:
// an error, not a panic in the BLAS.
func TestLSTMLayerDoRejectsBadValues(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(12, 12))
	s := lstmInputs(g, rng, "", 2, 3, 2, 4)
	l, err := NewLSTMLayer(s)
	if err != nil {
		t.Fatal(err)
	}
	values := func() []gorgonia.Value {
		var vs []gorgonia.Value
		for _, n := range append(append(gorgonia.Nodes{}, s.X...), s.W, s.R, s.B, s.H0, s.C0) {
			vs = append(vs, n.Value().(*tensor.Dense).Clone().(*tensor.Dense))
		}
		return vs
	}
	if _, err := l.Node().Op().Do(values()...); err != nil {
		t.Fatalf("good values: %v", err)
	}
	cases := []struct {
		name string
		edit func(vs []gorgonia.Value) []gorgonia.Value
	}{
		{"too few values", func(vs []gorgonia.Value) []gorgonia.Value { return vs[1:] }},
		{"input of another batch", func(vs []gorgonia.Value) []gorgonia.Value {
			vs[1] = tensor.New(tensor.WithShape(4, 2), tensor.Of(tensor.Float64))
			return vs
		}},
		{"bias as a matrix", func(vs []gorgonia.Value) []gorgonia.Value {
			vs[4] = tensor.New(tensor.WithShape(16, 1), tensor.Of(tensor.Float64))
			return vs
		}},
		{"float32 weights", func(vs []gorgonia.Value) []gorgonia.Value {
			vs[2] = tensor.New(tensor.WithShape(16, 2), tensor.Of(tensor.Float32))
			return vs
		}},
		{"scalar", func(vs []gorgonia.Value) []gorgonia.Value {
			vs[0] = gorgonia.NewF64(1)
			return vs
		}},
	}
	for _, c := range cases {
		if _, err := l.Node().Op().Do(c.edit(values())...); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestLSTMLayerWideInputGradients checks against finite differences a
// layer with more inputs than gate columns (F > 4H, as a video network's
// flattened frames), whose products read W in place and compute dW as
// dZᵀ·X: with several sequences and one, with padding steps at both ends.
func TestLSTMLayerWideInputGradients(t *testing.T) {
	const T, F, H = 4, 9, 2
	for _, c := range []struct {
		name  string
		batch int
		masks [][]float64
	}{
		{"batch of 3, padded at both ends", 3, [][]float64{{0, 0, 0}, {1, 0, 1}, {1, 1, 0}, {0, 0, 0}}},
		{"one sequence", 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(40, 41))
			spec := lstmInputs(g, rng, "", T, c.batch, F, H)
			spec.Name = c.name
			if c.masks != nil {
				spec.Masks = lstmMasks(g, c.masks)
			}
			l, err := NewLSTMLayer(spec)
			if err != nil {
				t.Fatal(err)
			}
			if !l.op.wideInput() {
				t.Fatal("the layer's input is not wide")
			}
			var reads []*gorgonia.Node
			for k := range T {
				reads = append(reads, must(l.Hidden(k)))
			}
			worst, err := CheckGradients(sumCosts(t, g, rng, reads...), spec.wrt(), 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}
