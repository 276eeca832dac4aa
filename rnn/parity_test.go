package rnn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// lstmFixture is one case of testdata/lstm_fixtures.json, written by
// testdata/make_lstm_fixtures.py from PyTorch's nn.LSTM.
type lstmFixture struct {
	Name           string
	F, H, B, T     int
	W, R, Bias     []float64
	X, H0, C0      []float64
	Y, HT, CT      []float64
	GY, GH, GC     []float64
	Loss           float64
	DW, DR, DB, DX []float64
	DH0, DC0       []float64
}

func loadLSTMFixtures(t *testing.T) []lstmFixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/lstm_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var out []lstmFixture
	for _, c := range file.Cases {
		var f lstmFixture
		get := func(key string, dst any) {
			if err := json.Unmarshal(c[key], dst); err != nil {
				t.Fatalf("fixture field %q: %v", key, err)
			}
		}
		get("name", &f.Name)
		get("F", &f.F)
		get("H", &f.H)
		get("B", &f.B)
		get("T", &f.T)
		for key, dst := range map[string]*[]float64{
			"W": &f.W, "R": &f.R, "b": &f.Bias, "x": &f.X, "h0": &f.H0, "c0": &f.C0,
			"y": &f.Y, "hT": &f.HT, "cT": &f.CT, "gy": &f.GY, "gh": &f.GH, "gc": &f.GC,
			"dW": &f.DW, "dR": &f.DR, "db": &f.DB, "dx": &f.DX, "dh0": &f.DH0, "dc0": &f.DC0,
		} {
			get(key, dst)
		}
		get("loss", &f.Loss)
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatal("no fixtures")
	}
	return out
}

func matrix(g *gorgonia.ExprGraph, name string, rows, cols int, v []float64) *gorgonia.Node {
	return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(append([]float64(nil), v...))), gorgonia.WithName(name))
}

// atTime takes timestep t of a batch-major [B,T,N] array as B×N.
func atTime(v []float64, b, steps, n, t int) []float64 {
	out := make([]float64, 0, b*n)
	for i := 0; i < b; i++ {
		out = append(out, v[(i*steps+t)*n:(i*steps+t+1)*n]...)
	}
	return out
}

func TestLSTMMatchesPyTorch(t *testing.T) {
	for _, fx := range loadLSTMFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			p, _ := nodes.NewParams(tensor.Float64, 1)
			cell, err := NewLSTM(g, p, "lstm", fx.F, fx.H)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range map[string][]float64{"lstm/InputWeights": fx.W, "lstm/RecurrentWeights": fx.R, "lstm/Bias": fx.Bias} {
				if err := p.Set(name, v); err != nil {
					t.Fatal(err)
				}
			}
			xs := make([]*gorgonia.Node, fx.T)
			for i := range xs {
				xs[i] = matrix(g, fmt.Sprintf("x/t%d", i), fx.B, fx.F, atTime(fx.X, fx.B, fx.T, fx.F, i))
			}
			h0, c0 := matrix(g, "h0", fx.B, fx.H, fx.H0), matrix(g, "c0", fx.B, fx.H, fx.C0)
			u, err := Unroll(cell, xs, WithInitialState(State{h0, c0}))
			if err != nil {
				t.Fatal(err)
			}
			// loss = Σ y⊙gy + Σ hT⊙gh + Σ cT⊙gc, as in the script.
			terms := []*gorgonia.Node{}
			weigh := func(n *gorgonia.Node, name string, w []float64) {
				wn := matrix(g, name, fx.B, fx.H, w)
				prod, err := gorgonia.HadamardProd(n, wn)
				if err != nil {
					t.Fatal(err)
				}
				s, err := gorgonia.Sum(prod)
				if err != nil {
					t.Fatal(err)
				}
				terms = append(terms, s)
			}
			for i, y := range u.Outputs {
				weigh(y, fmt.Sprintf("gy/t%d", i), atTime(fx.GY, fx.B, fx.T, fx.H, i))
			}
			weigh(u.Final[0], "gh", fx.GH)
			weigh(u.Final[1], "gc", fx.GC)
			loss := terms[0]
			for _, s := range terms[1:] {
				if loss, err = gorgonia.Add(loss, s); err != nil {
					t.Fatal(err)
				}
			}
			wrt := append(append(cell.Learnables(), h0, c0), xs...)
			if _, err := gorgonia.Grad(loss, wrt...); err != nil {
				t.Fatal(err)
			}
			vals := make([]gorgonia.Value, fx.T+3)
			for i, y := range u.Outputs {
				gorgonia.Read(y, &vals[i])
			}
			gorgonia.Read(u.Final[0], &vals[fx.T])
			gorgonia.Read(u.Final[1], &vals[fx.T+1])
			gorgonia.Read(loss, &vals[fx.T+2])
			vm, err := nodes.NewTapeMachine(g, gorgonia.BindDualValues(wrt...))
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			const tol = 1e-9
			check := func(what string, got, want []float64) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
						t.Errorf("%s[%d] = %.15g, PyTorch %.15g", what, i, got[i], want[i])
						return
					}
				}
			}
			grad := func(n *gorgonia.Node) []float64 {
				d, err := n.Grad()
				if err != nil {
					t.Fatal(err)
				}
				return d.Data().([]float64)
			}
			for i := 0; i < fx.T; i++ {
				check(fmt.Sprintf("y at t=%d", i), vals[i].Data().([]float64), atTime(fx.Y, fx.B, fx.T, fx.H, i))
				check(fmt.Sprintf("dx at t=%d", i), grad(xs[i]), atTime(fx.DX, fx.B, fx.T, fx.F, i))
			}
			check("hT", vals[fx.T].Data().([]float64), fx.HT)
			check("cT", vals[fx.T+1].Data().([]float64), fx.CT)
			check("loss", []float64{vals[fx.T+2].Data().(float64)}, []float64{fx.Loss})
			check("dW", grad(cell.W), fx.DW)
			check("dR", grad(cell.R), fx.DR)
			check("db", grad(cell.B), fx.DB)
			check("dh0", grad(h0), fx.DH0)
			check("dc0", grad(c0), fx.DC0)
		})
	}
}
