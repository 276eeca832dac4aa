package graph

import (
	"container/list"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// Network is a layer array with its learnables. It builds a Gorgonia graph
// for each batch shape it meets, differentiates and compiles it once and
// keeps it in a cache, so that every later batch of that shape only copies
// data in and runs.
//
// A Network is not safe for concurrent use.
type Network struct {
	layers     []layer
	params     *nodes.Params
	classNames []string
	dtype      tensor.Dtype
	seed       uint64

	cacheSize int
	programs  map[programKey]*list.Element
	lru       *list.List // of *program, most recently used first
	compiled  int
	compiling time.Duration // spent building and compiling graphs

	// batchNorm holds the running statistics of each batch normalization
	// layer, shared by all its graphs.
	batchNorm map[string]*nodes.BatchNormState

	// norm holds the input normalization's statistics (nil before
	// FitNormalization or without normalization); normX is the buffer that
	// normalized batches are copied into.
	norm  *dataset.NormalizationStats
	normX []float64

	// The state carried across the chunks of split batches, one for each
	// use, so that predicting between two training chunks breaks nothing.
	train, predict, observe carry
	// stateful is the state PredictAndUpdateState keeps between calls.
	stateful carry

	// workers are the networks that TrainStepParallel runs shards of a
	// batch on, besides this one. compileMu, shared with them, serializes
	// compilation: Gorgonia's NewTapeMachine writes to the values of the
	// input nodes, and the weight tensors are shared.
	workers   []*Network
	compileMu *sync.Mutex

	// stepBuckets says whether training batches are padded to bucketed
	// lengths (WithStepBuckets).
	stepBuckets bool
	// plain turns the graph optimizer off (WithGraphOptimizer(false)).
	plain bool
}

// Option configures a Network.
type Option func(*netConfig)

type netConfig struct {
	dtype       tensor.Dtype
	seed        uint64
	cacheSize   int
	classNames  []string
	stepBuckets *bool // nil: the default for the layers
	plain       bool
}

// WithDtype sets the element type of the learnables and of every
// computation: tensor.Float32 (the default, as in MATLAB and PyTorch) or
// tensor.Float64.
func WithDtype(dt tensor.Dtype) Option { return func(c *netConfig) { c.dtype = dt } }

// WithSeed seeds the initializers and the dropout masks, so that one seed
// gives the same network and, for the same batches, the same training run
// (1 by default).
func WithSeed(seed uint64) Option { return func(c *netConfig) { c.seed = seed } }

// WithCacheSize sets how many compiled graphs (one per batch shape) the
// network keeps; the least recently used goes first (32 by default).
func WithCacheSize(n int) Option { return func(c *netConfig) { c.cacheSize = n } }

// WithStepBuckets sets whether training batches run on the graphs of a few
// bucketed lengths: a batch of T timesteps is padded to the next power of
// two and trains on the graph compiled for that length. Padding is masked,
// so the loss and the gradients are those of the batch itself (to
// rounding), and an epoch of batches of many lengths compiles a few graphs
// instead of one per length: on the Japanese Vowels data, compiling goes
// from a fifth of the first epoch to a few percent (docs/performance.md).
//
// It is on by default when every recurrent layer is an LSTM, BiLSTM or GRU
// layer, which run on fused ops where a step of padding only copies the
// state; off by default otherwise (and for video), where padded steps cost
// as much as real ones. Inference graphs always have the batch's length.
func WithStepBuckets(on bool) Option { return func(c *netConfig) { c.stepBuckets = &on } }

// WithClassNames names the classes of a classifier, in the order of its
// outputs (class k is names[k]); Classify returns these names, and a
// checkpoint keeps them. By default classes are called "0", "1", ...
func WithClassNames(names []string) Option {
	return func(c *netConfig) { c.classNames = append([]string(nil), names...) }
}

// NewNetwork validates the layer array, creates and initializes its
// learnables and returns the network.
func NewNetwork(layers []Layer, opts ...Option) (*Network, error) {
	cfg := netConfig{dtype: tensor.Float32, seed: 1, cacheSize: 32}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.cacheSize < 1 {
		return nil, errors.Errorf("graph: cache size %d; want at least 1", cfg.cacheSize)
	}
	ls, err := resolve(layers)
	if err != nil {
		return nil, err
	}
	last := ls[len(ls)-1]
	if cfg.classNames != nil {
		if last.kind != classificationLayer || len(cfg.classNames) != last.out {
			return nil, errors.Errorf("graph: %d class names for a network with %d outputs (names are for classifiers, one per class)", len(cfg.classNames), last.out)
		}
		seen := map[string]bool{}
		for _, name := range cfg.classNames {
			if seen[name] {
				return nil, errors.Errorf("graph: class name %q appears twice", name)
			}
			seen[name] = true
		}
	} else if last.kind == classificationLayer {
		for k := 0; k < last.out; k++ {
			cfg.classNames = append(cfg.classNames, fmt.Sprint(k))
		}
	}
	p, err := nodes.NewParams(cfg.dtype, cfg.seed)
	if err != nil {
		return nil, errors.Wrap(err, "graph")
	}
	n := &Network{
		layers: ls, params: p, dtype: cfg.dtype, seed: cfg.seed, cacheSize: cfg.cacheSize, classNames: cfg.classNames,
		programs: make(map[programKey]*list.Element), lru: list.New(),
		batchNorm: make(map[string]*nodes.BatchNormState), compileMu: new(sync.Mutex),
		stepBuckets: fusedOnly(ls),
	}
	if cfg.stepBuckets != nil {
		n.stepBuckets = *cfg.stepBuckets
	}
	n.plain = cfg.plain
	for _, l := range ls {
		if l.kind == batchNormLayer {
			if n.batchNorm[l.name], err = nodes.NewBatchNormState(l.frame.C); err != nil {
				return nil, errors.Wrapf(err, "graph: layer %q", l.name)
			}
		}
	}
	// Building a one-step graph creates every learnable, in layer order,
	// so that they exist (and can be read or set) before any training, and
	// so that the initial weights depend on the seed alone.
	g := gorgonia.NewGraph()
	if _, err := n.build(g, programKey{batch: 1, steps: 1}); err != nil {
		return nil, err
	}
	p.Forget(g)
	return n, nil
}

// Dtype returns the element type of the network's computations.
func (n *Network) Dtype() tensor.Dtype { return n.dtype }

// InputSize returns the number of features per timestep.
func (n *Network) InputSize() int { return n.layers[0].out }

// OutputSize returns the number of classes or responses.
func (n *Network) OutputSize() int { return n.layers[len(n.layers)-1].out }

// ClassNames returns the names of a classifier's classes, in the order of
// its outputs; nil for a regression network.
func (n *Network) ClassNames() []string { return append([]string(nil), n.classNames...) }

// PerStep reports whether the network outputs one value per timestep
// (sequence-to-sequence), rather than one per sequence.
func (n *Network) PerStep() bool { return n.layers[len(n.layers)-1].seqIn }

// IsClassifier reports whether the network ends with a classification output.
func (n *Network) IsClassifier() bool { return n.layers[len(n.layers)-1].kind == classificationLayer }

// String lists the layers, one per line, as MATLAB displays a layer array.
func (n *Network) String() string {
	var b strings.Builder
	for i, l := range n.layers {
		fmt.Fprintf(&b, "%3d  %v\n", i+1, l)
	}
	return b.String()
}

// Learnables returns the names of the learnables, sorted
// ("fc1/Bias", "fc1/Weights", "lstm1/Bias", ...).
func (n *Network) Learnables() []string { return n.params.Names() }

// LearnableShape returns the shape of the learnable called name, or nil.
func (n *Network) LearnableShape(name string) []int {
	t := n.params.Tensor(name)
	if t == nil {
		return nil
	}
	return t.Shape().Clone()
}

// Learnable returns a copy of the values of the learnable called name in
// row-major order (an LSTM's InputWeights are 4H×F, gates i, f, g, o).
func (n *Network) Learnable(name string) ([]float64, error) {
	v := n.params.Values(name)
	if v == nil {
		return nil, errors.Errorf("graph: no learnable %q (have %s)", name, strings.Join(n.Learnables(), ", "))
	}
	return v, nil
}

// SetLearnable replaces the values of the learnable called name; values
// must have as many elements as its shape, in row-major order, all finite.
func (n *Network) SetLearnable(name string, values []float64) error {
	if n.params.Tensor(name) == nil {
		return errors.Errorf("graph: no learnable %q (have %s)", name, strings.Join(n.Learnables(), ", "))
	}
	return errors.Wrap(n.params.Set(name, values), "graph")
}

// FitNormalization computes the input normalization's statistics from the
// training data src (over every real timestep, per feature, or per channel
// for images, as MATLAB does) and keeps them with the network, which then
// normalizes every batch it trains on or predicts. Without a normalization
// on the input layer it does nothing.
func (n *Network) FitNormalization(src dataset.Source) error {
	mode := n.layers[0].norm
	if mode == dataset.NormNone {
		return nil
	}
	st, err := dataset.FitNormalization(src, mode)
	if err != nil {
		return errors.Wrap(err, "graph: fitting the input normalization")
	}
	return n.SetNormalization(st)
}

// SetNormalization sets the input normalization's statistics, of the input
// layer's mode and size (nil removes them).
func (n *Network) SetNormalization(st *dataset.NormalizationStats) error {
	if st == nil {
		n.norm = nil
		return nil
	}
	in := n.layers[0]
	if st.Mode != in.norm {
		return errors.Errorf("graph: normalization statistics for %v; the input layer normalizes with %v", st.Mode, in.norm)
	}
	// Checking the statistics against a zero timestep catches a size or
	// frame mismatch now rather than at the first batch.
	if err := st.Apply(make([]float64, in.out)); err != nil {
		return errors.Wrap(err, "graph: normalization statistics")
	}
	n.norm = st
	return nil
}

// Normalization returns the input normalization's statistics, or nil.
func (n *Network) Normalization() *dataset.NormalizationStats { return n.norm }

// normalized returns b with its real timesteps normalized, in a copy that
// reuses the network's buffer, or b itself without normalization.
func (n *Network) normalized(b *dataset.Batch) (*dataset.Batch, error) {
	if n.layers[0].norm == dataset.NormNone {
		return b, nil
	}
	if n.norm == nil {
		return nil, errors.Errorf("graph: the input layer normalizes with %v, but has no statistics: call FitNormalization with the training data first", n.layers[0].norm)
	}
	if cap(n.normX) < len(b.X) {
		n.normX = make([]float64, len(b.X))
	}
	nb := *b
	nb.X = append(n.normX[:0], b.X...)
	if err := n.norm.ApplyBatch(&nb); err != nil {
		return nil, errors.Wrap(err, "graph: normalizing the batch")
	}
	return &nb, nil
}

// fusedOnly reports whether every recurrent layer of ls runs on a fused op
// (Recurrent and Bidirectional layers of LSTM or GRU cells do too, but
// their cells are the user's to choose, so they are not counted)
// and no layer is a video layer: the networks whose padded timesteps cost
// next to nothing.
func fusedOnly(ls []layer) bool {
	for _, l := range ls {
		switch {
		case l.kind == lstmLayer || l.kind == bilstmLayer || l.kind == gruLayer:
		case l.kind.recurrent(), l.kind >= imageSequenceInputLayer && l.kind <= flattenLayer:
			return false
		}
	}
	return true
}

// stepBucket returns the length of the graph that a training batch of t
// timesteps runs on with step buckets: the smallest power of two >= t.
func stepBucket(t int) int {
	b := 1
	for b < t {
		b *= 2
	}
	return b
}

// bucketed returns b padded to its step bucket's length when the network
// trains on step buckets, and b itself otherwise.
func (n *Network) bucketed(b *dataset.Batch) (*dataset.Batch, error) {
	if !n.stepBuckets {
		return b, nil
	}
	pb, err := b.PadSteps(stepBucket(b.T))
	return pb, errors.Wrap(err, "graph: padding the batch to its step bucket")
}

// CompileTime returns the time spent building and compiling graphs so far.
func (n *Network) CompileTime() time.Duration { return n.compiling }

// Compilations returns how many graphs the network has compiled so far: one
// per batch shape (and per training or inference use) unless the cache had
// to evict.
func (n *Network) Compilations() int { return n.compiled }

// program returns the compiled program for key, from the cache or newly
// built and compiled.
func (n *Network) program(key programKey) (*program, error) {
	if e, ok := n.programs[key]; ok {
		n.lru.MoveToFront(e)
		return e.Value.(*program), nil
	}
	start := time.Now()
	defer func() { n.compiling += time.Since(start) }()
	g := gorgonia.NewGraph()
	p, err := n.build(g, key)
	if err != nil {
		n.params.Forget(g)
		return nil, err
	}
	p.optimize = !n.plain
	n.compileMu.Lock()
	err = p.compile()
	n.compileMu.Unlock()
	if err != nil {
		n.params.Forget(g)
		return nil, err
	}
	n.compiled++
	n.programs[key] = n.lru.PushFront(p)
	for n.lru.Len() > n.cacheSize {
		old := n.lru.Remove(n.lru.Back()).(*program)
		delete(n.programs, old.key)
		n.params.Forget(old.g)
		old.close()
	}
	return p, nil
}
