package graph

import (
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
// Inference is safe for concurrent use: any number of goroutines may call
// Predict, PredictBatch, PredictSteps, PredictStepsBatch, Classify,
// ClassifySteps and Activations on one Network, each running a compiled
// program of its own over the shared weights, with the results of serial
// calls; a goroutine that follows series step by step holds a Stream of its
// own. Training (TrainStep, TrainStepParallel, Train) and the methods that
// change the network (SetLearnable, SetNormalization, FitNormalization) may
// run beside inference: a training step waits for the predictions under
// way and they for it, so a prediction sees the weights of before or after
// a step, never a mix. Two trainings of one network at once are not
// supported.
type Network struct {
	layers     []netLayer
	input      inputSpec
	params     *nodes.Params
	classNames []string
	dtype      tensor.Dtype
	seed       uint64

	cache *programCache

	// weights is held for reading by inference runs and for writing by
	// training steps and the methods that change learnables, running
	// statistics or the normalization.
	weights sync.RWMutex

	// batchNorm holds the running statistics of each batch normalization
	// layer, shared by all its graphs.
	batchNorm map[string]*nodes.BatchNormState

	// norm holds the input normalization's statistics (nil before
	// FitNormalization or without normalization).
	norm *dataset.NormalizationStats

	// The state carried across the chunks of split batches, one for each
	// use, so that predicting between two training chunks breaks nothing;
	// chunks guards predict and observe (training is one at a time).
	train, predict, observe carry
	chunks                  sync.Mutex
	// ownStream is the stream of PredictAndUpdateState and the other
	// stateful methods of the network itself, made once.
	ownStream     *Stream
	ownStreamOnce sync.Once

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
	// budget bounds the values of the learnables NewNetwork may create (0:
	// no bound): Load's, so that a checkpoint cannot make it allocate more
	// than the tensors it holds. Load then sets every learnable, so they
	// start at zero rather than from initializers.
	budget int
}

// WithDtype sets the element type of the learnables and of every
// computation: tensor.Float32 (the default, as in MATLAB and PyTorch) or
// tensor.Float64.
func WithDtype(dt tensor.Dtype) Option { return func(c *netConfig) { c.dtype = dt } }

// WithSeed seeds the initializers and the dropout masks, so that one seed
// gives the same network and, for the same batches, the same training run
// (1 by default).
func WithSeed(seed uint64) Option { return func(c *netConfig) { c.seed = seed } }

// WithCacheSize sets how many batch shapes (and uses) the network keeps
// compiled graphs for; the least recently used goes first (32 by default).
func WithCacheSize(n int) Option { return func(c *netConfig) { c.cacheSize = n } }

// WithStepBuckets sets whether training batches run on the graphs of a few
// bucketed lengths: a batch of T timesteps is padded to the next power of
// two and trains on the graph compiled for that length. Padding is masked,
// so the loss and the gradients are those of the batch itself (to
// rounding), and an epoch of batches of many lengths compiles a few graphs
// instead of one per length: on the Japanese Vowels data, compiling goes
// from a fifth of the first epoch to a few percent (docs/performance.md).
//
// It is on by default unless a layer says that padded timesteps cost it as
// much as real ones (Traits.CostlyPadding: Recurrent and Bidirectional
// layers, whose cells run on gate nodes, 2-D convolutions and batch
// normalization over video frames, and 1-D convolutions); LSTM, BiLSTM and GRU layers run on fused ops where a step
// of padding only copies the state. Inference graphs always have the
// batch's length.
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
		if o == nil {
			return nil, errors.New("graph: nil network option")
		}
		o(&cfg)
	}
	if cfg.cacheSize < 1 {
		return nil, errors.Errorf("graph: cache size %d; want at least 1", cfg.cacheSize)
	}
	ls, err := resolve(layers)
	if err != nil {
		return nil, err
	}
	if cfg.classNames, err = classNames(cfg.classNames, ls[len(ls)-1]); err != nil {
		return nil, err
	}
	p, err := nodes.NewParams(cfg.dtype, cfg.seed)
	if err != nil {
		return nil, errors.Wrap(err, "graph")
	}
	p.SetBudget(cfg.budget)
	p.SetUninitialized(cfg.budget > 0) // Load sets every learnable
	n := &Network{
		layers: ls, input: ls[0].Layer.(inputLayer).input(), params: p, dtype: cfg.dtype, seed: cfg.seed,
		cache: newProgramCache(cfg.cacheSize), classNames: cfg.classNames,
		batchNorm: make(map[string]*nodes.BatchNormState), stepBuckets: true,
	}
	n.plain = cfg.plain
	for _, l := range ls {
		n.stepBuckets = n.stepBuckets && !l.traits.CostlyPadding
		if s, ok := l.Layer.(statsLayer); ok {
			if n.batchNorm[l.name], err = s.newStats(l.in); err != nil {
				return nil, errors.Wrapf(err, "graph: layer %q", l.name)
			}
		}
	}
	if cfg.stepBuckets != nil {
		n.stepBuckets = *cfg.stepBuckets
	}
	// Building a one-step graph creates every learnable, in layer order,
	// so that they exist (and can be read or set) before any training, and
	// so that the initial weights depend on the seed alone.
	g := gorgonia.NewGraph()
	if _, err := n.build(g, programKey{batch: 1, steps: n.creationSteps()}); err != nil {
		return nil, err
	}
	p.Forget(g)
	p.SetBudget(0)
	p.SetUninitialized(false)
	return n, nil
}

// creationSteps returns the length of the graph that creates the
// learnables: one step, or the fewest (a power of two) that every layer
// over time takes (a convolution without padding needs its filter's span).
func (n *Network) creationSteps() int {
	for steps := 1; steps < 1<<16; steps *= 2 {
		t, fits := steps, true
		for _, l := range n.layers {
			if w, ok := l.Layer.(timeWindow); ok {
				var err error
				if t, err = w.stepsOut(t); err != nil || t < 1 {
					fits = false
					break
				}
			}
		}
		if fits {
			return steps
		}
	}
	return 1 // too long for any batch: building says why
}

// timeWindow is a layer over time whose output has fewer steps than its
// input, or none when its input is too short for its window.
type timeWindow interface {
	Layer
	stepsOut(steps int) (int, error)
}

// statsLayer is a layer whose running statistics the network keeps (batch
// normalization).
type statsLayer interface {
	Layer
	newStats(in Shape) (*nodes.BatchNormState, error)
}

// classNames returns the class names of a network ending with layer last:
// names, checked, or "0", "1", ... for a classifier by default.
func classNames(names []string, last netLayer) ([]string, error) {
	classifies := last.Layer.(outputLayer).classifies()
	if names == nil {
		for k := 0; classifies && k < last.out.Features; k++ {
			names = append(names, fmt.Sprint(k))
		}
		return names, nil
	}
	if !classifies || len(names) != last.out.Features {
		return nil, errors.Errorf("graph: %d class names for a network with %d outputs (names are for classifiers, one per class)", len(names), last.out.Features)
	}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			return nil, errors.Errorf("graph: class name %q appears twice", name)
		}
		seen[name] = true
	}
	return names, nil
}

// netLayer is a layer of a network: its declaration and what NewNetwork
// resolved of it.
type netLayer struct {
	Layer
	name    string
	in, out Shape
	traits  Traits
}

// resolve validates a layer array: names, roles and every layer's shapes.
func resolve(ls []Layer) ([]netLayer, error) {
	if len(ls) < 3 {
		return nil, errors.Errorf("graph: a network needs an input, at least one layer and an output; got %d layers", len(ls))
	}
	out := make([]netLayer, len(ls))
	count, names := map[string]int{}, map[string]int{}
	var in Shape
	for i, l := range ls {
		if l == nil {
			return nil, errors.Errorf("graph: layer %d is nil", i+1)
		}
		name := layerName(l, count)
		where := "graph: " + layerWhere(i, l, name)
		if e, ok := l.(erringLayer); ok && e.declarationError() != nil {
			return nil, errors.Wrap(e.declarationError(), where)
		}
		if j, dup := names[name]; dup || checkName(name) != nil {
			return nil, errors.Errorf("graph: layer %d: name %q is empty, has a slash or is already used by layer %d", i+1, name, j)
		}
		names[name] = i + 1
		if err := checkRole(i, len(ls), l, in); err != nil {
			return nil, errors.Wrap(err, where)
		}
		o, err := l.Output(in)
		if err != nil {
			return nil, errors.Wrap(err, where)
		}
		if o.Features <= 0 {
			return nil, errors.Errorf("%s: outputs %d features", where, o.Features)
		}
		out[i] = netLayer{Layer: l, name: name, in: in, out: o, traits: traitsOf(l)}
		in = o
	}
	return out, nil
}

// layerName returns the name of layer l: the one it was given, or its
// kind's prefix and its rank among the layers of that prefix so far,
// counted in count.
func layerName(l Layer, count map[string]int) string {
	spec := l.Spec()
	if spec.Name != "" {
		return spec.Name
	}
	prefix := spec.Kind
	if p, ok := l.(prefixedLayer); ok {
		prefix = p.namePrefix()
	}
	count[prefix]++
	return fmt.Sprintf("%s%d", prefix, count[prefix])
}

// checkRole checks that the i-th of n layers may stand there: the one input
// layer first, the one output layer last, Softmax's probabilities taken
// by a classification output only.
func checkRole(i, n int, l Layer, in Shape) error {
	_, isInput := l.(inputLayer)
	_, isOutput := l.(outputLayer)
	_, takes := l.(probabilitiesTaker)
	switch {
	case (i == 0) != isInput:
		return errors.New("a network starts with the one sequence input layer")
	case isOutput && i != n-1:
		return errors.New("the output layer must come last")
	case !isOutput && i == n-1:
		return errors.New("a network ends with a classification or regression output layer")
	case in.probabilities && !takes:
		return errors.New("a classification output layer must follow softmax")
	}
	return nil
}

// Dtype returns the element type of the network's computations.
func (n *Network) Dtype() tensor.Dtype { return n.dtype }

// InputSize returns the number of features per timestep.
func (n *Network) InputSize() int { return n.layers[0].out.Features }

// OutputSize returns the number of classes or responses.
func (n *Network) OutputSize() int { return n.layers[len(n.layers)-1].out.Features }

// ClassNames returns the names of a classifier's classes, in the order of
// its outputs; nil for a regression network.
func (n *Network) ClassNames() []string { return append([]string(nil), n.classNames...) }

// PerStep reports whether the network outputs one value per timestep
// (sequence-to-sequence), rather than one per sequence.
func (n *Network) PerStep() bool { return n.layers[len(n.layers)-1].in.Sequence }

// IsClassifier reports whether the network ends with a classification output.
func (n *Network) IsClassifier() bool {
	return n.layers[len(n.layers)-1].Layer.(outputLayer).classifies()
}

// String lists the layers, one per line, as MATLAB displays a layer array.
func (n *Network) String() string {
	var b strings.Builder
	for i, l := range n.layers {
		line := fmt.Sprintf("%3d  %-18s %-22s %s", i+1, l.name, titleOf(l.Layer), l.describe())
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

// describe returns the layer's details for a listing.
func (l netLayer) describe() string {
	if d, ok := l.Layer.(Describer); ok {
		return d.Describe(l.in, l.out)
	}
	return ""
}

// wholeSequence returns the first layer that reads each sequence whole,
// or nil.
func (n *Network) wholeSequence() *netLayer {
	for i := range n.layers {
		if n.layers[i].traits.WholeSequence {
			return &n.layers[i]
		}
	}
	return nil
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
	defer n.readWeights()()
	v := n.params.Values(name)
	if v == nil {
		return nil, errors.Errorf("graph: no learnable %q (have %s)", name, strings.Join(n.Learnables(), ", "))
	}
	return v, nil
}

// SetLearnable replaces the values of the learnable called name; values
// must have as many elements as its shape, in row-major order, all finite.
func (n *Network) SetLearnable(name string, values []float64) error {
	n.weights.Lock()
	defer n.weights.Unlock()
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
	mode := n.input.norm
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
	n.weights.Lock()
	defer n.weights.Unlock()
	if st == nil {
		n.norm = nil
		return nil
	}
	if st.Mode != n.input.norm {
		return errors.Errorf("graph: normalization statistics for %v; the input layer normalizes with %v", st.Mode, n.input.norm)
	}
	// Checking the statistics against a zero timestep catches a size or
	// frame mismatch now rather than at the first batch.
	if err := st.Apply(make([]float64, n.InputSize())); err != nil {
		return errors.Wrap(err, "graph: normalization statistics")
	}
	n.norm = st
	return nil
}

// Normalization returns the input normalization's statistics, or nil.
func (n *Network) Normalization() *dataset.NormalizationStats {
	defer n.readWeights()()
	return n.norm
}

// normalized returns b with its real timesteps normalized, in a copy of X
// (b is the caller's, and concurrent inference gives no buffer to share),
// or b itself without normalization.
func (n *Network) normalized(b *dataset.Batch) (*dataset.Batch, error) {
	if n.input.norm == dataset.NormNone {
		return b, nil
	}
	if n.norm == nil {
		return nil, errors.Errorf("graph: the input layer normalizes with %v, but has no statistics: call FitNormalization with the training data first", n.input.norm)
	}
	nb := *b
	nb.X = append([]float64(nil), b.X...)
	if err := n.norm.ApplyBatch(&nb); err != nil {
		return nil, errors.Wrap(err, "graph: normalizing the batch")
	}
	return &nb, nil
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
func (n *Network) CompileTime() time.Duration { return time.Duration(n.cache.compiling.Load()) }

// Compilations returns how many graphs the network has compiled so far: one
// per batch shape and use (training, inference, Activations), and one more
// for each goroutine that ran that shape while the others were running it,
// unless the cache had to evict.
func (n *Network) Compilations() int { return int(n.cache.compiled.Load()) }
