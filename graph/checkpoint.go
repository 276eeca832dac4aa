package graph

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

const (
	checkpointFormat  = "seqgraph-checkpoint"
	checkpointVersion = 2
)

// Limits on the sizes that Load accepts. NewNetwork allocates the input of a
// one-step graph and every learnable; learnables are checked against the
// file before that, and these bound the rest, so that a corrupt or hostile
// checkpoint cannot make Load allocate without limit.
const (
	maxLoadSize    = 1 << 24 // features, hidden units, outputs, filters, channels, input values per step
	maxLoadSpatial = 1 << 16 // heights, widths, filter sizes, padding, strides
)

// SaveOption configures Save and SaveFile.
type SaveOption func(*saveConfig)

type saveConfig struct {
	training *TrainingState
}

// TrainingState is where training stood when a checkpoint was saved, for
// resuming it.
type TrainingState struct {
	Epoch, Iteration int
}

// WithTrainingState records the epoch and iteration that training has
// completed; LoadWithState and LoadFileWithState return them.
func WithTrainingState(epoch, iteration int) SaveOption {
	return func(c *saveConfig) { c.training = &TrainingState{Epoch: epoch, Iteration: iteration} }
}

// LoadOption configures Load and LoadFile.
type LoadOption func(*loadConfig)

type loadConfig struct {
	cells map[string]CellFactory
	err   error
}

// WithCellFactory gives Load the factory of the custom cells of cell type
// cellType, the name their Recurrent and Bidirectional layers were declared
// with (WithCellType). Load needs one for every cell type in the checkpoint.
func WithCellFactory(cellType string, f CellFactory) LoadOption {
	return func(c *loadConfig) {
		switch {
		case c.err != nil:
		case cellType == "":
			c.err = errors.New("WithCellFactory: empty cell type")
		case f == nil:
			c.err = errors.Errorf("WithCellFactory(%q): nil factory", cellType)
		case c.cells[cellType] != nil:
			c.err = errors.Errorf("WithCellFactory(%q): given twice", cellType)
		default:
			c.cells[cellType] = f
		}
	}
}

// Save writes the network to w as a checkpoint: its layers, learnables,
// batch normalization statistics and input normalization. A Recurrent or
// Bidirectional layer must have been declared WithCellType. The same
// network gives the same bytes.
//
// A checkpoint is a safetensors file (the Hugging Face container, readable
// by the safetensors packages of Python and Rust and by hand): an 8-byte
// little-endian header length N, N bytes of JSON header, then the tensors'
// raw little-endian bytes. The header maps each tensor's name to its dtype
// ("F32" or "F64"), shape and byte range, and holds string metadata under
// "__metadata__".
//
// Tensors:
//
//	<learnable name>         every learnable, in the network's dtype, in
//	                         MATLAB's layout ("lstm1/InputWeights", 4H×F,
//	                         gates i, f, g, o; "fc1/Weights", K×H;
//	                         "bilstm1/forward/Bias"; "conv1/Weights",
//	                         K×C×h×w)
//	<layer>/RunningMean      a batch normalization layer's running
//	<layer>/RunningVariance  statistics, F64, one per channel
//
// Metadata (every value a string, as the container requires):
//
//	format         "seqgraph-checkpoint"
//	version        "2"; a reader refuses a newer version, and reads
//	               version 1, which had no checksums
//	network        JSON: {"dtype": "float32", "seed": 1,
//	               "classNames": [...], "layers": [...]}, each layer an
//	               object with its kind ("lstm"), name, the arguments of its
//	               constructor ("hiddenUnits": 100) and its options
//	               ("outputMode": "last"), and its input and output sizes
//	normalization  JSON of the input normalization's statistics (absent
//	               when the network has none)
//	training       JSON {"epoch": 3, "iteration": 120}, when saved
//	               WithTrainingState
//	tensorCRC32C   JSON {"<tensor>": "<8 hex digits>"}: each tensor's
//	               CRC-32C
//	headerCRC32C   the CRC-32C of the header length and the header, taken
//	               with these 8 hex digits as "00000000"
//
// docs/checkpoints.md lists every layer's fields. Load rebuilds the layer
// array with this package's constructors and options, makes the network
// with NewNetwork and then sets every learnable, running statistic and the
// normalization, so that the loaded network predicts bit for bit as the
// saved one did. Solver state (Adam's moments, say) is not part of a
// checkpoint.
func (n *Network) Save(w io.Writer, opts ...SaveOption) error {
	tensors, meta, err := n.encodeCheckpoint(opts)
	if err != nil {
		return err
	}
	return errors.Wrap(writeSafetensors(w, tensors, meta), "graph: checkpoint")
}

// SaveFile saves the network (as Save) into the file at path, atomically: it
// writes a temporary file in the same folder, syncs it to disk and renames
// it over path. On error the temporary file is removed and whatever was at
// path before is left as it was.
func (n *Network) SaveFile(path string, opts ...SaveOption) error {
	return saveFile(path, n, opts, func(w io.Writer) io.Writer { return w })
}

// saveFile is SaveFile with the file's writer passed through wrap, which lets
// a test make writing fail part way.
func saveFile(path string, n *Network, opts []SaveOption, wrap func(io.Writer) io.Writer) (err error) {
	// Everything that can be checked is, before the disk is touched.
	tensors, meta, err := n.encodeCheckpoint(opts)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, tmp, err := createTemp(dir, base)
	if err != nil {
		return errors.Wrapf(err, "graph: checkpoint %s", path)
	}
	renamed := false
	defer func() {
		if err != nil && !renamed {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(wrap(f), 1<<16)
	if err := writeSafetensors(bw, tensors, meta); err != nil {
		return errors.Wrapf(err, "graph: checkpoint %s", path)
	}
	if err := bw.Flush(); err != nil {
		return errors.Wrapf(err, "graph: checkpoint %s: writing", path)
	}
	if err := f.Sync(); err != nil {
		return errors.Wrapf(err, "graph: checkpoint %s: syncing", path)
	}
	if err := f.Close(); err != nil {
		return errors.Wrapf(err, "graph: checkpoint %s: closing", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "graph: checkpoint %s", path)
	}
	renamed = true
	// The rename is durable once the folder's entry is.
	if runtime.GOOS != "windows" {
		d, err := os.Open(dir)
		if err != nil {
			return errors.Wrapf(err, "graph: checkpoint %s: saved, but syncing the folder", path)
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return errors.Wrapf(err, "graph: checkpoint %s: saved, but syncing the folder", path)
		}
	}
	return nil
}

// createTemp creates a new file in dir for base's temporary copy. Unlike
// os.CreateTemp's 0600 it asks for 0666, so that the checkpoint gets the
// permissions the umask gives any new file.
func createTemp(dir, base string) (*os.File, string, error) {
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf(".%s.%016x.tmp", base, rand.Uint64()))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if os.IsExist(err) {
			continue
		}
		return f, name, err
	}
	return nil, "", errors.New("cannot create a temporary file: too many exist")
}

// Load reads a checkpoint written by Save and returns the network, ready to
// predict or to train on. Custom cells need WithCellFactory. It verifies
// the checkpoint's checksums and refuses a corrupt one, naming the tensor
// or saying that the header is corrupt.
func Load(r io.Reader, opts ...LoadOption) (*Network, error) {
	n, _, err := LoadWithState(r, opts...)
	return n, err
}

// LoadFile loads the checkpoint in the file at path (see Load).
func LoadFile(path string, opts ...LoadOption) (*Network, error) {
	n, _, err := LoadFileWithState(path, opts...)
	return n, err
}

// LoadWithState is Load that also returns the training state saved
// WithTrainingState, or nil if the checkpoint has none.
func LoadWithState(r io.Reader, opts ...LoadOption) (*Network, *TrainingState, error) {
	n, st, err := load(r, -1, opts)
	if err != nil {
		return nil, nil, errors.Wrap(err, "graph: checkpoint")
	}
	return n, st, nil
}

// LoadFileWithState is LoadFile that also returns the training state saved
// WithTrainingState, or nil if the checkpoint has none.
func LoadFileWithState(path string, opts ...LoadOption) (*Network, *TrainingState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, errors.Wrap(err, "graph: checkpoint")
	}
	defer f.Close()
	size := int64(-1)
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	n, st, err := load(bufio.NewReader(f), size, opts)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "graph: checkpoint %s", path)
	}
	return n, st, nil
}

// kindSpec is how a checkpoint declares a layer kind: its name and the
// fields of its declaration, those it must have (its constructor's
// arguments) and those it may have (its options, with the constructor's
// defaults when absent).
type kindSpec struct {
	name               string
	required, optional []string
}

var checkpointKinds = map[layerKind]kindSpec{
	sequenceInputLayer:      {"sequence-input", []string{"features"}, []string{"normalization"}},
	imageSequenceInputLayer: {"image-sequence-input", []string{"height", "width", "channels"}, []string{"normalization"}},
	lstmLayer:               {"lstm", []string{"hiddenUnits"}, []string{"outputMode", "gateActivation", "stateActivation"}},
	gruLayer:                {"gru", []string{"hiddenUnits"}, []string{"outputMode", "gateActivation", "stateActivation", "resetGateMode"}},
	bilstmLayer:             {"bilstm", []string{"hiddenUnits"}, []string{"outputMode", "gateActivation", "stateActivation", "mergeMode"}},
	recurrentLayer:          {"recurrent", []string{"hiddenUnits", "cellType"}, []string{"outputMode"}},
	bidirectionalLayer:      {"bidirectional", []string{"hiddenUnits", "cellType"}, []string{"outputMode", "mergeMode"}},
	dropoutLayer:            {"dropout", []string{"probability"}, nil},
	foldingLayer:            {"sequence-folding", nil, nil},
	convolutionLayer:        {"convolution-2d", []string{"filterSize", "filters"}, []string{"padding", "stride"}},
	batchNormLayer:          {"batch-normalization", nil, []string{"epsilon", "meanDecay", "varianceDecay"}},
	reluLayer:               {"relu", nil, nil},
	unfoldingLayer:          {"sequence-unfolding", nil, nil},
	flattenLayer:            {"flatten", nil, nil},
	fullyConnectedLayer:     {"fully-connected", []string{"outputs"}, nil},
	softmaxLayer:            {"softmax", nil, nil},
	classificationLayer:     {"classification-output", nil, nil},
	regressionLayer:         {"regression-output", nil, nil},
}

// networkJSON is the "network" metadata.
type networkJSON struct {
	Dtype      string      `json:"dtype"`
	Seed       *uint64     `json:"seed,omitempty"`
	ClassNames []string    `json:"classNames,omitempty"`
	Layers     []layerJSON `json:"layers"`
}

// layerJSON is one layer of the "network" metadata; which fields a layer
// has depends on its kind (checkpointKinds). inputSize and outputSize are
// derived from the others: Save writes them for readers in other languages,
// Load checks them when present.
type layerJSON struct {
	Kind            string   `json:"kind"`
	Name            string   `json:"name,omitempty"`
	Features        *int     `json:"features,omitempty"`
	Height          *int     `json:"height,omitempty"`
	Width           *int     `json:"width,omitempty"`
	Channels        *int     `json:"channels,omitempty"`
	Normalization   *string  `json:"normalization,omitempty"`
	HiddenUnits     *int     `json:"hiddenUnits,omitempty"`
	CellType        *string  `json:"cellType,omitempty"`
	OutputMode      *string  `json:"outputMode,omitempty"`
	GateActivation  *string  `json:"gateActivation,omitempty"`
	StateActivation *string  `json:"stateActivation,omitempty"`
	ResetGateMode   *string  `json:"resetGateMode,omitempty"`
	MergeMode       *string  `json:"mergeMode,omitempty"`
	Probability     *float64 `json:"probability,omitempty"`
	FilterSize      []int    `json:"filterSize,omitempty"`
	Filters         *int     `json:"filters,omitempty"`
	Padding         []int    `json:"padding,omitempty"`
	Stride          []int    `json:"stride,omitempty"`
	Epsilon         *float64 `json:"epsilon,omitempty"`
	MeanDecay       *float64 `json:"meanDecay,omitempty"`
	VarianceDecay   *float64 `json:"varianceDecay,omitempty"`
	Outputs         *int     `json:"outputs,omitempty"`
	InputSize       *int     `json:"inputSize,omitempty"`
	OutputSize      *int     `json:"outputSize,omitempty"`
}

// normalizationJSON is the "normalization" metadata: the fields of
// dataset.NormalizationStats.
type normalizationJSON struct {
	Mode  string     `json:"mode"`
	Frame *frameJSON `json:"frame,omitempty"`
	Mean  []float64  `json:"mean,omitempty"`
	Std   []float64  `json:"std,omitempty"`
	Min   []float64  `json:"min,omitempty"`
	Max   []float64  `json:"max,omitempty"`
	Count int        `json:"count"`
}

type frameJSON struct {
	Channels int `json:"channels"`
	Height   int `json:"height"`
	Width    int `json:"width"`
}

type trainingJSON struct {
	Epoch     *int `json:"epoch"`
	Iteration *int `json:"iteration"`
}

func ptr[T any](v T) *T { return &v }

func dtypeName(dt tensor.Dtype) string {
	if dt == tensor.Float64 {
		return "float64"
	}
	return "float32"
}

// stDtype is the safetensors dtype of the network's learnables.
func (n *Network) stDtype() string {
	if n.dtype == tensor.Float64 {
		return "F64"
	}
	return "F32"
}

// encodeCheckpoint returns the tensors, sorted by name, and the metadata of
// the network's checkpoint.
func (n *Network) encodeCheckpoint(opts []SaveOption) ([]stTensor, map[string]string, error) {
	var cfg saveConfig
	for _, o := range opts {
		if o == nil {
			return nil, nil, errors.New("graph: checkpoint: nil save option")
		}
		o(&cfg)
	}
	if t := cfg.training; t != nil && (t.Epoch < 0 || t.Iteration < 0) {
		return nil, nil, errors.Errorf("graph: checkpoint: training state epoch %d, iteration %d; want both at least 0", t.Epoch, t.Iteration)
	}
	desc := networkJSON{Dtype: dtypeName(n.dtype), Seed: ptr(n.seed), ClassNames: n.classNames}
	for i, l := range n.layers {
		lj, err := n.describeLayer(l)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "graph: checkpoint: layer %d (%s %q)", i+1, layerInfo[l.kind].title, l.name)
		}
		desc.Layers = append(desc.Layers, lj)
	}
	netJSON, err := json.Marshal(desc)
	if err != nil {
		return nil, nil, errors.Wrap(err, "graph: checkpoint: network description")
	}
	meta := map[string]string{
		"format":  checkpointFormat,
		"version": strconv.Itoa(checkpointVersion),
		"network": string(netJSON),
	}
	if st := n.norm; st != nil {
		s, err := encodeNormalization(st)
		if err != nil {
			return nil, nil, errors.Wrap(err, "graph: checkpoint: normalization")
		}
		meta["normalization"] = s
	}
	if t := cfg.training; t != nil {
		b, _ := json.Marshal(trainingJSON{Epoch: &t.Epoch, Iteration: &t.Iteration})
		meta["training"] = string(b)
	}

	var tensors []stTensor
	for _, name := range n.params.Names() {
		tensors = append(tensors, stTensor{
			name: name, dtype: n.stDtype(),
			shape: n.params.Tensor(name).Shape().Clone(),
			data:  encodeFloats(n.stDtype(), n.params.Values(name)),
		})
	}
	for _, l := range n.layers {
		if l.kind != batchNormLayer {
			continue
		}
		st := n.batchNorm[l.name]
		tensors = append(tensors,
			stTensor{name: l.name + "/RunningMean", dtype: "F64", shape: []int{len(st.Mean)}, data: encodeFloats("F64", st.Mean)},
			stTensor{name: l.name + "/RunningVariance", dtype: "F64", shape: []int{len(st.Variance)}, data: encodeFloats("F64", st.Variance)})
	}
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].name < tensors[j].name })
	for i := 1; i < len(tensors); i++ {
		if tensors[i].name == tensors[i-1].name {
			return nil, nil, errors.Errorf("graph: checkpoint: two tensors are called %q", tensors[i].name)
		}
	}
	return tensors, meta, nil
}

// describeLayer returns the checkpoint's declaration of l.
func (n *Network) describeLayer(l layer) (layerJSON, error) {
	spec := checkpointKinds[l.kind]
	lj := layerJSON{Kind: spec.name, Name: l.name, OutputSize: ptr(l.out)}
	if l.kind != sequenceInputLayer && l.kind != imageSequenceInputLayer {
		lj.InputSize = ptr(l.in)
	}
	switch l.kind {
	case sequenceInputLayer:
		lj.Features, lj.Normalization = ptr(l.out), ptr(l.norm.String())
	case imageSequenceInputLayer:
		lj.Height, lj.Width, lj.Channels = ptr(l.frame.H), ptr(l.frame.W), ptr(l.frame.C)
		lj.Normalization = ptr(l.norm.String())
	case lstmLayer, gruLayer, bilstmLayer, recurrentLayer, bidirectionalLayer:
		lj.HiddenUnits, lj.OutputMode = ptr(l.hidden), ptr(l.mode.String())
		if l.kind.bidirectional() {
			lj.MergeMode = ptr(l.merge.String())
		}
		if l.kind == recurrentLayer || l.kind == bidirectionalLayer {
			if l.cellType == "" {
				return lj, errors.New("the custom cell has no cell type: declare the layer WithCellType(name), and load it WithCellFactory(name, factory)")
			}
			lj.CellType = ptr(l.cellType)
			break
		}
		lj.GateActivation, lj.StateActivation = ptr(l.gate.String()), ptr(l.state.String())
		if l.kind == gruLayer {
			lj.ResetGateMode = ptr(l.reset.String())
		}
	case dropoutLayer:
		lj.Probability = ptr(l.p)
	case convolutionLayer:
		lj.FilterSize, lj.Filters = l.kernel[:], ptr(l.frame.C)
		// The padding as resolved: WithSamePadding's, for the saved input
		// size, is the same numbers.
		lj.Padding, lj.Stride = l.pad[:], l.stride[:]
	case batchNormLayer:
		// No option sets these yet; they are kept so that the loaded
		// network normalizes as the saved one whatever set them.
		st := n.batchNorm[l.name]
		lj.Epsilon, lj.MeanDecay, lj.VarianceDecay = ptr(st.Epsilon), ptr(st.MeanDecay), ptr(st.VarianceDecay)
	case fullyConnectedLayer:
		lj.Outputs = ptr(l.out)
	}
	return lj, nil
}

func encodeNormalization(st *dataset.NormalizationStats) (string, error) {
	nj := normalizationJSON{Mode: st.Mode.String(), Mean: st.Mean, Std: st.Std, Min: st.Min, Max: st.Max, Count: st.Count}
	if !st.Frame.IsZero() {
		nj.Frame = &frameJSON{Channels: st.Frame.C, Height: st.Frame.H, Width: st.Frame.W}
	}
	for _, f := range []struct {
		name string
		v    []float64
	}{{"Mean", st.Mean}, {"Std", st.Std}, {"Min", st.Min}, {"Max", st.Max}} {
		for i, x := range f.v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "", errors.Errorf("%s[%d] is %v; a checkpoint holds finite statistics", f.name, i, x)
			}
		}
	}
	b, err := json.Marshal(nj)
	return string(b), err
}

func encodeFloats(dtype string, v []float64) []byte {
	if dtype == "F32" {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
		}
		return b
	}
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// decodeFloats returns the values of t, checking that they are finite.
func decodeFloats(t stTensor) ([]float64, error) {
	size := stElemSize(t.dtype)
	v := make([]float64, len(t.data)/size)
	for i := range v {
		if size == 4 {
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:])))
		} else {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.data[8*i:]))
		}
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return nil, errors.Errorf("tensor %q: value %d is %v", t.name, i, v[i])
		}
	}
	return v, nil
}

// load reads a checkpoint of size bytes (-1 if not known); its errors say
// what is wrong without the "graph: checkpoint" that its callers add.
func load(r io.Reader, size int64, opts []LoadOption) (*Network, *TrainingState, error) {
	cfg := loadConfig{cells: make(map[string]CellFactory)}
	for _, o := range opts {
		if o == nil {
			return nil, nil, errors.New("nil load option")
		}
		o(&cfg)
	}
	if cfg.err != nil {
		return nil, nil, cfg.err
	}
	tensors, meta, err := readSafetensors(r, size)
	if err != nil {
		return nil, nil, err
	}
	switch format := meta["format"]; {
	case format == "":
		return nil, nil, errors.New("not a seqgraph checkpoint: the safetensors metadata has no \"format\"")
	case format != checkpointFormat:
		return nil, nil, errors.Errorf("not a seqgraph checkpoint: format %q, want %q", format, checkpointFormat)
	}
	version, err := strconv.Atoi(meta["version"])
	switch {
	case err != nil || version < 1 || strconv.Itoa(version) != meta["version"]:
		return nil, nil, errors.Errorf("version %q is not a version number", meta["version"])
	case version > checkpointVersion:
		return nil, nil, errors.Errorf("version %d was written by a newer seqgraph; this one reads version %d", version, checkpointVersion)
	}
	if err := requireChecksums(meta, version); err != nil {
		return nil, nil, err
	}
	byName := make(map[string]stTensor, len(tensors))
	for _, t := range tensors {
		byName[t.name] = t
	}

	desc, err := decodeNetwork(meta["network"])
	if err != nil {
		return nil, nil, errors.Wrap(err, "network")
	}
	dtype := tensor.Float32
	switch desc.Dtype {
	case "float32":
	case "float64":
		dtype = tensor.Float64
	default:
		return nil, nil, errors.Errorf("network: dtype %q, want float32 or float64", desc.Dtype)
	}
	decls := make([]Layer, len(desc.Layers))
	for i, lj := range desc.Layers {
		if decls[i], err = declareLayer(lj, cfg.cells); err != nil {
			return nil, nil, errors.Wrap(err, "network: "+layerWhere(i, lj))
		}
	}
	ls, err := resolve(decls)
	if err != nil {
		return nil, nil, errors.Wrap(err, "network")
	}
	if err := checkDeclaredSizes(ls, desc.Layers, byName); err != nil {
		return nil, nil, err
	}
	netOpts := []Option{WithDtype(dtype)}
	if desc.Seed != nil {
		netOpts = append(netOpts, WithSeed(*desc.Seed))
	}
	if desc.ClassNames != nil {
		netOpts = append(netOpts, WithClassNames(desc.ClassNames))
	}
	n, err := NewNetwork(decls, netOpts...)
	if err != nil {
		return nil, nil, errors.Wrap(err, "rebuilding the network")
	}
	if err := n.setTensors(byName, desc.Layers); err != nil {
		return nil, nil, err
	}
	if s, ok := meta["normalization"]; ok {
		st, err := decodeNormalization(s)
		if err != nil {
			return nil, nil, errors.Wrap(err, "normalization")
		}
		if err := n.SetNormalization(st); err != nil {
			return nil, nil, errors.Wrap(err, "normalization")
		}
	}
	var training *TrainingState
	if s, ok := meta["training"]; ok {
		var tj trainingJSON
		if err := strictUnmarshal(s, &tj); err != nil {
			return nil, nil, errors.Wrap(err, "training state")
		}
		if tj.Epoch == nil || tj.Iteration == nil || *tj.Epoch < 0 || *tj.Iteration < 0 {
			return nil, nil, errors.Errorf("training state %s: want a non-negative epoch and iteration", s)
		}
		training = &TrainingState{Epoch: *tj.Epoch, Iteration: *tj.Iteration}
	}
	return n, training, nil
}

// strictUnmarshal decodes the JSON text s into v, refusing unknown fields,
// duplicate keys and anything after the value.
func strictUnmarshal(s string, v any) error {
	if err := checkJSON([]byte(s)); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func decodeNetwork(s string) (*networkJSON, error) {
	if s == "" {
		return nil, errors.New("missing from the metadata")
	}
	if err := checkJSON([]byte(s)); err != nil {
		return nil, err
	}
	var raw struct {
		Dtype      *string           `json:"dtype"`
		Seed       *uint64           `json:"seed"`
		ClassNames []string          `json:"classNames"`
		Layers     []json.RawMessage `json:"layers"`
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if raw.Dtype == nil || raw.Layers == nil {
		return nil, errors.New("wants dtype and layers")
	}
	desc := &networkJSON{Dtype: *raw.Dtype, Seed: raw.Seed, ClassNames: raw.ClassNames}
	for i, lr := range raw.Layers {
		lj, err := decodeLayer(lr)
		if err != nil {
			return nil, errors.Wrap(err, layerWhere(i, lj))
		}
		desc.Layers = append(desc.Layers, lj)
	}
	return desc, nil
}

// decodeLayer decodes a layer's declaration, checking that its fields are
// those of its kind.
func decodeLayer(raw json.RawMessage) (layerJSON, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return layerJSON{}, err
	}
	var lj layerJSON
	if err := json.Unmarshal(raw, &lj); err != nil {
		return lj, err
	}
	kind, ok := kindNamed(lj.Kind)
	if !ok {
		return lj, errors.Errorf("unknown kind %q", lj.Kind)
	}
	spec := checkpointKinds[kind]
	allowed := map[string]bool{"kind": true, "name": true, "outputSize": true}
	if kind != sequenceInputLayer && kind != imageSequenceInputLayer {
		allowed["inputSize"] = true
	}
	for _, f := range spec.required {
		if v, ok := fields[f]; !ok || string(bytes.TrimSpace(v)) == "null" {
			return lj, errors.Errorf("%s is missing", f)
		}
		allowed[f] = true
	}
	for _, f := range spec.optional {
		allowed[f] = true
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if !allowed[f] {
			return lj, errors.Errorf("a %s layer has no field %q", spec.name, f)
		}
	}
	return lj, nil
}

// layerWhere says which layer of the checkpoint lj, the i-th, is.
func layerWhere(i int, lj layerJSON) string {
	if lj.Kind == "" {
		return fmt.Sprintf("layer %d", i+1)
	}
	return fmt.Sprintf("layer %d (%s %q)", i+1, lj.Kind, lj.Name)
}

func kindNamed(name string) (layerKind, bool) {
	for k, spec := range checkpointKinds {
		if spec.name == name {
			return k, true
		}
	}
	return 0, false
}

// declareLayer returns the declaration of the layer that lj describes,
// made with the package's constructors and options.
func declareLayer(lj layerJSON, cells map[string]CellFactory) (Layer, error) {
	kind, _ := kindNamed(lj.Kind)
	var err error
	size := func(name string, v *int, limit int) int {
		if err == nil && v != nil && *v > limit {
			err = errors.Errorf("%s %d is more than Load accepts (%d)", name, *v, limit)
		}
		if v == nil {
			return 0
		}
		return *v
	}
	pair := func(name string, v []int, limit int) [2]int {
		if len(v) != 2 {
			if err == nil {
				err = errors.Errorf("%s %v is not two numbers", name, v)
			}
			return [2]int{}
		}
		size(name, &v[0], limit)
		size(name, &v[1], limit)
		return [2]int{v[0], v[1]}
	}
	parse := func(s *string, f func(string) error) {
		if err == nil && s != nil {
			err = f(*s)
		}
	}
	var opts []LayerOption
	if lj.Name != "" {
		opts = append(opts, WithName(lj.Name))
	}
	parse(lj.Normalization, func(s string) error {
		m, err := dataset.ParseNormalization(s)
		opts = append(opts, WithInputNormalization(m))
		return err
	})
	parse(lj.OutputMode, func(s string) error {
		m, err := rnn.ParseOutputMode(s)
		opts = append(opts, WithOutputMode(m))
		return err
	})
	parse(lj.MergeMode, func(s string) error {
		m, err := rnn.ParseMergeMode(s)
		opts = append(opts, WithMergeMode(m))
		return err
	})
	parse(lj.GateActivation, func(s string) error {
		a, err := nodes.ParseActivation(s)
		opts = append(opts, WithGateActivation(a))
		return err
	})
	parse(lj.StateActivation, func(s string) error {
		a, err := nodes.ParseActivation(s)
		opts = append(opts, WithStateActivation(a))
		return err
	})
	parse(lj.ResetGateMode, func(s string) error {
		m, err := rnn.ParseResetGateMode(s)
		opts = append(opts, WithResetGateMode(m))
		return err
	})
	var newCell CellFactory
	parse(lj.CellType, func(s string) error {
		if newCell = cells[s]; newCell == nil {
			return errors.Errorf("cell type %q: no factory; load with graph.WithCellFactory(%q, factory)", s, s)
		}
		opts = append(opts, WithCellType(s))
		return nil
	})
	if lj.Padding != nil {
		p := pair("padding", lj.Padding, maxLoadSpatial)
		opts = append(opts, WithPadding(p[0], p[1]))
	}
	if lj.Stride != nil {
		s := pair("stride", lj.Stride, maxLoadSpatial)
		opts = append(opts, WithStride(s[0], s[1]))
	}
	var l Layer
	switch kind {
	case sequenceInputLayer:
		l = SequenceInput(size("features", lj.Features, maxLoadSize), opts...)
	case imageSequenceInputLayer:
		h, w, c := size("height", lj.Height, maxLoadSpatial), size("width", lj.Width, maxLoadSpatial), size("channels", lj.Channels, maxLoadSize)
		if err == nil && h > 0 && w > 0 && c > 0 && c*h*w > maxLoadSize {
			err = errors.Errorf("images of %dx%dx%d are more values than Load accepts (%d)", h, w, c, maxLoadSize)
		}
		l = ImageSequenceInput(h, w, c, opts...)
	case lstmLayer:
		l = LSTM(size("hidden units", lj.HiddenUnits, maxLoadSize), opts...)
	case gruLayer:
		l = GRU(size("hidden units", lj.HiddenUnits, maxLoadSize), opts...)
	case bilstmLayer:
		l = BiLSTM(size("hidden units", lj.HiddenUnits, maxLoadSize), opts...)
	case recurrentLayer:
		l = Recurrent(size("hidden units", lj.HiddenUnits, maxLoadSize), newCell, opts...)
	case bidirectionalLayer:
		l = Bidirectional(size("hidden units", lj.HiddenUnits, maxLoadSize), newCell, opts...)
	case dropoutLayer:
		if lj.Probability == nil {
			return Layer{}, errors.New("probability is missing")
		}
		l = Dropout(*lj.Probability, opts...)
	case foldingLayer:
		l = SequenceFolding(opts...)
	case convolutionLayer:
		k := pair("filter size", lj.FilterSize, maxLoadSpatial)
		l = Convolution2D(k[0], k[1], size("filters", lj.Filters, maxLoadSize), opts...)
	case batchNormLayer:
		l = BatchNormalization(opts...)
	case reluLayer:
		l = ReLU(opts...)
	case unfoldingLayer:
		l = SequenceUnfolding(opts...)
	case flattenLayer:
		l = Flatten(opts...)
	case fullyConnectedLayer:
		l = FullyConnected(size("outputs", lj.Outputs, maxLoadSize), opts...)
	case softmaxLayer:
		l = Softmax(opts...)
	case classificationLayer:
		l = ClassificationOutput(opts...)
	case regressionLayer:
		l = RegressionOutput(opts...)
	}
	return l, err
}

// checkDeclaredSizes checks the layers' sizes against those the checkpoint
// declares and, before NewNetwork allocates any learnable, against the
// tensors that the checkpoint holds: a corrupt size fails here rather than
// as an allocation of any size.
func checkDeclaredSizes(ls []layer, descs []layerJSON, tensors map[string]stTensor) error {
	for i, l := range ls {
		lj := descs[i]
		where := layerWhere(i, layerJSON{Kind: checkpointKinds[l.kind].name, Name: l.name})
		if lj.InputSize != nil && *lj.InputSize != l.in {
			return errors.Errorf("network: %s: input size %d, but its declaration gives %d", where, *lj.InputSize, l.in)
		}
		if lj.OutputSize != nil && *lj.OutputSize != l.out {
			return errors.Errorf("network: %s: output size %d, but its declaration gives %d", where, *lj.OutputSize, l.out)
		}
		if i == 0 && l.out > maxLoadSize {
			return errors.Errorf("network: %s: %d input values per timestep, more than Load accepts (%d)", where, l.out, maxLoadSize)
		}
		if l.kind == recurrentLayer || l.kind == bidirectionalLayer {
			// A custom cell's learnables are its own, but any cell
			// that maps in features to hidden ones needs at least as
			// many values as either.
			for _, prefix := range cellPrefixes(l) {
				values := 0
				for name, t := range tensors {
					if strings.HasPrefix(name, prefix+"/") {
						values += len(t.data) / stElemSize(t.dtype)
					}
				}
				if l.in > values || l.hidden > values {
					return errors.Errorf("%s: a cell of %d inputs and %d hidden units, but the checkpoint has %d values for %q", where, l.in, l.hidden, values, prefix)
				}
			}
			continue
		}
		var prev layer
		if i > 0 {
			prev = ls[i-1]
		}
		shapes := builtinLearnables(l, prev)
		names := make([]string, 0, len(shapes))
		for name := range shapes {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			shape := shapes[name]
			t, ok := tensors[name]
			if !ok {
				return errors.Errorf("tensor %q of %s is missing", name, where)
			}
			if !equalInts(t.shape, shape) {
				return errors.Errorf("tensor %q: shape %v, but %s declares %v", name, t.shape, where, shape)
			}
		}
	}
	return nil
}

// cellPrefixes returns the names of a recurrent layer's cells.
func cellPrefixes(l layer) []string {
	if l.kind.bidirectional() {
		return []string{l.name + "/forward", l.name + "/backward"}
	}
	return []string{l.name}
}

// builtinLearnables returns the shapes of the learnables that the layer l,
// after prev, has: those of package rnn's cells and package nodes' layers
// (TestBuiltinLearnablesMatchTheNetwork keeps the two in step).
func builtinLearnables(l layer, prev layer) map[string][]int {
	out := make(map[string][]int)
	switch l.kind {
	case lstmLayer, bilstmLayer, gruLayer:
		g := 4
		if l.kind == gruLayer {
			g = 3
		}
		for _, c := range cellPrefixes(l) {
			out[c+"/InputWeights"] = []int{g * l.hidden, l.in}
			out[c+"/RecurrentWeights"] = []int{g * l.hidden, l.hidden}
			out[c+"/Bias"] = []int{g * l.hidden}
			if l.kind == gruLayer && l.reset == rnn.AfterMultiplication {
				out[c+"/RecurrentBias"] = []int{g * l.hidden}
			}
		}
	case fullyConnectedLayer:
		out[l.name+"/Weights"] = []int{l.out, l.in}
		out[l.name+"/Bias"] = []int{l.out}
	case convolutionLayer:
		out[l.name+"/Weights"] = []int{l.frame.C, prev.frame.C, l.kernel[0], l.kernel[1]}
		out[l.name+"/Bias"] = []int{l.frame.C}
	case batchNormLayer:
		out[l.name+"/Scale"] = []int{l.frame.C}
		out[l.name+"/Offset"] = []int{l.frame.C}
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// setTensors sets every learnable and running statistic of n from tensors,
// which must hold exactly those, of the right dtype and shape.
func (n *Network) setTensors(tensors map[string]stTensor, descs []layerJSON) error {
	want := make(map[string][]int)
	dtypes := make(map[string]string)
	for _, name := range n.Learnables() {
		want[name], dtypes[name] = n.LearnableShape(name), n.stDtype()
	}
	for i, l := range n.layers {
		if l.kind != batchNormLayer {
			continue
		}
		st := n.batchNorm[l.name]
		for _, s := range []string{"/RunningMean", "/RunningVariance"} {
			want[l.name+s], dtypes[l.name+s] = []int{len(st.Mean)}, "F64"
		}
		lj := descs[i]
		for _, f := range []struct {
			name string
			v    *float64
			dst  *float64
		}{{"epsilon", lj.Epsilon, &st.Epsilon}, {"meanDecay", lj.MeanDecay, &st.MeanDecay}, {"varianceDecay", lj.VarianceDecay, &st.VarianceDecay}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if !(st.Epsilon > 0) || !(st.MeanDecay >= 0 && st.MeanDecay <= 1) || !(st.VarianceDecay >= 0 && st.VarianceDecay <= 1) {
			return errors.Errorf("network: %s: epsilon %v, decays %v and %v; want epsilon > 0 and decays in [0, 1]", layerWhere(i, lj), st.Epsilon, st.MeanDecay, st.VarianceDecay)
		}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := tensors[name]; !ok {
			return errors.Errorf("tensor %q (shape %v) is missing", name, want[name])
		}
	}
	var extra []string
	for name := range tensors {
		if want[name] == nil {
			extra = append(extra, strconv.Quote(name))
		}
	}
	sort.Strings(extra)
	switch {
	case len(extra) == 1:
		return errors.Errorf("tensor %s is not a learnable or running statistic of the network", extra[0])
	case len(extra) > 5:
		extra = append(extra[:5], "...")
		fallthrough
	case len(extra) > 1:
		return errors.Errorf("%d tensors are not learnables or running statistics of the network: %s", len(extra), strings.Join(extra, ", "))
	}
	for _, name := range names {
		t := tensors[name]
		if t.dtype != dtypes[name] {
			return errors.Errorf("tensor %q: dtype %s, want %s", name, t.dtype, dtypes[name])
		}
		if !equalInts(t.shape, want[name]) {
			return errors.Errorf("tensor %q: shape %v, the network has %v", name, t.shape, want[name])
		}
		v, err := decodeFloats(t)
		if err != nil {
			return err
		}
		layerName, stat, _ := strings.Cut(name, "/")
		switch st := n.batchNorm[layerName]; {
		case st != nil && stat == "RunningMean":
			copy(st.Mean, v)
		case st != nil && stat == "RunningVariance":
			for i, x := range v {
				if x < 0 {
					return errors.Errorf("tensor %q: value %d is %v, a negative variance", name, i, x)
				}
			}
			copy(st.Variance, v)
		default:
			if err := n.SetLearnable(name, v); err != nil {
				return errors.Wrapf(err, "tensor %q", name)
			}
		}
	}
	return nil
}

func decodeNormalization(s string) (*dataset.NormalizationStats, error) {
	var nj normalizationJSON
	if err := strictUnmarshal(s, &nj); err != nil {
		return nil, err
	}
	mode, err := dataset.ParseNormalization(nj.Mode)
	if err != nil {
		return nil, err
	}
	st := &dataset.NormalizationStats{Mode: mode, Mean: nj.Mean, Std: nj.Std, Min: nj.Min, Max: nj.Max, Count: nj.Count}
	if f := nj.Frame; f != nil {
		st.Frame = dataset.FrameShape{C: f.Channels, H: f.Height, W: f.Width}
	}
	return st, nil
}
