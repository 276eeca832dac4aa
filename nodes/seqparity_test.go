package nodes

import (
	"encoding/json"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

// The fixtures come from PyTorch 1.13 (Debian's python3-torch) in float64,
// written by testdata/make_layer_fixtures.py, whose docstring gives the
// layout and the PyTorch module behind each op. PyTorch computes each
// sequence alone on its own real steps; the Go ops must give the same
// outputs and gradients inside a padded batch.

// layerFixture is one case of the file; which fields it has depends on
// its op.
type layerFixture struct {
	Name, Op                  string
	T, B, C, K, D, V, N, Size int
	Stride, Dilation          int
	Padding                   struct {
		Mode        string
		Left, Right int
	}
	X, Mask, W, Y, Gy, Dx, Dw, Db []float64
	Bias                          []float64 `json:"b"`
	Scale, Offset                 []float64
	Dscale, Doffset               []float64
	OutMask                       []float64 `json:"out_mask"`
	OutSteps                      int       `json:"out_steps"`
}

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

func (f layerFixture) padding() Padding1D {
	mode := map[string]PaddingMode{"explicit": PadExplicit, "same": PadSame, "causal": PadCausal}[f.Padding.Mode]
	return Padding1D{Mode: mode, Left: f.Padding.Left, Right: f.Padding.Right}
}

// parityCase is a fixture made into a test graph: its inputs, the inputs
// differentiated against with the fixture's name of each gradient, and the
// op.
type parityCase struct {
	ins   []tin
	wrt   []string
	grads [][]float64
	build seqBuild
	// outMask, when set, checks the spec's OutputMask against the
	// fixture's.
	outMask func(mask []float64, steps, batch int) ([]float64, int, error)
}

func makeParityCase(t *testing.T, f layerFixture) parityCase {
	switch f.Op {
	case "layernorm":
		return parityCase{
			ins: []tin{{"x", []int{f.N, f.C}, f.X}, {"scale", []int{f.C}, f.Scale}, {"offset", []int{f.C}, f.Offset}},
			wrt: []string{"x", "scale", "offset"}, grads: [][]float64{f.Dx, f.Dscale, f.Doffset},
			build: layerNormBuild(LayerNormEpsilon),
		}
	case "embedding":
		return parityCase{
			ins: []tin{{"x", []int{f.T * f.B, 1}, f.X}, {"w", []int{f.D, f.V}, f.W}},
			wrt: []string{"w"}, grads: [][]float64{f.Dw},
			build: embedBuild(EmbeddingSpec{Batch: f.B}),
		}
	}
	pc := parityCase{
		ins: []tin{{"x", []int{f.T * f.B, f.C}, f.X}, {"mask", []int{f.T * f.B}, f.Mask}},
		wrt: []string{"x"}, grads: [][]float64{f.Dx},
	}
	pool := Pool1DSpec{Size: f.Size, Stride: f.Stride, Padding: f.padding()}
	switch f.Op {
	case "globalmax":
		pc.build = globalBuild(GlobalMaxPool1D, f.B)
	case "globalavg":
		pc.build = globalBuild(GlobalAveragePool1D, f.B)
	case "maxpool1d":
		pc.build, pc.outMask = poolBuild(MaxPool1D, f.B, pool), pool.OutputMask
	case "avgpool1d":
		pc.build, pc.outMask = poolBuild(AveragePool1D, f.B, pool), pool.OutputMask
	case "conv1d":
		spec := Conv1DSpec{FilterSize: f.Size, Stride: f.Stride, Dilation: f.Dilation, Padding: f.padding()}
		pc.ins = append(pc.ins, tin{"w", []int{f.K, f.C, f.Size}, f.W}, tin{"b", []int{f.K}, f.Bias})
		pc.wrt, pc.grads = []string{"x", "w", "b"}, [][]float64{f.Dx, f.Dw, f.Db}
		pc.build, pc.outMask = convBuild(f.B, spec), spec.OutputMask
	default:
		t.Fatalf("unknown op %q", f.Op)
	}
	return pc
}

// TestSeqOpsMatchPyTorch checks every op's output and gradients against
// PyTorch's, to 1e-9 in float64 and, as a check of the float32 kernels, to
// 1e-4 in float32; and the output masks and steps of the windowed ops.
func TestSeqOpsMatchPyTorch(t *testing.T) {
	for _, f := range loadLayerFixtures(t) {
		t.Run(f.Name, func(t *testing.T) {
			pc := makeParityCase(t, f)
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				tol := 1e-9
				if dt == tensor.Float32 {
					tol = 1e-4
				}
				r := mustRun(t, dt, pc.ins, pc.wrt, f.Gy, pc.build)
				closeTo(t, dt.String()+" y", r.y, f.Y, tol)
				for i, name := range pc.wrt {
					closeTo(t, dt.String()+" d"+name, r.grads[name], pc.grads[i], tol)
				}
			}
			if pc.outMask != nil {
				m, steps, err := pc.outMask(f.Mask, f.T, f.B)
				if err != nil {
					t.Fatal(err)
				}
				if steps != f.OutSteps {
					t.Fatalf("output steps %d, want %d", steps, f.OutSteps)
				}
				closeTo(t, "output mask", m, f.OutMask, 0)
			}
		})
	}
}
