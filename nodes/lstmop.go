package nodes

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/vecmath"
)

// LSTMSpec describes a fused LSTM layer for NewLSTMLayer: T timesteps of B
// sequences of F features, H hidden units.
type LSTMSpec struct {
	// Name names the layer in errors and in the ops' String.
	Name string
	// X holds the input of every timestep, in time order, each B×F.
	X []*gorgonia.Node
	// W (4H×F), R (4H×H) and B (4H) are the input weights, recurrent
	// weights and bias, with rows in the gate order input i, forget f,
	// cell candidate g, output o (MATLAB's and PyTorch's).
	W, R, B *gorgonia.Node
	// H0 and C0 are the hidden and cell state before the first timestep
	// read, B×H each.
	H0, C0 *gorgonia.Node
	// Masks is nil, or holds one vector of B values per timestep in time
	// order: 1 for a real step, 0 for padding, as for Masked.
	Masks []*gorgonia.Node
	// Gate and State are the gate and state activations; the zero values
	// stand for Sigmoid and Tanh.
	Gate, State Activation
	// Reverse reads the timesteps from the last to the first.
	Reverse bool
}

// LSTMLayer is a whole LSTM layer over a sequence as one node of a graph:
// the recurrence of rnn.LSTM's Step over every timestep, with a hand-written
// backward pass. Its results are read through nodes that Hidden, Cell and
// Final add to the graph.
//
// The layer node's own value is a 1-element zero vector; Gorgonia ops have
// one output, so the states stay in the op's buffers and each read node
// copies out a block of them. A read node hands Gorgonia a zero gradient of
// that 1-element shape, so the T gradients reaching the layer add up in T
// scalar additions. The backward op takes the gradients of the read nodes
// themselves (each read node's Deriv) as its inputs instead. It computes the
// gradients of every input of the layer in one pass into buffers, and one
// small node per input copies its gradient out.
//
// The buffers live as long as the graph: a graph with an LSTMLayer must not
// run on two machines at once, and the read nodes and the gradient nodes
// hold the values of the layer's last run.
type LSTMLayer struct {
	op   *lstmOp
	node *gorgonia.Node
}

// NewLSTMLayer adds a fused LSTM layer to the graph of spec's nodes. With σg
// the gate and σc the state activation, it reads the timesteps in order
// (last to first with Reverse) and at each step t computes
//
//	z   = W x_t + R h + b                      (4H values per sequence)
//	i   = σg(z_i)   f = σg(z_f)   g = σc(z_g)   o = σg(z_o)
//	c̃   = f ⊙ c + i ⊙ g
//	h̃   = o ⊙ σc(c̃)
//	c, h ← m_t c̃ + (1-m_t) c,  m_t h̃ + (1-m_t) h     (per sequence)
//
// starting from h = H0, c = C0, where m_t is the mask of the step (1 without
// masks). A mask of exactly 1 or 0 copies the new or the old state, as
// Masked does, so a padded step holds the state exactly. The input
// projections of all the timesteps are one matrix product, X·Wᵀ with X the
// T·B×F stack of the inputs in reading order, and every step one more, h·Rᵀ;
// all the products run on the BLAS MatMul uses (one installed with
// gorgonia.Use, or seqgraph's gemm).
//
// The backward pass runs the steps in the opposite order. With dh, dc the
// gradients reaching the state after the step (from the read nodes and from
// the step after it) and c the cell state before it, it computes
//
//	dh̃ = m_t dh                dc̃ = m_t dc + dh̃ ⊙ o ⊙ σc'(σc(c̃))
//	dz_i = dc̃ ⊙ g ⊙ σg'(i)    dz_f = dc̃ ⊙ c ⊙ σg'(f)
//	dz_g = dc̃ ⊙ i ⊙ σc'(g)    dz_o = dh̃ ⊙ σc(c̃) ⊙ σg'(o)
//	dh ← dz·R + (1-m_t) dh     dc ← dc̃ ⊙ f + (1-m_t) dc
//
// (derivatives as functions of the activations' outputs, as Activation
// has them; a row whose mask is exactly 0 gets dz = 0), and after the last
// step, with dZ the T·B×4H stack of the dz and H the stack of the
// states each step started from,
//
//	dW = dZᵀ·X   dR = dZᵀ·H   db = Σ_rows dZ   dX = dZ·W
//
// four products for the whole sequence; dH0 and dC0 are the final dh, dc.
func NewLSTMLayer(spec LSTMSpec) (*LSTMLayer, error) {
	op, args, err := newLSTMOp(spec)
	if err != nil {
		return nil, err
	}
	n, err := gorgonia.ApplyOp(op, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: lstm layer %q", spec.Name)
	}
	return &LSTMLayer{op: op, node: n}, nil
}

// Node returns the layer node: the node the read nodes read from.
func (l *LSTMLayer) Node() *gorgonia.Node { return l.node }

// Steps returns the number of timesteps T.
func (l *LSTMLayer) Steps() int { return l.op.steps }

// Hidden returns the hidden state h after the layer read timestep t (held
// on a padded step), B×H: the layer's output at t.
//
// Read nodes must be added before the graph is differentiated: only their
// gradients reach the layer's inputs. Asked twice for the same state, the
// layer returns the same node; the hidden state after the last timestep
// read is the node Final returns.
func (l *LSTMLayer) Hidden(t int) (*gorgonia.Node, error) { return l.state(lstmHidden, t) }

// Cell returns the cell state c after the layer read timestep t, B×H.
func (l *LSTMLayer) Cell(t int) (*gorgonia.Node, error) { return l.state(lstmCell, t) }

// Final returns the hidden and cell state after the last timestep read:
// with masks, each sequence's state after its own last real step.
func (l *LSTMLayer) Final() (h, c *gorgonia.Node, err error) {
	if h, err = l.read(lstmHidden, l.op.steps); err != nil {
		return nil, nil, err
	}
	if c, err = l.read(lstmCell, l.op.steps); err != nil {
		return nil, nil, err
	}
	return h, c, nil
}

func (l *LSTMLayer) state(part lstmPart, t int) (*gorgonia.Node, error) {
	if t < 0 || t >= l.op.steps {
		return nil, errors.Errorf("nodes: lstm layer %q: no timestep %d in %d", l.op.name, t, l.op.steps)
	}
	return l.read(part, l.op.block(t))
}

// read returns the node reading state block k of part: k = 0 is the initial
// state, k ≥ 1 the state after the k-th step read.
func (l *LSTMLayer) read(part lstmPart, k int) (*gorgonia.Node, error) {
	if n := l.op.reads[part][k]; n != nil {
		return n, nil
	}
	n, err := gorgonia.ApplyOp(lstmReadOp{opBase{1}, l.op, part, k}, l.node)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: lstm layer %q", l.op.name)
	}
	l.op.reads[part][k] = n
	return n, nil
}

type lstmPart int

const (
	lstmHidden lstmPart = iota
	lstmCell
)

func (p lstmPart) String() string {
	if p == lstmHidden {
		return "hidden"
	}
	return "cell"
}

// lstmOp is the forward op. Its inputs are x_0 … x_{T-1}, W, R, b, h0, c0
// and, when masked, m_0 … m_{T-1}.
type lstmOp struct {
	opBase
	name                     string
	steps, batch, in, hidden int
	masked, reverse          bool
	gate, state              Activation
	dt                       tensor.Dtype

	// reads[part][k] is the node reading state block k of part, or nil.
	reads [2][]*gorgonia.Node
	// token is the zero gradient every read node hands to the layer node.
	token *gorgonia.Node
	// buf is the *lstmBuffers[T] of the op's dtype, made by the first run.
	buf any
}

// Indices of W, R, b, h0 and c0 among the inputs, after the T inputs x_t.
const (
	lstmW = iota
	lstmR
	lstmB
	lstmH0
	lstmC0
	lstmParams
)

func newLSTMOp(s LSTMSpec) (*lstmOp, gorgonia.Nodes, error) {
	if s.Gate == 0 {
		s.Gate = Sigmoid
	}
	if s.State == 0 {
		s.State = Tanh
	}
	if !s.Gate.Valid() || !s.State.Valid() {
		return nil, nil, errors.Errorf("nodes: lstm layer %q: gate activation %v and state activation %v must be valid", s.Name, s.Gate, s.State)
	}
	d, err := fusedLayerDims("lstm", s.Name, 4, s.X, s.R)
	if err != nil {
		return nil, nil, err
	}
	b, f, h := d.b, d.f, d.h
	args, err := fusedLayerArgs("lstm", s.Name, d, s.X, []fusedParam{
		{"input weights", s.W, []int{4 * h, f}},
		{"recurrent weights", s.R, []int{4 * h, h}},
		{"bias", s.B, []int{4 * h}},
		{"initial hidden state", s.H0, []int{b, h}},
		{"initial cell state", s.C0, []int{b, h}},
	}, s.Masks)
	if err != nil {
		return nil, nil, err
	}
	steps := len(s.X)
	op := &lstmOp{
		opBase: opBase{len(args)}, name: s.Name, steps: steps, batch: b, in: f, hidden: h,
		masked: s.Masks != nil, reverse: s.Reverse, gate: s.Gate, state: s.State, dt: d.dt,
	}
	for p := range op.reads {
		op.reads[p] = make([]*gorgonia.Node, steps+1)
	}
	return op, args, nil
}

func lstmShapeOf(n *gorgonia.Node) any {
	if n == nil {
		return "nil"
	}
	return n.Shape()
}

// block returns the state block holding the state after timestep t.
func (op *lstmOp) block(t int) int {
	if op.reverse {
		return op.steps - t
	}
	return t + 1
}

// timeOf returns the timestep read at step k (from 0) of the recurrence.
func (op *lstmOp) timeOf(k int) int {
	if op.reverse {
		return op.steps - 1 - k
	}
	return k
}

func (op *lstmOp) String() string {
	dir := ""
	if op.reverse {
		dir = ",reverse"
	}
	if op.masked {
		dir += ",masked"
	}
	return fmt.Sprintf("LSTMLayer{%q,%d×%d×%d→%d,%v,%v%s}", op.name, op.steps, op.batch, op.in, op.hidden, op.gate, op.state, dir)
}

// WriteHash includes the op's address: every layer owns its buffers, so two
// layers over the same inputs must never merge into one node.
func (op *lstmOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op) }
func (op *lstmOp) Hashcode() uint32      { return layerHash(op.WriteHash) }

func layerHash(write func(hash.Hash)) uint32 {
	h := fnv.New32a()
	write(h)
	return h.Sum32()
}

func (op *lstmOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	ts := make([]hm.Type, 0, op.arity+1)
	for range op.steps {
		ts = append(ts, m)
	}
	ts = append(ts, m, m, v, m, m)
	if op.masked {
		for range op.steps {
			ts = append(ts, v)
		}
	}
	return hm.NewFnType(append(ts, v)...)
}

func (op *lstmOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return tensor.Shape{1}, nil }

// dims returns the shape of input i: r×c, or r values when c is 0.
func (op *lstmOp) dims(i int) (r, c int) {
	b, h := op.batch, op.hidden
	switch i - op.steps {
	case lstmW:
		return 4 * h, op.in
	case lstmR:
		return 4 * h, h
	case lstmB:
		return 4 * h, 0
	case lstmH0, lstmC0:
		return b, h
	}
	if i < op.steps {
		return b, op.in
	}
	return b, 0
}

// shape returns the shape of input i.
func (op *lstmOp) shape(i int) tensor.Shape {
	r, c := op.dims(i)
	if c == 0 {
		return tensor.Shape{r}
	}
	return tensor.Shape{r, c}
}

// isMatrix reports whether s is r×c, or r values when c is 0, without
// the allocation of a tensor.Shape to compare with.
func isMatrix(s tensor.Shape, r, c int) bool {
	if c == 0 {
		return len(s) == 1 && s[0] == r
	}
	return len(s) == 2 && s[0] == r && s[1] == c
}

func (op *lstmOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: lstm layer", vals, op.arity)
	if err != nil {
		return nil, err
	}
	for i, t := range ts {
		if r, c := op.dims(i); !isMatrix(t.Shape(), r, c) {
			return nil, errors.Errorf("nodes: %v: input %d has shape %v, want %v", op, i, t.Shape(), op.shape(i))
		}
		ts[i] = materialize(t)
	}
	switch op.dt {
	case tensor.Float64:
		lstmForward[float64](op, ts)
	default:
		lstmForward[float32](op, ts)
	}
	return newDense(op.dt, tensor.Shape{1}), nil
}

func (op *lstmOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = i < op.steps+lstmParams
	}
	return d
}

// SymDiff builds the backward op over the gradients of the read nodes, and
// one node per input that copies the input's gradient out of it. The read
// nodes consume the layer node, so Gorgonia, which differentiates a graph
// from the cost down, has set their Deriv by now; a read node without one
// does not reach the cost, and its state gets no gradient.
func (op *lstmOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	t := op.steps
	bwd := &lstmBackwardOp{l: op, hIdx: make([]int, t+1), cIdx: make([]int, t+1)}
	args := gorgonia.Nodes{grad, in[t+lstmR]}
	for p, idx := range [2][]int{bwd.hIdx, bwd.cIdx} {
		for k, n := range op.reads[p] {
			idx[k] = -1
			if n != nil && n.Deriv() != nil {
				idx[k] = len(args)
				args = append(args, n.Deriv())
			}
		}
	}
	bwd.opBase = opBase{len(args)}
	b, err := gorgonia.ApplyOp(bwd, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: %v: backward", op)
	}
	grads := make(gorgonia.Nodes, len(in))
	for i := range t + lstmParams {
		if grads[i], err = gorgonia.ApplyOp(layerGradOp{opBase{1}, op, i}, b); err != nil {
			return nil, errors.Wrapf(err, "nodes: %v: gradient of input %d", op, i)
		}
	}
	return grads, nil
}

// lstmReadOp copies state block k of a part out of the layer's buffers.
type lstmReadOp struct {
	opBase
	l    *lstmOp
	part lstmPart
	k    int
}

func (op lstmReadOp) String() string        { return fmt.Sprintf("%v.%v[%d]", op.l, op.part, op.k) }
func (op lstmReadOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.l) }
func (op lstmReadOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op lstmReadOp) Type() hm.Type {
	return hm.NewFnType(gorgonia.TensorType{Dims: 1, Of: op.l.dt}, gorgonia.TensorType{Dims: 2, Of: op.l.dt})
}

func (op lstmReadOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.l.batch, op.l.hidden}, nil
}

func (op lstmReadOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	y := newDense(op.l.dt, tensor.Shape{op.l.batch, op.l.hidden})
	var ok bool
	switch op.l.dt {
	case tensor.Float64:
		ok = lstmReadState(op.l, op.part, op.k, y.Float64s())
	default:
		ok = lstmReadState(op.l, op.part, op.k, y.Float32s())
	}
	if !ok {
		return nil, errors.Errorf("nodes: %v: read before the layer ran", op)
	}
	return y, nil
}

func lstmReadState[T float](l *lstmOp, part lstmPart, k int, dst []T) bool {
	s, ok := l.buf.(*lstmBuffers[T])
	if !ok {
		return false
	}
	src := s.hs
	if part == lstmCell {
		src = s.cs
	}
	n := len(dst)
	copy(dst, src[k*n:(k+1)*n])
	return true
}

func (op lstmReadOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff returns the layer's zero token: the layer's backward op takes this
// node's gradient directly, so all Gorgonia has to add up at the layer node
// is one 1-element zero per read node.
func (op lstmReadOp) SymDiff(in gorgonia.Nodes, _, _ *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.l.token == nil {
		tok, err := gorgonia.ApplyOp(layerTokenOp{opBase{1}, op.l}, in[0])
		if err != nil {
			return nil, errors.Wrapf(err, "nodes: %v", op)
		}
		op.l.token = tok
	}
	return gorgonia.Nodes{op.l.token}, nil
}

// lstmBackwardOp runs the backward pass of its layer's last run into the
// layer's buffers. Its inputs are the layer node's gradient (zero, but it
// orders the op after every read node's gradient), R and the gradients of
// the read nodes: hIdx[k] and cIdx[k] are the inputs holding the gradients
// of hidden and cell state block k, -1 when none reaches it.
type lstmBackwardOp struct {
	opBase
	l          *lstmOp
	hIdx, cIdx []int
}

func (op *lstmBackwardOp) String() string        { return fmt.Sprintf("d%v", op.l) }
func (op *lstmBackwardOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op) }
func (op *lstmBackwardOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op *lstmBackwardOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.l.dt}, gorgonia.TensorType{Dims: 1, Of: op.l.dt}
	ts := []hm.Type{v}
	for range op.arity - 1 {
		ts = append(ts, m)
	}
	return hm.NewFnType(append(ts, v)...)
}

func (op *lstmBackwardOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1}, nil
}

func (op *lstmBackwardOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: lstm layer backward", vals, op.arity)
	if err != nil {
		return nil, err
	}
	l := op.l
	h := l.hidden
	for i, t := range ts[1:] {
		r := l.batch
		if i == 0 {
			r = 4 * h // R
		}
		if !isMatrix(t.Shape(), r, h) {
			return nil, errors.Errorf("nodes: %v: input %d has shape %v, want (%d, %d)", op, i+1, t.Shape(), r, h)
		}
		ts[i+1] = materialize(t)
	}
	var ok bool
	switch l.dt {
	case tensor.Float64:
		ok = lstmBackward[float64](op, ts)
	default:
		ok = lstmBackward[float32](op, ts)
	}
	if !ok {
		return nil, errors.Errorf("nodes: %v: backward pass before the forward pass", op)
	}
	return newDense(l.dt, tensor.Shape{1}), nil
}

func (op *lstmOp) dtype() tensor.Dtype { return op.dt }

func (op *lstmOp) gradient(i int) any {
	if op.dt == tensor.Float64 {
		return lstmGrad[float64](op, i)
	}
	return lstmGrad[float32](op, i)
}

// lstmGrad returns the buffer holding the gradient of input i of the layer,
// or nil before the backward pass.
func lstmGrad[T float](l *lstmOp, i int) []T {
	s, ok := l.buf.(*lstmBuffers[T])
	if !ok || s.dz == nil {
		return nil
	}
	var src []T
	switch i - l.steps {
	case lstmW:
		src = s.dw
	case lstmR:
		src = s.dr
	case lstmB:
		src = s.db
	case lstmH0:
		src = s.dh0
	case lstmC0:
		src = s.dc0
	default:
		// Input x_t is block k of dX, k the step that read it.
		if s.dxStale {
			lstmInputGradient(l, s)
		}
		k := l.timeOf(i) // timeOf is its own inverse
		n := l.batch * l.in
		src = s.dx[k*n : (k+1)*n : (k+1)*n]
	}
	return src
}

// lstmBuffers holds what the backward pass needs of the forward pass, and
// the gradients, for a whole run. Every stack of timesteps is in reading
// order (step k reads timestep timeOf(k)) with B rows per step. The slices
// keep their size across runs: the shapes of a graph are fixed.
type lstmBuffers[T float] struct {
	x     []T // the inputs, T·B×F
	gates []T // z, then the gates i, f, g, o in its columns, T·B×4H
	sc    []T // σc(c̃), T·B×H
	mask  []T // T·B, nil when unmasked
	// hs and cs hold T+1 blocks of B×H: the initial state, then the state
	// after each step.
	hs, cs []T
	// wt and rt are Wᵀ (F×4H) and Rᵀ (H×4H): with them every product has
	// operands with long rows (W's have only F elements), which gonum's
	// BLAS, if installed, runs two or three times faster; seqgraph's gemm
	// packs its operands and does not mind.
	wt, rt []T
	// transposed says whether the forward pass filled wt and rt (not with
	// one sequence); w is W itself, for a backward pass that needs wt.
	transposed bool
	w          []T
	// Steps lo to hi-1 are those from the first to the last that are not
	// padding only, in reading order.
	lo, hi int

	dz               []T // T·B×4H, sharing the memory of gates
	dh, dc, dhp, dcp []T // B×H, the running gradients of the states
	dx, dw, dr, db   []T
	dxStale          bool // dx is not yet that of the last backward pass
	dwt              []T  // dWᵀ, F×4H
	dh0, dc0         []T
	ones             []T // T·B ones, for the column sums of dZ
}

func lstmForward[T float](op *lstmOp, ts []*tensor.Dense) {
	n, b, f, h := op.steps, op.batch, op.in, op.hidden
	g4, bh := 4*h, b*h
	s, ok := op.buf.(*lstmBuffers[T])
	if !ok {
		s = &lstmBuffers[T]{
			x: make([]T, n*b*f), gates: make([]T, n*b*g4), sc: make([]T, n*bh),
			hs: make([]T, (n+1)*bh), cs: make([]T, (n+1)*bh), wt: make([]T, f*g4), rt: make([]T, h*g4),
		}
		if op.masked {
			s.mask = make([]T, n*b)
		}
		op.buf = s
	}
	p := n // the index of W among the inputs
	w, rw := data[T](ts[p+lstmW]), data[T](ts[p+lstmR])
	// With one sequence, every product of the recurrence is a
	// matrix-vector product, which reads R in place as fast as Rᵀ, and
	// transposing the weights would cost more than all of them together
	// in a run of one timestep (stateful prediction): Wᵀ waits for the
	// backward pass, which needs it.
	s.transposed = b > 1
	if s.transposed {
		if !op.wideInput() {
			transposeInto(s.wt, w, g4, f)
		}
		transposeInto(s.rt, rw, g4, h)
	}
	s.w = w
	bias := data[T](ts[p+lstmB])
	for k := range n {
		t := op.timeOf(k)
		copy(s.x[k*b*f:(k+1)*b*f], data[T](ts[t]))
		if op.masked {
			copy(s.mask[k*b:(k+1)*b], data[T](ts[p+lstmParams+t]))
		}
	}
	// Z = X·Wᵀ + b over the steps from the first to the last that is not
	// padding only. The steps before and after are skipped, and so are
	// their rows of the products here and in the backward pass: a batch
	// run on the graph of a longer one (step buckets) pays next to nothing
	// for its extra steps.
	s.lo, s.hi = 0, n
	if op.masked {
		for s.lo < n && allZero(s.mask[s.lo*b:(s.lo+1)*b]) {
			s.lo++
		}
		for s.hi > s.lo && allZero(s.mask[(s.hi-1)*b:s.hi*b]) {
			s.hi--
		}
	}
	// project computes the input projections of steps [k0, k1).
	project := func(k0, k1 int) {
		lo, rows := k0*b, (k1-k0)*b
		for row := lo; row < lo+rows; row++ {
			copy(s.gates[row*g4:(row+1)*g4], bias)
		}
		if s.transposed && !op.wideInput() {
			layerGemm(false, false, rows, g4, f, s.x[lo*f:], f, s.wt, g4, 1, s.gates[lo*g4:], g4)
		} else {
			layerGemm(false, true, rows, g4, f, s.x[lo*f:], f, w, f, 1, s.gates[lo*g4:], g4)
		}
	}
	// The projections are computed a chunk of steps at a time, just
	// before the steps read them, so that they are still in the core's
	// own cache (about 256 KiB of them) rather than written out for the
	// whole sequence first and read back from the shared cache.
	size := 8
	if _, ok := any(bias).([]float32); ok {
		size = 4
	}
	chunk := max(1, (256<<10)/(b*g4*size))
	copy(s.hs[:bh], data[T](ts[p+lstmH0]))
	copy(s.cs[:bh], data[T](ts[p+lstmC0]))
	for k := range n {
		if k >= s.lo && k < s.hi && (k-s.lo)%chunk == 0 {
			project(k, min(k+chunk, s.hi))
		}
		z := s.gates[k*b*g4 : (k+1)*b*g4]
		hPrev, cPrev := s.hs[k*bh:(k+1)*bh], s.cs[k*bh:(k+1)*bh]
		var m []T
		if op.masked {
			m = s.mask[k*b : (k+1)*b]
			if allZero(m) {
				// A step of padding only holds the state: skipping its
				// product makes padded steps all but free, so that a
				// batch may run on the graph of a longer one.
				copy(s.hs[(k+1)*bh:(k+2)*bh], hPrev)
				copy(s.cs[(k+1)*bh:(k+2)*bh], cPrev)
				continue
			}
		}
		if s.transposed {
			layerGemm(false, false, b, g4, h, hPrev, h, s.rt, g4, 1, z, g4)
		} else {
			layerGemm(false, true, b, g4, h, hPrev, h, rw, h, 1, z, g4)
		}
		lstmStep(op.gate, op.state, z, s.sc[k*bh:(k+1)*bh], hPrev, cPrev, s.hs[(k+1)*bh:(k+2)*bh], s.cs[(k+1)*bh:(k+2)*bh], m, h)
	}
}

// transposeInto sets dst (c×r) to the transpose of src (r×c).
func transposeInto[T float](dst, src []T, r, c int) {
	for i := range r {
		for j, v := range src[i*c : (i+1)*c] {
			dst[j*r+i] = v
		}
	}
}

// lstmStep turns the pre-activations z (B×4H) of one step into the gates,
// in place, and computes σc(c̃) into sc and the states after the step into
// h and c from those before it; m holds the step's mask, nil for none. A
// row whose mask is 0 copies the old state and leaves its z alone: its
// gradient is zero, whatever the gates are.
func lstmStep[T float](gate, state Activation, z, sc, hPrev, cPrev, h, c, m []T, hidden int) {
	g4 := 4 * hidden
	for r := 0; r < len(h)/hidden; r++ {
		w := T(1)
		if m != nil {
			w = m[r]
		}
		lo, hi := r*hidden, (r+1)*hidden
		hp, cp, hr, cr := hPrev[lo:hi], cPrev[lo:hi], h[lo:hi], c[lo:hi]
		if w == 0 {
			copy(hr, hp)
			copy(cr, cp)
			continue
		}
		zr := z[r*g4 : (r+1)*g4]
		activateSlice(gate, zr[:2*hidden]) // i and f
		activateSlice(state, zr[2*hidden:3*hidden])
		activateSlice(gate, zr[3*hidden:])
		flushSubnormals(zr)
		scr := sc[lo:hi]
		if z32, ok := any(zr).([]float32); ok && w == 1 {
			// float32 rows of real steps: vectorised, with the
			// subnormal results flushed.
			s32 := any(scr).([]float32)
			vecmath.LSTMCell32(s32, z32, any(cp).([]float32))
			copy(cr, scr)
			activateSlice(state, scr)
			vecmath.MulFlush32(any(hr).([]float32), z32[3*hidden:], s32)
			continue
		}
		zi, zf, zg, zo := zr[:hidden], zr[hidden:2*hidden], zr[2*hidden:3*hidden], zr[3*hidden:]
		for j := range hidden {
			scr[j] = zf[j]*cp[j] + zi[j]*zg[j]
		}
		flushSubnormals(scr)
		if w == 1 {
			copy(cr, scr)
		} else {
			for j, v := range scr {
				cr[j] = w*v + (1-w)*cp[j]
			}
		}
		activateSlice(state, scr)
		if w == 1 {
			for j, v := range scr {
				hr[j] = zo[j] * v
			}
		} else {
			for j, v := range scr {
				hr[j] = w*(zo[j]*v) + (1-w)*hp[j]
			}
		}
		flushSubnormals(hr)
	}
}

// flushSubnormals sets the subnormal elements of a float32 v to zero, and
// leaves float64 alone. In float32 a state that decays (an input falling
// silent) passes through subnormal magnitudes, and subnormal operands make
// the products and activations of every later step many times slower on
// x86 (TestLSTMLayerFloat32HasNoSubnormals, BenchmarkLongSequence); values
// that small cannot change a float32 result they are added to. float64
// reaches its subnormals only after about eight times as many halvings and
// keeps exact arithmetic for the parity tests.
func flushSubnormals[T float](v []T) {
	if v32, ok := any(v).([]float32); ok {
		vecmath.FlushSubnormals32(v32)
	}
}

// activateSlice applies a to every element of v in place. It computes exactly
// what Activation.f does (activate32 for tanh and sigmoid in float32, as
// ActivateBlock does), with one switch per slice rather than one call
// and switch per element: the activations are the larger part of a
// step's time once the products run on a fast BLAS.
func activateSlice[T float](a Activation, v []T) {
	if v32, ok := any(v).([]float32); ok && (a == Tanh || a == Sigmoid) {
		activate32(a, v32, v32)
		return
	}
	switch a {
	case Tanh:
		for j, x := range v {
			v[j] = T(math.Tanh(float64(x)))
		}
	case Sigmoid:
		for j, x := range v {
			v[j] = T(lstmSigmoid(float64(x)))
		}
	case ReLU:
		for j, x := range v {
			if !(x > 0) {
				v[j] = 0
			}
		}
	default:
		for j, x := range v {
			v[j] = T(float64(x) / (1 + math.Abs(float64(x))))
		}
	}
}

// lstmSigmoid is Activation.f for Sigmoid.
func lstmSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// lstmBackward runs the backward pass; it returns false if the layer has
// not run forward.
func lstmBackward[T float](op *lstmBackwardOp, ts []*tensor.Dense) bool {
	l := op.l
	s, ok := l.buf.(*lstmBuffers[T])
	if !ok {
		return false
	}
	n, b, f, h := l.steps, l.batch, l.in, l.hidden
	g4, bh := 4*h, b*h
	if s.dz == nil {
		// dZ overwrites the gates: a step's gates are read for the last
		// time by the backward step that computes its dz, which reads
		// them before it writes. One buffer of T·B×4H instead of two
		// halves the memory the backward pass streams through.
		s.dz = s.gates
		s.dh, s.dc, s.dhp, s.dcp = make([]T, bh), make([]T, bh), make([]T, bh), make([]T, bh)
		s.dx, s.dw, s.dr, s.db = make([]T, n*b*f), make([]T, g4*f), make([]T, g4*h), make([]T, g4)
		s.dwt, s.dh0, s.dc0, s.ones = make([]T, f*g4), make([]T, bh), make([]T, bh), make([]T, n*b)
		for i := range s.ones {
			s.ones[i] = 1
		}
	}
	r := data[T](ts[1])
	// grads sets dst to the gradient reaching state block k from its
	// read node, or zero; with add, it adds the gradient to dst.
	grads := func(dst []T, idx []int, k int, add bool) {
		if idx[k] < 0 {
			if !add {
				clear(dst)
			}
			return
		}
		g := data[T](ts[idx[k]])
		if !add {
			copy(dst, g)
			return
		}
		for j, v := range g {
			dst[j] += v
		}
	}
	dh, dc, dhp, dcp := s.dh, s.dc, s.dhp, s.dcp
	grads(dh, op.hIdx, n, false)
	grads(dc, op.cIdx, n, false)
	for k := n - 1; k >= 0; k-- {
		var m []T
		if l.masked {
			m = s.mask[k*b : (k+1)*b]
		}
		dz := s.dz[k*b*g4 : (k+1)*b*g4]
		if m != nil && allZero(m) {
			// A step of padding only: the gradients pass through it.
			clear(dz)
			copy(dhp, dh)
			copy(dcp, dc)
		} else {
			lstmStepBackward(l.gate, l.state, s.gates[k*b*g4:(k+1)*b*g4], s.sc[k*bh:(k+1)*bh], s.cs[k*bh:(k+1)*bh], m, dh, dc, dz, dhp, dcp, h)
			layerGemm(false, false, b, h, g4, dz, g4, r, h, 1, dhp, h)
		}
		grads(dhp, op.hIdx, k, true)
		grads(dcp, op.cIdx, k, true)
		dh, dhp = dhp, dh
		dc, dcp = dcp, dc
	}
	copy(s.dh0, dh)
	copy(s.dc0, dc)
	// dWᵀ = Xᵀ·dZ, dR = dZᵀ·H, db = Σ_rows dZ and dX = dZ·W, each over
	// every step at once, but for the steps of padding only before and
	// after the others, whose rows of dZ are zero.
	// dX waits for its first reader (lstmInputGradient): a first layer's
	// inputs are data, whose gradient nothing reads.
	s.dxStale = true
	lo, rows := s.lo*b, (s.hi-s.lo)*b
	if rows == 0 {
		clear(s.dw)
		clear(s.dr)
		clear(s.db)
		return true
	}
	dz := s.dz[lo*g4 : (lo+rows)*g4]
	if l.wideInput() {
		layerGemm(true, false, g4, f, rows, dz, g4, s.x[lo*f:], f, 0, s.dw, f)
	} else {
		layerGemm(true, false, f, g4, rows, s.x[lo*f:], f, dz, g4, 0, s.dwt, g4)
		transposeInto(s.dw, s.dwt, f, g4)
	}
	layerGemm(true, false, g4, h, rows, dz, g4, s.hs[lo*h:], h, 0, s.dr, h)
	columnSums(s.db, dz, s.ones[:rows], g4)
	return true
}

// lstmInputGradient computes dX (inputGradient), which the backward pass
// leaves to the first read of an input's gradient after it: that read
// comes before the next forward pass overwrites dZ (it shares the gates'
// memory), as every read node runs after the backward op of its run.
func lstmInputGradient[T float](l *lstmOp, s *lstmBuffers[T]) {
	b, f, g4 := l.batch, l.in, 4*l.hidden
	s.dxStale = false
	if l.wideInput() {
		inputGradient(s.dx, s.dz, s.w, false, s.lo*b, (s.hi-s.lo)*b, f, g4)
		return
	}
	if !s.transposed {
		transposeInto(s.wt, s.w, g4, f)
	}
	inputGradient(s.dx, s.dz, s.wt, true, s.lo*b, (s.hi-s.lo)*b, f, g4)
}

// wideInput reports whether the layer's inputs outnumber its gate
// columns (F > 4H), as a video network's flattened frames do. Its products
// with W then read W, 4H×F, as it is, and dW is computed as dZᵀ·X rather
// than transposed from dWᵀ = Xᵀ·dZ: transposing a large W element by
// element costs more than the gemm's packing of it, which is done anyway
// (3-7 ms each way for 128×8192, a tenth of the video benchmark's step
// with both). Narrow inputs keep Wᵀ, whose rows are long.
func (op *lstmOp) wideInput() bool { return op.in > 4*op.hidden }

// lstmStepBackward computes, for one step, dz from the gradients dh and dc
// of the states after it, and the parts of the gradients of the states
// before it that do not go through R: dcp in full, dhp = (1-m)⊙dh.
func lstmStepBackward[T float](gate, state Activation, gates, sc, cPrev, m, dh, dc, dz, dhp, dcp []T, hidden int) {
	if gate == Sigmoid && state == Tanh {
		lstmStepBackwardSigmoidTanh(gates, sc, cPrev, m, dh, dc, dz, dhp, dcp, hidden)
		return
	}
	g4 := 4 * hidden
	for r := 0; r < len(dh)/hidden; r++ {
		w := T(1)
		if m != nil {
			w = m[r]
		}
		lo, hi := r*hidden, (r+1)*hidden
		dhr, dcr, dhpr, dcpr := dh[lo:hi], dc[lo:hi], dhp[lo:hi], dcp[lo:hi]
		dzr := dz[r*g4 : (r+1)*g4]
		if w == 0 {
			clear(dzr)
			copy(dhpr, dhr)
			copy(dcpr, dcr)
			continue
		}
		gr := gates[r*g4 : (r+1)*g4]
		ig, fg, gg, og := gr[:hidden], gr[hidden:2*hidden], gr[2*hidden:3*hidden], gr[3*hidden:]
		dzi, dzf, dzg, dzo := dzr[:hidden], dzr[hidden:2*hidden], dzr[2*hidden:3*hidden], dzr[3*hidden:]
		scr, cp := sc[lo:hi], cPrev[lo:hi]
		for j := range hidden {
			dhn, dcn := dhr[j], dcr[j]
			if w != 1 {
				dhn, dcn = w*dhn, w*dcn
			}
			i, f, g, o, sn := ig[j], fg[j], gg[j], og[j], scr[j]
			dcn += dhn * o * T(state.df(float64(sn)))
			dzi[j] = dcn * g * T(gate.df(float64(i)))
			dzf[j] = dcn * cp[j] * T(gate.df(float64(f)))
			dzg[j] = dcn * i * T(state.df(float64(g)))
			dzo[j] = dhn * sn * T(gate.df(float64(o)))
			if w == 1 {
				dcpr[j], dhpr[j] = dcn*f, 0
			} else {
				dcpr[j], dhpr[j] = dcn*f+(1-w)*dcr[j], (1-w)*dhr[j]
			}
		}
	}
}

// lstmStepBackwardSigmoidTanh is lstmStepBackward for the default
// activations, with their derivatives written out; float32 rows of real
// steps run on vecmath's vectorised kernel, which also flushes subnormal
// gradients to zero (see vecmath.LSTMStepBackward32 for why). The general
// loop, with a switch of Activation.df and conversions through float64 per
// element, took a sixth of a float32 training step; the kernel runs a step
// of 32 rows of 100 units in 4.9 µs, vecmath's scalar loop in 24 µs
// (BenchmarkLSTMStepBackward32). In float64 it rounds as the
// general loop does.
func lstmStepBackwardSigmoidTanh[T float](gates, sc, cPrev, m, dh, dc, dz, dhp, dcp []T, hidden int) {
	g4 := 4 * hidden
	for r := 0; r < len(dh)/hidden; r++ {
		w := T(1)
		if m != nil {
			w = m[r]
		}
		lo, hi := r*hidden, (r+1)*hidden
		dhr, dcr, dhpr, dcpr := dh[lo:hi], dc[lo:hi], dhp[lo:hi], dcp[lo:hi]
		dzr := dz[r*g4 : (r+1)*g4]
		if w == 0 {
			clear(dzr)
			copy(dhpr, dhr)
			copy(dcpr, dcr)
			continue
		}
		gr := gates[r*g4 : (r+1)*g4]
		if w == 1 {
			if g32, ok := any(gr).([]float32); ok {
				vecmath.LSTMStepBackward32(any(dzr).([]float32), g32, any(sc[lo:hi]).([]float32), any(cPrev[lo:hi]).([]float32),
					any(dhr).([]float32), any(dcr).([]float32), any(dcpr).([]float32))
				clear(dhpr)
				continue
			}
		}
		// Every slice resliced to the length of ig, so that the compiler
		// drops the bounds checks in the loop.
		ig := gr[:hidden]
		fg, gg, og := gr[hidden : 2*hidden][:len(ig)], gr[2*hidden : 3*hidden][:len(ig)], gr[3*hidden:][:len(ig)]
		dzi, dzf, dzg, dzo := dzr[:len(ig)], dzr[hidden : 2*hidden][:len(ig)], dzr[2*hidden : 3*hidden][:len(ig)], dzr[3*hidden:][:len(ig)]
		scr, cp := sc[lo:hi][:len(ig)], cPrev[lo:hi][:len(ig)]
		dhr, dcr, dhpr, dcpr = dhr[:len(ig)], dcr[:len(ig)], dhpr[:len(ig)], dcpr[:len(ig)]
		if w == 1 {
			for j, i := range ig {
				f, g, o, sn, dhn := fg[j], gg[j], og[j], scr[j], dhr[j]
				dcn := dcr[j] + dhn*o*(1-sn*sn)
				dzi[j] = dcn * g * (i * (1 - i))
				dzf[j] = dcn * cp[j] * (f * (1 - f))
				dzg[j] = dcn * i * (1 - g*g)
				dzo[j] = dhn * sn * (o * (1 - o))
				dcpr[j], dhpr[j] = dcn*f, 0
			}
			continue
		}
		for j, i := range ig {
			f, g, o, sn := fg[j], gg[j], og[j], scr[j]
			dhn, dcn := w*dhr[j], w*dcr[j]
			dcn += dhn * o * (1 - sn*sn)
			dzi[j] = dcn * g * (i * (1 - i))
			dzf[j] = dcn * cp[j] * (f * (1 - f))
			dzg[j] = dcn * i * (1 - g*g)
			dzo[j] = dhn * sn * (o * (1 - o))
			dcpr[j], dhpr[j] = dcn*f+(1-w)*dcr[j], (1-w)*dhr[j]
		}
	}
}

// allZero reports whether every mask value of a step is 0: a step of
// padding only.
func allZero[T float](m []T) bool {
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// layerGemm sets c = op(a)·op(b) + beta·c, for row-major matrices, on the
// BLAS MatMul uses.
func layerGemm[T float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	Gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}
