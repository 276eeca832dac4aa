package dataset

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"
)

// seq3d is the array of testdata/numpy/seq3d_f8.npy, [3, 4, 2] with value
// 100*i + 10*t + f, as make.py writes it.
func seq3d() []float64 {
	var out []float64
	for i := range 3 {
		for t := range 4 {
			for f := range 2 {
				out = append(out, float64(100*i+10*t+f))
			}
		}
	}
	return out
}

// TestReadNumPyFixtures reads the files that numpy.save wrote (make.py
// beside them), in every supported dtype, byte order and memory order.
func TestReadNumPyFixtures(t *testing.T) {
	for _, test := range []struct {
		file  string
		dtype string
		shape []int
		data  []float64
	}{
		{"seq3d_f8", "float64", []int{3, 4, 2}, seq3d()},
		{"seq3d_f8_fortran_big", "float64", []int{3, 4, 2}, seq3d()},
		{"seq2d_f4_fortran", "float32", []int{3, 2}, []float64{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}},
		{"labels_i8", "int64", []int{3}, []float64{2, 0, 1}},
		{"labels_u1", "uint8", []int{3}, []float64{1, 0, 3}},
		{"labels_i4_big", "int32", []int{3}, []float64{0, 1, 2}},
		{"labels_bool", "bool", []int{3}, []float64{1, 0, 1}},
		{"responses_f8", "float64", []int{3, 2}, []float64{0.5, -1, 2, 0.25, 3, 4}},
	} {
		a, err := ReadNumPy(filepath.Join("testdata", "numpy", test.file+".npy"))
		if err != nil {
			t.Errorf("%s: %v", test.file, err)
			continue
		}
		if a.DType != test.dtype || !slices.Equal(a.Shape, test.shape) || !slices.Equal(a.Data, test.data) {
			t.Errorf("%s: %v %v, want %s %v %v", test.file, a, a.Data, test.dtype, test.shape, test.data)
		}
	}
}

func TestReadNumPyUnsupported(t *testing.T) {
	for _, test := range []struct {
		file string
		want []string
	}{
		{"complex128", []string{"dtype '<c16' (complex) is not supported"}},
		{"strings", []string{"dtype '<U4' (Unicode string) is not supported"}},
		{"object", []string{"dtype '|O' (object) is not supported"}},
		{"float16", []string{"dtype '<f2' (float) is not supported", "astype(numpy.float32)"}},
		{"datetime", []string{"(datetime64) is not supported"}},
		{"structured", []string{"structured dtype"}},
		{"scalar", []string{"0-dimensional array"}},
		{"empty", []string{"shape [0 3] has no elements"}},
		{"int64_huge", []string{"element 1 is about 1.152921504606847e+18, too large"}},
	} {
		path := filepath.Join("testdata", "numpy", test.file+".npy")
		_, err := ReadNumPy(path)
		checkErr(t, test.file, err, append(test.want, path)...)
	}
}

// TestNumPyRoundTrip writes arrays with npyio's writer, reads them back
// and builds a set.
func TestNumPyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var x [2][3][2]float32
	for i := range x {
		for tt := range x[i] {
			for f := range x[i][tt] {
				x[i][tt][f] = float32(i) + float32(tt)/4 + float32(f)/8
			}
		}
	}
	write := func(name string, v any) string {
		path := filepath.Join(dir, name)
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if err := npy.Write(fh, v); err != nil {
			t.Fatal(err)
		}
		return path
	}
	xa, err := ReadNumPy(write("x.npy", x))
	if err != nil {
		t.Fatal(err)
	}
	ya, err := ReadNumPy(write("y.npy", []int32{1, 0}))
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := xa.Sequences([]int{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	labels, err := ya.Labels()
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewClassification(seqs, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		s := set.Sequence(i)
		if s.T != 3-i || s.F != 2 {
			t.Fatalf("sequence %d is %dx%d, want %dx2", i, s.T, s.F, 3-i)
		}
		for tt := range s.T {
			for f := range 2 {
				if s.At(tt, f) != float64(x[i][tt][f]) {
					t.Errorf("sequence %d (%d, %d) = %v, want %v", i, tt, f, s.At(tt, f), x[i][tt][f])
				}
			}
		}
	}
	if set.Label(0) != 1 || set.Label(1) != 0 {
		t.Errorf("labels %d %d, want 1 0", set.Label(0), set.Label(1))
	}

	// The same arrays in an archive, named as numpy.savez names them.
	path := filepath.Join(dir, "data.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"x.npy": x, "y.npy": []uint16{1, 0}, "r.npy": []float64{0.5, 1.5}} {
		if err := w.Write(name, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	arrays, err := ReadNumPyArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(arrays) != 3 || !slices.Equal(arrays["x"].Data, xa.Data) || !slices.Equal(arrays["y"].Data, ya.Data) || arrays["y"].DType != "uint16" {
		t.Errorf("archive holds %v, want x as %v and y as %v", arrays, xa, ya)
	}
	responses, err := arrays["r"].Responses()
	if err != nil {
		t.Fatal(err)
	}
	if len(responses) != 2 || responses[1][0] != 1.5 {
		t.Errorf("responses %v, want [[0.5] [1.5]]", responses)
	}
	_, err = ReadNumPyArchive(path, "x", "labels")
	checkErr(t, "unknown array", err, path, `no array "labels"; the archive holds`, `"x"`, `"y"`, `"r"`)
}

func TestReadNumPyArchiveFixture(t *testing.T) {
	path := filepath.Join("testdata", "numpy", "train.npz")
	arrays, err := ReadNumPyArchive(path, "x", "y")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(arrays["x"].Data, seq3d()) || !slices.Equal(arrays["y"].Data, []float64{2, 0, 1}) {
		t.Errorf("read %v and %v", arrays["x"], arrays["y"])
	}
	_, err = ReadNumPyArchive(path)
	checkErr(t, "every array, one of strings", err, path, `array "names"`, "Unicode string")
	_, err = ReadNumPyArchive(filepath.Join("testdata", "numpy", "seq3d_f8.npy"))
	checkErr(t, "not an archive", err, "zip")
}

func TestReadNumPyCorrupt(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "numpy", "seq3d_f8.npy"))
	if err != nil {
		t.Fatal(err)
	}
	header := func(h string) []byte {
		b := []byte("\x93NUMPY\x01\x00")
		return append(append(b, byte(len(h)), byte(len(h)>>8)), h...)
	}
	for _, test := range []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"not a .npy array"}},
		{"text", []byte("1,2,3\n4,5,6\n"), []string{"not a .npy array", "magic"}},
		{"truncated data", good[:len(good)-12], []string{"the data ends before the array does"}},
		{"truncated header", good[:40], []string{"header claims 118 bytes, more than the file's 40"}},
		{"truncated preamble", good[:9], []string{"not a .npy array"}},
		{"version 3", append([]byte("\x93NUMPY\x03\x00"), good[8:]...), []string{"version 3.0 is not supported"}},
		{"huge header", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), []string{"header claims 2147483647 bytes"}},
		{"no newline", header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"), []string{"malformed .npy data"}},
		{"negative shape", header("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }\n"), []string{"negative dimension"}},
		{"too large", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }\n"), []string{"shape [1000] of float64 needs 8000 bytes"}},
		{"bad order", header("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,), }\n"), []string{"fortran_order"}},
	} {
		path := filepath.Join(t.TempDir(), "a.npy")
		if err := os.WriteFile(path, test.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadNumPy(path)
		checkErr(t, test.name, err, append(test.want, path)...)
	}
}

func TestNumPyArrayConversions(t *testing.T) {
	a := NumPyArray{Shape: []int{2, 2, 1}, Data: []float64{1, 2, 3, 4}, DType: "float64", name: "x.npy"}
	for _, test := range []struct {
		name string
		f    func() error
		want []string
	}{
		{"lengths of a 2-D array", func() error {
			_, err := NumPyArray{Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}, DType: "float64"}.Sequences([]int{1})
			return err
		}, []string{"lengths given for a 2-D array"}},
		{"1-D sequences", func() error {
			_, err := NumPyArray{Shape: []int{4}, Data: []float64{1, 2, 3, 4}, DType: "float64"}.Sequences(nil)
			return err
		}, []string{"shape [4], want [T, F] for one sequence or [N, T, F]"}},
		{"bad length", func() error { _, err := a.Sequences([]int{3, 1}); return err }, []string{"x.npy: sequence 0 has length 3, want 1 to T = 2"}},
		{"float labels", func() error {
			_, err := NumPyArray{Shape: []int{2}, Data: []float64{1, 0}, DType: "float64"}.Labels()
			return err
		}, []string{"labels of dtype float64, want integers"}},
		{"2-D labels", func() error { _, err := a.Labels(); return err }, []string{"x.npy: shape [2 2 1], want one label per sequence"}},
		{"negative label", func() error {
			_, err := NumPyArray{Shape: []int{3}, Data: []float64{1, -1, 0}, DType: "int16"}.Labels()
			return err
		}, []string{"label 1 is -1, want 0 or more"}},
		{"3-D responses", func() error { _, err := a.Responses(); return err }, []string{"shape [2 2 1], want [N] or [N, R] responses"}},
		{"NaN", func() error {
			_, err := NumPyArray{Shape: []int{1, 2}, Data: []float64{1, math.NaN()}, DType: "float64"}.Sequences(nil)
			return err
		}, []string{"sequence: timestep 0, feature 1 is NaN"}},
	} {
		checkErr(t, test.name, test.f(), test.want...)
	}
	seqs, err := a.Sequences(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSequences(t, "3-D", seqs, []Sequence{{Data: []float64{1, 2}, T: 2, F: 1}, {Data: []float64{3, 4}, T: 2, F: 1}})
}

// FuzzNumPy checks that reading any bytes as a .npy file either fails or
// gives an array whose shape accounts for its data.
func FuzzNumPy(f *testing.F) {
	for _, name := range []string{"seq3d_f8", "seq2d_f4_fortran", "labels_bool", "object", "structured"} {
		b, err := os.ReadFile(filepath.Join("testdata", "numpy", name+".npy"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseNumPy(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if a.Data != nil {
				t.Fatalf("error %v with data", err)
			}
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Data) || n == 0 || !strings.Contains("float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool", a.DType) {
			t.Fatalf("array %v with %d values", a, len(a.Data))
		}
	})
}
