package exec

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// pyTorchCase is one case of rnn's PyTorch fixtures (rnn/testdata, written
// by make_lstm_fixtures.py and make_cell_fixtures.py with PyTorch 1.13):
// flat row-major float64 arrays and sizes by name.
type pyTorchCase map[string]json.RawMessage

func loadPyTorch(t *testing.T, file, section string) []pyTorchCase {
	t.Helper()
	raw, err := os.ReadFile("../../../rnn/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	var cases []pyTorchCase
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(all[section], &cases); err != nil || len(cases) == 0 {
		t.Fatalf("%s: section %q: %d cases, %v", file, section, len(cases), err)
	}
	return cases
}

func (c pyTorchCase) get(t *testing.T, key string, dst any) {
	t.Helper()
	if err := json.Unmarshal(c[key], dst); err != nil {
		t.Fatalf("field %q: %v", key, err)
	}
}

func (c pyTorchCase) floats(t *testing.T, key string) []float64 {
	var v []float64
	c.get(t, key, &v)
	return v
}

func (c pyTorchCase) int(t *testing.T, key string) int {
	var v int
	c.get(t, key, &v)
	return v
}

// stepOf takes timestep k of a batch-major [B,T,N] array as B×N.
func stepOf(v []float64, b, steps, n, k int) []float64 {
	var out []float64
	for i := range b {
		out = append(out, v[(i*steps+k)*n:(i*steps+k+1)*n]...)
	}
	return out
}

func constMatrix(g *gorgonia.ExprGraph, name string, rows, cols int, v []float64) *gorgonia.Node {
	return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(append([]float64(nil), v...))), gorgonia.WithName(name))
}

// TestProgramMatchesPyTorch runs the LSTM, GRU and Elman cells of rnn's
// PyTorch parity tests, unrolled into gate nodes, on the executor: the
// loss Σ_t Σ y_t ⊙ gy_t + Σ h_T ⊙ gh (+ Σ c_T ⊙ gc) of the fixtures, its
// value, the outputs and final states, and the gradients of the weights,
// the inputs and the initial states must match PyTorch's to 1e-9
// (relative where larger than 1), as rnn's tape-machine tests do.
func TestProgramMatchesPyTorch(t *testing.T) {
	lstm := func(g *gorgonia.ExprGraph, p *nodes.Params, f, h int, _ pyTorchCase) (rnn.Cell, error) {
		return rnn.NewLSTM(g, p, "c", f, h)
	}
	gru := func(g *gorgonia.ExprGraph, p *nodes.Params, f, h int, _ pyTorchCase) (rnn.Cell, error) {
		return rnn.NewGRU(g, p, "c", f, h)
	}
	elman := func(g *gorgonia.ExprGraph, p *nodes.Params, f, h int, c pyTorchCase) (rnn.Cell, error) {
		var act string
		c.get(t, "nonlinearity", &act)
		a, err := nodes.ParseActivation(act)
		if err != nil {
			return nil, err
		}
		return rnn.NewElman(g, p, "c", f, h, rnn.WithStateActivation(a))
	}
	weights := map[string]string{"W": "c/InputWeights", "R": "c/RecurrentWeights", "b": "c/Bias"}
	for _, set := range []struct {
		file, section string
		newCell       func(*gorgonia.ExprGraph, *nodes.Params, int, int, pyTorchCase) (rnn.Cell, error)
		extra         map[string]string
		parts         []string // state parts: h, and c for the LSTM
	}{
		{"lstm_fixtures.json", "cases", lstm, nil, []string{"h", "c"}},
		{"cell_fixtures.json", "gru", gru, map[string]string{"bR": "c/RecurrentBias"}, []string{"h"}},
		{"cell_fixtures.json", "rnn", elman, nil, []string{"h"}},
	} {
		for _, c := range loadPyTorch(t, set.file, set.section) {
			var name string
			c.get(t, "name", &name)
			t.Run(set.section+"/"+name, func(t *testing.T) {
				pyTorchParity(t, c, set.newCell, weights, set.extra, set.parts)
			})
		}
	}
}

func pyTorchParity(t *testing.T, c pyTorchCase, newCell func(*gorgonia.ExprGraph, *nodes.Params, int, int, pyTorchCase) (rnn.Cell, error),
	weights, extra map[string]string, parts []string) {
	f, h, b, steps := c.int(t, "F"), c.int(t, "H"), c.int(t, "B"), c.int(t, "T")
	g := gorgonia.NewGraph()
	params, err := nodes.NewParams(tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cell, err := newCell(g, params, f, h, c)
	if err != nil {
		t.Fatal(err)
	}
	learnable := map[string]string{}
	for _, m := range []map[string]string{weights, extra} {
		for field, n := range m {
			learnable[field] = n
			if err := params.Set(n, c.floats(t, field)); err != nil {
				t.Fatal(err)
			}
		}
	}
	x := c.floats(t, "x")
	xs := make([]*gorgonia.Node, steps)
	for k := range xs {
		xs[k] = constMatrix(g, fmt.Sprintf("x/t%d", k), b, f, stepOf(x, b, steps, f, k))
	}
	var initial rnn.State
	for _, part := range parts {
		initial = append(initial, constMatrix(g, part+"0", b, h, c.floats(t, part+"0")))
	}
	u, err := rnn.Unroll(cell, xs, rnn.WithInitialState(initial))
	if err != nil {
		t.Fatal(err)
	}
	var terms []*gorgonia.Node
	weigh := func(n *gorgonia.Node, w []float64) {
		wn := constMatrix(g, fmt.Sprintf("weight %d", len(terms)), b, h, w)
		terms = append(terms, gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(n, wn)))))
	}
	gy := c.floats(t, "gy")
	for k, out := range u.Outputs {
		weigh(out, stepOf(gy, b, steps, h, k))
	}
	for i, part := range parts {
		weigh(u.Final[i], c.floats(t, "g"+part))
	}
	loss := terms[0]
	for _, term := range terms[1:] {
		loss = gorgonia.Must(gorgonia.Add(loss, term))
	}
	byName := map[string]*gorgonia.Node{}
	for _, n := range cell.Learnables() {
		byName[n.Name()] = n
	}
	wrt := append(append(cell.Learnables(), initial...), xs...)
	targets := append(append([]*gorgonia.Node{loss}, u.Outputs...), u.Final...)
	prog, err := Compile(g, Spec{Targets: targets, Loss: loss, WRT: wrt})
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	index := map[*gorgonia.Node]int{}
	for j, n := range wrt {
		index[n] = j
	}
	grad := func(n *gorgonia.Node) []float64 { return prog.Grad(index[n]).Float64s() }
	var want float64
	c.get(t, "loss", &want)
	near(t, "loss", []float64{float64(*prog.Value(0).(*gorgonia.F64))}, []float64{want})
	y, dx := c.floats(t, "y"), c.floats(t, "dx")
	for k := range steps {
		near(t, fmt.Sprintf("y at t=%d", k), prog.Value(1+k).(*tensor.Dense).Float64s(), stepOf(y, b, steps, h, k))
		near(t, fmt.Sprintf("dx at t=%d", k), grad(xs[k]), stepOf(dx, b, steps, f, k))
	}
	for i, part := range parts {
		near(t, part+"T", prog.Value(1+steps+i).(*tensor.Dense).Float64s(), c.floats(t, part+"T"))
		near(t, "d"+part+"0", grad(initial[i]), c.floats(t, "d"+part+"0"))
	}
	for field, n := range learnable {
		near(t, "d"+field, grad(byName[n]), c.floats(t, "d"+field))
	}
}

func near(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
	}
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= 1e-9*math.Max(1, math.Abs(want[i]))) {
			t.Errorf("%s[%d] = %.15g, PyTorch %.15g", what, i, got[i], want[i])
			return
		}
	}
}
