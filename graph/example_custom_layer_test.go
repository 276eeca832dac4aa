package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/nodes"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// Scale multiplies every feature of every timestep by a learnable factor
// of its own, y_t = x_t ⊙ s, s starting at 1.
type Scale struct{ Name string }

func (l Scale) Spec() graph.LayerSpec { return graph.LayerSpec{Kind: "scale", Name: l.Name} }

func (l Scale) Output(in graph.Shape) (graph.Shape, error) {
	if in.Folded || !in.Frame.IsZero() {
		return in, errors.New("scales plain features: unfold and flatten frames first")
	}
	return in, nil
}

func (l Scale) Build(b *graph.Builder, in graph.Value) (graph.Value, error) {
	s, err := b.Learnable("Scale", tensor.Shape{b.In().Features}, nodes.Ones())
	if err != nil {
		return in, err
	}
	return b.EachStep(in, func(x *gorgonia.Node, _ int) (*gorgonia.Node, error) {
		return nodes.MulRows(x, s)
	})
}

// DecodeScale declares a Scale layer again from a checkpoint.
func DecodeScale(name string, fields graph.Fields) (graph.Layer, error) {
	return Scale{Name: name}, fields.Decode(&struct{}{})
}

// GatedResidual adds a GRU's output to its input through a learnable gate
// per feature, y_t = x_t + σ(g) ⊙ h_t, where h is a GRU over x of as many
// units as x has features, and g starts at 0 (a gate of one half).
type GatedResidual struct{ Name string }

func (l GatedResidual) Spec() graph.LayerSpec {
	return graph.LayerSpec{Kind: "gated-residual", Name: l.Name}
}

func (l GatedResidual) Output(in graph.Shape) (graph.Shape, error) {
	if !in.Sequence || in.Folded || !in.Frame.IsZero() {
		return in, errors.New("needs sequences of plain features")
	}
	return in, nil
}

// Traits: its GRU runs on a fused op, where padded steps cost next to
// nothing, and reads each sequence in order; the zero Traits say so.
func (l GatedResidual) Traits() graph.Traits { return graph.Traits{} }

func (l GatedResidual) Build(b *graph.Builder, in graph.Value) (graph.Value, error) {
	f := b.In().Features
	gru, err := rnn.NewGRU(b.Graph(), b.Params(), b.Name()+"/gru", f, f)
	if err != nil {
		return in, err
	}
	b.Train(gru.Learnables()...)
	opts := []rnn.UnrollOption{rnn.WithMask(in.Mask.Steps)}
	if !b.ReadsNodes() {
		opts = append(opts, rnn.WithFusedKernels())
	}
	u, err := rnn.Unroll(gru, in.Steps, opts...)
	if err != nil {
		return in, err
	}
	b.Recurrent(u) // its state carries across chunks and stateful calls
	g, err := b.Learnable("Gate", tensor.Shape{f}, nodes.Zeros())
	if err != nil {
		return in, err
	}
	gate, err := gorgonia.Sigmoid(g)
	if err != nil {
		return in, err
	}
	return b.EachStep(in, func(x *gorgonia.Node, t int) (*gorgonia.Node, error) {
		h, err := nodes.MulRows(u.Outputs[t], gate)
		if err != nil {
			return nil, err
		}
		return gorgonia.Add(x, h)
	})
}

// DecodeGatedResidual declares a GatedResidual layer again from a
// checkpoint.
func DecodeGatedResidual(name string, fields graph.Fields) (graph.Layer, error) {
	return GatedResidual{Name: name}, fields.Decode(&struct{}{})
}

// Example_customLayers declares a network with both layers, trains it,
// checks its gradients, saves and loads it, and predicts with the loaded
// network as with the trained one.
func Example_customLayers() {
	layers := []graph.Layer{
		graph.SequenceInput(3),
		Scale{},
		GatedResidual{},
		graph.LSTM(8, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}
	net, err := graph.NewNetwork(layers, graph.WithDtype(tensor.Float64))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(net)

	data := upOrDown(40)
	net, _, err = graph.Train(context.Background(), net, data, graph.WithSolver("adam"),
		graph.WithMaxEpochs(20), graph.WithMiniBatchSize(10), graph.WithVerbose(false))
	if err != nil {
		log.Fatal(err)
	}

	batch, err := dataset.MakeBatch(data, []int{0, 1, 2}) // padded
	if err != nil {
		log.Fatal(err)
	}
	worst, err := graph.CheckGradients(net, batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("gradients match finite differences:", worst.Relative < 1e-6)

	var saved bytes.Buffer
	if err := net.Save(&saved); err != nil {
		log.Fatal(err)
	}
	loaded, err := graph.Load(&saved,
		graph.WithLayerKind("scale", DecodeScale),
		graph.WithLayerKind("gated-residual", DecodeGatedResidual))
	if err != nil {
		log.Fatal(err)
	}
	before, _ := net.Predict(data, 16)
	after, _ := loaded.Predict(data, 16)
	fmt.Println("the loaded network predicts the same:", fmt.Sprint(before) == fmt.Sprint(after))
	// Output:
	//   1  sequenceinput1     Sequence Input         3 features
	//   2  scale1             scale
	//   3  gated-residual1    gated-residual
	//   4  lstm1              LSTM                   8 hidden units, output mode last
	//   5  fc1                Fully Connected        8 -> 2
	//   6  softmax1           Softmax
	//   7  classoutput1       Classification Output
	// gradients match finite differences: true
	// the loaded network predicts the same: true
}

// upOrDown returns n sequences of 3 features and 4 to 9 timesteps whose
// class says whether the first feature trends up or down.
func upOrDown(n int) *dataset.InMemory {
	rng := rand.New(rand.NewPCG(7, 8))
	seqs, labels := make([]dataset.Sequence, n), make([]int, n)
	for i := range seqs {
		labels[i] = i % 2
		slope := 0.4 * float64(2*labels[i]-1)
		rows := make([][]float64, 4+rng.IntN(6))
		for t := range rows {
			rows[t] = []float64{slope * float64(t), rng.NormFloat64(), 0.5 * rng.NormFloat64()}
		}
		seqs[i], _ = dataset.NewSequence(rows)
	}
	data, err := dataset.NewClassification(seqs, labels, 2)
	if err != nil {
		log.Fatal(err)
	}
	return data
}

// TestCustomLayersEverywhere takes the layers of Example_customLayers,
// defined outside package graph, through what built-in layers meet:
// Activations reads their outputs and their cell's gates by name, parallel
// training gives serial training's step, chunks carry the GRU's state, and
// a loaded network predicts bit for bit what the saved one did.
func TestCustomLayersEverywhere(t *testing.T) {
	layers := []graph.Layer{graph.SequenceInput(3), Scale{Name: "scale"}, GatedResidual{},
		graph.LSTM(4), graph.FullyConnected(2), graph.RegressionOutput()}
	data := upOrDown(6)
	var steps []dataset.Sequence
	for i := 0; i < data.Len(); i++ {
		steps = append(steps, data.Sequence(i))
	}
	perStep, err := dataset.NewStepRegression(steps, twoFeatures(steps))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := dataset.MakeBatch(perStep, []int{0, 1, 2, 3}, dataset.WithPaddingDirection(dataset.PadLeft))

	serial, _ := graph.NewNetwork(layers, graph.WithDtype(tensor.Float64))
	parallel, _ := graph.NewNetwork(layers, graph.WithDtype(tensor.Float64))
	s1, _ := optim.NewAdam()
	s2, _ := optim.NewAdam()
	l1, err := serial.TrainStep(b, s1)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := parallel.TrainStepParallel(b, s2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l1-l2) > 1e-12 {
		t.Errorf("loss %v serially, %v on two workers", l1, l2)
	}
	for _, name := range serial.Learnables() {
		a, _ := serial.Learnable(name)
		p, _ := parallel.Learnable(name)
		for i := range a {
			if math.Abs(a[i]-p[i]) > 1e-12 {
				t.Fatalf("%s[%d]: %v serially, %v on two workers", name, i, a[i], p[i])
			}
		}
	}

	acts, err := serial.Activations(b, "scale/t3", "gated-residual1/t3", "gated-residual1/gru/t3/update")
	if err != nil {
		t.Fatal(err)
	}
	if got := acts["gated-residual1/gru/t3/update"].Shape(); !got.Eq(tensor.Shape{4, 3}) {
		t.Errorf("the GRU's update gate has shape %v", got)
	}

	chunks, err := dataset.MakeChunks(perStep, []int{0, 1, 2, 3}, dataset.WithSequenceLength(3))
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := dataset.MakeBatch(perStep, []int{0, 1, 2, 3})
	want, _ := serial.PredictStepsBatch(whole)
	var got [4][][]float64
	for _, c := range chunks {
		out, err := serial.PredictStepsBatch(c)
		if err != nil {
			t.Fatal(err)
		}
		for s := range out {
			got[s] = append(got[s], out[s]...)
		}
	}
	if fmt.Sprint(got[:]) != fmt.Sprint(want) {
		t.Error("chunks of split sequences predict otherwise than the whole sequences")
	}

	var saved bytes.Buffer
	if err := serial.Save(&saved); err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Load(bytes.NewReader(saved.Bytes())); err == nil || !strings.Contains(err.Error(), `unknown kind "scale"`) {
		t.Errorf("loading without the decoders: %v", err)
	}
	loaded, err := graph.Load(&saved, graph.WithLayerKind("scale", DecodeScale), graph.WithLayerKind("gated-residual", DecodeGatedResidual))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := loaded.PredictStepsBatch(whole)
	if fmt.Sprint(again) != fmt.Sprint(want) {
		t.Error("the loaded network predicts otherwise")
	}
}

// twoFeatures returns, per sequence, its first two features as responses.
func twoFeatures(seqs []dataset.Sequence) []dataset.Sequence {
	out := make([]dataset.Sequence, len(seqs))
	for i, s := range seqs {
		rows := make([][]float64, s.T)
		for t := range rows {
			rows[t] = []float64{s.At(t, 0), s.At(t, 1)}
		}
		out[i], _ = dataset.NewSequence(rows)
	}
	return out
}

// TestCustomLayersDocIsTheExample keeps docs/custom-layers.md true: every
// Go block of the document, except the interface listing, stands verbatim
// in this file, which go test compiles and runs; the listing names exactly
// the methods of graph.Layer.
func TestCustomLayersDocIsTheExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/custom-layers.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_custom_layer_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 4 {
		t.Fatalf("found %d Go blocks in the document", len(blocks))
	}
	for i, b := range blocks {
		if strings.HasPrefix(b[1], "type Layer interface") {
			var listed []string
			for _, m := range regexp.MustCompile(`(?m)^\t(\w+)\(`).FindAllStringSubmatch(b[1], -1) {
				listed = append(listed, m[1])
			}
			var want []string
			layer := reflect.TypeOf((*graph.Layer)(nil)).Elem()
			for i := 0; i < layer.NumMethod(); i++ {
				want = append(want, layer.Method(i).Name)
			}
			sort.Strings(listed)
			if !reflect.DeepEqual(listed, want) {
				t.Errorf("docs/custom-layers.md lists methods %v; graph.Layer has %v", listed, want)
			}
			continue
		}
		if !strings.Contains(string(src), b[1]) {
			t.Errorf("block %d of docs/custom-layers.md is not in example_custom_layer_test.go:\n%s", i+1, b[1])
		}
	}
}
