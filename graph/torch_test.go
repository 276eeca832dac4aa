package graph

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/rnn"
)

// torchDir holds the state_dicts of graph/testdata/torch/make_state_dicts.py
// (torch_*) and of TestWriteStateDictFixtures (go_*).
const torchDir = "testdata/torch"

// torchNet is a network of make_state_dicts.py, declared in seqgraph, with
// the map from its layers to the PyTorch model's modules (nil: the default
// names).
type torchNet struct {
	name    string
	layers  func() []Layer
	modules map[string]string
	// goToTorch: the script checks the state_dicts that seqgraph writes
	// for this network too.
	goToTorch bool
}

func newElman(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
	return rnn.NewElman(g, p, name, in, out)
}

// torchNets are the networks of make_state_dicts.py, whose docstring gives
// each PyTorch model.
func torchNets() []torchNet {
	return []torchNet{
		{"lstm", func() []Layer {
			return []Layer{SequenceInput(3), LSTM(5, WithOutputMode(rnn.Last)), FullyConnected(4), Softmax(), ClassificationOutput()}
		}, nil, true},
		{"gru", func() []Layer {
			return []Layer{SequenceInput(3), GRU(4), FullyConnected(2), RegressionOutput()}
		}, map[string]string{"gru1": "rnn", "fc1": "head"}, true},
		{"bilstm2", func() []Layer {
			return []Layer{SequenceInput(3), BiLSTM(4), BiLSTM(4, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()}
		}, map[string]string{"bilstm1": "encoder.lstm@0", "bilstm2": "encoder.lstm@1", "fc1": "classifier"}, true},
		{"convembed", func() []Layer {
			return []Layer{SequenceInput(1), WordEmbedding(4, 9), Convolution1D(3, 5, WithPadding(1, 1)), ReLU(),
				LayerNormalization(), GlobalAveragePooling1D(), FullyConnected(3), Softmax(), ClassificationOutput()}
		}, map[string]string{"embedding1": "embed", "conv1d1": "conv", "layernorm1": "norm", "fc1": "out"}, true},
		{"rnn_nobias", func() []Layer {
			return []Layer{SequenceInput(3), Recurrent(4, newElman, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()}
		}, map[string]string{"rnn1": "rnn", "fc1": "fc"}, false},
	}
}

func (c torchNet) options() []TorchOption {
	if c.modules == nil {
		return nil
	}
	return []TorchOption{WithTorchModules(c.modules)}
}

func (c torchNet) network(t testing.TB, dt tensor.Dtype) *Network {
	t.Helper()
	net, err := NewNetwork(c.layers(), WithDtype(dt), WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// torchIO is the JSON beside a state_dict: inputs, one T×F sequence each,
// and the model's outputs for them, a vector per sequence or one per step.
type torchIO struct {
	Dtype   string          `json:"dtype"`
	Inputs  [][][]float64   `json:"inputs"`
	Outputs json.RawMessage `json:"outputs"`
}

func readTorchIO(t *testing.T, path string) torchIO {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var io torchIO
	if err := json.Unmarshal(b, &io); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return io
}

// torchOutputs returns the network's outputs for the inputs, as one padded
// batch, flattened, in the shape of the JSON's outputs.
func torchOutputs(t *testing.T, net *Network, inputs [][][]float64) (any, []float64) {
	t.Helper()
	b := fixtureBatch(t, fixtureIO{Inputs: inputs})
	var out any
	var err error
	if net.PerStep() {
		out, err = net.PredictStepsBatch(b)
	} else {
		out, err = net.PredictBatch(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out, flatten(out)
}

func flatten(v any) []float64 {
	switch v := v.(type) {
	case [][]float64:
		var out []float64
		for _, r := range v {
			out = append(out, r...)
		}
		return out
	case [][][]float64:
		var out []float64
		for _, r := range v {
			for _, s := range r {
				out = append(out, s...)
			}
		}
		return out
	}
	panic("flatten: not a matrix")
}

// compareTorchOutputs returns the largest difference between the network's
// outputs for the JSON's inputs and the JSON's outputs.
func compareTorchOutputs(t *testing.T, net *Network, io torchIO) float64 {
	t.Helper()
	got, flat := torchOutputs(t, net, io.Inputs)
	switch got.(type) {
	case [][]float64:
		var want [][]float64
		if err := json.Unmarshal(io.Outputs, &want); err != nil {
			t.Fatal(err)
		}
		return maxDiff(t, flat, flatten(want))
	default:
		var want [][][]float64
		if err := json.Unmarshal(io.Outputs, &want); err != nil {
			t.Fatal(err)
		}
		return maxDiff(t, flat, flatten(want))
	}
}

func maxDiff(t *testing.T, got, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want[i]))
	}
	return worst
}

var torchDtypes = []struct {
	dt  tensor.Dtype
	tol float64
}{{tensor.Float32, 1e-6}, {tensor.Float64, 1e-12}}

// TestStateDictFromPyTorch loads the state_dicts of PyTorch models that
// make_state_dicts.py wrote and checks that the networks predict what the
// models did, PyTorch's outputs written beside them, to 1e-6 in float32 and
// 1e-12 in float64.
func TestStateDictFromPyTorch(t *testing.T) {
	for _, c := range torchNets() {
		for _, d := range torchDtypes {
			name := "torch_" + c.name + "_" + dtypeName(d.dt)
			t.Run(name, func(t *testing.T) {
				net := c.network(t, d.dt)
				if err := net.LoadStateDictFile(filepath.Join(torchDir, name+".safetensors"), c.options()...); err != nil {
					t.Fatal(err)
				}
				worst := compareTorchOutputs(t, net, readTorchIO(t, filepath.Join(torchDir, name+".json")))
				if worst > d.tol {
					t.Errorf("outputs differ from PyTorch's by up to %.3g; want at most %g", worst, d.tol)
				}
				t.Logf("largest difference %.3g", worst)
			})
		}
	}
}

// TestStateDictConvertsDtypes loads float32 state_dicts into float64
// networks and float64 ones into float32 networks: the weights convert (F32
// into float64 exactly, F64 into float32 rounded), so that the outputs
// match PyTorch's to float32's precision.
func TestStateDictConvertsDtypes(t *testing.T) {
	for _, c := range torchNets() {
		for _, conv := range []struct{ file, net tensor.Dtype }{{tensor.Float32, tensor.Float64}, {tensor.Float64, tensor.Float32}} {
			name := "torch_" + c.name + "_" + dtypeName(conv.file)
			t.Run(name+"_into_"+dtypeName(conv.net), func(t *testing.T) {
				net := c.network(t, conv.net)
				if err := net.LoadStateDictFile(filepath.Join(torchDir, name+".safetensors"), c.options()...); err != nil {
					t.Fatal(err)
				}
				if worst := compareTorchOutputs(t, net, readTorchIO(t, filepath.Join(torchDir, name+".json"))); worst > 1e-6 {
					t.Errorf("outputs differ from PyTorch's by up to %.3g; want at most 1e-6", worst)
				}
			})
		}
	}
}

// TestWriteStateDictFixtures writes the state_dicts, inputs and outputs of
// networks with random weights, for make_state_dicts.py check, when
// SEQGRAPH_WRITE_FIXTURES=1:
//
//	SEQGRAPH_WRITE_FIXTURES=1 go test ./graph -run TestWriteStateDictFixtures
//	/usr/bin/python3 graph/testdata/torch/make_state_dicts.py check
func TestWriteStateDictFixtures(t *testing.T) {
	if os.Getenv(writeFixtures) != "1" {
		t.Skip("set " + writeFixtures + "=1 to write the fixtures")
	}
	for _, c := range torchNets() {
		if !c.goToTorch {
			continue
		}
		for i, d := range torchDtypes {
			net := c.network(t, d.dt)
			rng := rand.New(rand.NewPCG(31, uint64(i)))
			// Random values everywhere, biases included (an LSTM's start
			// at 0 and 1), so that every tensor counts.
			for _, name := range net.Learnables() {
				v, _ := net.Learnable(name)
				for j := range v {
					v[j] = 0.5 * rng.NormFloat64()
				}
				if err := net.SetLearnable(name, v); err != nil {
					t.Fatal(err)
				}
			}
			io := torchIO{Dtype: dtypeName(d.dt), Inputs: torchInputs(c.name == "convembed", rng)}
			out, _ := torchOutputs(t, net, io.Inputs)
			b, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			io.Outputs = b
			base := filepath.Join(torchDir, "go_"+c.name+"_"+dtypeName(d.dt))
			if err := net.SaveStateDictFile(base+".safetensors", c.options()...); err != nil {
				t.Fatal(err)
			}
			writeJSON(t, base+".json", io)
		}
	}
}

// torchInputs returns sequences of 3 features or, for an embedding, of
// token indices of a vocabulary of 9, index 0 (padding) among them.
func torchInputs(tokens bool, rng *rand.Rand) [][][]float64 {
	var seqs [][][]float64
	for _, steps := range []int{4, 1, 6, 3} {
		var rows [][]float64
		for s := range steps {
			switch {
			case tokens && s == 2:
				rows = append(rows, []float64{0})
			case tokens:
				rows = append(rows, []float64{float64(1 + rng.IntN(8))})
			default:
				rows = append(rows, []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
			}
		}
		seqs = append(seqs, rows)
	}
	return seqs
}

// TestStateDictGoFixtures checks the committed state_dicts that seqgraph
// wrote for make_state_dicts.py check: SaveStateDict still writes them byte
// for byte once they are loaded (so that the script's check of them holds
// for the code as it is), and they predict the outputs beside them.
func TestStateDictGoFixtures(t *testing.T) {
	for _, c := range torchNets() {
		if !c.goToTorch {
			continue
		}
		for _, d := range torchDtypes {
			name := "go_" + c.name + "_" + dtypeName(d.dt)
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(torchDir, name+".safetensors")
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				net := c.network(t, d.dt)
				if err := net.LoadStateDictFile(path, c.options()...); err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := net.SaveStateDict(&buf, c.options()...); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), data) {
					t.Errorf("the loaded state_dict saves to other bytes: rerun TestWriteStateDictFixtures and the script's check")
				}
				if worst := compareTorchOutputs(t, net, readTorchIO(t, filepath.Join(torchDir, name+".json"))); worst > d.tol {
					t.Errorf("outputs differ from those written beside the state_dict by up to %.3g", worst)
				}
			})
		}
	}
}
