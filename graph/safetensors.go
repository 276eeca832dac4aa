package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// The safetensors container (https://huggingface.co/docs/safetensors):
//
//	8 bytes   N, the header length, unsigned little-endian
//	N bytes   the header: a UTF-8 JSON object, padded with spaces
//	          {"<tensor>": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]},
//	           ...,
//	           "__metadata__": {"<key>": "<string value>", ...}}
//	the rest  the tensors' bytes, little-endian and row-major; data_offsets
//	          are relative to the start of this section
//
// The reader accepts exactly what the format allows and seqgraph uses: F32
// and F64 tensors whose byte ranges cover the data section without gaps,
// overlaps or trailing bytes (as the format requires, so that no file is
// also something else), and a header of JSON without duplicate keys.
//
// seqgraph adds two metadata entries, the CRC-32C checksums of every
// tensor's bytes and of the header (integrity.go); the reader verifies them
// when a file has them.

const (
	// stMaxHeader is the largest header read, the limit of the reference
	// implementation: a longer one is corrupt or hostile.
	stMaxHeader = 100_000_000
	// stMaxDepth bounds the nesting of the JSON read: the header needs 3
	// levels, the network description 4.
	stMaxDepth = 32
	stMetadata = "__metadata__"
)

// stTensor is one tensor of a safetensors file.
type stTensor struct {
	name  string
	dtype string // "F32" or "F64"
	shape []int
	data  []byte // little-endian, row-major
}

// stElemSize returns the bytes per element of a supported dtype, or 0.
func stElemSize(dtype string) int {
	switch dtype {
	case "F32":
		return 4
	case "F64":
		return 8
	}
	return 0
}

// stHeaderEntry is a tensor's entry in the header.
type stHeaderEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// writeSafetensors writes the tensors, in the order given, and the metadata,
// to which it adds the checksums of the tensors and the header. The header
// is padded with spaces to a multiple of 8 bytes, as the reference
// implementation does, so that the data of 8-byte types is aligned in a
// file mapped into memory.
func writeSafetensors(w io.Writer, tensors []stTensor, metadata map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	var off uint64
	for _, t := range tensors {
		if _, dup := header[t.name]; dup || t.name == "" || t.name == stMetadata {
			return errors.Errorf("safetensors: tensor name %q is empty, reserved or used twice", t.name)
		}
		size := stElemSize(t.dtype)
		if size == 0 {
			return errors.Errorf("safetensors: tensor %q: dtype %q is not F32 or F64", t.name, t.dtype)
		}
		shape := make([]int64, len(t.shape))
		n := 1
		for i, d := range t.shape {
			shape[i] = int64(d)
			n *= d
		}
		if n*size != len(t.data) {
			return errors.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s", t.name, len(t.data), t.shape, t.dtype)
		}
		header[t.name] = stHeaderEntry{Dtype: t.dtype, Shape: shape, DataOffsets: []uint64{off, off + uint64(len(t.data))}}
		off += uint64(len(t.data))
	}
	metadata, err := withChecksums(tensors, metadata)
	if err != nil {
		return err
	}
	header[stMetadata] = metadata
	// Marshal sorts map keys, and writes no spaces: the same tensors give
	// the same bytes, and the header checksum's entry is found by its bytes.
	h, err := json.Marshal(header)
	if err != nil {
		return errors.Wrap(err, "safetensors: header")
	}
	if pad := (8 - len(h)%8) % 8; pad > 0 {
		h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(h)))
	if err := sealHeader(n[:], h); err != nil {
		return err
	}
	if _, err := w.Write(n[:]); err != nil {
		return errors.Wrap(err, "safetensors: writing the header length")
	}
	if _, err := w.Write(h); err != nil {
		return errors.Wrap(err, "safetensors: writing the header")
	}
	for _, t := range tensors {
		if _, err := w.Write(t.data); err != nil {
			return errors.Wrapf(err, "safetensors: writing tensor %q", t.name)
		}
	}
	return nil
}

// readSafetensors reads a whole safetensors file from r and returns its
// tensors in the order of their data and its metadata (nil if none). total
// is the file's size when the caller knows it (a file on disk), or -1. The
// memory it takes grows with the bytes actually read, never with a length
// that the file claims. It verifies the checksums of the header and of every
// tensor when the file has them.
func readSafetensors(r io.Reader, total int64) ([]stTensor, map[string]string, error) {
	var lenBuf [8]byte
	if n, err := io.ReadFull(r, lenBuf[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, errors.Errorf("truncated: %d bytes, fewer than the 8 of the header length", n)
		}
		return nil, nil, errors.Wrap(err, "reading the header length")
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen < 2 || hlen > stMaxHeader {
		return nil, nil, errors.Errorf("corrupt: header length %d is outside [2, %d]", hlen, stMaxHeader)
	}
	header, err := io.ReadAll(io.LimitReader(r, int64(hlen)))
	if err != nil {
		return nil, nil, errors.Wrap(err, "reading the header")
	}
	if uint64(len(header)) < hlen {
		return nil, nil, errors.Errorf("truncated: the header is %d bytes, only %d follow", hlen, len(header))
	}
	checked, err := verifyHeader(lenBuf[:], header)
	if err != nil {
		return nil, nil, err
	}
	entries, metadata, err := parseSafetensorsHeader(header)
	if err != nil {
		return nil, nil, err
	}
	size, err := stLayout(entries)
	if err != nil {
		return nil, nil, err
	}
	data, err := readData(r, size, total-8-int64(hlen))
	if err != nil {
		return nil, nil, err
	}
	tensors := make([]stTensor, len(entries))
	for i, e := range entries {
		tensors[i] = stTensor{name: e.name, dtype: e.dtype, shape: e.shape, data: data[e.begin:e.end:e.end]}
	}
	if err := verifyTensors(tensors, metadata, checked); err != nil {
		return nil, nil, err
	}
	return tensors, metadata, nil
}

// readData reads the size bytes of tensor data that end the file, of which
// avail are known to be there (if avail ≥ 0): all at once when they are, in
// growing steps otherwise.
func readData(r io.Reader, size uint64, avail int64) ([]byte, error) {
	first := min(size, 1<<20)
	if avail >= 0 {
		first = min(size, uint64(avail))
	}
	data := make([]byte, first)
	n, err := io.ReadFull(r, data)
	if err == nil && first < size {
		var rest []byte
		rest, err = io.ReadAll(io.LimitReader(r, int64(min(size-first, math.MaxInt64))))
		data = append(data, rest...)
		n = len(data)
	}
	switch {
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return nil, errors.Wrap(err, "reading the tensor data")
	case uint64(n) < size:
		return nil, errors.Errorf("truncated: the tensors take %d bytes of data, only %d follow the header", size, n)
	}
	var extra [1]byte
	switch k, err := io.ReadFull(r, extra[:]); {
	case k > 0:
		return nil, errors.Errorf("corrupt: bytes follow the %d bytes of tensor data", size)
	case err != io.EOF:
		return nil, errors.Wrap(err, "reading past the tensor data")
	}
	return data, nil
}

// stEntry is a validated header entry.
type stEntry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64
}

// parseSafetensorsHeader checks and decodes the header: JSON text of one
// object, space-padded, whose entries are tensors and the metadata.
func parseSafetensorsHeader(header []byte) ([]stEntry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("corrupt header: not UTF-8")
	}
	if header[0] != '{' {
		return nil, nil, errors.Errorf("corrupt header: starts with %q, not a JSON object", header[0])
	}
	body := bytes.TrimRight(header, " ")
	if err := checkJSON(body); err != nil {
		return nil, nil, errors.Wrap(err, "corrupt header")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, errors.Wrap(err, "corrupt header")
	}
	if dec.InputOffset() != int64(len(body)) {
		return nil, nil, errors.New("corrupt header: bytes other than spaces after the JSON object")
	}
	var metadata map[string]string
	entries := make([]stEntry, 0, len(raw))
	for name, v := range raw {
		if name == stMetadata {
			if err := json.Unmarshal(v, &metadata); err != nil {
				return nil, nil, errors.Wrap(err, "corrupt header: __metadata__ is not an object of strings")
			}
			continue
		}
		e, err := parseSafetensorsEntry(name, v)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	return entries, metadata, nil
}

func parseSafetensorsEntry(name string, v json.RawMessage) (stEntry, error) {
	fail := func(format string, args ...any) (stEntry, error) {
		return stEntry{}, errors.Errorf("corrupt header: tensor %q: "+format, append([]any{name}, args...)...)
	}
	if name == "" {
		return fail("empty name")
	}
	var h stHeaderEntry
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return fail("%v", err)
	}
	switch {
	case h.Dtype == "" || h.Shape == nil || h.DataOffsets == nil:
		return fail("wants dtype, shape and data_offsets")
	case stElemSize(h.Dtype) == 0:
		// A valid file, of a type seqgraph does not read: not corrupt.
		return stEntry{}, errors.Errorf("tensor %q: dtype %q is not supported (seqgraph reads F32 and F64)", name, h.Dtype)
	case len(h.DataOffsets) != 2 || h.DataOffsets[0] > h.DataOffsets[1]:
		return fail("data_offsets %v are not [begin, end] with begin ≤ end", h.DataOffsets)
	}
	e := stEntry{name: name, dtype: h.Dtype, shape: make([]int, len(h.Shape)), begin: h.DataOffsets[0], end: h.DataOffsets[1]}
	// The element count must not overflow on the way to being compared
	// with the bytes it claims.
	n := uint64(stElemSize(h.Dtype))
	for i, d := range h.Shape {
		if d < 0 || d > math.MaxInt32 {
			return fail("shape %v has a size outside [0, %d]", h.Shape, math.MaxInt32)
		}
		e.shape[i] = int(d)
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 {
			return fail("shape %v is too large", h.Shape)
		}
		n = lo
	}
	if n != e.end-e.begin {
		return fail("shape %v of %s takes %d bytes, data_offsets %v give %d", h.Shape, h.Dtype, n, h.DataOffsets, e.end-e.begin)
	}
	return e, nil
}

// stLayout sorts entries by offset, checks that they cover the data section
// from its start without gaps or overlaps, and returns its size.
func stLayout(entries []stEntry) (uint64, error) {
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.name < b.name
	})
	var at uint64
	for i, e := range entries {
		if e.begin != at {
			what := "leaves a gap before it"
			if e.begin < at {
				what = "overlaps " + strconv.Quote(entries[i-1].name)
			}
			return 0, errors.Errorf("corrupt header: tensor %q at bytes [%d, %d) %s", e.name, e.begin, e.end, what)
		}
		at = e.end
	}
	return at, nil
}

// checkJSON checks that data is one JSON value, nested at most stMaxDepth
// deep, with no key twice in an object: encoding/json would silently keep
// the last of two, which another reader might not. Once the text is known to
// be well formed, a scan of its brackets, commas and strings finds the keys:
// much faster than json.Decoder's tokens, and with a stack of its own, so
// that hostile nesting cannot exhaust the goroutine's.
func checkJSON(data []byte) error {
	if !json.Valid(data) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		return errors.New("invalid JSON")
	}
	type level struct {
		keys      map[string]bool // nil for an array
		expectKey bool
	}
	var stack []level
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if len(stack) >= stMaxDepth {
				return errors.Errorf("nested more than %d deep", stMaxDepth)
			}
			l := level{}
			if data[i] == '{' {
				l = level{keys: make(map[string]bool), expectKey: true}
			}
			stack = append(stack, l)
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; stack[top].keys != nil {
				stack[top].expectKey = true
			}
		case '"':
			j := i + 1
			for ; data[j] != '"'; j++ {
				if data[j] == '\\' {
					j++
				}
			}
			if top := len(stack) - 1; top >= 0 && stack[top].expectKey {
				key := string(data[i+1 : j])
				if bytes.IndexByte(data[i:j], '\\') >= 0 {
					// Escapes: "a" and "\u0061" are one key.
					_ = json.Unmarshal(data[i:j+1], &key)
				}
				if stack[top].keys[key] {
					return errors.Errorf("key %q appears twice in an object", key)
				}
				stack[top].keys[key], stack[top].expectKey = true, false
			}
			i = j
		}
	}
	return nil
}
