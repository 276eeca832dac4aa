package nodes

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Params owns learnable tensors by name. A learnable is created once, with
// its initializer, the first time any graph asks for it; every graph that
// asks again gets a node bound to the very same tensor. That is what lets a
// network compile one graph per batch shape while all of them train one set
// of weights, and lets a solver keep its state per tensor.
//
// Building graphs from several goroutines at once is safe (Node and Forget
// lock); changing values with Set while graphs run is not.
type Params struct {
	mu      sync.Mutex
	dtype   tensor.Dtype
	rng     *rand.Rand
	tensors map[string]*tensor.Dense
	nodes   map[*gorgonia.ExprGraph]map[string]*gorgonia.Node
	// values counts the values of the learnables; budget bounds it (0: no
	// bound).
	values, budget int
	// uninitialized makes new learnables start at zero (SetUninitialized).
	uninitialized bool
}

// SetUninitialized makes the learnables created from now on start at zero
// instead of from their initializers, or, with false, from their
// initializers again: for a reader that sets every learnable from a file,
// whose orthogonal initializations (a QR decomposition each) would be
// thrown away.
func (p *Params) SetUninitialized(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.uninitialized = on
}

// NewParams returns an empty store whose learnables have the given dtype
// (tensor.Float64 or tensor.Float32) and whose initializers draw from a
// generator seeded with seed, so that one seed always gives the same weights.
func NewParams(dtype tensor.Dtype, seed uint64) (*Params, error) {
	if dtype != tensor.Float64 && dtype != tensor.Float32 {
		return nil, errors.Errorf("nodes: params: dtype %v is not supported, use float64 or float32", dtype)
	}
	return &Params{
		dtype:   dtype,
		rng:     rand.New(rand.NewPCG(seed, 0x5eb9a9b)),
		tensors: make(map[string]*tensor.Dense),
		nodes:   make(map[*gorgonia.ExprGraph]map[string]*gorgonia.Node),
	}, nil
}

// Dtype returns the dtype of every learnable in the store.
func (p *Params) Dtype() tensor.Dtype { return p.dtype }

// Names returns the names of the learnables, sorted.
func (p *Params) Names() []string {
	names := make([]string, 0, len(p.tensors))
	for n := range p.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensor returns the learnable called name, or nil if there is none.
func (p *Params) Tensor(name string) *tensor.Dense { return p.tensors[name] }

// Set copies value into the learnable called name. The learnable must exist
// and value must have its shape, with every value finite in the store's
// dtype (a float32 store refuses values beyond float32's range, which would
// become infinite); the tensor itself is kept, so graphs that already use it
// see the new values.
func (p *Params) Set(name string, value []float64) error {
	if err := p.Check(name, value); err != nil {
		return err
	}
	copyInto(p.tensors[name], value)
	return nil
}

// Check returns the error Set would give for value, without setting it:
// no learnable called name, a length other than its size, or a value that
// is not finite or beyond the store's precision.
func (p *Params) Check(name string, value []float64) error {
	t, ok := p.tensors[name]
	if !ok {
		return errors.Errorf("nodes: params: no learnable %q", name)
	}
	if len(value) != t.Shape().TotalSize() {
		return errors.Errorf("nodes: params: learnable %q has shape %v (%d values), got %d values",
			name, t.Shape(), t.Shape().TotalSize(), len(value))
	}
	limit := math.MaxFloat64
	if p.dtype == tensor.Float32 {
		limit = math.MaxFloat32
	}
	for i, v := range value {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Errorf("nodes: params: learnable %q: value %d is %v", name, i, v)
		}
		if math.Abs(v) > limit {
			return errors.Errorf("nodes: params: learnable %q: value %d is %v, beyond the range of the store's float32 (±%.4g)", name, i, v, math.MaxFloat32)
		}
	}
	return nil
}

// Values returns a float64 copy of the learnable called name in row-major
// order, or nil if there is none.
func (p *Params) Values(name string) []float64 {
	t, ok := p.tensors[name]
	if !ok {
		return nil
	}
	return toFloat64(t)
}

// Node returns a node of graph g bound to the learnable called name,
// creating the learnable with init on first use. Asking for an existing
// learnable with another shape is an error: that is how a layer built with
// the wrong sizes is caught before it computes anything.
func (p *Params) Node(g *gorgonia.ExprGraph, name string, shape tensor.Shape, init Initializer) (*gorgonia.Node, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g == nil {
		return nil, errors.Errorf("nodes: params: learnable %q: nil graph", name)
	}
	if name == "" {
		return nil, errors.New("nodes: params: learnable with an empty name")
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, errors.Errorf("nodes: params: learnable %q: shape %v has a non-positive size", name, shape)
		}
	}
	t, ok := p.tensors[name]
	if ok && !t.Shape().Eq(shape) {
		return nil, errors.Errorf("nodes: params: learnable %q has shape %v, asked for %v", name, t.Shape(), shape)
	}
	if !ok {
		if err := p.checkSizes([]string{name}, []tensor.Shape{shape}); err != nil {
			return nil, err
		}
		if init == nil || p.uninitialized {
			init = Zeros()
		}
		vals := make([]float64, shape.TotalSize())
		if err := init(p.rng, shape, vals); err != nil {
			return nil, errors.Wrapf(err, "nodes: params: initializing %q", name)
		}
		t = newDense(p.dtype, shape)
		copyInto(t, vals)
		p.tensors[name] = t
		p.values += len(vals)
	}
	byName := p.nodes[g]
	if byName == nil {
		byName = make(map[string]*gorgonia.Node)
		p.nodes[g] = byName
	}
	if n, ok := byName[name]; ok {
		return n, nil
	}
	n := gorgonia.NodeFromAny(g, t, gorgonia.WithName(name))
	byName[name] = n
	return n, nil
}

// Forget drops the store's record of the nodes it made in g, so that a graph
// that is no longer used can be collected. The tensors stay.
func (p *Params) Forget(g *gorgonia.ExprGraph) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.nodes, g)
}

func copyInto(t *tensor.Dense, vals []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, vals)
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	}
}

func toFloat64(t *tensor.Dense) []float64 {
	t = materialize(t)
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// An Initializer fills out, the row-major values of a learnable of the given
// shape, drawing any randomness from rng.
type Initializer func(rng *rand.Rand, shape tensor.Shape, out []float64) error

// Zeros initializes every value to 0.
func Zeros() Initializer { return Constant(0) }

// Constant initializes every value to v.
func Constant(v float64) Initializer {
	return func(_ *rand.Rand, _ tensor.Shape, out []float64) error {
		for i := range out {
			out[i] = v
		}
		return nil
	}
}

// GlorotUniform draws from U(-a, a) with a = sqrt(6/(fanIn+fanOut)), the
// Glorot (Xavier) initializer that MATLAB uses for input weights. For an LSTM
// MATLAB takes fanIn = InputSize and fanOut = 4*NumHiddenUnits.
func GlorotUniform(fanIn, fanOut int) Initializer {
	return func(rng *rand.Rand, _ tensor.Shape, out []float64) error {
		if fanIn <= 0 || fanOut <= 0 {
			return errors.Errorf("glorot: fan-in %d and fan-out %d must be positive", fanIn, fanOut)
		}
		a := math.Sqrt(6 / float64(fanIn+fanOut))
		for i := range out {
			out[i] = (2*rng.Float64() - 1) * a
		}
		return nil
	}
}

// Orthogonal initializes a matrix with Q of the QR decomposition of a matrix
// drawn from the unit normal distribution, MATLAB's default for recurrent
// weights: it keeps the recurrent map norm-preserving at the start of
// training. The signs of Q's columns follow those of R's diagonal so that Q
// is uniformly distributed over the orthogonal matrices.
func Orthogonal() Initializer {
	return func(rng *rand.Rand, shape tensor.Shape, out []float64) error {
		if len(shape) != 2 {
			return errors.Errorf("orthogonal: shape %v is not a matrix", shape)
		}
		rows, cols := shape[0], shape[1]
		tall := rows >= cols
		r, c := rows, cols
		if !tall {
			r, c = cols, rows
		}
		z := mat.NewDense(r, c, nil)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				z.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(z)
		var q, rr mat.Dense
		qr.QTo(&q)
		qr.RTo(&rr)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				a, b := i, j
				if !tall {
					a, b = j, i
				}
				v := q.At(a, b)
				if rr.At(b, b) < 0 {
					v = -v
				}
				out[i*cols+j] = v
			}
		}
		return nil
	}
}

// UnitForgetGateBias initializes an LSTM bias of 4*hidden values, gates in the
// order input, forget, cell candidate, output, with ones for the forget gate
// and zeros elsewhere (MATLAB's default): the cell starts by remembering.
func UnitForgetGateBias(hidden int) Initializer {
	return func(_ *rand.Rand, shape tensor.Shape, out []float64) error {
		if len(out) != 4*hidden {
			return errors.Errorf("unit forget gate bias: %d values, want 4*%d", len(out), hidden)
		}
		for i := range out {
			out[i] = 0
		}
		for i := hidden; i < 2*hidden; i++ {
			out[i] = 1
		}
		return nil
	}
}

// Ones initializes every value to 1.
func Ones() Initializer { return Constant(1) }

// He draws from N(0, 2/fanIn), the He (Kaiming) initializer that MATLAB
// offers for layers followed by ReLU.
func He(fanIn int) Initializer {
	return func(rng *rand.Rand, _ tensor.Shape, out []float64) error {
		if fanIn <= 0 {
			return errors.Errorf("he: fan-in %d must be positive", fanIn)
		}
		sd := math.Sqrt(2 / float64(fanIn))
		for i := range out {
			out[i] = rng.NormFloat64() * sd
		}
		return nil
	}
}

// NarrowNormal draws from N(0, 0.01²), MATLAB's "narrow-normal".
func NarrowNormal() Initializer {
	return func(rng *rand.Rand, _ tensor.Shape, out []float64) error {
		for i := range out {
			out[i] = rng.NormFloat64() * 0.01
		}
		return nil
	}
}

// ParseInitializer returns the initializer with MATLAB's name: "glorot",
// "he", "orthogonal", "narrow-normal", "zeros" or "ones". fanIn and fanOut
// are those of the learnable it will initialize (for an LSTM's input
// weights, the input size and 4 times the hidden size).
func ParseInitializer(name string, fanIn, fanOut int) (Initializer, error) {
	switch strings.ToLower(name) {
	case "glorot":
		return GlorotUniform(fanIn, fanOut), nil
	case "he":
		return He(fanIn), nil
	case "orthogonal":
		return Orthogonal(), nil
	case "narrow-normal":
		return NarrowNormal(), nil
	case "zeros":
		return Zeros(), nil
	case "ones":
		return Ones(), nil
	}
	return nil, errors.Errorf("nodes: unknown initializer %q (want glorot, he, orthogonal, narrow-normal, zeros or ones)", name)
}
