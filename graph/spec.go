package graph

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// LayerDecoder declares a layer again from its spec as a checkpoint holds
// it: the layer's name, which the decoder gives the layer (a built-in
// layer's WithName), and its fields. Load finds the decoder of each kind
// among the built-in ones and those given WithLayerKind.
type LayerDecoder func(name string, fields Fields) (Layer, error)

// builtinKinds are the decoders of the built-in layers, by kind; each
// layer's file adds its own when the package starts, and nothing changes
// them after.
var builtinKinds = map[string]LayerDecoder{}

// Fields are the saved fields of a layer: its LayerSpec's Fields, as JSON.
type Fields struct {
	kind string
	raw  json.RawMessage
	// cells are the factories of custom cells Load was given, by type.
	cells map[string]CellFactory
	// version is the checkpoint's format version.
	version int
}

// Version returns the format version of the checkpoint the fields come
// from, for decoders whose fields changed meaning from one to the next.
func (f Fields) Version() int { return f.version }

// Decode decodes the fields into v, a pointer to a struct, strictly: a
// field that v has no room for, or a key given twice or in another case
// than v's field name, is an error. Fields that are missing leave v's as
// they are: give required ones pointer types and check them.
func (f Fields) Decode(v any) error {
	if err := checkJSON(f.raw); err != nil {
		return err
	}
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return errors.Errorf("fields of a %s layer: decoding into %T; want a pointer to a struct", f.kind, v)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(f.raw, &keys); err != nil {
		return err
	}
	names := jsonFields(t.Elem())
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		if _, ok := names[key]; !ok {
			return errors.Errorf("a %s layer has no field %q", f.kind, key)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(f.raw))
	return dec.Decode(v)
}

// jsonFields returns the JSON names of the fields of struct type t, those
// of embedded structs included, with their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	names := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			for name, ft := range jsonFields(f.Type) {
				names[name] = ft
			}
			continue
		}
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		names[tag] = f.Type
	}
	return names
}

// requiredField is a field a decoder needs, and whether it was saved.
type requiredField struct {
	name    string
	present bool
}

// need says that the field called name, decoded into v, is required.
func need[T any](name string, v *T) requiredField { return requiredField{name, v != nil} }

// required returns an error naming the first missing field of fields.
func required(fields ...requiredField) error {
	for _, f := range fields {
		if !f.present {
			return errors.Errorf("%s is missing", f.name)
		}
	}
	return nil
}
