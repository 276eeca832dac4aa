package dataset

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/pkg/errors"
)

// NumPyArray is an array read from a NumPy .npy file or .npz archive by
// ReadNumPy or ReadNumPyArchive, its elements converted to float64 and laid
// out in row-major (C) order whatever the order of the file.
type NumPyArray struct {
	Shape []int
	Data  []float64
	// DType is NumPy's name of the type the file stores, such as "float32"
	// or "int64".
	DType string
	// name says where the array comes from, for messages.
	name string
}

// numpyType is a NumPy dtype that ReadNumPy converts to float64.
type numpyType struct {
	name string
	size int
	read func(r *npy.Reader, n int) ([]float64, error)
}

// numpyTypes are the supported dtypes, by kind and size as in the
// type string of a .npy header ("<f8" is kind f, size 8).
var numpyTypes = map[string]numpyType{
	"f4": {"float32", 4, readAs[float32]},
	"f8": {"float64", 8, readAs[float64]},
	"i1": {"int8", 1, readAs[int8]},
	"i2": {"int16", 2, readAs[int16]},
	"i4": {"int32", 4, readAs[int32]},
	"i8": {"int64", 8, readWide[int64]},
	"u1": {"uint8", 1, readAs[uint8]},
	"u2": {"uint16", 2, readAs[uint16]},
	"u4": {"uint32", 4, readAs[uint32]},
	"u8": {"uint64", 8, readWide[uint64]},
	"b1": {"bool", 1, readBool},
}

// numpyKindNames names the dtype kinds that are not supported, for
// messages.
var numpyKindNames = map[byte]string{
	'f': "float", 'c': "complex", 'U': "Unicode string", 'S': "byte string", 'a': "byte string",
	'O': "object", 'M': "datetime64", 'm': "timedelta64", 'V': "void (raw or structured)",
}

// ReadNumPy reads the array of a NumPy .npy file, as written by numpy.save,
// through the npyio library. The array may hold floats (float32, float64),
// integers (int8 to int64, uint8 to uint64) or booleans, in either byte
// order and in C or Fortran order; the elements are converted to float64,
// which must represent every integer exactly (magnitudes below 2^53).
// Other dtypes (float16, complex, strings, objects, dates, structured
// arrays) are an error that names the dtype, as are a 0-dimensional array,
// an array with no elements and a file that ends before its data does.
//
// Sequences, Labels and Responses turn the array into the arguments of the
// set constructors.
func ReadNumPy(path string) (NumPyArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return NumPyArray{}, errors.Wrap(err, "dataset")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return NumPyArray{}, errors.Wrap(err, "dataset")
	}
	a, err := parseNumPy(f, st.Size())
	if err != nil {
		return NumPyArray{}, errors.Wrapf(err, "dataset: %s", path)
	}
	a.name = path
	return a, nil
}

// ReadNumPyArchive reads arrays of a NumPy .npz archive, as written by
// numpy.savez or numpy.savez_compressed, by name: the name given to savez,
// which is that of the entry without its ".npy". With no names it reads
// every array of the archive. Each array is read as ReadNumPy reads a file;
// a name the archive does not hold is an error that lists those it holds.
func ReadNumPyArchive(path string, names ...string) (map[string]NumPyArray, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, errors.Wrap(err, "dataset")
	}
	defer z.Close()
	entries := make(map[string]*zip.File, len(z.File))
	var keys []string
	for _, f := range z.File {
		key := strings.TrimSuffix(f.Name, ".npy")
		entries[key] = f
		keys = append(keys, key)
	}
	if len(names) == 0 {
		names = keys
		if len(names) == 0 {
			return nil, errors.Errorf("dataset: %s: no arrays in the archive", path)
		}
	}
	out := make(map[string]NumPyArray, len(names))
	for _, name := range names {
		f, ok := entries[name]
		if !ok {
			return nil, errors.Errorf("dataset: %s: no array %q; the archive holds %s", path, name, quoteList(keys))
		}
		a, err := readZipEntry(f)
		if err != nil {
			return nil, errors.Wrapf(err, "dataset: %s: array %q", path, name)
		}
		a.name = fmt.Sprintf("%s: array %q", path, name)
		out[name] = a
	}
	return out, nil
}

func readZipEntry(f *zip.File) (NumPyArray, error) {
	r, err := f.Open()
	if err != nil {
		return NumPyArray{}, err
	}
	defer r.Close()
	if f.UncompressedSize64 > math.MaxInt64 {
		return NumPyArray{}, errors.Errorf("entry of %d bytes is too large", f.UncompressedSize64)
	}
	return parseNumPy(r, int64(f.UncompressedSize64))
}

// parseNumPy reads a .npy stream of size bytes. Its errors do not say which
// file: the caller knows.
func parseNumPy(r io.Reader, size int64) (a NumPyArray, err error) {
	// npyio panics on some malformed headers; a bad file must be an error.
	defer func() {
		if p := recover(); p != nil {
			a, err = NumPyArray{}, errors.Errorf("malformed .npy data: %v", p)
		}
	}()
	br := bufio.NewReader(r)
	if err := checkNumPyPreamble(br, size); err != nil {
		return NumPyArray{}, err
	}
	rr, err := npy.NewReader(br)
	if err != nil {
		return NumPyArray{}, errors.Wrap(err, "not a .npy array")
	}
	h := rr.Header.Descr
	typ, err := lookUpNumPyType(h.Type)
	if err != nil {
		return NumPyArray{}, err
	}
	n, err := numElements(h.Shape)
	if err != nil {
		return NumPyArray{}, err
	}
	if int64(n) > size/int64(typ.size) {
		return NumPyArray{}, errors.Errorf("shape %v of %s needs %d bytes, more than the %d bytes of the file", h.Shape, typ.name, int64(n)*int64(typ.size), size)
	}
	data, err := typ.read(rr, n)
	if err != nil {
		return NumPyArray{}, err
	}
	shape := slices.Clone(h.Shape)
	if h.Fortran {
		data = fortranToC(data, shape)
	}
	return NumPyArray{Shape: shape, Data: data, DType: typ.name}, nil
}

// maxNumPyHeader bounds the header of a .npy file, which describes an
// array in a few dozen bytes, against a corrupt length that would make
// npyio allocate gigabytes.
const maxNumPyHeader = 1 << 20

// checkNumPyPreamble checks the magic string, version and header length at
// the start of a .npy stream of size bytes, without consuming them.
func checkNumPyPreamble(br *bufio.Reader, size int64) error {
	b, err := br.Peek(10)
	if err != nil || string(b[:6]) != "\x93NUMPY" {
		return errors.New("not a .npy array: no \\x93NUMPY magic string at the start")
	}
	var n int64
	switch b[6] {
	case 1:
		n = int64(b[8]) | int64(b[9])<<8
	case 2:
		if b, err = br.Peek(12); err != nil {
			return errors.New("not a .npy array: the file ends in its preamble")
		}
		n = int64(b[8]) | int64(b[9])<<8 | int64(b[10])<<16 | int64(b[11])<<24
	default:
		return errors.Errorf(".npy format version %d.%d is not supported, want 1.0 or 2.0", b[6], b[7])
	}
	if n > maxNumPyHeader || n > size {
		return errors.Errorf("the .npy header claims %d bytes, more than the file's %d or the most a header may have", n, size)
	}
	return nil
}

// lookUpNumPyType finds the dtype of a .npy header's type string, such as
// '<f8' (quotes included, as npyio gives it).
func lookUpNumPyType(s string) (numpyType, error) {
	t := strings.Trim(s, "'\"")
	if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "(") || strings.HasPrefix(t, "{") {
		return numpyType{}, errors.Errorf("structured dtype %s is not supported, want a plain array of numbers", s)
	}
	if t != "" && strings.ContainsRune("<>|=", rune(t[0])) {
		t = t[1:]
	}
	if typ, ok := numpyTypes[t]; ok {
		return typ, nil
	}
	hint := ""
	if t == "f2" {
		hint = " (convert with astype(numpy.float32))"
	}
	if t != "" {
		if kind, ok := numpyKindNames[t[0]]; ok {
			return numpyType{}, errors.Errorf("dtype %s (%s) is not supported%s, want floats, integers or booleans", s, kind, hint)
		}
	}
	return numpyType{}, errors.Errorf("dtype %s is not supported, want floats, integers or booleans", s)
}

// numElements returns the number of elements of an array of shape, which
// must have at least one dimension and one element.
func numElements(shape []int) (int, error) {
	if len(shape) == 0 {
		return 0, errors.New("0-dimensional array (a scalar), want an array of 1 to 3 dimensions")
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, errors.Errorf("shape %v has a negative dimension", shape)
		}
		if d > 0 && n > math.MaxInt32/d {
			return 0, errors.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	if n == 0 {
		return 0, errors.Errorf("shape %v has no elements", shape)
	}
	return n, nil
}

// readAs reads n elements stored as T and converts them to float64.
func readAs[T float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](r *npy.Reader, n int) ([]float64, error) {
	return readWith(r, n, func(x T) float64 { return float64(x) })
}

// readBool reads n booleans as 0 and 1.
func readBool(r *npy.Reader, n int) ([]float64, error) {
	return readWith(r, n, func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	})
}

// readWith reads n elements stored as T and converts them with conv.
func readWith[T any](r *npy.Reader, n int, conv func(T) float64) ([]float64, error) {
	var v []T
	if err := r.Read(&v); err != nil {
		return nil, readError(err)
	}
	if len(v) != n {
		return nil, errors.Errorf("read %d elements, want %d", len(v), n)
	}
	out := make([]float64, n)
	for i, x := range v {
		out[i] = conv(x)
	}
	return out, nil
}

// readWide is readAs for 64-bit integers, failing for magnitudes of 2^53
// or more, which float64 would round.
func readWide[T int64 | uint64](r *npy.Reader, n int) ([]float64, error) {
	out, err := readAs[T](r, n)
	if err != nil {
		return nil, err
	}
	for i, v := range out {
		if math.Abs(v) >= 1<<53 {
			return nil, errors.Errorf("element %d is about %.17g, too large in magnitude to convert to float64 exactly (2^53 or more)", i, v)
		}
	}
	return out, nil
}

// readError explains an error of npyio reading the data of an array.
func readError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the data ends before the array does")
	}
	return errors.Wrap(err, "reading the data")
}

// fortranToC reorders data of shape from column-major (Fortran) order, the
// first index varying fastest, to row-major (C) order.
func fortranToC(data []float64, shape []int) []float64 {
	stride := make([]int, len(shape))
	s := 1
	for d := len(shape) - 1; d >= 0; d-- {
		stride[d] = s
		s *= shape[d]
	}
	out := make([]float64, len(data))
	idx := make([]int, len(shape))
	off := 0
	for _, v := range data {
		out[off] = v
		for d := range idx {
			idx[d]++
			off += stride[d]
			if idx[d] < shape[d] {
				break
			}
			off -= idx[d] * stride[d]
			idx[d] = 0
		}
	}
	return out
}

// where names a for messages.
func (a NumPyArray) where() string {
	if a.name == "" {
		return "array"
	}
	return a.name
}

// Sequences returns the sequences of a: one sequence of T timesteps of F
// features from a 2-D array [T, F], or N sequences from a 3-D array
// [N, T, F] as Padded describes, sequence i of lengths[i] timesteps
// followed by padding, or of all T with lengths nil. (A set of univariate
// sequences [N, T] must be given its feature axis first, as x[..., None]
// in NumPy.) Left-padded arrays need a Padded of a.Data with PadLeft.
func (a NumPyArray) Sequences(lengths []int) ([]Sequence, error) {
	switch len(a.Shape) {
	case 2:
		if lengths != nil {
			return nil, errors.Errorf("dataset: %s: lengths given for a 2-D array, which is one sequence", a.where())
		}
		s := Sequence{Data: slices.Clone(a.Data), T: a.Shape[0], F: a.Shape[1]}
		if err := s.check(); err != nil {
			return nil, errors.Wrapf(err, "dataset: %s: sequence", a.where())
		}
		return []Sequence{s}, nil
	case 3:
		seqs, err := Padded{Data: a.Data, N: a.Shape[0], T: a.Shape[1], F: a.Shape[2], Lengths: lengths}.sequences()
		if err != nil {
			return nil, errors.Wrapf(err, "dataset: %s", a.where())
		}
		return seqs, nil
	}
	return nil, errors.Errorf("dataset: %s: shape %v, want [T, F] for one sequence or [N, T, F] for N", a.where(), a.Shape)
}

// Labels returns the elements of a 1-D array of integers or booleans as
// class labels, for NewClassification. Labels must not be negative.
func (a NumPyArray) Labels() ([]int, error) {
	if len(a.Shape) != 1 {
		return nil, errors.Errorf("dataset: %s: shape %v, want one label per sequence, [N]", a.where(), a.Shape)
	}
	if !strings.HasPrefix(a.DType, "int") && !strings.HasPrefix(a.DType, "uint") && a.DType != "bool" {
		return nil, errors.Errorf("dataset: %s: labels of dtype %s, want integers (astype(numpy.int64) converts them)", a.where(), a.DType)
	}
	out := make([]int, len(a.Data))
	for i, v := range a.Data {
		if v < 0 {
			return nil, errors.Errorf("dataset: %s: label %d is %v, want 0 or more", a.where(), i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

// Responses returns the rows of a as per-sequence responses, for
// NewRegression: one value per sequence from a 1-D array [N], or R from a
// 2-D array [N, R]. The rows share a's storage.
func (a NumPyArray) Responses() ([][]float64, error) {
	var r int
	switch len(a.Shape) {
	case 1:
		r = 1
	case 2:
		r = a.Shape[1]
	default:
		return nil, errors.Errorf("dataset: %s: shape %v, want [N] or [N, R] responses", a.where(), a.Shape)
	}
	out := make([][]float64, a.Shape[0])
	for i := range out {
		out[i] = a.Data[i*r : (i+1)*r : (i+1)*r]
	}
	return out, nil
}

// String returns the dtype and shape of a, as "float32 [2 3 4]".
func (a NumPyArray) String() string {
	dims := make([]string, len(a.Shape))
	for k, d := range a.Shape {
		dims[k] = strconv.Itoa(d)
	}
	return fmt.Sprintf("%s [%s]", a.DType, strings.Join(dims, " "))
}
