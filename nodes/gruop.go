package nodes

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GRUSpec describes a fused GRU layer for NewGRULayer: T timesteps of B
// sequences of F features, H hidden units.
type GRUSpec struct {
	// Name names the layer in errors and in the ops' String.
	Name string
	// X holds the input of every timestep, in time order, each B×F.
	X []*gorgonia.Node
	// W (3H×F), R (3H×H) and B (3H) are the input weights, recurrent
	// weights and bias, with rows in the gate order reset r, update z,
	// candidate n (rnn.GRU's and PyTorch's order).
	W, R, B *gorgonia.Node
	// RB is the recurrent bias (3H), added to the recurrent product when
	// the reset gate acts after the multiplication. It must be nil with
	// ResetBefore, where the layer has no recurrent bias.
	RB *gorgonia.Node
	// H0 is the hidden state before the first timestep read, B×H.
	H0 *gorgonia.Node
	// Masks is nil, or holds one vector of B values per timestep in time
	// order: 1 for a real step, 0 for padding, as for Masked.
	Masks []*gorgonia.Node
	// ResetBefore applies the reset gate to the state before the
	// candidate's recurrent product, R_n (r ⊙ h) (rnn's
	// BeforeMultiplication); by default it applies to the product,
	// r ⊙ (R_n h + bR_n) (AfterMultiplication).
	ResetBefore bool
	// Gate and State are the gate and state activations; the zero values
	// stand for Sigmoid and Tanh.
	Gate, State Activation
	// Reverse reads the timesteps from the last to the first.
	Reverse bool
}

// GRULayer is a whole GRU layer over a sequence as one node of a graph: the
// recurrence of rnn.GRU's Step over every timestep, with a hand-written
// backward pass. Its results are read through nodes that Hidden and Final
// add to the graph.
//
// It is built as LSTMLayer is (see there): a layer node whose value is a
// 1-element zero, read nodes that copy states out of the op's buffers and
// hand the layer a zero token as their gradient, a backward op that takes
// the read nodes' gradients directly, and one node per input that copies
// that input's gradient out. The buffers live as long as the graph: a graph
// with a GRULayer must not run on two machines at once.
type GRULayer struct {
	op   *gruOp
	node *gorgonia.Node
}

// NewGRULayer adds a fused GRU layer to the graph of spec's nodes. With σg
// the gate and σc the state activation, it reads the timesteps in order
// (last to first with Reverse) and at each step t computes, per sequence,
//
//	a  = R h + bR                                (3H values; after only)
//	r  = σg(W_r x_t + b_r + a_r)       z = σg(W_z x_t + b_z + a_z)
//	n  = σc(W_n x_t + b_n + r ⊙ a_n)             reset after multiplication
//	n  = σc(W_n x_t + b_n + R_n (r ⊙ h))         reset before multiplication
//	h' = (1-z) ⊙ n + z ⊙ h
//	h ← m_t h' + (1-m_t) h
//
// starting from h = H0, where m_t is the mask of the step (1 without
// masks); before multiplication, the r and z rows of R multiply h and bR is
// absent. These are rnn.GRU's equations, its candidate h̃ being n here. A
// mask of exactly 1 or 0 copies the new or the old state, as Masked does,
// so a padded step holds the state exactly. The input projections of all
// the timesteps are one matrix product, X·Wᵀ with X the T·B×F stack of the
// inputs in reading order. Every step adds one recurrent product, h·Rᵀ,
// after multiplication; before it, two: h·R_rzᵀ for the gates, then
// (r⊙h)·R_nᵀ for the candidate, which needs r first. All products run on the
// BLAS MatMul uses.
//
// The backward pass runs the steps in the opposite order. With dh the
// gradient reaching the state after the step (from the read nodes and from
// the step after it) and h the state before it, it computes the gradients
// dr̂, dẑ, dn̂ of the pre-activations of r, z, n:
//
//	dh' = m_t dh
//	dn̂ = dh' ⊙ (1-z) ⊙ σc'(n)      dẑ = dh' ⊙ (h-n) ⊙ σg'(z)
//
// after multiplication
//
//	dr̂ = dn̂ ⊙ a_n ⊙ σg'(r)        da = [dr̂, dẑ, dn̂ ⊙ r]
//	dh ← da·R + dh' ⊙ z + (1-m_t) dh
//
// and before it, with q = r ⊙ h,
//
//	dq = dn̂·R_n                    dr̂ = dq ⊙ h ⊙ σg'(r)
//	dh ← [dr̂, dẑ]·R_rz + dq ⊙ r + dh' ⊙ z + (1-m_t) dh
//
// (derivatives as functions of the activations' outputs, as Activation has
// them; a row whose mask is exactly 0 gets zero gradients). dz = [dr̂, dẑ,
// dn̂] is the gradient of the input part of the pre-activations and da the
// gradient of the recurrent part. After the last step, with dZ and dA the
// T·B×3H stacks of the dz and da, H the stack of the states each step
// started from and Q that of the q,
//
//	dW = dZᵀ·X   db = Σ_rows dZ   dX = dZ·W
//	dR = dAᵀ·H   dbR = Σ_rows dA                   after multiplication
//	dR_rz = dZ_rzᵀ·H   dR_n = dZ_nᵀ·Q              before multiplication
//
// each a product over the whole sequence (before multiplication the
// candidate rows of R multiply Q, not H, so dR takes two); dH0 is the final
// dh. With masks, these products and the input projection leave out the
// steps of padding only before the first and after the last step that is
// not, whose rows of dZ and dA are zero.
func NewGRULayer(spec GRUSpec) (*GRULayer, error) {
	op, args, err := newGRUOp(spec)
	if err != nil {
		return nil, err
	}
	n, err := gorgonia.ApplyOp(op, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: gru layer %q", spec.Name)
	}
	return &GRULayer{op: op, node: n}, nil
}

// Node returns the layer node: the node the read nodes read from.
func (l *GRULayer) Node() *gorgonia.Node { return l.node }

// Steps returns the number of timesteps T.
func (l *GRULayer) Steps() int { return l.op.steps }

// Hidden returns the hidden state h after the layer read timestep t (held
// on a padded step), B×H: the layer's output at t.
//
// Read nodes must be added before the graph is differentiated: only their
// gradients reach the layer's inputs. Asked twice for the same state, the
// layer returns the same node; the state after the last timestep read is
// the node Final returns.
func (l *GRULayer) Hidden(t int) (*gorgonia.Node, error) {
	if t < 0 || t >= l.op.steps {
		return nil, errors.Errorf("nodes: gru layer %q: no timestep %d in %d", l.op.name, t, l.op.steps)
	}
	return l.read(l.op.block(t))
}

// Final returns the hidden state after the last timestep read: with masks,
// each sequence's state after its own last real step.
func (l *GRULayer) Final() (*gorgonia.Node, error) { return l.read(l.op.steps) }

// read returns the node reading state block k: k = 0 is the initial state,
// k ≥ 1 the state after the k-th step read.
func (l *GRULayer) read(k int) (*gorgonia.Node, error) {
	if n := l.op.reads[k]; n != nil {
		return n, nil
	}
	n, err := gorgonia.ApplyOp(gruReadOp{opBase{1}, l.op, k}, l.node)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: gru layer %q", l.op.name)
	}
	l.op.reads[k] = n
	return n, nil
}

// gruOp is the forward op. Its inputs are x_0 … x_{T-1}, W, R, b, h0, then
// bR after multiplication, then, when masked, m_0 … m_{T-1}.
type gruOp struct {
	opBase
	name                     string
	steps, batch, in, hidden int
	masked, reverse, before  bool
	gate, state              Activation
	dt                       tensor.Dtype

	// reads[k] is the node reading state block k, or nil.
	reads []*gorgonia.Node
	// token is the zero gradient every read node hands to the layer node.
	token *gorgonia.Node
	// buf is the *gruBuffers[T] of the op's dtype, made by the first run.
	buf any
}

// Indices of W, R, b, h0 and bR among the inputs, after the T inputs x_t;
// bR is there only after multiplication.
const (
	gruW = iota
	gruR
	gruB
	gruH0
	gruRB
)

// params returns the number of inputs after the x_t and before the masks.
func (op *gruOp) params() int {
	if op.before {
		return gruRB
	}
	return gruRB + 1
}

func newGRUOp(s GRUSpec) (*gruOp, gorgonia.Nodes, error) {
	if s.Gate == 0 {
		s.Gate = Sigmoid
	}
	if s.State == 0 {
		s.State = Tanh
	}
	if !s.Gate.Valid() || !s.State.Valid() {
		return nil, nil, errors.Errorf("nodes: gru layer %q: gate activation %v and state activation %v must be valid", s.Name, s.Gate, s.State)
	}
	d, err := fusedLayerDims("gru", s.Name, 3, s.X, s.R)
	if err != nil {
		return nil, nil, err
	}
	if s.ResetBefore && s.RB != nil {
		return nil, nil, errors.Errorf("nodes: gru layer %q: a recurrent bias with the reset gate before the multiplication, which has none", s.Name)
	}
	b, f, h := d.b, d.f, d.h
	ps := []fusedParam{
		{"input weights", s.W, []int{3 * h, f}},
		{"recurrent weights", s.R, []int{3 * h, h}},
		{"bias", s.B, []int{3 * h}},
		{"initial hidden state", s.H0, []int{b, h}},
	}
	if !s.ResetBefore {
		ps = append(ps, fusedParam{"recurrent bias (reset gate after multiplication)", s.RB, []int{3 * h}})
	}
	args, err := fusedLayerArgs("gru", s.Name, d, s.X, ps, s.Masks)
	if err != nil {
		return nil, nil, err
	}
	steps := len(s.X)
	op := &gruOp{
		opBase: opBase{len(args)}, name: s.Name, steps: steps, batch: b, in: f, hidden: h,
		masked: s.Masks != nil, reverse: s.Reverse, before: s.ResetBefore, gate: s.Gate, state: s.State, dt: d.dt,
		reads: make([]*gorgonia.Node, steps+1),
	}
	return op, args, nil
}

// block returns the state block holding the state after timestep t.
func (op *gruOp) block(t int) int {
	if op.reverse {
		return op.steps - t
	}
	return t + 1
}

// timeOf returns the timestep read at step k (from 0) of the recurrence.
func (op *gruOp) timeOf(k int) int {
	if op.reverse {
		return op.steps - 1 - k
	}
	return k
}

func (op *gruOp) String() string {
	mode := "after"
	if op.before {
		mode = "before"
	}
	if op.reverse {
		mode += ",reverse"
	}
	if op.masked {
		mode += ",masked"
	}
	return fmt.Sprintf("GRULayer{%q,%d×%d×%d→%d,%v,%v,%s}", op.name, op.steps, op.batch, op.in, op.hidden, op.gate, op.state, mode)
}

// WriteHash includes the op's address: every layer owns its buffers, so two
// layers over the same inputs must never merge into one node.
func (op *gruOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op) }
func (op *gruOp) Hashcode() uint32      { return layerHash(op.WriteHash) }

func (op *gruOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.dt}, gorgonia.TensorType{Dims: 1, Of: op.dt}
	ts := make([]hm.Type, 0, op.arity+1)
	for range op.steps {
		ts = append(ts, m)
	}
	ts = append(ts, m, m, v, m)
	if !op.before {
		ts = append(ts, v)
	}
	if op.masked {
		for range op.steps {
			ts = append(ts, v)
		}
	}
	return hm.NewFnType(append(ts, v)...)
}

func (op *gruOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return tensor.Shape{1}, nil }

// dims returns the shape of input i: r×c, or r values when c is 0.
func (op *gruOp) dims(i int) (r, c int) {
	b, h := op.batch, op.hidden
	if i < op.steps {
		return b, op.in
	}
	switch p := i - op.steps; {
	case p == gruW:
		return 3 * h, op.in
	case p == gruR:
		return 3 * h, h
	case p == gruB:
		return 3 * h, 0
	case p == gruH0:
		return b, h
	case p == gruRB && !op.before:
		return 3 * h, 0
	}
	return b, 0 // a mask
}

// shape returns the shape of input i.
func (op *gruOp) shape(i int) tensor.Shape {
	r, c := op.dims(i)
	if c == 0 {
		return tensor.Shape{r}
	}
	return tensor.Shape{r, c}
}

func (op *gruOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: gru layer", vals, op.arity)
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
		gruForward[float64](op, ts)
	default:
		gruForward[float32](op, ts)
	}
	return newDense(op.dt, tensor.Shape{1}), nil
}

func (op *gruOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = i < op.steps+op.params()
	}
	return d
}

// SymDiff builds the backward op over the gradients of the read nodes, and
// one node per input that copies the input's gradient out of it. The read
// nodes consume the layer node, so Gorgonia, which differentiates a graph
// from the cost down, has set their Deriv by now; a read node without one
// does not reach the cost, and its state gets no gradient.
func (op *gruOp) SymDiff(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	t := op.steps
	bwd := &gruBackwardOp{l: op, hIdx: make([]int, t+1)}
	args := gorgonia.Nodes{grad, in[t+gruR]}
	for k, n := range op.reads {
		bwd.hIdx[k] = -1
		if n != nil && n.Deriv() != nil {
			bwd.hIdx[k] = len(args)
			args = append(args, n.Deriv())
		}
	}
	bwd.opBase = opBase{len(args)}
	b, err := gorgonia.ApplyOp(bwd, args...)
	if err != nil {
		return nil, errors.Wrapf(err, "nodes: %v: backward", op)
	}
	grads := make(gorgonia.Nodes, len(in))
	for i := range t + op.params() {
		if grads[i], err = gorgonia.ApplyOp(layerGradOp{opBase{1}, op, i}, b); err != nil {
			return nil, errors.Wrapf(err, "nodes: %v: gradient of input %d", op, i)
		}
	}
	return grads, nil
}

// gruReadOp copies state block k out of the layer's buffers.
type gruReadOp struct {
	opBase
	l *gruOp
	k int
}

func (op gruReadOp) String() string        { return fmt.Sprintf("%v.hidden[%d]", op.l, op.k) }
func (op gruReadOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op.l) }
func (op gruReadOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op gruReadOp) Type() hm.Type {
	return hm.NewFnType(gorgonia.TensorType{Dims: 1, Of: op.l.dt}, gorgonia.TensorType{Dims: 2, Of: op.l.dt})
}

func (op gruReadOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.l.batch, op.l.hidden}, nil
}

func (op gruReadOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	y := newDense(op.l.dt, tensor.Shape{op.l.batch, op.l.hidden})
	var ok bool
	switch op.l.dt {
	case tensor.Float64:
		ok = gruReadState(op.l, op.k, y.Float64s())
	default:
		ok = gruReadState(op.l, op.k, y.Float32s())
	}
	if !ok {
		return nil, errors.Errorf("nodes: %v: read before the layer ran", op)
	}
	return y, nil
}

func gruReadState[T float](l *gruOp, k int, dst []T) bool {
	s, ok := l.buf.(*gruBuffers[T])
	if !ok {
		return false
	}
	n := len(dst)
	copy(dst, s.hs[k*n:(k+1)*n])
	return true
}

func (op gruReadOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff returns the layer's zero token: the layer's backward op takes this
// node's gradient directly, so all Gorgonia has to add up at the layer node
// is one 1-element zero per read node.
func (op gruReadOp) SymDiff(in gorgonia.Nodes, _, _ *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.l.token == nil {
		tok, err := gorgonia.ApplyOp(layerTokenOp{opBase{1}, op.l}, in[0])
		if err != nil {
			return nil, errors.Wrapf(err, "nodes: %v", op)
		}
		op.l.token = tok
	}
	return gorgonia.Nodes{op.l.token}, nil
}

// gruBackwardOp runs the backward pass of its layer's last run into the
// layer's buffers. Its inputs are the layer node's gradient (zero, but it
// orders the op after every read node's gradient), R and the gradients of
// the read nodes: hIdx[k] is the input holding the gradient of state block
// k, -1 when none reaches it.
type gruBackwardOp struct {
	opBase
	l    *gruOp
	hIdx []int
}

func (op *gruBackwardOp) String() string        { return fmt.Sprintf("d%v", op.l) }
func (op *gruBackwardOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v@%p", op, op) }
func (op *gruBackwardOp) Hashcode() uint32      { return layerHash(op.WriteHash) }
func (op *gruBackwardOp) Type() hm.Type {
	m, v := gorgonia.TensorType{Dims: 2, Of: op.l.dt}, gorgonia.TensorType{Dims: 1, Of: op.l.dt}
	ts := []hm.Type{v}
	for range op.arity - 1 {
		ts = append(ts, m)
	}
	return hm.NewFnType(append(ts, v)...)
}

func (op *gruBackwardOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1}, nil
}

func (op *gruBackwardOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	ts, err := denseArgs("nodes: gru layer backward", vals, op.arity)
	if err != nil {
		return nil, err
	}
	l := op.l
	h := l.hidden
	for i, t := range ts[1:] {
		r := l.batch
		if i == 0 {
			r = 3 * h // R
		}
		if !isMatrix(t.Shape(), r, h) {
			return nil, errors.Errorf("nodes: %v: input %d has shape %v, want (%d, %d)", op, i+1, t.Shape(), r, h)
		}
		ts[i+1] = materialize(t)
	}
	var ok bool
	switch l.dt {
	case tensor.Float64:
		ok = gruBackward[float64](op, ts)
	default:
		ok = gruBackward[float32](op, ts)
	}
	if !ok {
		return nil, errors.Errorf("nodes: %v: backward pass before the forward pass", op)
	}
	return newDense(l.dt, tensor.Shape{1}), nil
}

func (op *gruOp) dtype() tensor.Dtype { return op.dt }

func (op *gruOp) gradient(i int) any {
	if op.dt == tensor.Float64 {
		return gruGrad[float64](op, i)
	}
	return gruGrad[float32](op, i)
}

// gruGrad returns the buffer holding the gradient of input i of the layer,
// or nil before the backward pass.
func gruGrad[T float](l *gruOp, i int) []T {
	s, ok := l.buf.(*gruBuffers[T])
	if !ok || s.dz == nil {
		return nil
	}
	var src []T
	switch i - l.steps {
	case gruW:
		src = s.dw
	case gruR:
		src = s.dr
	case gruB:
		src = s.db
	case gruH0:
		src = s.dh0
	case gruRB:
		src = s.drb
	default:
		// Input x_t is block k of dX, k the step that read it.
		if s.dxStale {
			// As lstmInputGradient, whose reasoning holds here.
			s.dxStale = false
			inputGradient(s.dx, s.dz, s.wt, true, s.lo*l.batch, (s.hi-s.lo)*l.batch, l.in, 3*l.hidden)
		}
		k := l.timeOf(i) // timeOf is its own inverse
		n := l.batch * l.in
		src = s.dx[k*n : (k+1)*n : (k+1)*n]
	}
	return src
}

// gruBuffers holds what the backward pass needs of the forward pass, and
// the gradients, for a whole run. Every stack of timesteps is in reading
// order (step k reads timestep timeOf(k)) with B rows per step. The slices
// keep their size across runs: the shapes of a graph are fixed.
type gruBuffers[T float] struct {
	x     []T // the inputs, T·B×F
	gates []T // the pre-activations, then the gates r, z, n in their columns, T·B×3H
	// an holds a_n = R_n h + bR_n (after multiplication), q holds r ⊙ h
	// (before it), T·B×H; the other is nil.
	an, q []T
	rec   []T // after multiplication: the step's h·Rᵀ + bR, B×3H
	mask  []T // T·B, nil when unmasked
	hs    []T // T+1 blocks of B×H: the initial state, then the state after each step
	// wt and rt are Wᵀ (F×3H) and Rᵀ (H×3H), so that every product has
	// operands with long rows, as in lstmBuffers.
	wt, rt []T
	// Steps lo to hi-1 are those from the first to the last that are not
	// padding only, in reading order.
	lo, hi int

	dz []T // T·B×3H, the gradients of the input part of the pre-activations
	da []T // T·B×3H after multiplication: those of the recurrent part; nil before
	dq []T // B×H before multiplication: the gradient of q at one step
	// dh and dhp are the running gradients of the state after and before
	// a step, B×H.
	dh, dhp             []T
	dx, dw, dr, db, drb []T
	dxStale             bool // dx is not yet that of the last backward pass
	dwt                 []T  // dWᵀ, F×3H
	dh0                 []T
	ones                []T // T·B ones, for the column sums
}

func gruForward[T float](op *gruOp, ts []*tensor.Dense) {
	n, b, f, h := op.steps, op.batch, op.in, op.hidden
	g3, bh := 3*h, b*h
	s, ok := op.buf.(*gruBuffers[T])
	if !ok {
		s = &gruBuffers[T]{
			x: make([]T, n*b*f), gates: make([]T, n*b*g3), hs: make([]T, (n+1)*bh),
			wt: make([]T, f*g3), rt: make([]T, h*g3),
		}
		if op.before {
			s.q = make([]T, n*bh)
		} else {
			s.an, s.rec = make([]T, n*bh), make([]T, b*g3)
		}
		if op.masked {
			s.mask = make([]T, n*b)
		}
		op.buf = s
	}
	p := n // the index of W among the inputs
	transposeInto(s.wt, data[T](ts[p+gruW]), g3, f)
	transposeInto(s.rt, data[T](ts[p+gruR]), g3, h)
	bias := data[T](ts[p+gruB])
	var rb []T
	if !op.before {
		rb = data[T](ts[p+gruRB])
	}
	for k := range n {
		t := op.timeOf(k)
		copy(s.x[k*b*f:(k+1)*b*f], data[T](ts[t]))
		if op.masked {
			copy(s.mask[k*b:(k+1)*b], data[T](ts[p+op.params()+t]))
		}
	}
	// The input parts X·Wᵀ + b, every step at once: every step from the
	// first to the last that is not padding only. The steps before and
	// after are skipped, and so are their rows of the products here and in
	// the backward pass, as in lstmForward.
	s.lo, s.hi = 0, n
	if op.masked {
		for s.lo < n && allZero(s.mask[s.lo*b:(s.lo+1)*b]) {
			s.lo++
		}
		for s.hi > s.lo && allZero(s.mask[(s.hi-1)*b:s.hi*b]) {
			s.hi--
		}
	}
	lo, rows := s.lo*b, (s.hi-s.lo)*b
	for row := lo; row < lo+rows; row++ {
		copy(s.gates[row*g3:(row+1)*g3], bias)
	}
	if rows > 0 {
		layerGemm(false, false, rows, g3, f, s.x[lo*f:], f, s.wt, g3, 1, s.gates[lo*g3:], g3)
	}
	copy(s.hs[:bh], data[T](ts[p+gruH0]))
	for k := range n {
		z := s.gates[k*b*g3 : (k+1)*b*g3]
		hPrev, hNext := s.hs[k*bh:(k+1)*bh], s.hs[(k+1)*bh:(k+2)*bh]
		var m []T
		if op.masked {
			m = s.mask[k*b : (k+1)*b]
			if allZero(m) {
				// A step of padding only holds the state: skipping its
				// products makes padded steps all but free (see
				// lstmForward).
				copy(hNext, hPrev)
				continue
			}
		}
		if op.before {
			// r and z first: the candidate's product needs r ⊙ h.
			q := s.q[k*bh : (k+1)*bh]
			layerGemm(false, false, b, 2*h, h, hPrev, h, s.rt, g3, 1, z, g3)
			gruResetBefore(op.gate, z, hPrev, q, m, h)
			layerGemm(false, false, b, h, h, q, h, s.rt[2*h:], g3, 1, z[2*h:], g3)
		} else {
			layerGemm(false, false, b, g3, h, hPrev, h, s.rt, g3, 0, s.rec, g3)
			gruResetAfter(op.gate, z, s.rec, rb, s.an[k*bh:(k+1)*bh], m, h)
		}
		gruUpdate(op.state, z, hPrev, hNext, m, h)
	}
}

// gruResetAfter completes the pre-activations z (B×3H) of one step after
// multiplication from the recurrent product rec = h·Rᵀ (B×3H) and the
// recurrent bias rb: it activates r and z in place, keeps a_n = rec_n + bR_n
// in an (B×H) and adds r ⊙ a_n to the candidate's pre-activation. Rows
// whose mask is 0 are left alone: their state is copied and their
// gradients are zero, whatever the gates are.
func gruResetAfter[T float](gate Activation, z, rec, rb, an, m []T, hidden int) {
	g3 := 3 * hidden
	for r := 0; r < len(an)/hidden; r++ {
		if m != nil && m[r] == 0 {
			continue
		}
		zr, rr, anr := z[r*g3:(r+1)*g3], rec[r*g3:(r+1)*g3], an[r*hidden:(r+1)*hidden]
		for j := range 2 * hidden {
			zr[j] += rr[j] + rb[j]
		}
		activateSlice(gate, zr[:2*hidden])
		rg, zn, rn, rbn := zr[:hidden], zr[2*hidden:], rr[2*hidden:], rb[2*hidden:]
		for j := range hidden {
			a := rn[j] + rbn[j]
			anr[j] = a
			zn[j] += rg[j] * a
		}
	}
}

// gruResetBefore activates r and z in place in the pre-activations z
// (B×3H) of one step before multiplication, and sets q = r ⊙ h, the left
// operand of the candidate's product. Rows whose mask is 0 get q = 0, so
// that the product adds nothing to them.
func gruResetBefore[T float](gate Activation, z, hPrev, q, m []T, hidden int) {
	g3 := 3 * hidden
	for r := 0; r < len(q)/hidden; r++ {
		lo, hi := r*hidden, (r+1)*hidden
		if m != nil && m[r] == 0 {
			clear(q[lo:hi])
			continue
		}
		zr := z[r*g3 : (r+1)*g3]
		activateSlice(gate, zr[:2*hidden])
		qr, hp := q[lo:hi], hPrev[lo:hi]
		for j, rg := range zr[:hidden] {
			qr[j] = rg * hp[j]
		}
	}
}

// gruUpdate activates the candidate, in place in z (B×3H, r and z already
// activated), and sets h to the state after the step from the state hPrev
// before it; m holds the step's mask, nil for none.
func gruUpdate[T float](state Activation, z, hPrev, h, m []T, hidden int) {
	g3 := 3 * hidden
	for r := 0; r < len(h)/hidden; r++ {
		w := T(1)
		if m != nil {
			w = m[r]
		}
		lo, hi := r*hidden, (r+1)*hidden
		hp, hr := hPrev[lo:hi], h[lo:hi]
		if w == 0 {
			copy(hr, hp)
			continue
		}
		zr := z[r*g3 : (r+1)*g3]
		zn := zr[2*hidden:]
		activateSlice(state, zn)
		zz := zr[hidden : 2*hidden]
		if w == 1 {
			for j, c := range zn {
				// (1-z) ⊙ n + z ⊙ h as n + z ⊙ (h - n), as rnn.GRU has it.
				hr[j] = c + zz[j]*(hp[j]-c)
			}
		} else {
			for j, c := range zn {
				hr[j] = w*(c+zz[j]*(hp[j]-c)) + (1-w)*hp[j]
			}
		}
	}
}

// gruBackward runs the backward pass; it returns false if the layer has not
// run forward.
func gruBackward[T float](op *gruBackwardOp, ts []*tensor.Dense) bool {
	l := op.l
	s, ok := l.buf.(*gruBuffers[T])
	if !ok {
		return false
	}
	if s.dz == nil {
		s.allocBackward(l)
	}
	copy(s.dh0, gruBackwardSteps(op, s, ts))
	// dX waits for its first reader (inputGradient): a first layer's
	// inputs are data, whose gradient nothing reads.
	s.dxStale = true
	s.weightGradients(l)
	return true
}

// allocBackward allocates the buffers of the backward pass of layer l.
func (s *gruBuffers[T]) allocBackward(l *gruOp) {
	n, b, f, h := l.steps, l.batch, l.in, l.hidden
	g3, bh := 3*h, b*h
	s.dz = make([]T, n*b*g3)
	s.dh, s.dhp = make([]T, bh), make([]T, bh)
	s.dx, s.dw, s.dr, s.db = make([]T, n*b*f), make([]T, g3*f), make([]T, g3*h), make([]T, g3)
	s.dwt, s.dh0, s.ones = make([]T, f*g3), make([]T, bh), make([]T, n*b)
	for i := range s.ones {
		s.ones[i] = 1
	}
	if l.before {
		s.dq = make([]T, bh)
	} else {
		s.da, s.drb = make([]T, n*b*g3), make([]T, g3)
	}
}

// gruBackwardSteps runs the backward recurrence from the last step read to
// the first, setting the gradients of the pre-activations (dZ, and dA
// after multiplication), and returns the gradient of the initial state.
func gruBackwardSteps[T float](op *gruBackwardOp, s *gruBuffers[T], ts []*tensor.Dense) []T {
	l := op.l
	n, b, h := l.steps, l.batch, l.hidden
	g3, bh := 3*h, b*h
	r := data[T](ts[1])
	dh, dhp := s.dh, s.dhp
	gruStateGrad(op, ts, dh, n, false)
	for k := n - 1; k >= 0; k-- {
		var m []T
		if l.masked {
			m = s.mask[k*b : (k+1)*b]
		}
		gates, hPrev := s.gates[k*b*g3:(k+1)*b*g3], s.hs[k*bh:(k+1)*bh]
		dz := s.dz[k*b*g3 : (k+1)*b*g3]
		if m != nil && allZero(m) {
			// A step of padding only: the gradient passes through it.
			clear(dz)
			if !l.before {
				clear(s.da[k*b*g3 : (k+1)*b*g3])
			}
			copy(dhp, dh)
		} else if l.before {
			gruStepBackward(l.gate, l.state, gates, hPrev, nil, m, dh, dz, nil, dhp, h)
			// dq = dn̂·R_n, then the reset gate's share, then [dr̂, dẑ]·R_rz.
			layerGemm(false, false, b, h, h, dz[2*h:], g3, r[2*h*h:], h, 0, s.dq, h)
			gruResetBackwardBefore(l.gate, gates, hPrev, s.dq, m, dz, dhp, h)
			layerGemm(false, false, b, h, 2*h, dz, g3, r, h, 1, dhp, h)
		} else {
			da := s.da[k*b*g3 : (k+1)*b*g3]
			gruStepBackward(l.gate, l.state, gates, hPrev, s.an[k*bh:(k+1)*bh], m, dh, dz, da, dhp, h)
			layerGemm(false, false, b, h, g3, da, g3, r, h, 1, dhp, h)
		}
		gruStateGrad(op, ts, dhp, k, true)
		dh, dhp = dhp, dh
	}
	return dh
}

// gruStateGrad sets dst to the gradient reaching state block k from its
// read node, or zero; with add, it adds the gradient to dst.
func gruStateGrad[T float](op *gruBackwardOp, ts []*tensor.Dense, dst []T, k int, add bool) {
	if op.hIdx[k] < 0 {
		if !add {
			clear(dst)
		}
		return
	}
	g := data[T](ts[op.hIdx[k]])
	if !add {
		copy(dst, g)
		return
	}
	for j, v := range g {
		dst[j] += v
	}
}

// weightGradients sets dWᵀ = Xᵀ·dZ and db = Σ_rows dZ, each over every step
// at once, then dR (and dbR) likewise (dX = dZ·W waits for its reader,
// inputGradient). Each leaves out the steps of padding only before and
// after the others (see gruForward): their rows of dZ and dA are zero.
func (s *gruBuffers[T]) weightGradients(l *gruOp) {
	b, f, h := l.batch, l.in, l.hidden
	g3 := 3 * h
	lo, rows := s.lo*b, (s.hi-s.lo)*b
	if rows == 0 {
		clear(s.dw)
		clear(s.dr)
		clear(s.db)
		clear(s.drb) // nil before multiplication
		return
	}
	dz, ones := s.dz[lo*g3:(lo+rows)*g3], s.ones[:rows]
	layerGemm(true, false, f, g3, rows, s.x[lo*f:], f, dz, g3, 0, s.dwt, g3)
	transposeInto(s.dw, s.dwt, f, g3)
	columnSums(s.db, dz, ones, g3)
	hs := s.hs[lo*h : (lo+rows)*h]
	if l.before {
		layerGemm(true, false, 2*h, h, rows, dz, g3, hs, h, 0, s.dr, h)
		layerGemm(true, false, h, h, rows, dz[2*h:], g3, s.q[lo*h:(lo+rows)*h], h, 0, s.dr[2*h*h:], h)
	} else {
		da := s.da[lo*g3 : (lo+rows)*g3]
		layerGemm(true, false, g3, h, rows, da, g3, hs, h, 0, s.dr, h)
		// dA and dZ share their r and z columns.
		copy(s.drb, s.db[:2*h])
		columnSums(s.drb[2*h:], da[2*h:], ones, g3)
	}
}

// columnSums sets dst to the column sums of the len(ones)×len(dst)
// matrix src of row stride ld, as the product onesᵀ·src. The GEMM
// vectorises it: sumRows' scalar loop over the rows took a tenth of a
// float32 forward and backward run of the layer (T=30, B=32, H=100), the
// product a seventh of that.
func columnSums[T float](dst, src, ones []T, ld int) {
	layerGemm(false, false, 1, len(dst), len(ones), ones, len(ones), src, ld, 0, dst, len(dst))
}

// gruStepBackward computes, for one step, from the gradient dh of the state
// after it: the gradients dẑ and dn̂ into dz, and the parts of the gradient
// dhp of the state before it that go neither through R nor through q,
// dh' ⊙ z + (1-m) ⊙ dh. After multiplication (an not nil) it computes dr̂
// too, and the gradient of the recurrent part into da; before it, dr̂ needs
// dq and gruResetBackwardBefore sets it. A row whose mask is 0 gets zero
// gradients and dhp = dh.
func gruStepBackward[T float](gate, state Activation, gates, hPrev, an, m, dh, dz, da, dhp []T, hidden int) {
	g3 := 3 * hidden
	for r := 0; r < len(dh)/hidden; r++ {
		w := T(1)
		if m != nil {
			w = m[r]
		}
		lo, hi := r*hidden, (r+1)*hidden
		dhr, dhpr, hp := dh[lo:hi], dhp[lo:hi], hPrev[lo:hi]
		dzr := dz[r*g3 : (r+1)*g3]
		var dar []T
		if da != nil {
			dar = da[r*g3 : (r+1)*g3]
		}
		if w == 0 {
			clear(dzr)
			clear(dar)
			copy(dhpr, dhr)
			continue
		}
		gr := gates[r*g3 : (r+1)*g3]
		rg, zg, ng := gr[:hidden], gr[hidden:2*hidden], gr[2*hidden:]
		dzr, dzz, dzn := dzr[:hidden], dzr[hidden:2*hidden], dzr[2*hidden:]
		for j := range hidden {
			dn := dhr[j]
			if w != 1 {
				dn = w * dn
			}
			z, c := zg[j], ng[j]
			dzn[j] = dn * (1 - z) * T(state.df(float64(c)))
			dzz[j] = dn * (hp[j] - c) * T(gate.df(float64(z)))
			if w == 1 {
				dhpr[j] = dn * z
			} else {
				dhpr[j] = dn*z + (1-w)*dhr[j]
			}
		}
		if dar == nil {
			continue
		}
		anr := an[lo:hi]
		dar, daz, dan := dar[:hidden], dar[hidden:2*hidden], dar[2*hidden:]
		for j, rv := range rg {
			dr := dzn[j] * anr[j] * T(gate.df(float64(rv)))
			dzr[j], dar[j], daz[j], dan[j] = dr, dr, dzz[j], dzn[j]*rv
		}
	}
}

// gruResetBackwardBefore completes a step's backward pass before
// multiplication from dq = dn̂·R_n: it sets dr̂ = dq ⊙ h ⊙ σg'(r) into dz and
// adds dq ⊙ r to dhp. Rows whose mask is 0 are left as gruStepBackward set
// them.
func gruResetBackwardBefore[T float](gate Activation, gates, hPrev, dq, m, dz, dhp []T, hidden int) {
	g3 := 3 * hidden
	for r := 0; r < len(dq)/hidden; r++ {
		if m != nil && m[r] == 0 {
			continue
		}
		lo, hi := r*hidden, (r+1)*hidden
		dqr, hp, dhpr := dq[lo:hi], hPrev[lo:hi], dhp[lo:hi]
		rg, dzr := gates[r*g3:r*g3+hidden], dz[r*g3:r*g3+hidden]
		for j, rv := range rg {
			dzr[j] = dqr[j] * hp[j] * T(gate.df(float64(rv)))
			dhpr[j] += dqr[j] * rv
		}
	}
}
