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

// The fixtures come from PyTorch 1.13 (Debian's python3-torch), written by
// testdata/make_lstm_fixtures.py and testdata/make_cell_fixtures.py; every
// tensor is a flat row-major list, shapes in the files' "format" strings.

type fixture map[string]json.RawMessage

func loadFixtures(t *testing.T, file, section string) []fixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	var cases []fixture
	if err := json.Unmarshal(all[section], &cases); err != nil {
		t.Fatalf("%s: section %q: %v", file, section, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases in %q", file, section)
	}
	return cases
}

func (f fixture) get(t *testing.T, key string, dst any) {
	t.Helper()
	raw, ok := f[key]
	if !ok {
		t.Fatalf("fixture has no field %q", key)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		t.Fatalf("fixture field %q: %v", key, err)
	}
}

func (f fixture) floats(t *testing.T, key string) []float64 {
	var v []float64
	f.get(t, key, &v)
	return v
}

func (f fixture) int(t *testing.T, key string) int {
	var v int
	f.get(t, key, &v)
	return v
}

func (f fixture) name(t *testing.T) string {
	var v string
	f.get(t, "name", &v)
	return v
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

// part takes part k of a [K,B,H] array as B×H.
func part(v []float64, k, b, h int) []float64 { return v[k*b*h : (k+1)*b*h] }

// parity builds the loss Σ_k Σ n_k ⊙ w_k of PyTorch's script in a graph,
// runs forward and backward, and compares values and gradients.
type parity struct {
	t     *testing.T
	g     *gorgonia.ExprGraph
	terms []*gorgonia.Node
	check []func()
}

func newParity(t *testing.T) *parity { return &parity{t: t, g: gorgonia.NewGraph()} }

// weigh adds Σ n ⊙ w to the loss.
func (p *parity) weigh(n *gorgonia.Node, w []float64) {
	wn := matrix(p.g, fmt.Sprintf("loss weight %d", len(p.terms)), n.Shape()[0], n.Shape()[1], w)
	s, err := gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(n, wn)))
	if err != nil {
		p.t.Fatal(err)
	}
	p.terms = append(p.terms, s)
}

// value compares the value of n with want, where keep (if not nil) says
// which elements to compare.
func (p *parity) value(what string, n *gorgonia.Node, want []float64, keep func(i int) bool) {
	v := new(gorgonia.Value)
	gorgonia.Read(n, v)
	p.check = append(p.check, func() {
		got, ok := (*v).Data().([]float64)
		if !ok {
			got = []float64{(*v).Data().(float64)}
		}
		compare(p.t, what, got, want, keep)
	})
}

// grad compares the gradient of the loss with respect to n with want.
func (p *parity) grad(what string, n *gorgonia.Node, want []float64) {
	p.check = append(p.check, func() {
		d, err := n.Grad()
		if err != nil {
			p.t.Fatal(err)
		}
		compare(p.t, what, d.Data().([]float64), want, nil)
	})
}

func compare(t *testing.T, what string, got, want []float64, keep func(i int) bool) {
	t.Helper()
	const tol = 1e-9
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if keep != nil && !keep(i) {
			continue
		}
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.15g, PyTorch %.15g", what, i, got[i], want[i])
			return
		}
	}
}

// run differentiates the loss with respect to wrt, runs once and checks
// everything registered, the loss against wantLoss.
func (p *parity) run(wrt gorgonia.Nodes, wantLoss float64) {
	t := p.t
	loss := p.terms[0]
	for _, s := range p.terms[1:] {
		loss = gorgonia.Must(gorgonia.Add(loss, s))
	}
	p.value("loss", loss, []float64{wantLoss}, nil)
	if _, err := gorgonia.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	vm, err := nodes.NewTapeMachine(p.g, gorgonia.BindDualValues(wrt...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, c := range p.check {
		c()
	}
}

// inputs returns the T inputs of a batch-major x.
func (p *parity) inputs(x []float64, b, steps, f int) []*gorgonia.Node {
	xs := make([]*gorgonia.Node, steps)
	for i := range xs {
		xs[i] = matrix(p.g, fmt.Sprintf("x/t%d", i), b, f, atTime(x, b, steps, f, i))
	}
	return xs
}

func newTestParams(t *testing.T) *nodes.Params {
	p, err := nodes.NewParams(tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func setParams(t *testing.T, p *nodes.Params, values map[string][]float64) {
	t.Helper()
	for name, v := range values {
		if err := p.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
}

// lstmPaths are the two ways to unroll an LSTM: gate nodes per timestep, and
// the fused layer op. Every LSTM parity test runs on both.
var lstmPaths = map[string]func(*LSTM, []*gorgonia.Node, ...UnrollOption) (*Unrolled, error){
	"gates": func(c *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*Unrolled, error) {
		return Unroll(c, xs, opts...)
	},
	"fused": UnrollLSTM,
}

func TestLSTMMatchesPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t, "lstm_fixtures.json", "cases") {
		for path, unroll := range lstmPaths {
			t.Run(fx.name(t)+"/"+path, func(t *testing.T) {
				F, H, B, T := fx.int(t, "F"), fx.int(t, "H"), fx.int(t, "B"), fx.int(t, "T")
				pt := newParity(t)
				params := newTestParams(t)
				cell, err := NewLSTM(pt.g, params, "lstm", F, H)
				if err != nil {
					t.Fatal(err)
				}
				setParams(t, params, map[string][]float64{"lstm/InputWeights": fx.floats(t, "W"), "lstm/RecurrentWeights": fx.floats(t, "R"), "lstm/Bias": fx.floats(t, "b")})
				xs := pt.inputs(fx.floats(t, "x"), B, T, F)
				h0, c0 := matrix(pt.g, "h0", B, H, fx.floats(t, "h0")), matrix(pt.g, "c0", B, H, fx.floats(t, "c0"))
				u, err := unroll(cell, xs, WithInitialState(State{h0, c0}))
				if err != nil {
					t.Fatal(err)
				}
				y, gy, dx := fx.floats(t, "y"), fx.floats(t, "gy"), fx.floats(t, "dx")
				for i, out := range u.Outputs {
					pt.weigh(out, atTime(gy, B, T, H, i))
					pt.value(fmt.Sprintf("y at t=%d", i), out, atTime(y, B, T, H, i), nil)
					pt.grad(fmt.Sprintf("dx at t=%d", i), xs[i], atTime(dx, B, T, F, i))
				}
				pt.weigh(u.Final[0], fx.floats(t, "gh"))
				pt.weigh(u.Final[1], fx.floats(t, "gc"))
				pt.value("hT", u.Final[0], fx.floats(t, "hT"), nil)
				pt.value("cT", u.Final[1], fx.floats(t, "cT"), nil)
				for name, n := range map[string]*gorgonia.Node{"dW": cell.W, "dR": cell.R, "db": cell.B, "dh0": h0, "dc0": c0} {
					pt.grad(name, n, fx.floats(t, name))
				}
				var loss float64
				fx.get(t, "loss", &loss)
				pt.run(append(append(cell.Learnables(), h0, c0), xs...), loss)
			})
		}
	}
}

// singleStateParity checks a cell with one state part (GRU, Elman) against a
// fixture with W, R, b, x, h0, y, hT, gy, gh and their gradients.
func singleStateParity(t *testing.T, fx fixture, newCell func(g *gorgonia.ExprGraph, p *nodes.Params, f, h int) (Cell, error), learnables map[string]string) {
	F, H, B, T := fx.int(t, "F"), fx.int(t, "H"), fx.int(t, "B"), fx.int(t, "T")
	pt := newParity(t)
	params := newTestParams(t)
	cell, err := newCell(pt.g, params, F, H)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]float64{}
	for field, name := range learnables {
		values[name] = fx.floats(t, field)
	}
	setParams(t, params, values)
	xs := pt.inputs(fx.floats(t, "x"), B, T, F)
	h0 := matrix(pt.g, "h0", B, H, fx.floats(t, "h0"))
	u, err := Unroll(cell, xs, WithInitialState(State{h0}))
	if err != nil {
		t.Fatal(err)
	}
	y, gy, dx := fx.floats(t, "y"), fx.floats(t, "gy"), fx.floats(t, "dx")
	for i, out := range u.Outputs {
		pt.weigh(out, atTime(gy, B, T, H, i))
		pt.value(fmt.Sprintf("y at t=%d", i), out, atTime(y, B, T, H, i), nil)
		pt.grad(fmt.Sprintf("dx at t=%d", i), xs[i], atTime(dx, B, T, F, i))
	}
	pt.weigh(u.Final[0], fx.floats(t, "gh"))
	pt.value("hT", u.Final[0], fx.floats(t, "hT"), nil)
	pt.grad("dh0", h0, fx.floats(t, "dh0"))
	byName := map[string]*gorgonia.Node{}
	for _, n := range cell.Learnables() {
		byName[n.Name()] = n
	}
	for field, name := range learnables {
		pt.grad("d"+field, byName[name], fx.floats(t, "d"+field))
	}
	var loss float64
	fx.get(t, "loss", &loss)
	pt.run(append(append(cell.Learnables(), h0), xs...), loss)
}

func TestGRUMatchesPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t, "cell_fixtures.json", "gru") {
		t.Run(fx.name(t), func(t *testing.T) {
			singleStateParity(t, fx, func(g *gorgonia.ExprGraph, p *nodes.Params, f, h int) (Cell, error) {
				return NewGRU(g, p, "gru", f, h)
			}, map[string]string{"W": "gru/InputWeights", "R": "gru/RecurrentWeights", "b": "gru/Bias", "bR": "gru/RecurrentBias"})
		})
	}
}

func TestElmanMatchesPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t, "cell_fixtures.json", "rnn") {
		var nonlinearity string
		fx.get(t, "nonlinearity", &nonlinearity)
		act, err := nodes.ParseActivation(nonlinearity)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fx.name(t), func(t *testing.T) {
			singleStateParity(t, fx, func(g *gorgonia.ExprGraph, p *nodes.Params, f, h int) (Cell, error) {
				return NewElman(g, p, "rnn", f, h, WithStateActivation(act))
			}, map[string]string{"W": "rnn/InputWeights", "R": "rnn/RecurrentWeights", "b": "rnn/Bias"})
		})
	}
}

// biLSTMPaths are the two ways to unroll a bidirectional LSTM.
var biLSTMPaths = map[string]func(f, b *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*BiUnrolled, error){
	"gates": func(f, b *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*BiUnrolled, error) {
		return UnrollBidirectional(f, b, xs, Concat, opts...)
	},
	"fused": func(f, b *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*BiUnrolled, error) {
		return UnrollBidirectionalLSTM(f, b, xs, Concat, opts...)
	},
}

// biLSTMFixture is a variable-length BiLSTM fixture unrolled in a parity
// graph with the fixture's weights and masks.
type biLSTMFixture struct {
	pt         *parity
	fwd, bwd   *LSTM
	xs         []*gorgonia.Node
	u          *BiUnrolled
	lengths    []int
	F, H, B, T int
}

func unrollBiLSTMFixture(t *testing.T, fx fixture, unroll func(f, b *LSTM, xs []*gorgonia.Node, opts ...UnrollOption) (*BiUnrolled, error), mode OutputMode) *biLSTMFixture {
	bf := &biLSTMFixture{F: fx.int(t, "F"), H: fx.int(t, "H"), B: fx.int(t, "B"), T: fx.int(t, "T"), pt: newParity(t)}
	fx.get(t, "lengths", &bf.lengths)
	params := newTestParams(t)
	var err error
	if bf.fwd, err = NewLSTM(bf.pt.g, params, "bi/forward", bf.F, bf.H); err != nil {
		t.Fatal(err)
	}
	if bf.bwd, err = NewLSTM(bf.pt.g, params, "bi/backward", bf.F, bf.H); err != nil {
		t.Fatal(err)
	}
	setParams(t, params, map[string][]float64{
		"bi/forward/InputWeights": fx.floats(t, "W"), "bi/forward/RecurrentWeights": fx.floats(t, "R"), "bi/forward/Bias": fx.floats(t, "b"),
		"bi/backward/InputWeights": fx.floats(t, "Wb"), "bi/backward/RecurrentWeights": fx.floats(t, "Rb"), "bi/backward/Bias": fx.floats(t, "bb"),
	})
	bf.xs = bf.pt.inputs(fx.floats(t, "x"), bf.B, bf.T, bf.F)
	masks := make([]*gorgonia.Node, bf.T)
	for i := range masks {
		m := make([]float64, bf.B)
		for b, l := range bf.lengths {
			if i < l {
				m[b] = 1
			}
		}
		masks[i] = gorgonia.NodeFromAny(bf.pt.g, tensor.New(tensor.WithBacking(m)), gorgonia.WithName(fmt.Sprintf("mask/t%d", i)))
	}
	if bf.u, err = unroll(bf.fwd, bf.bwd, bf.xs, WithMask(masks), WithOutputMode(mode)); err != nil {
		t.Fatal(err)
	}
	return bf
}

func TestBidirectionalLSTMMatchesPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t, "cell_fixtures.json", "bilstm") {
		for path, unroll := range biLSTMPaths {
			t.Run(fx.name(t)+"/"+path, func(t *testing.T) {
				bf := unrollBiLSTMFixture(t, fx, unroll, Sequence)
				pt, u, B, T, F, H := bf.pt, bf.u, bf.B, bf.T, bf.F, bf.H
				y, gy, dx := fx.floats(t, "y"), fx.floats(t, "gy"), fx.floats(t, "dx")
				for i, out := range u.Outputs {
					// PyTorch's outputs are 0 at padded steps; only real ones
					// are defined.
					real := func(k int) bool { return i < bf.lengths[k/(2*H)] }
					pt.weigh(out, atTime(gy, B, T, 2*H, i))
					pt.value(fmt.Sprintf("y at t=%d", i), out, atTime(y, B, T, 2*H, i), real)
					pt.grad(fmt.Sprintf("dx at t=%d", i), bf.xs[i], atTime(dx, B, T, F, i))
				}
				hT, cT, gh, gc := fx.floats(t, "hT"), fx.floats(t, "cT"), fx.floats(t, "gh"), fx.floats(t, "gc")
				for k, dir := range []*Unrolled{u.Forward, u.Backward} {
					pt.weigh(dir.Final[0], part(gh, k, B, H))
					pt.weigh(dir.Final[1], part(gc, k, B, H))
					pt.value(fmt.Sprintf("hT[%d]", k), dir.Final[0], part(hT, k, B, H), nil)
					pt.value(fmt.Sprintf("cT[%d]", k), dir.Final[1], part(cT, k, B, H), nil)
				}
				for name, n := range map[string]*gorgonia.Node{"dW": bf.fwd.W, "dR": bf.fwd.R, "db": bf.fwd.B, "dWb": bf.bwd.W, "dRb": bf.bwd.R, "dbb": bf.bwd.B} {
					pt.grad(name, n, fx.floats(t, name))
				}
				var loss float64
				fx.get(t, "loss", &loss)
				pt.run(append(append(bf.fwd.Learnables(), bf.bwd.Learnables()...), bf.xs...), loss)
			})
		}
	}
}

// TestBidirectionalLastAndFinal checks the two one-output modes of a
// bidirectional layer against PyTorch's variable-length BiLSTM
// (pack_padded_sequence):
//
//   - Last is MATLAB's bilstmLayer 'last', "the last time step of the
//     output sequence": PyTorch's output y[b, L_b-1, :], whose backward half
//     has read x[L_b-1] only;
//   - Final is PyTorch's h_n, each direction's final hidden state
//     concatenated: [h_n[0, b, :], h_n[1, b, :]].
func TestBidirectionalLastAndFinal(t *testing.T) {
	for _, fx := range loadFixtures(t, "cell_fixtures.json", "bilstm") {
		for path, unroll := range biLSTMPaths {
			for _, mode := range []OutputMode{Last, Final} {
				t.Run(fx.name(t)+"/"+path+"/"+mode.String(), func(t *testing.T) {
					bf := unrollBiLSTMFixture(t, fx, unroll, mode)
					B, T, H := bf.B, bf.T, bf.H
					if len(bf.u.Outputs) != 1 {
						t.Fatalf("%d outputs, want 1", len(bf.u.Outputs))
					}
					y, hT := fx.floats(t, "y"), fx.floats(t, "hT")
					var want []float64
					for b, l := range bf.lengths {
						if mode == Last {
							want = append(want, y[(b*T+l-1)*2*H:(b*T+l)*2*H]...)
							continue
						}
						want = append(append(want, part(hT, 0, B, H)[b*H:(b+1)*H]...), part(hT, 1, B, H)[b*H:(b+1)*H]...)
					}
					bf.pt.weigh(bf.u.Outputs[0], make([]float64, B*2*H))
					bf.pt.value(mode.String(), bf.u.Outputs[0], want, nil)
					bf.pt.run(bf.fwd.Learnables(), 0)
				})
			}
		}
	}
}

func TestTwoLayerLSTMMatchesPyTorch(t *testing.T) {
	// The gate-node path stacks the cells timestep by timestep (Stack); the
	// fused path layer by layer, the first layer's backward pass taking its
	// output gradients from the second's. Both give the top outputs and
	// each layer's final state.
	paths := map[string]func(l1, l2 *LSTM, xs []*gorgonia.Node, initial [2]State) ([]*gorgonia.Node, [2]State, error){
		"gates": func(l1, l2 *LSTM, xs []*gorgonia.Node, initial [2]State) ([]*gorgonia.Node, [2]State, error) {
			stack, err := NewStack("stack", []Cell{l1, l2})
			if err != nil {
				return nil, [2]State{}, err
			}
			u, err := Unroll(stack, xs, WithInitialState(append(append(State{}, initial[0]...), initial[1]...)))
			if err != nil {
				return nil, [2]State{}, err
			}
			return u.Outputs, [2]State{u.Final[:2], u.Final[2:]}, nil
		},
		"fused": func(l1, l2 *LSTM, xs []*gorgonia.Node, initial [2]State) ([]*gorgonia.Node, [2]State, error) {
			u1, err := UnrollLSTM(l1, xs, WithInitialState(initial[0]))
			if err != nil {
				return nil, [2]State{}, err
			}
			u2, err := UnrollLSTM(l2, u1.Outputs, WithInitialState(initial[1]))
			if err != nil {
				return nil, [2]State{}, err
			}
			return u2.Outputs, [2]State{u1.Final, u2.Final}, nil
		},
	}
	for _, fx := range loadFixtures(t, "cell_fixtures.json", "lstm2") {
		for path, unroll := range paths {
			t.Run(fx.name(t)+"/"+path, func(t *testing.T) {
				F, H, B, T := fx.int(t, "F"), fx.int(t, "H"), fx.int(t, "B"), fx.int(t, "T")
				pt := newParity(t)
				params := newTestParams(t)
				l1, err := NewLSTM(pt.g, params, "l1", F, H)
				if err != nil {
					t.Fatal(err)
				}
				l2, err := NewLSTM(pt.g, params, "l2", H, H)
				if err != nil {
					t.Fatal(err)
				}
				setParams(t, params, map[string][]float64{
					"l1/InputWeights": fx.floats(t, "W1"), "l1/RecurrentWeights": fx.floats(t, "R1"), "l1/Bias": fx.floats(t, "b1"),
					"l2/InputWeights": fx.floats(t, "W2"), "l2/RecurrentWeights": fx.floats(t, "R2"), "l2/Bias": fx.floats(t, "b2"),
				})
				xs := pt.inputs(fx.floats(t, "x"), B, T, F)
				h0, c0 := fx.floats(t, "h0"), fx.floats(t, "c0")
				var initial [2]State
				for k := range initial {
					initial[k] = State{matrix(pt.g, fmt.Sprintf("h0/%d", k), B, H, part(h0, k, B, H)), matrix(pt.g, fmt.Sprintf("c0/%d", k), B, H, part(c0, k, B, H))}
				}
				outputs, finals, err := unroll(l1, l2, xs, initial)
				if err != nil {
					t.Fatal(err)
				}
				y, gy, dx := fx.floats(t, "y"), fx.floats(t, "gy"), fx.floats(t, "dx")
				for i, out := range outputs {
					pt.weigh(out, atTime(gy, B, T, H, i))
					pt.value(fmt.Sprintf("y at t=%d", i), out, atTime(y, B, T, H, i), nil)
					pt.grad(fmt.Sprintf("dx at t=%d", i), xs[i], atTime(dx, B, T, F, i))
				}
				hT, cT, gh, gc := fx.floats(t, "hT"), fx.floats(t, "cT"), fx.floats(t, "gh"), fx.floats(t, "gc")
				dh0, dc0 := fx.floats(t, "dh0"), fx.floats(t, "dc0")
				for k, final := range finals {
					pt.weigh(final[0], part(gh, k, B, H))
					pt.weigh(final[1], part(gc, k, B, H))
					pt.value(fmt.Sprintf("hT[%d]", k), final[0], part(hT, k, B, H), nil)
					pt.value(fmt.Sprintf("cT[%d]", k), final[1], part(cT, k, B, H), nil)
					pt.grad(fmt.Sprintf("dh0[%d]", k), initial[k][0], part(dh0, k, B, H))
					pt.grad(fmt.Sprintf("dc0[%d]", k), initial[k][1], part(dc0, k, B, H))
				}
				for name, n := range map[string]*gorgonia.Node{"dW1": l1.W, "dR1": l1.R, "db1": l1.B, "dW2": l2.W, "dR2": l2.R, "db2": l2.B} {
					pt.grad(name, n, fx.floats(t, name))
				}
				var loss float64
				fx.get(t, "loss", &loss)
				wrt := append(append(append(l1.Learnables(), l2.Learnables()...), initial[0]...), initial[1]...)
				pt.run(append(wrt, xs...), loss)
			})
		}
	}
}
