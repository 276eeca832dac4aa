package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
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
		{"birnn_nobias", func() []Layer {
			return []Layer{SequenceInput(3), Bidirectional(4, newElman, WithOutputMode(rnn.Final)), FullyConnected(3), Softmax(), ClassificationOutput()}
		}, map[string]string{"birnn1": "rnn", "fc1": "fc"}, false},
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

func readTorchIO(t *testing.T, path string) torchIO { return readJSON[torchIO](t, path) }

// readJSON decodes the JSON file at path.
func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
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

// torchFile returns the bytes of a state_dict of testdata/torch.
func torchFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(torchDir, name+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// torchValues returns the network's learnables.
func torchValues(t *testing.T, net *Network) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, name := range net.Learnables() {
		v, err := net.Learnable(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return out
}

func setValue(name string, i int, x float64) func([]stTensor, map[string]string) []stTensor {
	return editTensor(name, func(t *stTensor) {
		v, err := decodeFloats(*t)
		if err != nil {
			panic(err)
		}
		v[i] = x
		t.data = encodeFloats(t.dtype, v)
	})
}

func dropTensors(names ...string) func([]stTensor, map[string]string) []stTensor {
	return func(ts []stTensor, _ map[string]string) []stTensor {
		var out []stTensor
		for _, t := range ts {
			if !slices.Contains(names, t.name) {
				out = append(out, t)
			}
		}
		return out
	}
}

// TestLoadStateDictRefusesBadFiles edits PyTorch's state_dicts into what
// LoadStateDict must refuse, with an error naming the tensor and the layer,
// and leave the network as it was.
func TestLoadStateDictRefusesBadFiles(t *testing.T) {
	lstm, conv := torchNets()[0], torchNets()[3]
	for _, c := range []struct {
		name string
		net  torchNet
		file string
		dt   tensor.Dtype
		edit func([]stTensor, map[string]string) []stTensor
		opts []TorchOption
		want string
	}{
		{"missing", lstm, "torch_lstm_float64", tensor.Float64, dropTensors("0.weight_hh_l0"), nil,
			`tensor "0.weight_hh_l0" (lstm1/RecurrentWeights of layer "lstm1", shape [20 5]) is missing`},
		{"one bias of two", lstm, "torch_lstm_float64", tensor.Float64, dropTensors("0.bias_hh_l0"), nil,
			`tensor "0.bias_hh_l0" (lstm1/Bias of layer "lstm1", shape [20]) is missing`},
		{"several missing", lstm, "torch_lstm_float64", tensor.Float64, dropTensors("1.weight", "0.weight_ih_l0"), nil,
			`tensor "0.weight_ih_l0" (lstm1/InputWeights of layer "lstm1", shape [20 3]) is missing, and 1 more`},
		{"unexpected", lstm, "torch_lstm_float64", tensor.Float64, func(ts []stTensor, _ map[string]string) []stTensor {
			return append(ts, stTensor{name: "2.weight", dtype: "F64", shape: []int{1}, data: make([]byte, 8)})
		}, nil, `tensor "2.weight" maps to no learnable of the network`},
		{"other names", lstm, "torch_lstm_float64", tensor.Float64, nil, []TorchOption{WithTorchModules(map[string]string{"lstm1": "lstm", "fc1": "fc"})},
			`tensor "lstm.weight_ih_l0" (lstm1/InputWeights of layer "lstm1", shape [20 3]) is missing, and 2 more; 6 tensors map to no learnable of the network: "0.bias_hh_l0", "0.bias_ih_l0", "0.weight_hh_l0", "0.weight_ih_l0", "1.bias", and 1 more`},
		{"shape", lstm, "torch_lstm_float64", tensor.Float64, editTensor("1.weight", func(t *stTensor) { t.shape = []int{5, 4} }), nil,
			`layer "fc1" (fc1/Weights): tensor "1.weight": shape [5 4], want [4 5]`},
		{"NaN", lstm, "torch_lstm_float64", tensor.Float64, setValue("1.bias", 2, math.NaN()), nil,
			`layer "fc1" (fc1/Bias): tensor "1.bias": value 2 is NaN`},
		{"infinite", lstm, "torch_lstm_float32", tensor.Float32, setValue("0.weight_ih_l0", 0, math.Inf(-1)), nil,
			`layer "lstm1" (lstm1/InputWeights): tensor "0.weight_ih_l0": value 0 is -Inf`},
		{"beyond float32", lstm, "torch_lstm_float64", tensor.Float32, setValue("0.bias_hh_l0", 3, 1e300), nil,
			`layer "lstm1" (lstm1/Bias): tensor "0.bias_hh_l0": value 3 is 1e+300, beyond the range of the network's float32`},
		{"biases adding up beyond float32", lstm, "torch_lstm_float64", tensor.Float32, func(ts []stTensor, m map[string]string) []stTensor {
			return setValue("0.bias_hh_l0", 1, 3e38)(setValue("0.bias_ih_l0", 1, 3e38)(ts, m), m)
		}, nil, `layer "lstm1" (lstm1/Bias): value 1 of the sum of the biases is 6e+38, beyond the range of the network's float32`},
		{"embedding row 0", conv, "torch_convembed_float64", tensor.Float64, setValue("embed.weight", 1, 0.5), nil,
			`layer "embedding1" (embedding1/Weights): tensor "embed.weight": row 0 is not zeros (column 1 is 0.5)`},
		{"a checkpoint", lstm, "torch_lstm_float64", tensor.Float64, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["format"] = checkpointFormat
			return ts
		}, nil, "a seqgraph checkpoint, not a PyTorch state_dict: graph.Load reads it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := torchFile(t, c.file)
			if c.edit != nil {
				data = rewrite(t, data, c.edit)
			}
			net := c.net.network(t, c.dt)
			before := torchValues(t, net)
			opts := c.opts
			if opts == nil {
				opts = c.net.options()
			}
			err := net.LoadStateDict(bytes.NewReader(data), opts...)
			if err == nil || !strings.HasPrefix(err.Error(), "graph: state_dict: "+c.want) {
				t.Errorf("error %v;\nwant graph: state_dict: %s...", err, c.want)
			}
			if !reflect.DeepEqual(torchValues(t, net), before) {
				t.Error("a refused state_dict changed the network")
			}
		})
	}
}

// TestLoadStateDictWithoutBiases loads a state_dict whose LSTM has no biases
// (nn.LSTM(bias=False)) and whose linear layer has: the LSTM's Bias loads
// zeros, everything else as given.
func TestLoadStateDictWithoutBiases(t *testing.T) {
	data := rewrite(t, torchFile(t, "torch_lstm_float64"), dropTensors("0.bias_ih_l0", "0.bias_hh_l0"))
	tensors, _, err := readSafetensors(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	net := torchNets()[0].network(t, tensor.Float64)
	if err := net.LoadStateDict(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"lstm1/InputWeights": "0.weight_ih_l0", "lstm1/RecurrentWeights": "0.weight_hh_l0", "fc1/Weights": "1.weight", "fc1/Bias": "1.bias"}
	for _, st := range tensors {
		v, _ := decodeFloats(st)
		for learnable, name := range want {
			if got, _ := net.Learnable(learnable); name == st.name && !reflect.DeepEqual(got, v) {
				t.Errorf("%s is not %s", learnable, name)
			}
		}
	}
	if b, _ := net.Learnable("lstm1/Bias"); slices.ContainsFunc(b, func(x float64) bool { return x != 0 }) {
		t.Errorf("lstm1/Bias is %v, want zeros", b)
	}
}

// TestStateDictRefusesBadMaps gives module maps and layers that cannot be a
// PyTorch model's.
func TestStateDictRefusesBadMaps(t *testing.T) {
	lstmNet := torchNets()[0].layers
	bilstm := torchNets()[2].layers
	modules := func(m map[string]string) []TorchOption { return []TorchOption{WithTorchModules(m)} }
	single := func(layer Layer) func() []Layer {
		return func() []Layer { return []Layer{SequenceInput(3), layer, FullyConnected(2), RegressionOutput()} }
	}
	for _, c := range []struct {
		name   string
		layers func() []Layer
		opts   []TorchOption
		want   string
	}{
		{"no layer", lstmNet, modules(map[string]string{"lstm1": "0", "fc1": "1", "fc9": "2"}),
			`module map: "fc9" is no layer of the network (the layers with learnables: lstm1, fc1)`},
		{"no learnables", lstmNet, modules(map[string]string{"lstm1": "0", "fc1": "1", "softmax1": "2"}),
			`module map: "softmax1" is a layer without learnables`},
		{"layer left out", lstmNet, modules(map[string]string{"lstm1": "0"}),
			`module map: layer "fc1" has learnables but no module`},
		{"index of a linear layer", lstmNet, modules(map[string]string{"lstm1": "0", "fc1": "1@0"}),
			`layer "fc1" is nn.Linear, which has no layers: "1" takes no @0`},
		{"one module twice", lstmNet, modules(map[string]string{"lstm1": "m", "fc1": "m"}),
			`layers "lstm1" (nn.LSTM(hidden_size=5, bidirectional=false)@0) and "fc1" (nn.Linear@0) are both module "m"`},
		{"one layer index twice", bilstm, modules(map[string]string{"bilstm1": "lstm", "bilstm2": "lstm@0", "fc1": "fc"}),
			`layers "bilstm1" (nn.LSTM(hidden_size=4, bidirectional=true)@0) and "bilstm2" (nn.LSTM(hidden_size=4, bidirectional=true)@0) are both module "lstm"`},
		{"layers swapped", bilstm, modules(map[string]string{"bilstm1": "lstm@1", "bilstm2": "lstm@0", "fc1": "fc"}),
			`layers "bilstm1" (nn.LSTM(hidden_size=4, bidirectional=true)@1) and "bilstm2" (nn.LSTM(hidden_size=4, bidirectional=true)@0) are both module "lstm"`},
		{"not one after the other", func() []Layer {
			return []Layer{SequenceInput(3), LSTM(4), FullyConnected(4), LSTM(4), FullyConnected(2), RegressionOutput()}
		}, modules(map[string]string{"lstm1": "lstm@0", "fc1": "fc", "lstm2": "lstm@1", "fc2": "out"}),
			`layers "lstm1" (nn.LSTM(hidden_size=4, bidirectional=false)@0) and "lstm2" (nn.LSTM(hidden_size=4, bidirectional=false)@1) are both module "lstm"`},
		{"mixed stack", func() []Layer {
			return []Layer{SequenceInput(3), LSTM(4), GRU(4), FullyConnected(2), RegressionOutput()}
		}, modules(map[string]string{"lstm1": "rnn@0", "gru1": "rnn@1", "fc1": "fc"}),
			`layers "lstm1" (nn.LSTM(hidden_size=4, bidirectional=false)@0) and "gru1" (nn.GRU(hidden_size=4, bidirectional=false)@1) are both module "rnn"`},
		{"bad index", lstmNet, modules(map[string]string{"lstm1": "lstm@x", "fc1": "fc"}),
			`WithTorchModules: layer "lstm1": module "lstm@x": "x" after @ is not a layer index`},
		{"negative index", lstmNet, modules(map[string]string{"lstm1": "lstm@-1", "fc1": "fc"}), `"-1" after @ is not a layer index`},
		{"leading zero", lstmNet, modules(map[string]string{"lstm1": "lstm@01", "fc1": "fc"}), `"01" after @ is not a layer index`},
		{"two indices", lstmNet, modules(map[string]string{"lstm1": "lstm@1@2", "fc1": "fc"}), `"1@2" after @ is not a layer index`},
		{"empty name", lstmNet, modules(map[string]string{"lstm1": "a..lstm", "fc1": "fc"}),
			`WithTorchModules: layer "lstm1": module "a..lstm": an empty name between dots`},
		{"nil map", lstmNet, modules(nil), "WithTorchModules: nil map"},
		{"map twice", lstmNet, append(modules(map[string]string{}), modules(map[string]string{})...), "WithTorchModules: given twice"},
		{"nil option", lstmNet, []TorchOption{nil}, "nil option"},
		{"peephole", single(Recurrent(4, func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			return rnn.NewPeepholeLSTM(g, p, name, in, out)
		})), nil, `layer "rnn1": its cell, a *rnn.PeepholeLSTM, has no PyTorch counterpart`},
		{"custom cell", single(Recurrent(4, newCkptMGU)), nil, `layer "rnn1": its cell, a *graph.ckptMGU, has no PyTorch counterpart`},
		{"GRU reset before", single(GRU(4, WithResetGateMode(rnn.BeforeMultiplication))), nil,
			`layer "gru1": reset gate mode before-multiplication: PyTorch's nn.GRU resets after the multiplication`},
		{"GRU cell reset before", single(Recurrent(4, func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			return rnn.NewGRU(g, p, name, in, out, rnn.WithResetGateMode(rnn.BeforeMultiplication))
		})), nil, `layer "rnn1": reset gate mode before-multiplication: PyTorch's nn.GRU resets after the multiplication`},
		{"activation", single(LSTM(4, WithStateActivation(nodes.Softsign))), nil,
			`layer "lstm1": gate activation sigmoid and state activation softsign: PyTorch's nn.LSTM has sigmoid and tanh only`},
		{"2-D convolution", func() []Layer { return ckptVideoLayers(dataset.NormNone) }, nil,
			`layer "conv1" (2-D Convolution) has no PyTorch counterpart`},
	} {
		t.Run(c.name, func(t *testing.T) {
			net, err := NewNetwork(c.layers())
			if err != nil {
				t.Fatal(err)
			}
			before := torchValues(t, net)
			data := torchFile(t, "torch_lstm_float32")
			errs := []error{net.LoadStateDict(bytes.NewReader(data), c.opts...), net.SaveStateDict(io.Discard, c.opts...)}
			_, err = net.StateDictKeys(c.opts...)
			for i, err := range append(errs, err) {
				if err == nil || !strings.HasPrefix(err.Error(), "graph: state_dict: ") || !strings.Contains(err.Error(), c.want) {
					t.Errorf("call %d: error %v;\nwant one saying %s", i, err, c.want)
				}
			}
			if !reflect.DeepEqual(torchValues(t, net), before) {
				t.Error("a refused state_dict changed the network")
			}
		})
	}
}

// TestStateDictRoundTrip saves networks of random weights as state_dicts
// and loads them into networks of other weights: they predict bit for bit
// what the saved ones did (the embedding's column 0, which WordEmbedding
// never reads, saves as zeros).
func TestStateDictRoundTrip(t *testing.T) {
	for _, c := range torchNets() {
		for i, d := range torchDtypes {
			t.Run(c.name+"_"+dtypeName(d.dt), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(41, uint64(i)))
				src := c.network(t, d.dt)
				for _, name := range src.Learnables() {
					v, _ := src.Learnable(name)
					for j := range v {
						v[j] = rng.NormFloat64()
					}
					if err := src.SetLearnable(name, v); err != nil {
						t.Fatal(err)
					}
				}
				var buf bytes.Buffer
				if err := src.SaveStateDict(&buf, c.options()...); err != nil {
					t.Fatal(err)
				}
				dst, err := NewNetwork(c.layers(), WithDtype(d.dt), WithSeed(99))
				if err != nil {
					t.Fatal(err)
				}
				if err := dst.LoadStateDict(&buf, c.options()...); err != nil {
					t.Fatal(err)
				}
				inputs := torchInputs(c.name == "convembed", rng)
				_, want := torchOutputs(t, src, inputs)
				_, got := torchOutputs(t, dst, inputs)
				if !slices.Equal(got, want) {
					t.Errorf("the loaded network predicts %v, the saved one %v", got, want)
				}
			})
		}
	}
}

// TestLoadStateDictByHand loads state_dicts written byte by byte: without
// metadata, of a model that is the module itself (the module path ""), and
// of a dtype that seqgraph does not read.
func TestLoadStateDictByHand(t *testing.T) {
	layers := []Layer{SequenceInput(2), FullyConnected(1), RegressionOutput()}
	f32 := func(v ...float32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return b
	}
	// nn.Linear(2, 1).state_dict(): {"weight": [[0.5, -2]], "bias": [0.25]}.
	file := stFile(`{"bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"weight":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}}`,
		f32(0.25, 0.5, -2))
	net, err := NewNetwork(layers)
	if err != nil {
		t.Fatal(err)
	}
	if err := net.LoadStateDict(bytes.NewReader(file), WithTorchModules(map[string]string{"fc1": ""})); err != nil {
		t.Fatal(err)
	}
	w, _ := net.Learnable("fc1/Weights")
	b, _ := net.Learnable("fc1/Bias")
	if !slices.Equal(w, []float64{0.5, -2}) || !slices.Equal(b, []float64{0.25}) {
		t.Errorf("weights %v, bias %v; want [0.5 -2], [0.25]", w, b)
	}
	half := stFile(`{"bias":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"weight":{"dtype":"F32","shape":[1,2],"data_offsets":[2,10]}}`,
		append([]byte{0, 0}, f32(0.5, -2)...))
	err = net.LoadStateDict(bytes.NewReader(half), WithTorchModules(map[string]string{"fc1": ""}))
	if want := `graph: state_dict: tensor "bias": dtype "BF16" is not supported (seqgraph reads F32 and F64)`; err == nil || err.Error() != want {
		t.Errorf("error %v; want %s", err, want)
	}
}

// TestStateDictStackAcrossDropout maps two LSTM layers with a dropout
// between them, nn.LSTM(num_layers=2, dropout=p)'s layers, to one module.
func TestStateDictStackAcrossDropout(t *testing.T) {
	net, err := NewNetwork([]Layer{SequenceInput(3), LSTM(4), Dropout(0.2), LSTM(4, WithOutputMode(rnn.Last)), FullyConnected(2), RegressionOutput()})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := net.StateDictKeys(WithTorchModules(map[string]string{"lstm1": "lstm", "lstm2": "lstm@1", "fc1": "fc"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Name)
	}
	want := []string{"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
		"lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1", "fc.weight", "fc.bias"}
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
}
