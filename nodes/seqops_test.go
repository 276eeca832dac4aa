package nodes

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The helpers here run the sequence ops (Conv1D, the poolings, Embedding,
// LayerNorm) in small graphs for their tests.

// tin is an input of a test graph.
type tin struct {
	name  string
	shape []int
	vals  []float64
}

// seqBuild builds an op's output from the test graph's inputs, by name.
type seqBuild func(in map[string]*gorgonia.Node) (*gorgonia.Node, error)

// opRun is what one run of a test graph gave: the op's output and the
// gradients of Σ gy⊙y with respect to the inputs asked for.
type opRun struct {
	y     []float64
	shape tensor.Shape
	grads map[string][]float64
}

// opGraph is a test graph: the inputs by name, the op's output y and the
// inputs differentiated against.
type opGraph struct {
	g   *gorgonia.ExprGraph
	in  map[string]*gorgonia.Node
	y   *gorgonia.Node
	wrt gorgonia.Nodes
}

// newOpGraph returns a graph holding the inputs, the op's output y and, when
// gy is not nil, the cost Σ gy⊙y differentiated with respect to wrt.
func newOpGraph(t testing.TB, dt tensor.Dtype, ins []tin, wrt []string, gy []float64, build seqBuild) (opGraph, error) {
	t.Helper()
	og := opGraph{g: gorgonia.NewGraph(), in: map[string]*gorgonia.Node{}}
	for _, in := range ins {
		og.in[in.name] = gorgonia.NodeFromAny(og.g, denseOf(dt, in.vals, in.shape...), gorgonia.WithName(in.name))
	}
	var err error
	if og.y, err = build(og.in); err != nil || gy == nil {
		return og, err
	}
	w := gorgonia.NodeFromAny(og.g, denseOf(dt, gy, og.y.Shape()...), gorgonia.WithName("gy"))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(og.y, w))))
	for _, name := range wrt {
		og.wrt = append(og.wrt, og.in[name])
	}
	if _, err := gorgonia.Grad(cost, og.wrt...); err != nil {
		t.Fatalf("differentiating: %v", err)
	}
	return og, nil
}

// machine returns a tape machine for the graph that keeps the gradients.
func (og opGraph) machine(t testing.TB) gorgonia.VM {
	t.Helper()
	vm, err := NewTapeMachine(og.g, gorgonia.BindDualValues(og.wrt...))
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// runOpGraph builds the test graph, runs it once and returns what it gave,
// or the error of building or running it.
func runOpGraph(t *testing.T, dt tensor.Dtype, ins []tin, wrt []string, gy []float64, build seqBuild) (opRun, error) {
	t.Helper()
	og, err := newOpGraph(t, dt, ins, wrt, gy, build)
	if err != nil {
		return opRun{}, err
	}
	var yv gorgonia.Value
	gorgonia.Read(og.y, &yv)
	vm := og.machine(t)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return opRun{}, err
	}
	r := opRun{y: toFloat64(yv.(*tensor.Dense)), shape: yv.Shape().Clone(), grads: map[string][]float64{}}
	for _, n := range og.wrt {
		d, err := n.Grad()
		if err != nil {
			t.Fatalf("gradient of %s: %v", n.Name(), err)
		}
		r.grads[n.Name()] = toFloat64(d.(*tensor.Dense))
	}
	return r, nil
}

// mustRun is runOpGraph for graphs that must build and run.
func mustRun(t *testing.T, dt tensor.Dtype, ins []tin, wrt []string, gy []float64, build seqBuild) opRun {
	t.Helper()
	r, err := runOpGraph(t, dt, ins, wrt, gy, build)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// closeTo fails unless got and want agree to tol, relative to the larger
// of 1 and |want|.
func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*math.Max(1, math.Abs(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v (difference %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// seqBatch is a padded test batch: T steps of B sequences of C channels,
// time-major, with garbage in the padding rows.
type seqBatch struct {
	steps, batch, channels int
	lengths                []int
	left                   bool
	x, mask                []float64
}

// newSeqBatch draws a batch of sequences of the given lengths, padded on
// the left or the right to the longest, with padding rows of large values
// that no op may read.
func newSeqBatch(rng *rand.Rand, lengths []int, left bool, c int) seqBatch {
	steps := 0
	for _, n := range lengths {
		steps = max(steps, n)
	}
	b := len(lengths)
	s := seqBatch{steps: steps, batch: b, channels: c, lengths: lengths, left: left,
		x: make([]float64, steps*b*c), mask: make([]float64, steps*b)}
	for i := range s.x {
		s.x[i] = 500 + 100*rng.Float64()
	}
	for seq, n := range lengths {
		for j := range n {
			r := s.row(seq, j)
			s.mask[r] = 1
			for ch := range c {
				s.x[r*c+ch] = 2*rng.Float64() - 1
			}
		}
	}
	return s
}

// row returns the row of step j of sequence seq's real steps.
func (s seqBatch) row(seq, j int) int {
	if s.left {
		j += s.steps - s.lengths[seq]
	}
	return j*s.batch + seq
}

// alone returns sequence seq as a batch of its own, unpadded.
func (s seqBatch) alone(seq int) seqBatch {
	n, c := s.lengths[seq], s.channels
	a := seqBatch{steps: n, batch: 1, channels: c, lengths: []int{n}, x: make([]float64, n*c), mask: make([]float64, n)}
	for j := range n {
		copy(a.x[j*c:(j+1)*c], s.x[s.row(seq, j)*c:])
		a.mask[j] = 1
	}
	return a
}

// inputs returns the batch as the inputs "x" and "mask".
func (s seqBatch) inputs() []tin {
	return []tin{{"x", []int{s.steps * s.batch, s.channels}, s.x}, {"mask", []int{s.steps * s.batch}, s.mask}}
}

// wantErr fails unless err is an error whose message holds every one of
// parts.
func wantErr(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not say %q", what, err, p)
		}
	}
}

// benchOp times a forward and backward run of a float32 test graph on the
// tape machine: the op, the cost Σ gy⊙y and the gradients of wrt.
func benchOp(b *testing.B, ins []tin, wrt []string, build seqBuild) {
	rng := rand.New(rand.NewPCG(2, 2))
	og, err := newOpGraph(b, tensor.Float32, ins, nil, nil, build)
	if err != nil {
		b.Fatal(err)
	}
	if og, err = newOpGraph(b, tensor.Float32, ins, wrt, uniform(rng, og.y.Shape().TotalSize()), build); err != nil {
		b.Fatal(err)
	}
	vm := og.machine(b)
	defer vm.Close()
	for b.Loop() {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}
