package graph

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
)

const (
	checkpointFormat  = "seqgraph-checkpoint"
	checkpointVersion = 2
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
	kinds map[string]LayerDecoder
	err   error
}

// WithLayerKind gives Load the decoder of the layers of kind, a layer type
// of your own (see LayerDecoder and docs/custom-layers.md). Load needs one
// for every kind in the checkpoint that is not built in.
func WithLayerKind(kind string, decode LayerDecoder) LoadOption {
	return func(c *loadConfig) {
		switch {
		case c.err != nil:
		case kind == "":
			c.err = errors.New("WithLayerKind: empty kind")
		case decode == nil:
			c.err = errors.Errorf("WithLayerKind(%q): nil decoder", kind)
		case builtinKinds[kind] != nil:
			c.err = errors.Errorf("WithLayerKind(%q): a built-in kind", kind)
		case c.kinds[kind] != nil:
			c.err = errors.Errorf("WithLayerKind(%q): given twice", kind)
		default:
			c.kinds[kind] = decode
		}
	}
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
// writes a temporary file in the same folder (".<name>.<16 hex digits>.tmp"),
// syncs it to disk and renames it over path. On error the temporary file is
// removed and whatever was at path before is left as it was. A save that was
// killed midway leaves its temporary file behind; the next successful save
// to the same path removes such files (those of that exact pattern for that
// name only, never other files), so saving to one path from two processes
// at once is not supported.
func (n *Network) SaveFile(path string, opts ...SaveOption) error {
	return saveFile(path, n, opts, func(w io.Writer) io.Writer { return w })
}

// saveFile is SaveFile with the file's writer passed through wrap, which lets
// a test make writing fail part way.
func saveFile(path string, n *Network, opts []SaveOption, wrap func(io.Writer) io.Writer) error {
	// Everything that can be checked is, before the disk is touched.
	tensors, meta, err := n.encodeCheckpoint(opts)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, "graph: checkpoint", tensors, meta, wrap)
}

// writeFileAtomic writes the tensors and metadata as a safetensors file at
// path, atomically (see SaveFile), with the file's writer passed through
// wrap. Its errors begin with what, then the path.
func writeFileAtomic(path, what string, tensors []stTensor, meta map[string]string, wrap func(io.Writer) io.Writer) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, tmp, err := createTemp(dir, base)
	if err != nil {
		return errors.Wrapf(err, "%s %s", what, path)
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
		return errors.Wrapf(err, "%s %s", what, path)
	}
	if err := bw.Flush(); err != nil {
		return errors.Wrapf(err, "%s %s: writing", what, path)
	}
	if err := f.Sync(); err != nil {
		return errors.Wrapf(err, "%s %s: syncing", what, path)
	}
	if err := f.Close(); err != nil {
		return errors.Wrapf(err, "%s %s: closing", what, path)
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "%s %s", what, path)
	}
	renamed = true
	removeStaleTemps(dir, base)
	// The rename is durable once the folder's entry is.
	if runtime.GOOS != "windows" {
		d, err := os.Open(dir)
		if err != nil {
			return errors.Wrapf(err, "%s %s: saved, but syncing the folder", what, path)
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return errors.Wrapf(err, "%s %s: saved, but syncing the folder", what, path)
		}
	}
	return nil
}

// tempPattern matches the names createTemp gives the temporary copies of
// a checkpoint called base.
func tempPattern(base string) *regexp.Regexp {
	return regexp.MustCompile(`^\.` + regexp.QuoteMeta(base) + `\.[0-9a-f]{16}\.tmp$`)
}

// removeStaleTemps removes the temporary copies of base in dir that saves
// killed midway left behind. It is best effort: a file it cannot remove
// stays, and the save that called it has succeeded either way.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	pattern := tempPattern(base)
	for _, e := range entries {
		if e.Type().IsRegular() && pattern.MatchString(e.Name()) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
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

// networkJSON is the "network" metadata.
type networkJSON struct {
	Dtype      string            `json:"dtype"`
	Seed       *uint64           `json:"seed,omitempty"`
	ClassNames []string          `json:"classNames,omitempty"`
	Layers     []json.RawMessage `json:"layers"`
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
	defer n.readWeights()()
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
		lj, err := encodeLayer(i, l)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "graph: checkpoint: %s", layerWhere(i, l.Layer, l.name))
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
	for name, st := range n.batchNorm {
		tensors = append(tensors,
			stTensor{name: name + "/RunningMean", dtype: "F64", shape: []int{len(st.Mean)}, data: encodeFloats("F64", st.Mean)},
			stTensor{name: name + "/RunningVariance", dtype: "F64", shape: []int{len(st.Variance)}, data: encodeFloats("F64", st.Variance)})
	}
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].name < tensors[j].name })
	for i := 1; i < len(tensors); i++ {
		if tensors[i].name == tensors[i-1].name {
			return nil, nil, errors.Errorf("graph: checkpoint: two tensors are called %q", tensors[i].name)
		}
	}
	return tensors, meta, nil
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
	cfg := loadConfig{cells: make(map[string]CellFactory), kinds: make(map[string]LayerDecoder)}
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
	n, err := cfg.rebuild(desc, version, tensors)
	if err != nil {
		return nil, nil, err
	}
	if err := n.setTensors(byName); err != nil {
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
// duplicate keys and anything after the value. Keys must be the fields'
// names exactly: encoding/json alone would take "Dtype" for "dtype" and
// let a second, case-variant key overwrite the first.
func strictUnmarshal(s string, v any) error {
	if err := checkJSON([]byte(s)); err != nil {
		return err
	}
	if err := exactKeys(json.RawMessage(s), reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// exactKeys checks that every key of the objects of raw that decode into
// structs of type t is the JSON name of one of its fields, exactly.
func exactKeys(raw json.RawMessage, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil // not an array: Decode says so
		}
		for _, item := range items {
			if err := exactKeys(item, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Struct:
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return nil
		}
		names := make(map[string]reflect.Type, t.NumField())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			names[name] = f.Type
		}
		for _, key := range slices.Sorted(maps.Keys(fields)) {
			ft, ok := names[key]
			if !ok {
				return errors.Errorf("unknown field %q (fields are case-sensitive)", key)
			}
			if err := exactKeys(fields[key], ft); err != nil {
				return errors.Wrap(err, key)
			}
		}
	}
	return nil
}

func decodeNetwork(s string) (*networkJSON, error) {
	if s == "" {
		return nil, errors.New("missing from the metadata")
	}
	var raw struct {
		Dtype      *string           `json:"dtype"`
		Seed       *uint64           `json:"seed"`
		ClassNames []string          `json:"classNames"`
		Layers     []json.RawMessage `json:"layers"`
	}
	if err := strictUnmarshal(s, &raw); err != nil {
		return nil, err
	}
	if raw.Dtype == nil || raw.Layers == nil {
		return nil, errors.New("wants dtype and layers")
	}
	return &networkJSON{Dtype: *raw.Dtype, Seed: raw.Seed, ClassNames: raw.ClassNames, Layers: raw.Layers}, nil
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
func (n *Network) setTensors(tensors map[string]stTensor) error {
	want := make(map[string][]int)
	dtypes := make(map[string]string)
	for _, name := range n.Learnables() {
		want[name], dtypes[name] = n.LearnableShape(name), n.stDtype()
	}
	for name, st := range n.batchNorm {
		for _, s := range []string{"/RunningMean", "/RunningVariance"} {
			want[name+s], dtypes[name+s] = []int{len(st.Mean)}, "F64"
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
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	switch {
	case len(extra) == 1:
		return errors.Errorf("tensor %q is not a learnable or running statistic of the network", extra[0])
	case len(extra) > 1:
		return errors.Errorf("%d tensors are not learnables or running statistics of the network: %s", len(extra), quoteSome(extra, 5))
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
