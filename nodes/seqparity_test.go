package nodes

import (
	"encoding/json"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The fixtures come from PyTorch 1.13 (Debian's python3-torch) in float64,
// written by testdata/make_layer_fixtures.py, whose docstring gives the
// layout and the PyTorch module behind each op. PyTorch computes each
// sequence alone on its own real steps; the Go ops must give the same
// outputs and gradients inside a padded batch.

type layerFixture map[string]json.RawMessage

func loadLayerFixtures(t *testing.T) []layerFixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/layer_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []layerFixture }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no fixture cases")
	}
	return doc.Cases
}

func (f layerFixture) get(t *testing.T, key string, dst any) {
	t.Helper()
	raw, ok := f[key]
	if !ok {
		t.Fatalf("fixture has no field %q", key)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		t.Fatalf("fixture field %q: %v", key, err)
	}
}

func (f layerFixture) floats(t *testing.T, key string) []float64 {
	var v []float64
	f.get(t, key, &v)
	return v
}

func (f layerFixture) int(t *testing.T, key string) int {
	var v int
	f.get(t, key, &v)
	return v
}

func (f layerFixture) str(t *testing.T, key string) string {
	var v string
	f.get(t, key, &v)
	return v
}

func (f layerFixture) padding(t *testing.T) Padding1D {
	var p struct {
		Mode        string
		Left, Right int
	}
	f.get(t, "padding", &p)
	mode := map[string]PaddingMode{"explicit": PadExplicit, "same": PadSame, "causal": PadCausal}[p.Mode]
	return Padding1D{Mode: mode, Left: p.Left, Right: p.Right}
}

// parityCase is a fixture made into a test graph: its inputs, the inputs
// differentiated against with the fixture's name of each gradient, and the
// op.
type parityCase struct {
	ins   []tin
	wrt   []string
	grads []string
	build seqBuild
	// outMask, when set, checks the spec's OutputMask against the
	// fixture's.
	outMask func(mask []float64, steps, batch int) ([]float64, int, error)
}

func makeParityCase(t *testing.T, f layerFixture) parityCase {
	op := f.str(t, "op")
	if op == "layernorm" {
		n, c := f.int(t, "N"), f.int(t, "C")
		return parityCase{
			ins: []tin{{"x", []int{n, c}, f.floats(t, "x")}, {"scale", []int{c}, f.floats(t, "scale")},
				{"offset", []int{c}, f.floats(t, "offset")}},
			wrt: []string{"x", "scale", "offset"}, grads: []string{"dx", "dscale", "doffset"},
			build: func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
				return LayerNorm(in["x"], in["scale"], in["offset"], LayerNormEpsilon)
			},
		}
	}
	steps, batch := f.int(t, "T"), f.int(t, "B")
	if op == "embedding" {
		d, v := f.int(t, "D"), f.int(t, "V")
		return parityCase{
			ins: []tin{{"x", []int{steps * batch, 1}, f.floats(t, "x")}, {"w", []int{d, v}, f.floats(t, "w")}},
			wrt: []string{"w"}, grads: []string{"dw"},
			build: func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
				return Embedding(in["x"], in["w"], EmbeddingSpec{Batch: batch})
			},
		}
	}
	c := f.int(t, "C")
	pc := parityCase{
		ins: []tin{{"x", []int{steps * batch, c}, f.floats(t, "x")}, {"mask", []int{steps * batch}, f.floats(t, "mask")}},
		wrt: []string{"x"}, grads: []string{"dx"},
	}
	switch op {
	case "globalmax":
		pc.build = func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return GlobalMaxPool1D(in["x"], in["mask"], batch) }
	case "globalavg":
		pc.build = func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
			return GlobalAveragePool1D(in["x"], in["mask"], batch)
		}
	case "maxpool1d", "avgpool1d":
		spec := Pool1DSpec{Size: f.int(t, "size"), Stride: f.int(t, "stride"), Padding: f.padding(t)}
		pool := MaxPool1D
		if op == "avgpool1d" {
			pool = AveragePool1D
		}
		pc.build = func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return pool(in["x"], in["mask"], batch, spec) }
		pc.outMask = spec.OutputMask
	case "conv1d":
		k, size := f.int(t, "K"), f.int(t, "size")
		spec := Conv1DSpec{FilterSize: size, Stride: f.int(t, "stride"), Dilation: f.int(t, "dilation"), Padding: f.padding(t)}
		pc.ins = append(pc.ins, tin{"w", []int{k, c, size}, f.floats(t, "w")}, tin{"b", []int{k}, f.floats(t, "b")})
		pc.wrt, pc.grads = []string{"x", "w", "b"}, []string{"dx", "dw", "db"}
		pc.build = func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv1D(in["x"], in["w"], in["b"], in["mask"], batch, spec)
		}
		pc.outMask = spec.OutputMask
	default:
		t.Fatalf("unknown op %q", op)
	}
	return pc
}

// TestSeqOpsMatchPyTorch checks every op's output and gradients against
// PyTorch's, to 1e-9 in float64 and, as a check of the float32 kernels, to
// 1e-4 in float32; and the output masks and steps of the windowed ops.
func TestSeqOpsMatchPyTorch(t *testing.T) {
	for _, f := range loadLayerFixtures(t) {
		t.Run(f.str(t, "name"), func(t *testing.T) {
			pc := makeParityCase(t, f)
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				tol := 1e-9
				if dt == tensor.Float32 {
					tol = 1e-4
				}
				r := mustRun(t, dt, pc.ins, pc.wrt, f.floats(t, "gy"), pc.build)
				closeTo(t, dt.String()+" y", r.y, f.floats(t, "y"), tol)
				for i, name := range pc.wrt {
					closeTo(t, dt.String()+" "+pc.grads[i], r.grads[name], f.floats(t, pc.grads[i]), tol)
				}
			}
			if pc.outMask != nil {
				m, steps, err := pc.outMask(f.floats(t, "mask"), f.int(t, "T"), f.int(t, "B"))
				if err != nil {
					t.Fatal(err)
				}
				if want := f.int(t, "out_steps"); steps != want {
					t.Fatalf("output steps %d, want %d", steps, want)
				}
				closeTo(t, "output mask", m, f.floats(t, "out_mask"), 0)
			}
		})
	}
}
