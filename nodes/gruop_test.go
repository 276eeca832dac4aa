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

// gruInputs returns the input nodes of a layer of steps timesteps of b
// sequences, f features and h hidden units, with values in U(-1, 1): with a
// recurrent bias unless the reset gate acts before the multiplication.
func gruInputs(g *gorgonia.ExprGraph, rng *rand.Rand, prefix string, before bool, steps, b, f, h int) GRUSpec {
	s := GRUSpec{
		Name:        prefix,
		W:           randMatrix(g, rng, prefix+"W", 3*h, f),
		R:           randMatrix(g, rng, prefix+"R", 3*h, h),
		B:           randMatrix(g, rng, prefix+"b", 3*h),
		H0:          randMatrix(g, rng, prefix+"h0", b, h),
		ResetBefore: before,
	}
	if !before {
		s.RB = randMatrix(g, rng, prefix+"bR", 3*h)
	}
	for t := range steps {
		s.X = append(s.X, randMatrix(g, rng, fmt.Sprintf("%sx%d", prefix, t), b, f))
	}
	return s
}

func (s GRUSpec) wrt() gorgonia.Nodes {
	ns := gorgonia.Nodes{s.W, s.R, s.B, s.H0}
	if s.RB != nil {
		ns = append(ns, s.RB)
	}
	return append(ns, s.X...)
}

var gruModes = []struct {
	name   string
	before bool
}{{"after", false}, {"before", true}}

// TestGRULayerGradients checks the layer against finite differences, in
// both reset gate modes, with respect to every input (the inputs x_t, W, R,
// b, bR and the initial state), with costs that read some states only, one
// state twice, or every state.
func TestGRULayerGradients(t *testing.T) {
	const T, B, F, H = 4, 3, 2, 3
	cases := []struct {
		name    string
		masks   [][]float64
		reverse bool
		gate    Activation
		state   Activation
		reads   func(l *GRULayer) []*gorgonia.Node
	}{
		{"two states", nil, false, 0, 0, func(l *GRULayer) []*gorgonia.Node {
			return []*gorgonia.Node{must(l.Hidden(0)), must(l.Hidden(2))}
		}},
		{"every state", nil, false, 0, 0, func(l *GRULayer) []*gorgonia.Node {
			var ns []*gorgonia.Node
			for t := range T {
				ns = append(ns, must(l.Hidden(t)))
			}
			return ns
		}},
		{"one state twice, reverse", nil, true, 0, 0, func(l *GRULayer) []*gorgonia.Node {
			return []*gorgonia.Node{must(l.Hidden(2)), must(l.Hidden(2)), must(l.Hidden(3))}
		}},
		{"final only, masked", [][]float64{{1, 1, 0}, {1, 0, 1}, {0, 1, 1}, {0, 1, 0}}, false, 0, 0, func(l *GRULayer) []*gorgonia.Node {
			return []*gorgonia.Node{must(l.Final())}
		}},
		{"every state, masked, reverse", [][]float64{{0, 1, 1}, {1, 1, 0}, {1, 0, 1}, {1, 1, 0}}, true, 0, 0, func(l *GRULayer) []*gorgonia.Node {
			var ns []*gorgonia.Node
			for t := range T {
				ns = append(ns, must(l.Hidden(t)))
			}
			return ns
		}},
		{"every state, fractional masks, reverse, softsign gate, relu state", [][]float64{{1, 0.3, 0}, {0.5, 1, 1}, {1, 0, 0.75}, {0, 1, 1}}, true, Softsign, ReLU, func(l *GRULayer) []*gorgonia.Node {
			var ns []*gorgonia.Node
			for t := range T {
				ns = append(ns, must(l.Hidden(t)))
			}
			return append(ns, must(l.Final()))
		}},
		{"tanh gate, sigmoid state, masked", [][]float64{{1, 1, 1}, {1, 0, 1}, {1, 0, 0}, {0, 0, 1}}, false, Tanh, Sigmoid, func(l *GRULayer) []*gorgonia.Node {
			return []*gorgonia.Node{must(l.Hidden(1)), must(l.Final())}
		}},
	}
	for _, mode := range gruModes {
		for _, c := range cases {
			t.Run(mode.name+"/"+c.name, func(t *testing.T) {
				g := gorgonia.NewGraph()
				rng := rand.New(rand.NewPCG(4, 4))
				spec := gruInputs(g, rng, "", mode.before, T, B, F, H)
				spec.Name, spec.Reverse, spec.Gate, spec.State = c.name, c.reverse, c.gate, c.state
				if c.masks != nil {
					spec.Masks = lstmMasks(g, c.masks)
				}
				l, err := NewGRULayer(spec)
				if err != nil {
					t.Fatal(err)
				}
				cost := sumCosts(t, g, rng, c.reads(l)...)
				worst, err := CheckGradients(cost, spec.wrt(), 1e-6, 1e-3)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("worst element: %v", worst)
				if worst.Relative > 1e-6 {
					t.Errorf("worst element: %v", worst)
				}
			})
		}
	}
}

// TestStackedGRULayerGradients checks two layers, the second reading the
// first's hidden states in reverse, and the first's final state read as
// well: the first's backward pass gets the gradients of its outputs from
// the second's backward pass.
func TestStackedGRULayerGradients(t *testing.T) {
	const T, B, F, H = 3, 2, 2, 3
	for _, mode := range gruModes {
		t.Run(mode.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(5, 5))
			s1 := gruInputs(g, rng, "1/", mode.before, T, B, F, H)
			s1.Masks = lstmMasks(g, [][]float64{{1, 1}, {1, 0}, {0, 0}})
			l1, err := NewGRULayer(s1)
			if err != nil {
				t.Fatal(err)
			}
			s2 := gruInputs(g, rng, "2/", !mode.before, 0, B, H, H)
			for t := range T {
				s2.X = append(s2.X, must(l1.Hidden(t)))
			}
			s2.Reverse = true
			l2, err := NewGRULayer(s2)
			if err != nil {
				t.Fatal(err)
			}
			cost := sumCosts(t, g, rng, must(l2.Hidden(0)), must(l2.Hidden(2)), must(l1.Final()))
			wrt := append(s1.wrt(), s2.W, s2.R, s2.B, s2.H0)
			if s2.RB != nil {
				wrt = append(wrt, s2.RB)
			}
			worst, err := CheckGradients(cost, wrt, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-6 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

// f32Node returns a float32 input node of the given shape with values in
// U(-1, 1).
func f32Node(g *gorgonia.ExprGraph, rng *rand.Rand, name string, shape ...int) *gorgonia.Node {
	v := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float32(2*rng.Float64() - 1)
	}
	return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), gorgonia.WithName(name))
}

// TestGRULayerWithoutInputGradients differentiates with respect to the
// learnables only, as a network's training graph does, in float32.
func TestGRULayerWithoutInputGradients(t *testing.T) {
	for _, mode := range gruModes {
		t.Run(mode.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(6, 6))
			s := GRUSpec{Name: "l", W: f32Node(g, rng, "W", 6, 3), R: f32Node(g, rng, "R", 6, 2), B: f32Node(g, rng, "b", 6), H0: f32Node(g, rng, "h0", 4, 2), ResetBefore: mode.before}
			learn := gorgonia.Nodes{s.W, s.R, s.B}
			if !mode.before {
				s.RB = f32Node(g, rng, "bR", 6)
				learn = append(learn, s.RB)
			}
			for t := range 3 {
				s.X = append(s.X, f32Node(g, rng, fmt.Sprintf("x%d", t), 4, 3))
			}
			l, err := NewGRULayer(s)
			if err != nil {
				t.Fatal(err)
			}
			cost := gorgonia.Must(gorgonia.Sum(must(l.Final())))
			if _, err := gorgonia.Grad(cost, learn...); err != nil {
				t.Fatal(err)
			}
			vm, err := NewTapeMachine(g, gorgonia.BindDualValues(learn...))
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			for _, n := range learn {
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
		})
	}
}

// TestGRULayerFloat32HasNoSubnormals drives the gates far into saturation,
// where the exact float32 sigmoid is subnormal (below 2^-126 for inputs
// under about -87): the vectorised sigmoid gives 0 there, and no gate,
// state or gradient of the layer may be subnormal, which would slow every
// later operation on it down by orders of magnitude on x86.
func TestGRULayerFloat32HasNoSubnormals(t *testing.T) {
	const T, B, F, H = 6, 3, 2, 4
	for _, mode := range gruModes {
		t.Run(mode.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(7, 7))
			b := make([]float32, 3*H)
			for j := range b {
				// r and z pre-activations from -160 to -88, the candidate's
				// around 0.
				if j < 2*H {
					b[j] = -88 - 9*float32(j)
				}
			}
			s := GRUSpec{
				Name: "sat", W: f32Node(g, rng, "W", 3*H, F), R: f32Node(g, rng, "R", 3*H, H),
				B:           gorgonia.NodeFromAny(g, tensor.New(tensor.WithBacking(b)), gorgonia.WithName("b")),
				H0:          f32Node(g, rng, "h0", B, H),
				ResetBefore: mode.before,
			}
			learn := gorgonia.Nodes{s.W, s.R, s.B, s.H0}
			if !mode.before {
				s.RB = f32Node(g, rng, "bR", 3*H)
				learn = append(learn, s.RB)
			}
			for t := range T {
				s.X = append(s.X, f32Node(g, rng, fmt.Sprintf("x%d", t), B, F))
			}
			l, err := NewGRULayer(s)
			if err != nil {
				t.Fatal(err)
			}
			var reads []*gorgonia.Node
			for t := range T {
				reads = append(reads, must(l.Hidden(t)))
			}
			cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Concat(0, reads...))))
			if _, err := gorgonia.Grad(cost, learn...); err != nil {
				t.Fatal(err)
			}
			vm, err := NewTapeMachine(g, gorgonia.BindDualValues(learn...))
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			buf := l.op.buf.(*gruBuffers[float32])
			zeros := 0
			for k := 0; k < len(buf.gates); k += 3 * H {
				for _, v := range buf.gates[k : k+2*H] {
					if v == 0 {
						zeros++
					}
				}
			}
			if zeros == 0 {
				t.Fatal("no gate saturated to 0: the test does not reach the subnormal range")
			}
			for name, v := range map[string][]float32{"gates": buf.gates, "states": buf.hs, "dz": buf.dz, "da": buf.da, "dW": buf.dw, "dR": buf.dr, "dh0": buf.dh0} {
				for i, x := range v {
					if x != 0 && math.Abs(float64(x)) < 0x1p-126 {
						t.Errorf("%s[%d] = %g is subnormal", name, i, x)
						break
					}
				}
			}
		})
	}
}

// TestGRULayerPaddedSteps checks what a mask of exactly 0 promises: the
// state is held bit for bit, and the step's pre-activation gradients, and
// so its input's gradient, are exactly zero.
func TestGRULayerPaddedSteps(t *testing.T) {
	const T, B, F, H = 4, 3, 2, 3
	masks := [][]float64{{1, 0, 1}, {1, 1, 0}, {0, 1, 0}, {0, 1, 1}}
	for _, mode := range gruModes {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%t", mode.name, reverse), func(t *testing.T) {
				g := gorgonia.NewGraph()
				rng := rand.New(rand.NewPCG(13, 13))
				s := gruInputs(g, rng, "", mode.before, T, B, F, H)
				s.Masks, s.Reverse = lstmMasks(g, masks), reverse
				l, err := NewGRULayer(s)
				if err != nil {
					t.Fatal(err)
				}
				hs := make([]*gorgonia.Node, T)
				vals := make([]*gorgonia.Value, T)
				for t := range T {
					hs[t] = must(l.Hidden(t))
					vals[t] = new(gorgonia.Value)
					gorgonia.Read(hs[t], vals[t])
				}
				h0 := new(gorgonia.Value)
				gorgonia.Read(s.H0, h0)
				cost := sumCosts(t, g, rng, hs...)
				if _, err := gorgonia.Grad(cost, s.wrt()...); err != nil {
					t.Fatal(err)
				}
				vm, err := NewTapeMachine(g, gorgonia.BindDualValues(s.wrt()...))
				if err != nil {
					t.Fatal(err)
				}
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				state := func(t int) []float64 {
					if t < 0 || t >= T {
						return (*h0).Data().([]float64)
					}
					return (*vals[t]).Data().([]float64)
				}
				for tt := range T {
					prev := tt - 1
					if reverse {
						prev = tt + 1
					}
					dx, err := s.X[tt].Grad()
					if err != nil {
						t.Fatal(err)
					}
					for b, m := range masks[tt] {
						if m != 0 {
							continue
						}
						for j := range H {
							if got, want := state(tt)[b*H+j], state(prev)[b*H+j]; got != want {
								t.Errorf("state after padded t=%d, sequence %d: %v, was %v", tt, b, got, want)
							}
						}
						for j := range F {
							if v := dx.Data().([]float64)[b*F+j]; v != 0 {
								t.Errorf("gradient of padded x at t=%d, sequence %d: %v", tt, b, v)
							}
						}
					}
				}
				buf := l.op.buf.(*gruBuffers[float64])
				for k := range T {
					for b, m := range masks[l.op.timeOf(k)] {
						row := (k*B + b) * 3 * H
						for _, d := range [][]float64{buf.dz, buf.da} {
							if d == nil || m != 0 {
								continue
							}
							for _, v := range d[row : row+3*H] {
								if v != 0 {
									t.Fatalf("step %d, padded sequence %d has pre-activation gradients %v", k, b, d[row:row+3*H])
								}
							}
						}
					}
				}
			})
		}
	}
}

func TestGRULayerNodes(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(7, 7))
	s := gruInputs(g, rng, "", false, 3, 2, 2, 3)
	s.Reverse = true
	a, err := NewGRULayer(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewGRULayer(s)
	if err != nil {
		t.Fatal(err)
	}
	if a.Node() == b.Node() {
		t.Error("two layers over the same inputs share a node")
	}
	if a.Steps() != 3 {
		t.Errorf("%d steps", a.Steps())
	}
	h := must(a.Final())
	if must(a.Hidden(0)) != h {
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
	if str := a.op.String(); !strings.Contains(str, "after") || !strings.Contains(str, "reverse") {
		t.Errorf("the op's String %q does not say its mode", str)
	}
}

func TestGRULayerRejectsBadSpecs(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(8, 8))
	good := func() GRUSpec { return gruInputs(g, rng, "", false, 3, 2, 2, 3) }
	f32 := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float32)), gorgonia.WithName("f32"))
	other := gorgonia.NewGraph()
	cases := []struct {
		name, want string
		edit       func(s *GRUSpec)
	}{
		{"no timesteps", "no timesteps", func(s *GRUSpec) { s.X = nil }},
		{"nil input", "input at t=0", func(s *GRUSpec) { s.X[0] = nil }},
		{"input of another width", "input at t=2", func(s *GRUSpec) { s.X[2] = randMatrix(g, rng, "x", 2, 3) }},
		{"input of another dtype", "input at t=1", func(s *GRUSpec) { s.X[1] = f32 }},
		{"input in another graph", "input at t=1", func(s *GRUSpec) { s.X[1] = randMatrix(other, rng, "x", 2, 2) }},
		{"vector input", "input at t=0", func(s *GRUSpec) { s.X[0] = randMatrix(g, rng, "v", 2) }},
		{"nil input weights", "input weights", func(s *GRUSpec) { s.W = nil }},
		{"input weights of another size", "input weights", func(s *GRUSpec) { s.W = randMatrix(g, rng, "W2", 12, 2) }},
		{"recurrent weights not 3H×H", "recurrent weights", func(s *GRUSpec) { s.R = randMatrix(g, rng, "R2", 12, 3) }},
		{"nil recurrent weights", "recurrent weights", func(s *GRUSpec) { s.R = nil }},
		{"bias matrix", "bias", func(s *GRUSpec) { s.B = randMatrix(g, rng, "b2", 9, 1) }},
		{"nil initial hidden state", "initial hidden state", func(s *GRUSpec) { s.H0 = nil }},
		{"initial state of another batch", "initial hidden state", func(s *GRUSpec) { s.H0 = randMatrix(g, rng, "h02", 3, 3) }},
		{"no recurrent bias after multiplication", "recurrent bias", func(s *GRUSpec) { s.RB = nil }},
		{"recurrent bias of another size", "recurrent bias", func(s *GRUSpec) { s.RB = randMatrix(g, rng, "bR2", 6) }},
		{"recurrent bias before multiplication", "recurrent bias", func(s *GRUSpec) { s.ResetBefore = true }},
		{"too few masks", "2 masks for 3 timesteps", func(s *GRUSpec) { s.Masks = lstmMasks(g, [][]float64{{1, 1}, {1, 1}}) }},
		{"mask of another batch", "mask at t=1", func(s *GRUSpec) {
			s.Masks = lstmMasks(g, [][]float64{{1, 1}, {1, 1, 1}, {1, 1}})
		}},
		{"invalid gate activation", "activation", func(s *GRUSpec) { s.Gate = Activation(42) }},
		{"invalid state activation", "activation", func(s *GRUSpec) { s.State = Activation(-1) }},
	}
	for _, c := range cases {
		s := good()
		s.Name = "bad"
		c.edit(&s)
		_, err := NewGRULayer(s)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `gru layer "bad"`) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
	}
}

// TestGRULayerReadBeforeRun reads a state and a gradient without running
// the layer, as a hand-built program might: errors, not panics.
func TestGRULayerReadBeforeRun(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(9, 9))
	s := gruInputs(g, rng, "", true, 2, 1, 1, 1)
	l, err := NewGRULayer(s)
	if err != nil {
		t.Fatal(err)
	}
	h := must(l.Hidden(0))
	if _, err := h.Op().Do(); err == nil {
		t.Error("read of a state: no error")
	}
	if _, err := (layerGradOp{opBase{1}, l.op, 0}).Do(); err == nil {
		t.Error("read of a gradient: no error")
	}
	bwd := &gruBackwardOp{opBase: opBase{2}, l: l.op, hIdx: []int{-1, -1, -1}}
	r := s.R.Value().(*tensor.Dense).Clone().(*tensor.Dense)
	if _, err := bwd.Do(tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float64)), r); err == nil {
		t.Error("backward pass: no error")
	}
}

// TestGRULayerRunsAreIndependent runs a layer, changes its inputs and masks
// in place, as a training loop feeding the next batch does, and checks the
// next run against a fresh graph: nothing of a run may leak into the next
// through the layer's buffers.
func TestGRULayerRunsAreIndependent(t *testing.T) {
	const T, B, F, H = 3, 3, 2, 2
	first := [][]float64{{1, 1, 0}, {1, 0, 0}, {1, 0, 1}}
	second := [][]float64{{0, 1, 1}, {1, 1, 0}, {0, 1, 1}}
	type run struct {
		vm    gorgonia.VM
		spec  GRUSpec
		reads map[string]*gorgonia.Value
	}
	for _, mode := range gruModes {
		t.Run(mode.name, func(t *testing.T) {
			// shift moves the inputs to those of the next batch.
			shift := func(xs []*gorgonia.Node) {
				rng := rand.New(rand.NewPCG(11, 11))
				for _, x := range xs {
					v := x.Value().Data().([]float64)
					for i := range v {
						v[i] += rng.Float64()
					}
				}
			}
			build := func(masks [][]float64, next bool) *run {
				g := gorgonia.NewGraph()
				rng := rand.New(rand.NewPCG(10, 10))
				s := gruInputs(g, rng, "", mode.before, T, B, F, H)
				s.Masks = lstmMasks(g, masks)
				s.Reverse = true
				if next {
					shift(s.X)
				}
				l, err := NewGRULayer(s)
				if err != nil {
					t.Fatal(err)
				}
				var outs []*gorgonia.Node
				for t := range T {
					outs = append(outs, must(l.Hidden(t)))
				}
				cost := sumCosts(t, g, rng, outs...)
				if _, err := gorgonia.Grad(cost, s.wrt()...); err != nil {
					t.Fatal(err)
				}
				r := &run{spec: s, reads: map[string]*gorgonia.Value{}}
				for i, n := range append(outs, cost) {
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
					d, ok := (*v).(*tensor.Dense)
					if !ok {
						got[name] = []float64{(*v).Data().(float64)}
						continue
					}
					got[name] = toFloat64(d)
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
			reused := build(first, false)
			defer reused.vm.Close()
			exec(reused)
			for i, m := range reused.spec.Masks {
				copy(m.Value().Data().([]float64), second[i])
			}
			shift(reused.spec.X)
			got := exec(reused)
			fresh := build(second, true)
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
		})
	}
}

// TestGRULayerDoRejectsBadValues gives the forward op values that do not
// fit its graph, as a caller who Lets a wrong tensor into an input would:
// an error, not a panic in the BLAS.
func TestGRULayerDoRejectsBadValues(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(12, 12))
	s := gruInputs(g, rng, "", false, 2, 3, 2, 4)
	l, err := NewGRULayer(s)
	if err != nil {
		t.Fatal(err)
	}
	values := func() []gorgonia.Value {
		var vs []gorgonia.Value
		for _, n := range append(append(gorgonia.Nodes{}, s.X...), s.W, s.R, s.B, s.H0, s.RB) {
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
			vs[4] = tensor.New(tensor.WithShape(12, 1), tensor.Of(tensor.Float64))
			return vs
		}},
		{"recurrent bias of another size", func(vs []gorgonia.Value) []gorgonia.Value {
			vs[6] = tensor.New(tensor.WithShape(16), tensor.Of(tensor.Float64))
			return vs
		}},
		{"float32 weights", func(vs []gorgonia.Value) []gorgonia.Value {
			vs[2] = tensor.New(tensor.WithShape(12, 2), tensor.Of(tensor.Float32))
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
