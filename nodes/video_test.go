package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// evalNodes runs g once on a tape machine and returns the values of ns as
// float64.
func evalNodes(t *testing.T, g *gorgonia.ExprGraph, ns ...*gorgonia.Node) [][]float64 {
	t.Helper()
	vals := make([]gorgonia.Value, len(ns))
	for i, n := range ns {
		gorgonia.Read(n, &vals[i])
	}
	vm, err := NewTapeMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(ns))
	for i, v := range vals {
		out[i] = toFloat64(v.(*tensor.Dense))
	}
	return out
}

// denseOf returns a tensor of dtype dt with the given values and shape.
func denseOf(dt tensor.Dtype, vals []float64, shape ...int) *tensor.Dense {
	d := newDense(dt, shape)
	copyInto(d, vals)
	return d
}

func TestFoldLayoutAndUnfoldInverse(t *testing.T) {
	const b, c, h, w = 2, 2, 2, 3
	const f = c * h * w
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		// 11 timesteps: UnfoldSequence splits them unevenly, in two levels.
		for _, steps := range []int{1, 3, 11} {
			g := gorgonia.NewGraph()
			xs := make([]*gorgonia.Node, steps)
			for s := range xs {
				v := make([]float64, b*f)
				for i := range v {
					v[i] = float64(1000*s + i) // timestep, sequence and feature in one number
				}
				xs[s] = gorgonia.NodeFromAny(g, denseOf(dt, v, b, f), gorgonia.WithName("x"+string(rune('a'+s))))
			}
			y, err := FoldSequence(xs, c, h, w)
			if err != nil {
				t.Fatal(err)
			}
			if want := (tensor.Shape{steps * b, c, h, w}); !y.Shape().Eq(want) {
				t.Fatalf("%v, %d steps: folded shape %v, want %v", dt, steps, y.Shape(), want)
			}
			back, err := UnfoldSequence(y, steps)
			if err != nil {
				t.Fatal(err)
			}
			vals := evalNodes(t, g, append([]*gorgonia.Node{y}, back...)...)
			folded := vals[0]
			for s := range steps {
				for bi := range b {
					for k := range c {
						for i := range h {
							for j := range w {
								got := folded[(((s*b+bi)*c+k)*h+i)*w+j]
								if want := float64(1000*s + bi*f + (k*h+i)*w + j); got != want {
									t.Fatalf("%v: y[%d·%d+%d, %d, %d, %d] = %v, want %v", dt, s, b, bi, k, i, j, got, want)
								}
							}
						}
					}
				}
				step := vals[1+s]
				if len(step) != b*f || !back[s].Shape().Eq(tensor.Shape{b, f}) {
					t.Fatalf("%v: unfolded step %d has shape %v", dt, s, back[s].Shape())
				}
				for i, v := range step {
					if want := float64(1000*s + i); v != want {
						t.Fatalf("%v, %d steps: unfolded step %d [%d] = %v, want %v", dt, steps, s, i, v, want)
					}
				}
			}
		}
	}
}

func TestUnfoldFlattensAnyFrameShape(t *testing.T) {
	g := gorgonia.NewGraph()
	v := make([]float64, 6*5)
	for i := range v {
		v[i] = float64(i)
	}
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(6, 5), tensor.WithBacking(v)), gorgonia.WithName("x"))
	steps, err := UnfoldSequence(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	vals := evalNodes(t, g, steps...)
	for s, got := range vals {
		for i, u := range got {
			if u != v[s*10+i] {
				t.Fatalf("step %d = %v, want %v", s, got, v[s*10:s*10+10])
			}
		}
	}
}

func TestFoldUnfoldGradients(t *testing.T) {
	const b, c, h, w = 2, 2, 1, 3
	cases := []struct {
		name  string
		steps int
		build func(g *gorgonia.ExprGraph, r *rand.Rand, steps int) (gorgonia.Nodes, []*gorgonia.Node, error)
	}{
		{"round trip", 6, func(g *gorgonia.ExprGraph, r *rand.Rand, steps int) (gorgonia.Nodes, []*gorgonia.Node, error) {
			xs := make(gorgonia.Nodes, steps)
			for s := range xs {
				xs[s] = randMatrix(g, r, "x"+string(rune('a'+s)), b, c*h*w)
			}
			y, err := FoldSequence(xs, c, h, w)
			if err != nil {
				return nil, nil, err
			}
			// Squaring between fold and unfold makes the gradient
			// depend on the values, so that a block moved to the wrong
			// place in either direction shows.
			y, err = gorgonia.HadamardProd(y, y)
			if err != nil {
				return nil, nil, err
			}
			out, err := UnfoldSequence(y, steps)
			return xs, out, err
		}},
		{"fold", 3, func(g *gorgonia.ExprGraph, r *rand.Rand, steps int) (gorgonia.Nodes, []*gorgonia.Node, error) {
			xs := make(gorgonia.Nodes, steps)
			for s := range xs {
				xs[s] = randMatrix(g, r, "x"+string(rune('a'+s)), b, c*h*w)
			}
			y, err := FoldSequence(xs, c, h, w)
			return xs, []*gorgonia.Node{y}, err
		}},
		{"unfold", 9, func(g *gorgonia.ExprGraph, r *rand.Rand, steps int) (gorgonia.Nodes, []*gorgonia.Node, error) {
			x := randMatrix(g, r, "x", steps*b, c, h, w)
			out, err := UnfoldSequence(x, steps)
			return gorgonia.Nodes{x}, out, err
		}},
		{"unfold of some steps", 7, func(g *gorgonia.ExprGraph, r *rand.Rand, steps int) (gorgonia.Nodes, []*gorgonia.Node, error) {
			// A cost that ignores steps must still differentiate.
			x := randMatrix(g, r, "x", steps*b, c, h, w)
			out, err := UnfoldSequence(x, steps)
			if err != nil {
				return nil, nil, err
			}
			return gorgonia.Nodes{x}, []*gorgonia.Node{out[1], out[5]}, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			rng := rand.New(rand.NewPCG(5, 6))
			wrt, outs, err := tc.build(g, rng, tc.steps)
			if err != nil {
				t.Fatal(err)
			}
			cost := sumOfWeightedSums(t, g, rng, outs)
			worst, err := CheckGradients(cost, wrt, 1e-6, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			if worst.Relative > 1e-7 {
				t.Errorf("worst element: %v", worst)
			}
		})
	}
}

// sumOfWeightedSums returns Σ_i Σ w_i⊙y_i with a random w_i for each y_i.
func sumOfWeightedSums(t *testing.T, g *gorgonia.ExprGraph, rng *rand.Rand, ys []*gorgonia.Node) *gorgonia.Node {
	t.Helper()
	var cost *gorgonia.Node
	for _, y := range ys {
		c := weightedSum(t, g, rng, y)
		if cost == nil {
			cost = c
			continue
		}
		var err error
		if cost, err = gorgonia.Add(cost, c); err != nil {
			t.Fatal(err)
		}
	}
	return cost
}

func TestFoldUnfoldErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(1, 1))
	a, b := randMatrix(g, rng, "a", 2, 12), randMatrix(g, rng, "b", 3, 12)
	if _, err := FoldSequence([]*gorgonia.Node{a}, 2, 2, 2); err == nil {
		t.Error("fold: 12 features as a 2×2×2 frame: no error")
	}
	if _, err := FoldSequence([]*gorgonia.Node{a, b}, 3, 2, 2); err == nil {
		t.Error("fold: timesteps of 2 and 3 sequences: no error")
	}
	if _, err := FoldSequence(nil, 3, 2, 2); err == nil {
		t.Error("fold: no timesteps: no error")
	}
	if _, err := UnfoldSequence(b, 2); err == nil {
		t.Error("unfold: 3 frames in 2 timesteps: no error")
	}
	if _, err := UnfoldSequence(b, 0); err == nil {
		t.Error("unfold: 0 timesteps: no error")
	}
}

// videoNet is MATLAB's sequenceFoldingLayer, convolution2dLayer ('same'
// padding), batchNormalizationLayer, reluLayer, sequenceUnfoldingLayer and
// flattenLayer, as the graph package builds them (the rectifier on the
// folded frames), on steps timesteps of b frames of 1×4×4, with a cost that
// ignores the padding frames as a masked recurrent layer would.
type videoNet struct {
	inputs, learnables gorgonia.Nodes
	cost               *gorgonia.Node
}

func newVideoNet(t *testing.T, g *gorgonia.ExprGraph, dt tensor.Dtype, seed uint64, weights []float64) *videoNet {
	t.Helper()
	const steps, b, h, w, k = 3, 2, 4, 4, 2
	rng := rand.New(rand.NewPCG(seed, 1))
	node := func(name string, shape ...int) *gorgonia.Node {
		return gorgonia.NodeFromAny(g, denseOf(dt, uniform(rng, tensor.Shape(shape).TotalSize()), shape...), gorgonia.WithName(name))
	}
	net := &videoNet{}
	for s := range steps {
		net.inputs = append(net.inputs, node("x"+string(rune('a'+s)), b, h*w))
	}
	// No convolution bias: batch normalization subtracts it again, so its
	// gradient is 0 and finite differences of it are rounding noise.
	filter := node("filter", k, 1, 3, 3)
	scale, offset := node("scale", k), node("offset", k)
	net.learnables = gorgonia.Nodes{filter, scale, offset}
	folded, err := FoldSequence(net.inputs, 1, h, w)
	if err != nil {
		t.Fatal(err)
	}
	pad, err := SamePadding([2]int{h, w}, [2]int{3, 3}, [2]int{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := Conv2D(folded, filter, nil, pad, [2]int{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	state, err := NewBatchNormState(k)
	if err != nil {
		t.Fatal(err)
	}
	wn := gorgonia.NodeFromAny(g, denseOf(dt, weights, len(weights)), gorgonia.WithName("frame weights"))
	bn, err := BatchNorm(conv, scale, offset, state, nil, wn)
	if err != nil {
		t.Fatal(err)
	}
	relu, err := Rectify(bn)
	if err != nil {
		t.Fatal(err)
	}
	unfolded, err := UnfoldSequence(relu, steps)
	if err != nil {
		t.Fatal(err)
	}
	for s, a := range unfolded {
		if !a.Shape().Eq(tensor.Shape{b, k * h * w}) {
			t.Fatalf("step %d has shape %v, want %d×%d", s, a.Shape(), b, k*h*w)
		}
		cw := uniform(rng, b*k*h*w)
		for i := range cw {
			cw[i] *= weights[s*b+i/(k*h*w)] // padding frames out of the cost
		}
		c := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(a,
			gorgonia.NodeFromAny(g, denseOf(dt, cw, b, k*h*w), gorgonia.WithName("cost weights"+string(rune('a'+s))))))))
		if net.cost == nil {
			net.cost = c
		} else {
			net.cost = gorgonia.Must(gorgonia.Add(net.cost, c))
		}
	}
	return net
}

// Sequence 1 is a timestep shorter than sequence 0: frame 2·2+1 is padding.
var videoFrameWeights = []float64{1, 1, 1, 1, 1, 0}

func TestVideoPipelineGradients(t *testing.T) {
	g := gorgonia.NewGraph()
	net := newVideoNet(t, g, tensor.Float64, 13, videoFrameWeights)
	worst, err := CheckGradients(net.cost, append(net.inputs, net.learnables...), 1e-6, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	if worst.Relative > 1e-6 {
		t.Errorf("worst element: %v", worst)
	}
}

func TestVideoPipelineFloat32MatchesFloat64(t *testing.T) {
	grads := map[tensor.Dtype][][]float64{}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := gorgonia.NewGraph()
		net := newVideoNet(t, g, dt, 14, videoFrameWeights)
		wrt := append(net.inputs, net.learnables...)
		if _, err := gorgonia.Grad(net.cost, wrt...); err != nil {
			t.Fatal(err)
		}
		vm, err := NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		for _, n := range wrt {
			d, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads[dt] = append(grads[dt], toFloat64(d.(*tensor.Dense)))
		}
		vm.Close()
	}
	for i, want := range grads[tensor.Float64] {
		var scale float64
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		for j, v := range grads[tensor.Float32][i] {
			if math.Abs(v-want[j]) > 1e-4*math.Max(scale, 1e-3) {
				t.Fatalf("gradient %d[%d]: float32 %v, float64 %v", i, j, v, want[j])
			}
		}
	}
}
