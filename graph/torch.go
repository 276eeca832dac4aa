package graph

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// PyTorch state_dicts. A state_dict names each tensor by its module's path
// in the model and the parameter's name in the module
// ("encoder.lstm.weight_ih_l1_reverse"); safetensors.torch.save_file writes
// it into the container of checkpoints (safetensors.go), without
// seqgraph's metadata. Each layer with learnables is one module, or one
// layer k of a multi-layer nn.LSTM, nn.GRU or nn.RNN; each layer says which
// and how its learnables map (its torchModule method, in its own file);
// this file names the modules, and moves the values in and out.

// TorchOption configures LoadStateDict, SaveStateDict and StateDictKeys.
type TorchOption func(*torchConfig)

type torchConfig struct {
	modules map[string]torchRef // nil: the default names
	err     error
}

// torchRef is where a layer is in a PyTorch model: a module's path and, for
// a layer of a multi-layer recurrent module, its index in it.
type torchRef struct {
	path string // "encoder.lstm"; "" for the model itself
	k    int
	hasK bool // "@k" was given
}

func (r torchRef) String() string {
	if r.hasK {
		return fmt.Sprintf("%s@%d", r.path, r.k)
	}
	return r.path
}

// name returns the state_dict's name of the module's parameter param.
func (r torchRef) name(param string) string {
	if r.path == "" {
		return param
	}
	return r.path + "." + param
}

// WithTorchModules says which PyTorch module each layer with learnables is:
// modules maps a layer's name to the module's path in the model, the prefix
// of its tensors' names in the state_dict ("fc1": "classifier" for
// "classifier.weight" and "classifier.bias"). A layer of a multi-layer
// nn.LSTM, nn.GRU or nn.RNN adds "@" and its index k in the module
// ("bilstm2": "encoder.lstm@1" for "encoder.lstm.weight_ih_l1", ...); "@0"
// may be left out. The layers of one such module follow each other at
// indices 0, 1, ... (layers without learnables, a Dropout say, may stand
// between them). The path "" (or "@k") is a model that is the module
// itself (a bare nn.LSTM's "weight_ih_l0").
//
// The map must name every layer with learnables and nothing else. Without
// it, the layers with learnables are numbered in order from 0, as
// nn.Sequential numbers its modules, each a module of its own ("0@0" for
// an LSTM layer: "0.weight_ih_l0"; "1" for a fully connected layer after
// it: "1.weight", "1.bias").
func WithTorchModules(modules map[string]string) TorchOption {
	return func(c *torchConfig) {
		switch {
		case c.err != nil:
			return
		case modules == nil:
			c.err = errors.New("WithTorchModules: nil map")
			return
		case c.modules != nil:
			c.err = errors.New("WithTorchModules: given twice")
			return
		}
		c.modules = make(map[string]torchRef, len(modules))
		for _, layer := range slices.Sorted(maps.Keys(modules)) {
			ref, err := parseTorchRef(modules[layer])
			if err != nil {
				c.err = errors.Wrapf(err, "WithTorchModules: layer %q", layer)
				return
			}
			c.modules[layer] = ref
		}
	}
}

// parseTorchRef parses "path", "path@k", "@k" or "".
func parseTorchRef(s string) (torchRef, error) {
	path, kText, hasK := strings.Cut(s, "@")
	ref := torchRef{path: path, hasK: hasK}
	if hasK {
		k, err := strconv.Atoi(kText)
		if err != nil || k < 0 || strconv.Itoa(k) != kText {
			return torchRef{}, errors.Errorf("module %q: %q after @ is not a layer index (0, 1, ...)", s, kText)
		}
		ref.k = k
	}
	if path == "" {
		return ref, nil
	}
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			return torchRef{}, errors.Errorf("module %q: an empty name between dots", s)
		}
	}
	return ref, nil
}

// torchOptions applies opts.
func torchOptions(opts []TorchOption) (torchConfig, error) {
	var c torchConfig
	for _, o := range opts {
		if o == nil {
			return c, errors.New("nil option")
		}
		o(&c)
	}
	return c, c.err
}

// torchTensor is one tensor of a state_dict and the learnable it maps to.
type torchTensor struct {
	name      string // in the module ("weight_ih_l0"), then in the state_dict
	layer     string
	learnable string
	shape     []int // PyTorch's
	// bias: absent when the module was made with bias=False, all of a
	// layer's biases together; the learnable then loads zeros.
	bias bool
	// summed: a second bias (nn.LSTM's and nn.RNN's bias_hh) that adds to
	// the learnable when loading and saves as zeros.
	summed bool
	// transposed: PyTorch's V×D is the learnable's D×V (nn.Embedding),
	// and its row 0, the padding index's, is zeros.
	transposed bool
}

// torchModule is what a layer is in PyTorch.
type torchModule struct {
	// class is the module's ("nn.LSTM(hidden_size=8, bidirectional=True)"
	// for a stacked one: what its layers must share).
	class string
	// stacked: a layer of a multi-layer module, whose tensors' names end
	// in its index ("_l0").
	stacked bool
	tensors []torchTensor
}

// torchLayer is a layer that is a PyTorch module: torchModule returns the
// module that layer l of network n is, as layer k of it if it is stacked.
type torchLayer interface {
	Layer
	torchModule(n *Network, l netLayer, k int) (torchModule, error)
}

// torchParam returns the module's tensor called name, which is the
// learnable called learnable in PyTorch's layout.
func (n *Network) torchParam(name, learnable string) torchTensor {
	return torchTensor{name: name, learnable: learnable, shape: n.LearnableShape(learnable)}
}

// torchBias returns the module's bias called name: the learnable, or
// (summed) a share of it.
func (n *Network) torchBias(name, learnable string, summed bool) torchTensor {
	t := n.torchParam(name, learnable)
	t.bias, t.summed = true, summed
	return t
}

// learnablesOf returns the names of the learnables of the layer called
// name: those under "name/" (a layer's name has no slash).
func (n *Network) learnablesOf(name string) []string {
	var out []string
	for _, l := range n.Learnables() {
		if strings.HasPrefix(l, name+"/") {
			out = append(out, l)
		}
	}
	return out
}

// torchPlan returns the tensors of the state_dict that n is, in the order
// of the layers and of PyTorch's parameters.
func (n *Network) torchPlan(cfg torchConfig) ([]torchTensor, error) {
	refs, err := n.torchRefs(cfg)
	if err != nil {
		return nil, err
	}
	modules := map[string]torchUse{}
	var plan []torchTensor
	for i, l := range n.layers {
		ref, ok := refs[l.name]
		if !ok {
			continue
		}
		tl, ok := l.Layer.(torchLayer)
		if !ok {
			return nil, errors.Errorf("layer %q (%s) has no PyTorch counterpart: the built-in LSTM, GRU, BiLSTM, Recurrent and Bidirectional layers of rnn.LSTM, rnn.GRU and rnn.Elman cells, FullyConnected, Convolution1D, WordEmbedding and LayerNormalization have", l.name, titleOf(l.Layer))
		}
		m, err := tl.torchModule(n, l, ref.k)
		if err != nil {
			return nil, errors.Wrapf(err, "layer %q", l.name)
		}
		use := torchUse{layer: l.name, index: i, module: m, ref: ref}
		if err := use.follows(modules[ref.path], refs, n.layers); err != nil {
			return nil, err
		}
		modules[ref.path] = use
		covered := map[string]bool{}
		for _, t := range m.tensors {
			t.name, t.layer = ref.name(t.name), l.name
			covered[t.learnable] = true
			plan = append(plan, t)
		}
		for _, name := range n.learnablesOf(l.name) {
			if !covered[name] {
				return nil, errors.Errorf("layer %q: learnable %q has no counterpart in %s", l.name, name, m.class)
			}
		}
	}
	return plan, nil
}

// torchUse is a layer as a module of the model.
type torchUse struct {
	layer  string
	index  int // in the network
	module torchModule
	ref    torchRef
}

// follows checks that u may be its module, which prev (if any) was
// last: only the layers of one multi-layer nn.LSTM, nn.GRU or nn.RNN share
// a module, one after the other among the layers with modules (refs), at
// indices that follow each other, as PyTorch's layer k reads layer k-1's
// output.
func (u torchUse) follows(prev torchUse, refs map[string]torchRef, layers []netLayer) error {
	if !u.module.stacked && u.ref.hasK {
		return errors.Errorf("layer %q is %s, which has no layers: %q takes no @%d", u.layer, u.module.class, u.ref.path, u.ref.k)
	}
	if prev.layer == "" {
		return nil
	}
	next := prev.index + 1
	for next < len(layers) && !hasRef(refs, layers[next].name) {
		next++
	}
	if u.module.stacked && prev.module.class == u.module.class && u.ref.k == prev.ref.k+1 && next == u.index {
		return nil
	}
	return errors.Errorf("layers %q (%s@%d) and %q (%s@%d) are both module %q: only the layers of one multi-layer nn.LSTM, nn.GRU or nn.RNN share a module, one after the other at indices 0, 1, ...",
		prev.layer, prev.module.class, prev.ref.k, u.layer, u.module.class, u.ref.k, u.ref.path)
}

func hasRef(refs map[string]torchRef, layer string) bool {
	_, ok := refs[layer]
	return ok
}

// torchRefs returns the module of each layer with learnables: the map's,
// checked against the network, or the default numbering.
func (n *Network) torchRefs(cfg torchConfig) (map[string]torchRef, error) {
	var learned []string
	for _, l := range n.layers {
		if len(n.learnablesOf(l.name)) > 0 {
			learned = append(learned, l.name)
		}
	}
	if cfg.modules == nil {
		refs := make(map[string]torchRef, len(learned))
		for i, name := range learned {
			refs[name] = torchRef{path: strconv.Itoa(i)}
		}
		return refs, nil
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.modules)) {
		if !slices.Contains(learned, name) {
			what := "no layer of the network"
			if n.hasLayer(name) {
				what = "a layer without learnables"
			}
			return nil, errors.Errorf("module map: %q is %s (the layers with learnables: %s)", name, what, strings.Join(learned, ", "))
		}
	}
	for _, name := range learned {
		if _, ok := cfg.modules[name]; !ok {
			return nil, errors.Errorf("module map: layer %q has learnables but no module (a map names every layer with learnables: %s)", name, strings.Join(learned, ", "))
		}
	}
	return cfg.modules, nil
}

func (n *Network) hasLayer(name string) bool {
	for _, l := range n.layers {
		if l.name == name {
			return true
		}
	}
	return false
}

// StateDictKey is one tensor of the PyTorch state_dict of a network.
type StateDictKey struct {
	Name      string // "lstm.weight_ih_l0"
	Shape     []int  // PyTorch's
	Learnable string // the learnable it maps to ("bilstm1/forward/InputWeights")
}

// StateDictKeys lists the tensors of the PyTorch state_dict that the network
// maps to, with the names opts give (WithTorchModules; nn.Sequential's
// numbering by default), in the order of the layers and of each module's
// parameters, as PyTorch's model.state_dict() lists them. The biases of an
// nn.LSTM or nn.RNN layer both map to the layer's one Bias.
func (n *Network) StateDictKeys(opts ...TorchOption) ([]StateDictKey, error) {
	plan, err := n.stateDictPlan(opts)
	if err != nil {
		return nil, errors.Wrap(err, "graph: state_dict")
	}
	keys := make([]StateDictKey, len(plan))
	for i, t := range plan {
		keys[i] = StateDictKey{Name: t.name, Shape: slices.Clone(t.shape), Learnable: t.learnable}
	}
	return keys, nil
}

func (n *Network) stateDictPlan(opts []TorchOption) ([]torchTensor, error) {
	cfg, err := torchOptions(opts)
	if err != nil {
		return nil, err
	}
	return n.torchPlan(cfg)
}

// LoadStateDict sets the network's learnables from a PyTorch state_dict in
// the safetensors format, as safetensors.torch.save_file writes it, with
// any metadata or none (docs/checkpoints.md has the names of each layer's
// tensors); it verifies the checksums of a file that has seqgraph's. The
// network must be the model's architecture, declared in seqgraph.
// WithTorchModules names the modules; by default they are numbered as
// nn.Sequential's.
//
// The biases of an nn.LSTM or nn.RNN layer, bias_ih and bias_hh, add up to
// the layer's one Bias (MATLAB's); a GRU keeps bias_hh apart, as its
// RecurrentBias. A module made with bias=False has no bias tensors: its
// biases load as zeros. nn.Embedding's V×D weight is the transpose of
// WordEmbedding's Weights, and its row 0 must be zeros (padding_idx=0:
// WordEmbedding maps index 0 to zeros).
//
// F32 and F64 tensors load into either dtype: F32 into a float64 network
// exactly, F64 into a float32 network rounded to the nearest float32, as
// PyTorch's model.float() does; a value beyond float32's range is an error.
// Every value must be finite. A tensor missing, one that maps to nothing, a
// shape that differs, or a layer that no PyTorch module is (a peephole LSTM,
// a GRU resetting before the multiplication, an LSTM or GRU of other
// activations than sigmoid and tanh) is an error that names the tensor and
// the layer; on error the network is left as it was.
//
// Only the learnables load: a state_dict holds neither the input
// normalization nor the modules' settings (activations of nn.RNN, the
// convolution's padding and stride, the layer normalization's epsilon),
// which the network's declaration must match.
func (n *Network) LoadStateDict(r io.Reader, opts ...TorchOption) error {
	return errors.Wrap(n.loadStateDict(r, -1, opts), "graph: state_dict")
}

// LoadStateDictFile loads the state_dict in the file at path (see
// LoadStateDict).
func (n *Network) LoadStateDictFile(path string, opts ...TorchOption) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.Wrap(err, "graph: state_dict")
	}
	defer f.Close()
	size := int64(-1)
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	return errors.Wrapf(n.loadStateDict(bufio.NewReader(f), size, opts), "graph: state_dict %s", path)
}

func (n *Network) loadStateDict(r io.Reader, size int64, opts []TorchOption) error {
	plan, err := n.stateDictPlan(opts)
	if err != nil {
		return err
	}
	tensors, meta, err := readSafetensors(r, size)
	if err != nil {
		return err
	}
	if meta["format"] == checkpointFormat {
		return errors.New("a seqgraph checkpoint, not a PyTorch state_dict: graph.Load reads it")
	}
	values, err := n.fromTorch(plan, tensors)
	if err != nil {
		return err
	}
	return n.setLearnables(values)
}

// setLearnables sets every learnable of values at once: a prediction
// running beside it sees the weights of before or after, and a value that
// cannot be set leaves every learnable as it was.
func (n *Network) setLearnables(values map[string][]float64) error {
	n.weights.Lock()
	defer n.weights.Unlock()
	names := slices.Sorted(maps.Keys(values))
	for _, name := range names {
		if err := n.params.Check(name, values[name]); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := n.params.Set(name, values[name]); err != nil {
			return err
		}
	}
	return nil
}

// fromTorch returns the values of the learnables that the tensors of a
// state_dict give, checked against plan.
func (n *Network) fromTorch(plan []torchTensor, tensors []stTensor) (map[string][]float64, error) {
	byName := make(map[string]stTensor, len(tensors))
	for _, t := range tensors {
		byName[t.name] = t
	}
	if err := checkTorchNames(plan, byName); err != nil {
		return nil, err
	}
	values := map[string][]float64{}
	for _, t := range plan {
		st, ok := byName[t.name]
		if !ok {
			continue // a bias of a module without biases
		}
		v, err := t.decode(st, n.dtype)
		if err != nil {
			return nil, errors.Wrapf(err, "layer %q (%s)", t.layer, t.learnable)
		}
		sum := values[t.learnable]
		if sum == nil {
			values[t.learnable] = v
			continue
		}
		limit := math.MaxFloat64
		if n.dtype == tensor.Float32 {
			limit = math.MaxFloat32
		}
		for i, x := range v {
			// Two biases in range may add up to one that is not.
			if sum[i] += x; math.Abs(sum[i]) > limit {
				return nil, errors.Errorf("layer %q (%s): value %d of the sum of the biases is %v, beyond the range of the network's %s", t.layer, t.learnable, i, sum[i], n.dtype)
			}
		}
	}
	// The learnables of the absent biases are zeros.
	for _, t := range plan {
		if values[t.learnable] == nil {
			values[t.learnable] = make([]float64, shapeSize(t.shape))
		}
	}
	return values, nil
}

// checkTorchNames checks that the state_dict holds the tensors of plan and
// no others; a layer's biases may all be absent.
func checkTorchNames(plan []torchTensor, byName map[string]stTensor) error {
	hasBias := map[string]bool{}
	for _, t := range plan {
		if _, ok := byName[t.name]; ok && t.bias {
			hasBias[t.layer] = true
		}
	}
	var missing []torchTensor
	want := make(map[string]bool, len(plan))
	for _, t := range plan {
		want[t.name] = true
		if _, ok := byName[t.name]; !ok && (!t.bias || hasBias[t.layer]) {
			missing = append(missing, t)
		}
	}
	var extra []string
	for name := range byName {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	var msg []string
	if len(missing) > 0 {
		t := missing[0]
		s := fmt.Sprintf("tensor %q (%s of layer %q, shape %v) is missing", t.name, t.learnable, t.layer, t.shape)
		if len(missing) > 1 {
			s += fmt.Sprintf(", and %d more", len(missing)-1)
		}
		msg = append(msg, s)
	}
	switch {
	case len(extra) == 1:
		msg = append(msg, fmt.Sprintf("tensor %q maps to no learnable of the network", extra[0]))
	case len(extra) > 1:
		msg = append(msg, fmt.Sprintf("%d tensors map to no learnable of the network: %s", len(extra), quoteSome(extra, 5)))
	}
	if len(msg) > 0 {
		return errors.New(strings.Join(msg, "; "))
	}
	return nil
}

// quoteSome quotes the first few names, then says how many more there are.
func quoteSome(names []string, few int) string {
	q := make([]string, 0, few+1)
	for i, s := range names {
		if i == few {
			q = append(q, fmt.Sprintf("and %d more", len(names)-few))
			break
		}
		q = append(q, strconv.Quote(s))
	}
	return strings.Join(q, ", ")
}

func shapeSize(shape []int) int {
	size := 1
	for _, d := range shape {
		size *= d
	}
	return size
}

// decode returns the values that tensor st of the state_dict gives t's
// learnable (in its layout), for a network of dtype dt. Its errors name
// the tensor.
func (t torchTensor) decode(st stTensor, dt tensor.Dtype) ([]float64, error) {
	if !equalInts(st.shape, t.shape) {
		return nil, errors.Errorf("tensor %q: shape %v, want %v", t.name, st.shape, t.shape)
	}
	v, err := decodeFloats(st)
	if err != nil {
		return nil, err
	}
	if dt == tensor.Float32 && st.dtype == "F64" {
		for i, x := range v {
			if math.Abs(x) > math.MaxFloat32 {
				return nil, errors.Errorf("tensor %q: value %d is %v, beyond the range of the network's float32 (±%.4g)", t.name, i, x, math.MaxFloat32)
			}
		}
	}
	if t.transposed {
		for i, x := range v[:t.shape[1]] {
			if x != 0 {
				return nil, errors.Errorf("tensor %q: row 0 is not zeros (column %d is %v): WordEmbedding maps index 0, padding, to zeros, as nn.Embedding(padding_idx=0) does while row 0 stays zeros", t.name, i, x)
			}
		}
		v = transpose(v, t.shape[0], t.shape[1])
	}
	return v, nil
}

// transpose returns the transpose of the rows×cols matrix m.
func transpose(m []float64, rows, cols int) []float64 {
	out := make([]float64, len(m))
	for i := range rows {
		for j := range cols {
			out[j*rows+i] = m[i*cols+j]
		}
	}
	return out
}

// SaveStateDict writes the network's learnables to w as a PyTorch
// state_dict in the safetensors format, with the names opts give (see
// LoadStateDict), which safetensors.torch.load_file reads and
// model.load_state_dict loads. The tensors have the network's dtype. A
// single bias of an LSTM or Elman cell saves as bias_ih, and bias_hh as
// zeros, so that the two add up to it; WordEmbedding's Weights save
// transposed, with row 0 zeros (what WordEmbedding computes with). The
// metadata is {"format": "pt"}, which Hugging Face's transformers looks
// for in the files it loads, and the checksums that every file seqgraph writes
// carries (docs/checkpoints.md), which PyTorch ignores and LoadStateDict
// verifies.
func (n *Network) SaveStateDict(w io.Writer, opts ...TorchOption) error {
	tensors, meta, err := n.encodeStateDict(opts)
	if err != nil {
		return errors.Wrap(err, "graph: state_dict")
	}
	return errors.Wrap(writeSafetensors(w, tensors, meta), "graph: state_dict")
}

// SaveStateDictFile saves the state_dict (as SaveStateDict) into the file at
// path, atomically, as SaveFile saves a checkpoint.
func (n *Network) SaveStateDictFile(path string, opts ...TorchOption) error {
	tensors, meta, err := n.encodeStateDict(opts)
	if err != nil {
		return errors.Wrapf(err, "graph: state_dict %s", path)
	}
	return writeFileAtomic(path, "graph: state_dict", tensors, meta, func(w io.Writer) io.Writer { return w })
}

// encodeStateDict returns the tensors of the network's state_dict, sorted
// by name, and its metadata.
func (n *Network) encodeStateDict(opts []TorchOption) ([]stTensor, map[string]string, error) {
	plan, err := n.stateDictPlan(opts)
	if err != nil {
		return nil, nil, err
	}
	tensors := make([]stTensor, 0, len(plan))
	for _, t := range plan {
		v, err := n.Learnable(t.learnable)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case t.summed:
			clear(v)
		case t.transposed:
			v = transpose(v, t.shape[1], t.shape[0])
			clear(v[:t.shape[1]])
		}
		tensors = append(tensors, stTensor{name: t.name, dtype: n.stDtype(), shape: slices.Clone(t.shape), data: encodeFloats(n.stDtype(), v)})
	}
	slices.SortFunc(tensors, func(a, b stTensor) int { return strings.Compare(a.name, b.name) })
	return tensors, map[string]string{"format": "pt"}, nil
}

// torchWeightBias is a module of a weight and a bias.
func (n *Network) torchWeightBias(class, weight, bias string) torchModule {
	return torchModule{class: class, tensors: []torchTensor{
		n.torchParam("weight", weight),
		n.torchBias("bias", bias, false),
	}}
}
