package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Limits on the sizes that Load accepts beyond those the tensors of the
// file set (the learnables a checkpoint declares may hold no more values
// than the file does, and loadSlack more): the features of every layer's input and output and
// the heights and widths of frames, so that a corrupt or hostile checkpoint
// cannot make Load allocate without bound.
const (
	maxLoadSize    = 1 << 24 // features per timestep of any layer's input or output
	maxLoadSpatial = 1 << 16 // heights and widths of frames
	loadSlack      = 1 << 20 // learnable values beyond the file's that NewNetwork may create
)

// reservedFields are the keys of a layer's JSON object that are not its
// spec's fields.
var reservedFields = []string{"kind", "name", "inputSize", "outputSize"}

// encodeLayer returns the checkpoint's JSON object of the i-th layer of a
// network: {"kind", "name", the spec's fields, "inputSize", "outputSize"}.
func encodeLayer(i int, l netLayer) (json.RawMessage, error) {
	if s, ok := l.Layer.(interface{ saveError() error }); ok && s.saveError() != nil {
		return nil, s.saveError()
	}
	spec := l.Spec()
	fields, err := json.Marshal(spec.Fields)
	if err != nil {
		return nil, errors.Wrap(err, "encoding its fields")
	}
	if spec.Fields == nil || string(fields) == "{}" {
		fields = nil
	} else if len(fields) < 2 || fields[0] != '{' {
		return nil, errors.Errorf("its fields encode to %s, not to a JSON object", fields)
	}
	var keys map[string]json.RawMessage
	if fields != nil {
		if err := json.Unmarshal(fields, &keys); err != nil {
			return nil, err
		}
	}
	for _, r := range reservedFields {
		if _, ok := keys[r]; ok {
			return nil, errors.Errorf("its fields have a field called %q, which is the checkpoint's", r)
		}
	}
	var b bytes.Buffer
	kind, _ := json.Marshal(spec.Kind)
	name, _ := json.Marshal(l.name)
	fmt.Fprintf(&b, `{"kind":%s,"name":%s`, kind, name)
	if fields != nil {
		b.WriteByte(',')
		b.Write(fields[1 : len(fields)-1])
	}
	if i > 0 {
		fmt.Fprintf(&b, `,"inputSize":%d`, l.in.Features)
	}
	fmt.Fprintf(&b, `,"outputSize":%d}`, l.out.Features)
	return b.Bytes(), nil
}

// savedLayer is a layer's JSON object split into what the checkpoint says
// of it and its fields.
type savedLayer struct {
	kind, name            string
	inputSize, outputSize *int
	fields                json.RawMessage
}

// decodeLayerObject splits a layer's JSON object.
func decodeLayerObject(raw json.RawMessage) (savedLayer, error) {
	var keys map[string]json.RawMessage
	if err := checkJSON(raw); err != nil {
		return savedLayer{}, err
	}
	if err := json.Unmarshal(raw, &keys); err != nil {
		return savedLayer{}, err
	}
	var l savedLayer
	for _, f := range []struct {
		key string
		dst any
	}{{"kind", &l.kind}, {"name", &l.name}, {"inputSize", &l.inputSize}, {"outputSize", &l.outputSize}} {
		if v, ok := keys[f.key]; ok {
			if err := json.Unmarshal(v, f.dst); err != nil {
				return l, errors.Wrap(err, f.key)
			}
			delete(keys, f.key)
		}
	}
	if l.kind == "" {
		return l, errors.New("kind is missing")
	}
	fields, err := json.Marshal(keys)
	l.fields = fields
	return l, err
}

// where names the i-th saved layer in messages.
func (l savedLayer) where(i int) string {
	if l.kind == "" {
		return fmt.Sprintf("layer %d", i+1)
	}
	return fmt.Sprintf("layer %d (%s %q)", i+1, l.kind, l.name)
}

// declare returns the layer that l declares, made by its kind's decoder.
func (c *loadConfig) declare(l savedLayer, version int) (Layer, error) {
	decode := builtinKinds[l.kind]
	if decode == nil {
		decode = c.kinds[l.kind]
	}
	if decode == nil {
		return nil, errors.Errorf("unknown kind %q (a layer of your own needs graph.WithLayerKind(%q, decoder))", l.kind, l.kind)
	}
	layer, err := decode(l.name, Fields{kind: l.kind, raw: l.fields, cells: c.cells, version: version})
	if err != nil {
		return nil, err
	}
	if layer == nil {
		return nil, errors.Errorf("the decoder of kind %q gave no layer", l.kind)
	}
	if got := layer.Spec(); got.Kind != l.kind || l.name != "" && got.Name != l.name {
		return nil, errors.Errorf("the decoder of kind %q gave a layer of kind %q called %q; want the saved name %q", l.kind, got.Kind, got.Name, l.name)
	}
	return layer, nil
}

// rebuild makes the network that desc describes, checked against the sizes
// the file declares and bounded by the values its tensors hold.
func (c *loadConfig) rebuild(desc *networkJSON, version int, tensors []stTensor) (*Network, error) {
	dtype := tensor.Float32
	switch desc.Dtype {
	case "float32":
	case "float64":
		dtype = tensor.Float64
	default:
		return nil, errors.Errorf("network: dtype %q, want float32 or float64", desc.Dtype)
	}
	decls := make([]Layer, len(desc.Layers))
	saved := make([]savedLayer, len(desc.Layers))
	for i, raw := range desc.Layers {
		var err error
		if saved[i], err = decodeLayerObject(raw); err == nil {
			decls[i], err = c.declare(saved[i], version)
		}
		if err != nil {
			return nil, errors.Wrap(err, "network: "+saved[i].where(i))
		}
	}
	ls, err := resolve(decls)
	if err != nil {
		return nil, errors.Errorf("network: %s", strings.TrimPrefix(err.Error(), "graph: "))
	}
	if err := checkSavedSizes(ls, saved); err != nil {
		return nil, errors.Wrap(err, "network")
	}
	// The learnables may hold what the tensors do, and a little more, so
	// that a missing tensor is reported by name (setTensors) rather than as
	// a budget exceeded.
	values := loadSlack
	for _, t := range tensors {
		values += len(t.data) / stElemSize(t.dtype)
	}
	opts := []Option{WithDtype(dtype), withBudget(values)}
	if desc.Seed != nil {
		opts = append(opts, WithSeed(*desc.Seed))
	}
	if desc.ClassNames != nil {
		opts = append(opts, WithClassNames(desc.ClassNames))
	}
	n, err := NewNetwork(decls, opts...)
	return n, errors.Wrap(err, "rebuilding the network")
}

// checkSavedSizes checks every layer's sizes against those the checkpoint
// declares, and against Load's limits.
func checkSavedSizes(ls []netLayer, saved []savedLayer) error {
	for i, l := range ls {
		where := layerWhere(i, l.Layer, l.name)
		if s := saved[i].inputSize; s != nil && (i == 0 || *s != l.in.Features) {
			return errors.Errorf("%s: input size %d, but its declaration gives %d", where, *s, l.in.Features)
		}
		if s := saved[i].outputSize; s != nil && *s != l.out.Features {
			return errors.Errorf("%s: output size %d, but its declaration gives %d", where, *s, l.out.Features)
		}
		f := l.out.Frame
		if l.out.Features > maxLoadSize || f.H > maxLoadSpatial || f.W > maxLoadSpatial {
			return errors.Errorf("%s: outputs %s, more than Load accepts (%d values per step, %d rows or columns)", where, l.out, maxLoadSize, maxLoadSpatial)
		}
	}
	return nil
}

// withBudget bounds the values of the learnables NewNetwork creates.
func withBudget(values int) Option { return func(c *netConfig) { c.budget = values } }
