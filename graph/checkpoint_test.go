package graph

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// ckptMGU is the minimal gated unit of docs/custom-cells.md, a custom cell
// for the checkpoint tests:
//
//	f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//	h̃_t = tanh(W_h x_t + U_h (f_t ⊙ h_{t-1}) + b_h)
//	h_t = h_{t-1} + f_t ⊙ (h̃_t - h_{t-1})
type ckptMGU struct {
	rnn.CellBase
	wf, uf, bf, wh, uh, bh *gorgonia.Node
}

func newCkptMGU(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, hidden int) (rnn.Cell, error) {
	base, err := rnn.NewCellBase(name, in, hidden)
	if err != nil {
		return nil, err
	}
	c := &ckptMGU{CellBase: base}
	w, u, b := tensor.Shape{hidden, in}, tensor.Shape{hidden, hidden}, tensor.Shape{hidden}
	err = c.Bind(g, p,
		rnn.NewLearnable(&c.wf, "ForgetInputWeights", w, nodes.GlorotUniform(in, hidden)),
		rnn.NewLearnable(&c.uf, "ForgetRecurrentWeights", u, nodes.Orthogonal()),
		rnn.NewLearnable(&c.bf, "ForgetBias", b, nodes.Ones()),
		rnn.NewLearnable(&c.wh, "CandidateInputWeights", w, nodes.GlorotUniform(in, hidden)),
		rnn.NewLearnable(&c.uh, "CandidateRecurrentWeights", u, nodes.Orthogonal()),
		rnn.NewLearnable(&c.bh, "CandidateBias", b, nodes.Zeros()))
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (c *ckptMGU) Step(s rnn.Step, x *gorgonia.Node, prev rnn.State) (rnn.State, error) {
	h := prev[0]
	f := s.Name(c.Name(), "forget", gorgonia.Must(nodes.Sigmoid.Apply(gorgonia.Must(rnn.Affine(x, c.wf, h, c.uf, c.bf)))))
	fh := gorgonia.Must(gorgonia.HadamardProd(f, h))
	cand := s.Name(c.Name(), "candidate", gorgonia.Must(nodes.Tanh.Apply(gorgonia.Must(rnn.Affine(x, c.wh, fh, c.uh, c.bh)))))
	delta := gorgonia.Must(gorgonia.HadamardProd(f, gorgonia.Must(gorgonia.Sub(cand, h))))
	return rnn.State{s.Name(c.Name(), "hidden", gorgonia.Must(gorgonia.Add(h, delta)))}, nil
}

// ckptSequences returns n random sequences of f features, of lengths in
// [minT, maxT].
func ckptSequences(t testing.TB, rng *rand.Rand, n, f, minT, maxT int) []dataset.Sequence {
	t.Helper()
	seqs := make([]dataset.Sequence, n)
	for i := range seqs {
		rows := make([][]float64, minT+rng.IntN(maxT-minT+1))
		for j := range rows {
			rows[j] = make([]float64, f)
			for k := range rows[j] {
				rows[j][k] = 2*rng.NormFloat64() + 0.5
			}
		}
		s, err := dataset.NewSequence(rows)
		if err != nil {
			t.Fatal(err)
		}
		seqs[i] = s
	}
	return seqs
}

// ckptCase is a network to save and load, with data to train and predict.
type ckptCase struct {
	name   string
	layers []Layer
	opts   []Option
	load   []LoadOption
	// data returns a training set for the network's input.
	data func(t testing.TB) dataset.Source
}

func ckptClassData(f, k int, opts ...dataset.SetOption) func(t testing.TB) dataset.Source {
	return func(t testing.TB) dataset.Source {
		rng := rand.New(rand.NewPCG(11, uint64(f*100+k)))
		seqs := ckptSequences(t, rng, 4, f, 2, 5)
		src, err := dataset.NewClassification(seqs, []int{0, 1 % k, 2 % k, 1 % k}, k, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

func ckptRegressionData(f, r int) func(t testing.TB) dataset.Source {
	return func(t testing.TB) dataset.Source {
		rng := rand.New(rand.NewPCG(12, uint64(f)))
		seqs := ckptSequences(t, rng, 4, f, 2, 5)
		resp := make([][]float64, len(seqs))
		for i := range resp {
			for range r {
				resp[i] = append(resp[i], rng.NormFloat64())
			}
		}
		src, err := dataset.NewRegression(seqs, resp)
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
}

var ckptVideoFrame = dataset.FrameShape{C: 2, H: 4, W: 3}

func ckptVideoLayers(norm dataset.Normalization) []Layer {
	return []Layer{
		ImageSequenceInput(4, 3, 2, WithInputNormalization(norm)),
		SequenceFolding(),
		Convolution2D(3, 2, 3, WithPadding(1, 0), WithStride(2, 1)),
		BatchNormalization(),
		ReLU(),
		Convolution2D(3, 3, 2, WithSamePadding(), WithName("conv-same")),
		SequenceUnfolding(),
		Flatten(),
		LSTM(3, WithOutputMode(rnn.Last)),
		FullyConnected(3),
		Softmax(),
		ClassificationOutput(),
	}
}

func ckptCases() []ckptCase {
	mgu := WithCellFactory("mgu", newCkptMGU)
	var cases []ckptCase
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		cases = append(cases,
			ckptCase{
				name: "bilstm gru " + dtypeName(dt),
				layers: []Layer{SequenceInput(2), BiLSTM(2), Dropout(0.25),
					GRU(3, WithOutputMode(rnn.Last), WithResetGateMode(rnn.BeforeMultiplication)),
					FullyConnected(3), Softmax(), ClassificationOutput()},
				opts: []Option{WithDtype(dt), WithSeed(3), WithClassNames([]string{"a", "b", "c"})},
				data: ckptClassData(2, 3),
			},
			ckptCase{
				name:   "video batchnorm " + dtypeName(dt),
				layers: ckptVideoLayers(dataset.NormNone),
				opts:   []Option{WithDtype(dt)},
				data:   ckptClassData(ckptVideoFrame.Size(), 3, dataset.WithFrame(ckptVideoFrame)),
			},
			ckptCase{
				name: "custom cell " + dtypeName(dt),
				layers: []Layer{SequenceInput(3), Bidirectional(2, newCkptMGU, WithCellType("mgu"), WithMergeMode(rnn.Sum)),
					Recurrent(3, newCkptMGU, WithCellType("mgu"), WithOutputMode(rnn.Last), WithName("mgu")),
					FullyConnected(2), Softmax(), ClassificationOutput()},
				opts: []Option{WithDtype(dt), WithSeed(9)},
				load: []LoadOption{mgu},
				data: ckptClassData(3, 2),
			},
			ckptCase{
				name: "normalized regression " + dtypeName(dt),
				layers: []Layer{SequenceInput(3, WithInputNormalization(dataset.ZScore)),
					LSTM(4, WithGateActivation(nodes.Softsign), WithStateActivation(nodes.ReLU)),
					GRU(2, WithOutputMode(rnn.Last)), FullyConnected(2), RegressionOutput()},
				opts: []Option{WithDtype(dt)},
				data: ckptRegressionData(3, 2),
			},
		)
	}
	cases = append(cases, ckptCase{
		name:   "normalized video float64",
		layers: ckptVideoLayers(dataset.RescaleSymmetric),
		opts:   []Option{WithDtype(tensor.Float64)},
		data:   ckptClassData(ckptVideoFrame.Size(), 3, dataset.WithFrame(ckptVideoFrame)),
	})
	return cases
}

// ckptTrained returns the case's network after two Adam steps, with its
// normalization fitted, and a padded batch of its data.
func ckptTrained(t testing.TB, c ckptCase) (*Network, *dataset.Batch) {
	t.Helper()
	net, err := NewNetwork(c.layers, c.opts...)
	if err != nil {
		t.Fatal(err)
	}
	src := c.data(t)
	if err := net.FitNormalization(src); err != nil {
		t.Fatal(err)
	}
	b, err := dataset.MakeBatch(src, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Padded() {
		t.Fatal("the test batch is not padded")
	}
	adam, err := optim.NewAdam(optim.WithLearnRate(0.05))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := net.TrainStep(b, adam); err != nil {
			t.Fatal(err)
		}
	}
	return net, b
}

func saveBytes(t testing.TB, n *Network, opts ...SaveOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := n.Save(&buf, opts...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// predictBits returns the network's outputs for b as bits.
func predictBits(t *testing.T, n *Network, b *dataset.Batch) []uint64 {
	t.Helper()
	var bits []uint64
	if n.PerStep() {
		out, err := n.PredictStepsBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, seq := range out {
			for _, r := range seq {
				for _, v := range r {
					bits = append(bits, math.Float64bits(v))
				}
			}
		}
		return bits
	}
	out, err := n.PredictBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		for _, v := range r {
			bits = append(bits, math.Float64bits(v))
		}
	}
	return bits
}

func TestCheckpointPredictsBitIdentically(t *testing.T) {
	for _, c := range ckptCases() {
		t.Run(c.name, func(t *testing.T) {
			net, b := ckptTrained(t, c)
			want := predictBits(t, net, b)
			data := saveBytes(t, net)
			loaded, err := Load(bytes.NewReader(data), c.load...)
			if err != nil {
				t.Fatal(err)
			}
			got := predictBits(t, loaded, b)
			if len(got) != len(want) {
				t.Fatalf("%d outputs after loading, %d before", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("output %d: %v after loading, %v before", i, math.Float64frombits(got[i]), math.Float64frombits(want[i]))
				}
			}
			if loaded.String() != net.String() || loaded.Dtype() != net.Dtype() || loaded.seed != net.seed {
				t.Errorf("loaded network:\n%s(%v, seed %d); saved:\n%s(%v, seed %d)", loaded, loaded.Dtype(), loaded.seed, net, net.Dtype(), net.seed)
			}
			if got, want := strings.Join(loaded.ClassNames(), ","), strings.Join(net.ClassNames(), ","); got != want {
				t.Errorf("class names %q, saved %q", got, want)
			}
			for name, st := range net.batchNorm {
				ls := loaded.batchNorm[name]
				if !equalFloats(ls.Mean, st.Mean) || !equalFloats(ls.Variance, st.Variance) ||
					ls.Epsilon != st.Epsilon || ls.MeanDecay != st.MeanDecay || ls.VarianceDecay != st.VarianceDecay {
					t.Errorf("%s: running statistics %v %v, saved %v %v", name, ls.Mean, ls.Variance, st.Mean, st.Variance)
				}
				if st.Mean[0] == 0 || st.Variance[0] == 1 {
					t.Errorf("%s: running statistics %v %v are still the initial ones", name, st.Mean, st.Variance)
				}
			}
			// A checkpoint of the loaded network is the same bytes.
			if again := saveBytes(t, loaded); !bytes.Equal(again, data) {
				t.Errorf("saving the loaded network gives other bytes (%d, saved %d)", len(again), len(data))
			}
			// And the loaded network trains on.
			adam, _ := optim.NewAdam()
			if _, err := loaded.TrainStep(b, adam); err != nil {
				t.Errorf("training the loaded network: %v", err)
			}
		})
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestCheckpointTrainingState(t *testing.T) {
	c := ckptCases()[0]
	net, err := NewNetwork(c.layers, c.opts...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "net.safetensors")
	if err := net.SaveFile(path, WithTrainingState(3, 120)); err != nil {
		t.Fatal(err)
	}
	_, st, err := LoadFileWithState(path)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || *st != (TrainingState{Epoch: 3, Iteration: 120}) {
		t.Errorf("training state %+v, want epoch 3, iteration 120", st)
	}
	_, st, err = LoadWithState(bytes.NewReader(saveBytes(t, net)))
	if err != nil || st != nil {
		t.Errorf("without a training state: %+v, %v; want nil, nil", st, err)
	}
	if err := net.Save(io.Discard, WithTrainingState(-1, 0)); err == nil || !strings.Contains(err.Error(), "epoch -1") {
		t.Errorf("negative epoch: %v", err)
	}
	if err := net.Save(io.Discard, nil); err == nil {
		t.Error("nil save option: no error")
	}
}

func TestCheckpointCustomCellsNeedTheirType(t *testing.T) {
	layers := []Layer{SequenceInput(2), Recurrent(3, newCkptMGU, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()}
	net, err := NewNetwork(layers)
	if err != nil {
		t.Fatal(err)
	}
	err = net.Save(io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"rnn1"`) || !strings.Contains(err.Error(), "WithCellType") {
		t.Errorf("saving a custom cell without a cell type: %v", err)
	}
	path := filepath.Join(t.TempDir(), "net.safetensors")
	if err := net.SaveFile(path); err == nil {
		t.Error("SaveFile: no error")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
		t.Errorf("a failed SaveFile left %d files", len(entries))
	}

	layers[1] = Recurrent(3, newCkptMGU, WithOutputMode(rnn.Last), WithCellType("mgu"))
	if net, err = NewNetwork(layers); err != nil {
		t.Fatal(err)
	}
	data := saveBytes(t, net)
	for _, c := range []struct {
		opts []LoadOption
		want string
	}{
		{nil, `cell type "mgu": no factory; load with graph.WithCellFactory("mgu", factory)`},
		{[]LoadOption{WithCellFactory("gru", newCkptMGU)}, `cell type "mgu": no factory`},
		{[]LoadOption{WithCellFactory("", newCkptMGU)}, "empty cell type"},
		{[]LoadOption{WithCellFactory("mgu", nil)}, `WithCellFactory("mgu"): nil factory`},
		{[]LoadOption{WithCellFactory("mgu", newCkptMGU), WithCellFactory("mgu", newCkptMGU)}, "given twice"},
		{[]LoadOption{nil}, "nil load option"},
		// A factory of other learnables is found out by name.
		{[]LoadOption{WithCellFactory("mgu", func(g *gorgonia.ExprGraph, p *nodes.Params, name string, in, out int) (rnn.Cell, error) {
			return rnn.NewGRU(g, p, name, in, out)
		})}, `tensor "rnn1/Bias" (shape [9]) is missing`},
	} {
		if _, err := Load(bytes.NewReader(data), c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("load: %v; want an error saying %s", err, c.want)
		}
	}
	if _, err := Load(bytes.NewReader(data), WithCellFactory("mgu", newCkptMGU)); err != nil {
		t.Error(err)
	}
}

// specRoundTrip returns the layer that l's spec declares again: encoded as
// a checkpoint's JSON fields and decoded by its kind's decoder.
func specRoundTrip(t *testing.T, l Layer) Layer {
	t.Helper()
	spec := l.Spec()
	raw, err := json.Marshal(spec.Fields)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Fields == nil {
		raw = []byte("{}")
	}
	decode := builtinKinds[spec.Kind]
	if decode == nil {
		t.Fatalf("no decoder for kind %q", spec.Kind)
	}
	back, err := decode("x", Fields{kind: spec.Kind, raw: raw, version: checkpointVersion})
	if err != nil {
		t.Fatalf("%s: %v", spec.Kind, err)
	}
	return back
}

// TestBuiltinKindsDecodeTheirSpecs: every built-in kind has a decoder, and
// each decodes the spec its layers give (with options that differ from the
// defaults) into a layer whose spec is the same.
func TestBuiltinKindsDecodeTheirSpecs(t *testing.T) {
	layers := []Layer{
		SequenceInput(3, WithInputNormalization(dataset.ZScore)), ImageSequenceInput(4, 3, 2, WithInputNormalization(dataset.RescaleZeroOne)),
		LSTM(4, WithOutputMode(rnn.Last), WithGateActivation(nodes.Softsign)), GRU(2, WithResetGateMode(rnn.BeforeMultiplication), WithStateActivation(nodes.ReLU)),
		BiLSTM(3, WithMergeMode(rnn.Sum), WithOutputMode(rnn.Final)), Dropout(0.3), SequenceFolding(),
		Convolution2D(3, 2, 4, WithPadding(1, 0), WithStride(2, 1)), Convolution2D(3, 3, 2, WithSamePadding()),
		BatchNormalization(WithEpsilon(1e-3), WithDecay(0.2, 0.3)), ReLU(), SequenceUnfolding(), Flatten(),
		FullyConnected(7), Softmax(), ClassificationOutput(), RegressionOutput(),
		Convolution1D(3, 5, WithCausalPadding(), WithDilation(2)), Convolution1D(2, 4, WithPadding(1, 0), WithStride(2)),
		MaxPooling1D(2, WithStride(2)), AveragePooling1D(3, WithSamePadding()), GlobalMaxPooling1D(), GlobalAveragePooling1D(),
		WordEmbedding(4, 10), LayerNormalization(WithEpsilon(1e-3)),
	}
	seen := map[string]bool{"recurrent": true, "bidirectional": true} // need a cell factory: TestCheckpointPredictsBitIdentically
	for _, l := range layers {
		want := l.Spec()
		seen[want.Kind] = true
		got := specRoundTrip(t, l).Spec()
		wantJSON, _ := json.Marshal(want.Fields)
		gotJSON, _ := json.Marshal(got.Fields)
		if got.Kind != want.Kind || got.Name != "x" || !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s: decoded %s %q %s; want %s", want.Kind, got.Kind, got.Name, gotJSON, wantJSON)
		}
	}
	for kind := range builtinKinds {
		if !seen[kind] {
			t.Errorf("kind %q is not tested", kind)
		}
	}
}

// ckptSmall is a small float32 LSTM classifier's checkpoint, saved with a
// training state.
func ckptSmall(t testing.TB) []byte {
	t.Helper()
	net, err := NewNetwork([]Layer{SequenceInput(2), LSTM(2, WithOutputMode(rnn.Last)), FullyConnected(2), Softmax(), ClassificationOutput()})
	if err != nil {
		t.Fatal(err)
	}
	return saveBytes(t, net, WithTrainingState(1, 2))
}

// rewrite returns data, a checkpoint, with its tensors and metadata changed
// by edit.
func rewrite(t testing.TB, data []byte, edit func(ts []stTensor, meta map[string]string) []stTensor) []byte {
	t.Helper()
	ts, meta, err := readSafetensors(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	ts = edit(ts, meta)
	var buf bytes.Buffer
	if err := writeSafetensors(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// editNetwork changes the network description of a checkpoint.
func editNetwork(edit func(net map[string]any)) func([]stTensor, map[string]string) []stTensor {
	return func(ts []stTensor, meta map[string]string) []stTensor {
		var net map[string]any
		if err := json.Unmarshal([]byte(meta["network"]), &net); err != nil {
			panic(err)
		}
		edit(net)
		b, _ := json.Marshal(net)
		meta["network"] = string(b)
		return ts
	}
}

func layerOf(net map[string]any, i int) map[string]any {
	return net["layers"].([]any)[i].(map[string]any)
}

func editTensor(name string, edit func(t *stTensor)) func([]stTensor, map[string]string) []stTensor {
	return func(ts []stTensor, _ map[string]string) []stTensor {
		for i := range ts {
			if ts[i].name == name {
				edit(&ts[i])
			}
		}
		return ts
	}
}

func TestLoadRejectsBadCheckpoints(t *testing.T) {
	good := ckptSmall(t)
	cases0 := ckptCases()
	video, _ := ckptTrained(t, cases0[len(cases0)-1])
	goodVideo := saveBytes(t, video)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not safetensors", []byte("hello, world"), "corrupt: header length"},
		{"empty", nil, "truncated: 0 bytes"},
		{"plain safetensors", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			clear(meta)
			return ts
		}), `not a seqgraph checkpoint: the safetensors metadata has no "format"`},
		{"other format", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["format"] = "pt"
			return ts
		}), `format "pt", want "seqgraph-checkpoint"`},
		{"newer version", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["version"] = strconv.Itoa(checkpointVersion + 1)
			return ts
		}), fmt.Sprintf("version %d was written by a newer seqgraph; this one reads version %d", checkpointVersion+1, checkpointVersion)},
		{"bad version", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["version"] = "01"
			return ts
		}), `version "01" is not a version number`},
		{"no network", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			delete(meta, "network")
			return ts
		}), "network: missing from the metadata"},
		{"network not JSON", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["network"] = "{"
			return ts
		}), "network: unexpected end of JSON"},
		{"duplicate key", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["network"] = strings.Replace(meta["network"], `"dtype":"float32"`, `"dtype":"float32","dtype":"float64"`, 1)
			return ts
		}), `network: key "dtype" appears twice in an object`},
		{"bad dtype", rewrite(t, good, editNetwork(func(net map[string]any) { net["dtype"] = "float16" })), `network: dtype "float16", want float32 or float64`},
		{"unknown network field", rewrite(t, good, editNetwork(func(net map[string]any) { net["optimizer"] = "adam" })), `network: unknown field "optimizer"`},
		// encoding/json matches keys case-insensitively; the reader does not.
		{"network key in another case", rewrite(t, good, editNetwork(func(net map[string]any) { net["Dtype"] = net["dtype"]; delete(net, "dtype") })),
			`network: unknown field "Dtype" (fields are case-sensitive)`},
		{"case-variant duplicate network key", rewrite(t, good, editNetwork(func(net map[string]any) { net["DTYPE"] = "float64" })),
			`network: unknown field "DTYPE"`},
		{"layer key in another case", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 1)["HiddenUnits"] = 7 })),
			`network: layer 2 (lstm "lstm1"): a lstm layer has no field "HiddenUnits"`},
		{"unknown kind", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 1)["kind"] = "transformer" })), `network: layer 2 (transformer "lstm1"): unknown kind "transformer"`},
		{"field of another kind", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 2)["outputMode"] = "last" })),
			`network: layer 3 (fully-connected "fc1"): a fully-connected layer has no field "outputMode"`},
		{"missing field", rewrite(t, good, editNetwork(func(net map[string]any) { delete(layerOf(net, 1), "hiddenUnits") })),
			`network: layer 2 (lstm "lstm1"): hiddenUnits is missing`},
		{"bad option", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 1)["outputMode"] = "all" })),
			`network: layer 2 (lstm "lstm1"): rnn: unknown output mode "all"`},
		{"bad output size", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 2)["outputSize"] = 3 })),
			`network: layer 3 (Fully Connected "fc1"): output size 3, but its declaration gives 2`},
		{"sizes", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 1)["hiddenUnits"] = 3 })),
			`network: layer 2 (LSTM "lstm1"): output size 2, but its declaration gives 3`},
		{"layers", rewrite(t, good, editNetwork(func(net map[string]any) {
			net["layers"] = append(net["layers"].([]any)[:1], net["layers"].([]any)[2:]...)
			delete(layerOf(net, 1), "inputSize")
		})), `3 tensors are not learnables or running statistics of the network: "lstm1/Bias", "lstm1/InputWeights", "lstm1/RecurrentWeights"`},
		{"huge layer", rewrite(t, good, editNetwork(func(net map[string]any) { layerOf(net, 1)["hiddenUnits"] = 1 << 30 })),
			`network: layer 2 (LSTM "lstm1"): output size 2, but its declaration gives 1073741824`},
		{"large layer", rewrite(t, good, editNetwork(func(net map[string]any) {
			layerOf(net, 1)["hiddenUnits"] = 1 << 20
			delete(layerOf(net, 1), "outputSize")
			delete(layerOf(net, 2), "inputSize")
		})), `learnable "lstm1/RecurrentWeights" of shape (4194304, 1048576) has more than 2^40 values: it cannot be allocated`},
		{"huge input", rewrite(t, good, editNetwork(func(net map[string]any) {
			layerOf(net, 0)["features"] = 1 << 25
			delete(layerOf(net, 0), "outputSize")
			delete(layerOf(net, 1), "inputSize")
		})), `layer 1 (Sequence Input "sequenceinput1"): outputs sequence of 33554432, more than Load accepts`},
		// Larger than the file, small enough to allocate: the budget of
		// learnable values (the file's and loadSlack) refuses it first.
		{"layer beyond the file", rewrite(t, good, editNetwork(func(net map[string]any) {
			layerOf(net, 1)["hiddenUnits"] = 1000
			delete(layerOf(net, 1), "outputSize")
			delete(layerOf(net, 2), "inputSize")
		})), `would bring the store to more than its budget of 1048622 values`},
		{"class names", rewrite(t, good, editNetwork(func(net map[string]any) { net["classNames"] = []string{"a"} })),
			"rebuilding the network: graph: 1 class names for a network with 2 outputs"},
		{"missing tensor", rewrite(t, good, func(ts []stTensor, _ map[string]string) []stTensor { return ts[1:] }),
			`tensor "fc1/Bias" (shape [2]) is missing`},
		{"extra tensor", rewrite(t, good, func(ts []stTensor, _ map[string]string) []stTensor {
			return append(ts, stTensor{name: "lstm1/Peepholes", dtype: "F32", shape: []int{2}, data: make([]byte, 8)})
		}), `tensor "lstm1/Peepholes" is not a learnable or running statistic of the network`},
		{"many extra tensors", rewrite(t, good, func(ts []stTensor, _ map[string]string) []stTensor {
			for i := range 7 {
				ts = append(ts, stTensor{name: fmt.Sprintf("extra%d", i), dtype: "F32", shape: []int{1}, data: make([]byte, 4)})
			}
			return ts
		}), `7 tensors are not learnables or running statistics of the network: "extra0", "extra1", "extra2", "extra3", "extra4", and 2 more`},
		{"wrong shape", rewrite(t, good, editTensor("fc1/Weights", func(t *stTensor) { t.shape = []int{4} })),
			`tensor "fc1/Weights": shape [4], the network has [2 2]`},
		{"wrong dtype", rewrite(t, good, editTensor("lstm1/Bias", func(t *stTensor) { t.dtype, t.data = "F64", make([]byte, 64) })),
			`tensor "lstm1/Bias": dtype F64, want F32`},
		{"NaN", rewrite(t, good, editTensor("lstm1/Bias", func(t *stTensor) {
			binary.LittleEndian.PutUint32(t.data[12:], math.Float32bits(float32(math.NaN())))
		})), `tensor "lstm1/Bias": value 3 is NaN`},
		{"Inf", rewrite(t, good, editTensor("fc1/Weights", func(t *stTensor) {
			binary.LittleEndian.PutUint32(t.data[0:], math.Float32bits(float32(math.Inf(-1))))
		})), `tensor "fc1/Weights": value 0 is -Inf`},
		{"bad training state", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["training"] = `{"epoch": 1}`
			return ts
		}), `training state {"epoch": 1}: want a non-negative epoch and iteration`},
		{"case-variant duplicate training key", rewrite(t, good, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["training"] = `{"epoch": 1, "iteration": 2, "Epoch": 5}`
			return ts
		}), `training state: unknown field "Epoch" (fields are case-sensitive)`},
		{"negative variance", rewrite(t, goodVideo, editTensor("batchnorm1/RunningVariance", func(t *stTensor) {
			binary.LittleEndian.PutUint64(t.data[8:], math.Float64bits(-1))
		})), `tensor "batchnorm1/RunningVariance": value 1 is -1, a negative variance`},
		{"running statistics dtype", rewrite(t, goodVideo, editTensor("batchnorm1/RunningMean", func(t *stTensor) {
			t.dtype, t.data = "F32", t.data[:len(t.data)/2]
		})), `tensor "batchnorm1/RunningMean": dtype F32, want F64`},
		{"missing running statistics", rewrite(t, goodVideo, func(ts []stTensor, _ map[string]string) []stTensor {
			var out []stTensor
			for _, t := range ts {
				if !strings.HasSuffix(t.name, "RunningMean") {
					out = append(out, t)
				}
			}
			return out
		}), `tensor "batchnorm1/RunningMean" (shape [3]) is missing`},
		{"bad epsilon", rewrite(t, goodVideo, editNetwork(func(net map[string]any) { layerOf(net, 3)["epsilon"] = 0 })),
			`network: layer 4 (Batch Normalization "batchnorm1"): epsilon 0; want more than 0`},
		{"bad normalization", rewrite(t, goodVideo, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["normalization"] = strings.Replace(meta["normalization"], `"min":[`, `"min":[1,`, 1)
			return ts
		}), "normalization: graph: normalization statistics: dataset: rescale-symmetric normalization"},
		{"normalization mode", rewrite(t, goodVideo, func(ts []stTensor, meta map[string]string) []stTensor {
			meta["normalization"] = strings.Replace(meta["normalization"], `rescale-symmetric`, `zscore`, 1)
			return ts
		}), "normalization: graph: normalization statistics for zscore; the input layer normalizes with rescale-symmetric"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(bytes.NewReader(c.data))
			if err == nil {
				t.Fatalf("no error; want one saying %s", c.want)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "graph: checkpoint: ") {
				t.Errorf("error %q; want one saying %s", err, c.want)
			}
		})
	}
}

// stFile builds a safetensors file from a header and data, by hand.
func stFile(header string, data []byte) []byte {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	return append(append(n[:], header...), data...)
}

func TestSafetensorsContainer(t *testing.T) {
	f32 := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	hugeLen := make([]byte, 8)
	binary.LittleEndian.PutUint64(hugeLen, 1<<63)
	cases := []struct {
		name string
		data []byte
		want string // "" for a good file
	}{
		{"good", stFile(f32, make([]byte, 8)), ""},
		{"good padded", stFile(f32+"   ", make([]byte, 8)), ""},
		{"no tensors", stFile(`{}`, nil), ""},
		{"metadata only", stFile(`{"__metadata__":{"k":"v"}}`, nil), ""},
		{"scalar and empty", stFile(`{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]}}`, make([]byte, 8)), ""},
		{"huge header length", append(hugeLen, "{}"...), "corrupt: header length 9223372036854775808 is outside [2, 100000000]"},
		{"short header", stFile(f32, nil)[:20], "truncated: the header is 54 bytes, only 12 follow"},
		{"short data", stFile(f32, make([]byte, 5)), "truncated: the tensors take 8 bytes of data, only 5 follow the header"},
		{"trailing bytes", stFile(f32, make([]byte, 9)), "corrupt: bytes follow the 8 bytes of tensor data"},
		{"not an object", stFile(`["a"]`, nil), "corrupt header: starts with '[', not a JSON object"},
		{"not UTF-8", stFile("{\"\xff\":1}", nil), "corrupt header: not UTF-8"},
		{"garbage after", stFile(`{} x`, nil), "corrupt header: invalid character 'x' after top-level value"},
		{"tab padding", stFile("{}\t", nil), "corrupt header: bytes other than spaces after the JSON object"},
		{"bad JSON", stFile(`{"a" 1}`, nil), "corrupt header: invalid character '1' after object key"},
		{"unterminated", stFile(`{"a":{}`, nil), "corrupt header: unexpected end of JSON"},
		{"escaped duplicate", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0061":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
			`corrupt header: key "a" appears twice in an object`},
		{"duplicate metadata", stFile(`{"__metadata__":{"k":"v","k":"w"}}`, nil), `corrupt header: key "k" appears twice in an object`},
		{"duplicate tensor", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
			`corrupt header: key "a" appears twice in an object`},
		{"deep", stFile(`{"a":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`, nil), "corrupt header: nested more than 32 deep"},
		{"metadata not strings", stFile(`{"__metadata__":{"k":1}}`, nil), "corrupt header: __metadata__ is not an object of strings"},
		{"unsupported dtype", stFile(`{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "a": dtype "BF16" is not supported`},
		{"missing offsets", stFile(`{"a":{"dtype":"F32","shape":[2]}}`, nil), `tensor "a": wants dtype, shape and data_offsets`},
		{"unknown field", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"strides":[1]}}`, make([]byte, 8)), `tensor "a": json: unknown field "strides"`},
		{"three offsets", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, make([]byte, 8)), "data_offsets [0 8 9] are not [begin, end]"},
		{"reversed offsets", stFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, nil), "data_offsets [8 0] are not [begin, end] with begin ≤ end"},
		{"negative offset", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, nil), "cannot unmarshal number -8"},
		{"negative size", stFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, make([]byte, 8)), "shape [-2] has a size outside"},
		{"size mismatch", stFile(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)), "shape [2] of F64 takes 16 bytes, data_offsets [0 8] give 8"},
		{"overflowing shape", stFile(`{"a":{"dtype":"F64","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, make([]byte, 8)), "shape [2147483647 2147483647 2147483647] is too large"},
		{"huge claim", stFile(`{"a":{"dtype":"F64","shape":[2147483647,2147483647],"data_offsets":[0,36893488130239234056]}}`, nil), "cannot unmarshal number 36893488130239234056"},
		{"gap", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `tensor "a" at bytes [4, 8) leaves a gap before it`},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
			`tensor "b" at bytes [4, 8) overlaps "a"`},
		{"empty name", stFile(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "": empty name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Whether or not the reader knows the file's size.
			for _, size := range []int64{-1, int64(len(c.data))} {
				_, _, err := readSafetensors(bytes.NewReader(c.data), size)
				switch {
				case c.want == "" && err != nil:
					t.Errorf("size %d: error %v", size, err)
				case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
					t.Errorf("size %d: error %v; want one saying %s", size, err, c.want)
				}
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`[{"a":1},{"a":1}]`, ""},
		{`{"a":[{"b":1,"c":{"b":2}}],"b":3}`, ""},
		{`{"a":"}{\"","b":"\\","c":["\"a\":"],"d":{"a":"a"}}`, ""},
		{` {"a" : 1 , "b" : {"a" : 2} } `, ""},
		{`{"a":{"x":1},"a":2}`, `key "a" appears twice in an object`},
		{`{"a":1,"b":{"c":1,"c":2}}`, `key "c" appears twice in an object`},
		{`[{"é":1,"\u00e9":2}]`, `key "é" appears twice in an object`},
		{`{"a":1}{"b":2}`, "invalid character '{' after top-level value"},
		{strings.Repeat("[", 33) + strings.Repeat("]", 33), "nested more than 32 deep"},
		{strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "exceeded max depth"},
	} {
		err := checkJSON([]byte(c.json))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%.40s: %v; want %q", c.json, err, c.want)
		}
	}
}

func TestSafetensorsLayout(t *testing.T) {
	data := ckptSmall(t)
	hlen := binary.LittleEndian.Uint64(data)
	if hlen%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", hlen)
	}
	ts, meta, err := readSafetensors(bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ts); i++ {
		if ts[i-1].name >= ts[i].name {
			t.Errorf("tensors %q and %q are not in order of name", ts[i-1].name, ts[i].name)
		}
	}
	if meta["format"] != "seqgraph-checkpoint" || meta["version"] != strconv.Itoa(checkpointVersion) || meta["training"] != `{"epoch":1,"iteration":2}` {
		t.Errorf("metadata %v", meta)
	}
	if len(meta[metaHeaderCRC]) != 8 || !strings.HasPrefix(meta[metaTensorCRC], `{"fc1/Bias":"`) {
		t.Errorf("checksums %q and %q", meta[metaHeaderCRC], meta[metaTensorCRC])
	}
}

// TestLoadTruncated truncates a checkpoint at every length.
func TestLoadTruncated(t *testing.T) {
	data := ckptSmall(t)
	for n := 0; n < len(data); n++ {
		_, err := Load(bytes.NewReader(data[:n]))
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("checkpoint truncated to %d of %d bytes: %v", n, len(data), err)
		}
		// As LoadFile reads it, knowing the size.
		if _, _, err := load(bytes.NewReader(data[:n]), int64(n), nil); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("checkpoint truncated to %d of %d bytes, size known: %v", n, len(data), err)
		}
	}
	if _, err := Load(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// failingWriter fails once n bytes have gone through it.
type failingWriter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n -= k
		return k, errInjected
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestSaveFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.safetensors")
	c := ckptCases()[0]
	first, b := ckptTrained(t, c)
	if err := first.SaveFile(path, WithTrainingState(1, 4)); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := predictBits(t, first, b)
	second, err := NewNetwork(c.layers, append(c.opts, WithSeed(77))...)
	if err != nil {
		t.Fatal(err)
	}
	size := len(saveBytes(t, second))
	for _, k := range []int{0, 1, 8, 100, size / 2, size - 1} {
		err := saveFile(path, second, []SaveOption{WithTrainingState(2, 8)}, func(w io.Writer) io.Writer { return &failingWriter{w: w, n: k} })
		if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), path) {
			t.Fatalf("failing after %d bytes: %v", k, err)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, saved) {
			t.Fatalf("failing after %d bytes changed the checkpoint", k)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Fatalf("failing after %d bytes left %v", k, names)
		}
	}
	loaded, st, err := LoadFileWithState(path)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || st.Epoch != 1 || !equalUint64s(predictBits(t, loaded, b), want) {
		t.Errorf("the checkpoint that survived is not the first one (training state %+v)", st)
	}
	// A save that succeeds replaces it.
	if err := second.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, saveBytes(t, second)) {
		t.Error("SaveFile did not replace the checkpoint")
	}
	if err := second.SaveFile(filepath.Join(dir, "missing", "net.safetensors")); err == nil {
		t.Error("saving into a missing folder: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want 1", len(entries))
	}
}

// TestSaveFileRemovesStaleTemporaryFiles: a save killed midway leaves its
// temporary file (createTemp's ".<name>.<16 hex>.tmp"); the next save to the
// same path removes it, and leaves every other file alone: the temporary
// files of another checkpoint, and files that only look alike.
func TestSaveFileRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	net, _ := ckptTrained(t, ckptCases()[0])
	stale := []string{".net.safetensors.0123456789abcdef.tmp", ".net.safetensors.fedcba9876543210.tmp"}
	kept := []string{
		".other.safetensors.0123456789abcdef.tmp", // another checkpoint's
		".net.safetensors.0123456789abcde.tmp",    // 15 digits
		".net.safetensors.0123456789ABCDEF.tmp",   // not createTemp's digits
		"net.safetensors.0123456789abcdef.tmp",    // not hidden
		".net.safetensors.0123456789abcdef.tmp.bak",
		"notes.txt",
	}
	for _, name := range append(append([]string(nil), stale...), kept...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := net.SaveFile(filepath.Join(dir, "net.safetensors")); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("stale temporary file %s is still there (%v)", name, err)
		}
	}
	for _, name := range append(kept, "net.safetensors") {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func equalUint64s(a, b []uint64) bool {
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

func TestLoadFileTruncatedOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.safetensors")
	net, _ := ckptTrained(t, ckptCases()[0])
	if err := net.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, info.Size()-10); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(path)
	want := "graph: checkpoint " + path + ": truncated: the tensors take"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("loading a truncated file: %v; want %s...", err, want)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "none.safetensors")); err == nil || !os.IsNotExist(errors.Unwrap(err)) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("loading a missing file: %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	// testdata/fuzz/FuzzLoad holds more seeds: the checkpoints of every
	// ckptCases network and broken variants (TestWriteCheckpointFixtures).
	f.Add(ckptSmall(f))
	mgu := WithCellFactory("mgu", newCkptMGU)
	f.Fuzz(func(t *testing.T, data []byte) {
		n, st, err := LoadWithState(bytes.NewReader(data), mgu)
		if err != nil {
			if n != nil || st != nil || !strings.HasPrefix(err.Error(), "graph: checkpoint: ") {
				t.Fatalf("network %v, training state %v, error %q", n, st, err)
			}
			return
		}
		// What loads saves, and what it saves loads to the same bytes.
		var opts []SaveOption
		if st != nil {
			opts = append(opts, WithTrainingState(st.Epoch, st.Iteration))
		}
		saved := saveBytes(t, n, opts...)
		m, st2, err := LoadWithState(bytes.NewReader(saved), mgu)
		if err != nil {
			t.Fatalf("loading a network that loaded and saved: %v", err)
		}
		if (st == nil) != (st2 == nil) || st != nil && *st != *st2 {
			t.Fatalf("training state %v, then %v", st, st2)
		}
		if again := saveBytes(t, m, opts...); !bytes.Equal(again, saved) {
			t.Fatal("a loaded and saved checkpoint saves to other bytes when loaded again")
		}
	})
}

// The fixtures of testdata/checkpoint: a Go checkpoint of each dtype for
// torch_roundtrip.py to check, and the script's checkpoints for
// TestLoadPyTorchCheckpoints.
const (
	fixtureDir    = "testdata/checkpoint"
	writeFixtures = "SEQGRAPH_WRITE_FIXTURES"
)

// fixtureIO is the JSON beside a fixture checkpoint: inputs, one T×F
// sequence each, and the network's class probabilities for them.
type fixtureIO struct {
	Dtype         string        `json:"dtype"`
	Inputs        [][][]float64 `json:"inputs"`
	Probabilities [][]float64   `json:"probabilities"`
}

// fixtureLayers is the network of the PyTorch round trip:
// nn.LSTM(F, H, batch_first=True), its last hidden state, nn.Linear(H, K)
// and a softmax.
func fixtureLayers(f, h, k int) []Layer {
	return []Layer{SequenceInput(f), LSTM(h, WithOutputMode(rnn.Last)), FullyConnected(k), Softmax(), ClassificationOutput()}
}

// TestWriteCheckpointFixtures writes the Go side's fixtures and the fuzz
// seed corpus, when SEQGRAPH_WRITE_FIXTURES=1:
//
//	SEQGRAPH_WRITE_FIXTURES=1 go test ./graph -run TestWriteCheckpointFixtures
func TestWriteCheckpointFixtures(t *testing.T) {
	if os.Getenv(writeFixtures) != "1" {
		t.Skip("set " + writeFixtures + "=1 to write the fixtures")
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		const f, h, k = 3, 4, 3
		net, err := NewNetwork(fixtureLayers(f, h, k), WithDtype(dt), WithSeed(5), WithClassNames([]string{"x", "y", "z"}))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(21, 22))
		seqs := ckptSequences(t, rng, 4, f, 2, 6)
		src, err := dataset.NewClassification(seqs, []int{0, 1, 2, 1}, k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dataset.MakeBatch(src, []int{0, 1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		adam, _ := optim.NewAdam(optim.WithLearnRate(0.1))
		for range 3 {
			if _, err := net.TrainStep(b, adam); err != nil {
				t.Fatal(err)
			}
		}
		probs, err := net.PredictBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		fx := fixtureIO{Dtype: dtypeName(dt), Probabilities: probs}
		for _, s := range seqs {
			var rows [][]float64
			for i := range s.T {
				rows = append(rows, s.Row(i))
			}
			fx.Inputs = append(fx.Inputs, rows)
		}
		base := filepath.Join(fixtureDir, "go_lstm_"+dtypeName(dt))
		if err := net.SaveFile(base + ".safetensors"); err != nil {
			t.Fatal(err)
		}
		writeJSON(t, base+".json", fx)
	}

	corpus := filepath.Join("testdata", "fuzz", "FuzzLoad")
	if err := os.MkdirAll(corpus, 0o755); err != nil {
		t.Fatal(err)
	}
	seed := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(corpus, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	small := ckptSmall(t)
	seed("small", small)
	for _, c := range ckptCases() {
		if strings.HasSuffix(c.name, "float64") && !strings.Contains(c.name, "normalized") {
			continue // the float32 twin covers the same ground
		}
		net, _ := ckptTrained(t, c)
		seed(strings.ReplaceAll(c.name, " ", "-"), saveBytes(t, net))
	}
	seed("truncated", small[:len(small)/2])
	seed("newer-version", rewrite(t, small, func(ts []stTensor, meta map[string]string) []stTensor {
		meta["version"] = strconv.Itoa(checkpointVersion + 1)
		return ts
	}))
	// A bit flipped in a tensor's bytes, which version 1 could not see.
	flipped := bytes.Clone(small)
	flipped[len(flipped)-3] ^= 0x10
	seed("flipped-tensor-bit", flipped)
	v1, err := os.ReadFile(filepath.Join(fixtureDir, "v1", "go_lstm_float32.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	seed("version-1", v1)
	seed("wrong-shape", rewrite(t, small, editTensor("fc1/Weights", func(t *stTensor) { t.shape = []int{4} })))
	seed("huge-layer", rewrite(t, small, editNetwork(func(net map[string]any) { layerOf(net, 1)["hiddenUnits"] = 1 << 20 })))
	seed("extra-tensor", rewrite(t, small, func(ts []stTensor, _ map[string]string) []stTensor {
		return append(ts, stTensor{name: "x", dtype: "F64", shape: []int{1}, data: make([]byte, 8)})
	}))
	seed("overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFixtureIO(t *testing.T, path string) fixtureIO { return readJSON[fixtureIO](t, path) }

// fixtureBatch returns the fixture's inputs as one batch, padded on the
// right.
func fixtureBatch(t *testing.T, fx fixtureIO) *dataset.Batch {
	t.Helper()
	var seqs []dataset.Sequence
	for _, rows := range fx.Inputs {
		s, err := dataset.NewSequence(rows)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	src, err := dataset.NewUnlabeled(seqs)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(seqs))
	for i := range idx {
		idx[i] = i
	}
	b, err := dataset.MakeBatch(src, idx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoadCheckpointFixtures loads the checkpoints that torch_roundtrip.py
// wrote from PyTorch models, and those that this package wrote, and checks
// that they predict the probabilities written beside them. The script
// writes version 1, without checksums, and so did this package before
// version 2: testdata/checkpoint/v1 keeps its checkpoints of then, which
// TestWriteCheckpointFixtures does not rewrite.
func TestLoadCheckpointFixtures(t *testing.T) {
	for _, c := range []struct {
		name    string
		tol     float64
		version string
	}{
		{"torch_lstm_float32", 1e-6, "1"}, {"torch_lstm_float64", 1e-12, "1"},
		{"v1/go_lstm_float32", 1e-6, "1"}, {"v1/go_lstm_float64", 1e-12, "1"},
		{"go_lstm_float32", 1e-6, "2"}, {"go_lstm_float64", 1e-12, "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join(fixtureDir, c.name)
			data, err := os.ReadFile(base + ".safetensors")
			if err != nil {
				t.Fatal(err)
			}
			_, meta, err := readSafetensors(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			_, hasCRC := meta[metaTensorCRC]
			if meta["version"] != c.version || hasCRC != (c.version != "1") {
				t.Fatalf("version %q, checksums %v; want version %s, with checksums from version 2", meta["version"], hasCRC, c.version)
			}
			net, err := LoadFile(base + ".safetensors")
			if err != nil {
				t.Fatal(err)
			}
			fx := readFixtureIO(t, base+".json")
			if got := dtypeName(net.Dtype()); got != fx.Dtype {
				t.Errorf("dtype %s, want %s", got, fx.Dtype)
			}
			probs, err := net.PredictBatch(fixtureBatch(t, fx))
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) != len(fx.Probabilities) {
				t.Fatalf("%d predictions, want %d", len(probs), len(fx.Probabilities))
			}
			worst := 0.0
			for i, row := range probs {
				for k, p := range row {
					worst = math.Max(worst, math.Abs(p-fx.Probabilities[i][k]))
				}
			}
			if worst > c.tol {
				t.Errorf("probabilities differ by up to %.3g from the fixture's; want at most %g", worst, c.tol)
			}
			t.Logf("largest difference %.3g", worst)
		})
	}
}

// TestLoadSurvivesMutatedDescriptions sets every field of every layer of
// real checkpoints to odd values, as a structure-aware complement of
// FuzzLoad: Load may refuse them, but must not panic, and what it loads
// must predict.
func TestLoadSurvivesMutatedDescriptions(t *testing.T) {
	cases := ckptCases()
	values := []any{-1, 0, 2, 1 << 24, 0.5, "last", "sum", []int{0, 3}, nil}
	loaded, refused := 0, 0
	for _, i := range []int{0, 1, 2} {
		c := cases[i]
		net, b := ckptTrained(t, c)
		data := saveBytes(t, net)
		var desc map[string]any
		ts, meta, err := readSafetensors(bytes.NewReader(data), -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(meta["network"]), &desc); err != nil {
			t.Fatal(err)
		}
		for li, l := range desc["layers"].([]any) {
			// The layer's own fields, and some of other kinds'.
			fields := map[string]bool{"hiddenUnits": true, "padding": true, "outputMode": true}
			for f := range l.(map[string]any) {
				fields[f] = true
			}
			for f := range fields {
				for _, v := range values {
					m := maps.Clone(meta)
					editNetwork(func(net map[string]any) {
						if v == nil {
							delete(layerOf(net, li), f)
						} else {
							layerOf(net, li)[f] = v
						}
					})(ts, m)
					var mutated bytes.Buffer
					if err := writeSafetensors(&mutated, ts, m); err != nil {
						t.Fatal(err)
					}
					n, err := Load(&mutated, c.load...)
					if err != nil {
						refused++
						continue
					}
					loaded++
					if n.String() == net.String() {
						continue // the same network: it predicts as TestCheckpointPredictsBitIdentically says
					}
					if _, err := n.PredictBatch(b); err != nil && !strings.Contains(err.Error(), "per timestep: use") && !strings.Contains(err.Error(), "has no statistics") {
						t.Errorf("%s: layer %d, %s = %v: loads, but predicting: %v", c.name, li+1, f, v, err)
					}
				}
			}
		}
	}
	t.Logf("%d mutated checkpoints loaded, %d refused", loaded, refused)
}
