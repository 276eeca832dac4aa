package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestInitializers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	moments := func(v []float64) (mean, sd, maxAbs float64) {
		for _, x := range v {
			mean += x
			maxAbs = math.Max(maxAbs, math.Abs(x))
		}
		mean /= float64(len(v))
		for _, x := range v {
			sd += (x - mean) * (x - mean)
		}
		return mean, math.Sqrt(sd / float64(len(v))), maxAbs
	}
	const n = 40000
	cases := []struct {
		name           string
		init           Initializer
		sd, bound, tol float64 // bound 0: unbounded
	}{
		{"glorot", GlorotUniform(100, 300), math.Sqrt(6.0/400) / math.Sqrt(3), math.Sqrt(6.0 / 400), 0.02},
		{"he", He(50), math.Sqrt(2.0 / 50), 0, 0.02},
		{"narrow-normal", NarrowNormal(), 0.01, 0, 0.02},
	}
	for _, c := range cases {
		out := make([]float64, n)
		if err := c.init(rng, tensor.Shape{n}, out); err != nil {
			t.Fatal(err)
		}
		mean, sd, maxAbs := moments(out)
		if math.Abs(sd-c.sd) > c.tol*c.sd || math.Abs(mean) > 4*c.sd/math.Sqrt(n) {
			t.Errorf("%s: mean %v, sd %v; want 0 and %v", c.name, mean, sd, c.sd)
		}
		if c.bound > 0 && maxAbs > c.bound {
			t.Errorf("%s: |value| up to %v, bound %v", c.name, maxAbs, c.bound)
		}
	}
	for _, shape := range []tensor.Shape{{12, 3}, {3, 12}, {5, 5}} {
		out := make([]float64, shape.TotalSize())
		if err := Orthogonal()(rng, shape, out); err != nil {
			t.Fatal(err)
		}
		q := mat.NewDense(shape[0], shape[1], out)
		var g mat.Dense
		if shape[0] >= shape[1] {
			g.Mul(q.T(), q)
		} else {
			g.Mul(q, q.T())
		}
		r, _ := g.Dims()
		for i := 0; i < r; i++ {
			for j := 0; j < r; j++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(g.At(i, j)-want) > 1e-12 {
					t.Fatalf("orthogonal %v: QᵀQ[%d,%d] = %v", shape, i, j, g.At(i, j))
				}
			}
		}
	}
	b := make([]float64, 12)
	if err := UnitForgetGateBias(3)(rng, tensor.Shape{12}, b); err != nil {
		t.Fatal(err)
	}
	for i, v := range b {
		if want := map[bool]float64{true: 1, false: 0}[i >= 3 && i < 6]; v != want {
			t.Fatalf("unit forget gate bias = %v", b)
		}
	}
	for _, name := range []string{"glorot", "he", "orthogonal", "narrow-normal", "zeros", "ones", "GLOROT"} {
		if _, err := ParseInitializer(name, 3, 4); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseInitializer("uniform", 3, 4); err == nil {
		t.Error("an unknown initializer name gave no error")
	}
}

func TestParamsAreSeededAndShared(t *testing.T) {
	make := func(seed uint64) (*Params, []*gorgonia.Node) {
		p, err := NewParams(tensor.Float64, seed)
		if err != nil {
			t.Fatal(err)
		}
		var ns []*gorgonia.Node
		for _, g := range []*gorgonia.ExprGraph{gorgonia.NewGraph(), gorgonia.NewGraph()} {
			n, err := p.Node(g, "w", tensor.Shape{3, 4}, GlorotUniform(4, 3))
			if err != nil {
				t.Fatal(err)
			}
			ns = append(ns, n)
		}
		return p, ns
	}
	p1, ns := make(7)
	p2, _ := make(7)
	p3, _ := make(8)
	if ns[0].Value() != ns[1].Value() {
		t.Error("two graphs got different tensors for one learnable")
	}
	same, other := true, false
	for i, v := range p1.Values("w") {
		same = same && v == p2.Values("w")[i]
		other = other || v != p3.Values("w")[i]
	}
	if !same || !other {
		t.Errorf("seeding: same seed equal %t, other seed differs %t", same, other)
	}
	if _, err := p1.Node(gorgonia.NewGraph(), "w", tensor.Shape{4, 3}, nil); err == nil {
		t.Error("asking for a learnable with another shape gave no error")
	}
	if err := p1.Set("w", []float64{1}); err == nil {
		t.Error("setting values of the wrong size gave no error")
	}
	if _, err := NewParams(tensor.Int, 1); err == nil {
		t.Error("an integer dtype gave no error")
	}
}
