package graph_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/rnn"
)

// A PyTorch model's weights, by PyTorch's names. The model (float64)
//
//	model = nn.Module()
//	model.encoder = nn.Module()
//	model.encoder.lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
//	model.classifier = nn.Linear(8, 3)
//	# forward: softmax(classifier(encoder.lstm(x)[0][:, -1, :]))
//
// was saved with safetensors.torch.save_file(model.state_dict(), path);
// for the sequence below it gives tensor([0.4737, 0.2517, 0.2745]).
func ExampleNetwork_LoadStateDictFile() {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(3),
		graph.BiLSTM(4), // encoder.lstm, layer 0
		graph.BiLSTM(4, graph.WithOutputMode(rnn.Last)), // layer 1, its output at the last step
		graph.FullyConnected(3),                         // classifier
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithDtype(tensor.Float64))
	if err != nil {
		log.Fatal(err)
	}
	modules := graph.WithTorchModules(map[string]string{
		"bilstm1": "encoder.lstm@0",
		"bilstm2": "encoder.lstm@1",
		"fc1":     "classifier",
	})
	if err := net.LoadStateDictFile("testdata/torch/torch_bilstm2_float64.safetensors", modules); err != nil {
		log.Fatal(err)
	}

	seq, err := dataset.NewSequence([][]float64{{0.5, -1, 2}, {1, 0, -0.5}, {0, 0.3, 0.1}})
	if err != nil {
		log.Fatal(err)
	}
	data, err := dataset.NewUnlabeled([]dataset.Sequence{seq})
	if err != nil {
		log.Fatal(err)
	}
	probs, err := net.Predict(data, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", probs[0])

	// After training in Go: back to PyTorch, whose
	// model.load_state_dict(safetensors.torch.load_file(path)) takes it.
	dir, err := os.MkdirTemp("", "seqgraph")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := net.SaveStateDictFile(filepath.Join(dir, "bilstm2.safetensors"), modules); err != nil {
		log.Fatal(err)
	}
	// Output:
	// [0.4737 0.2517 0.2745]
}

// The tensors of the state_dict of a network: PyTorch's names and shapes,
// and the learnables they map to. An nn.LSTM layer's two biases add up to
// its one Bias.
func ExampleNetwork_StateDictKeys() {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(3),
		graph.BiLSTM(4),
		graph.BiLSTM(4, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(3),
		graph.Softmax(),
		graph.ClassificationOutput(),
	})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := net.StateDictKeys(graph.WithTorchModules(map[string]string{
		"bilstm1": "lstm@0", "bilstm2": "lstm@1", "fc1": "fc",
	}))
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Printf("%-25s %-7s %s\n", k.Name, fmt.Sprint(k.Shape), k.Learnable)
	}
	// Output:
	// lstm.weight_ih_l0         [16 3]  bilstm1/forward/InputWeights
	// lstm.weight_hh_l0         [16 4]  bilstm1/forward/RecurrentWeights
	// lstm.bias_ih_l0           [16]    bilstm1/forward/Bias
	// lstm.bias_hh_l0           [16]    bilstm1/forward/Bias
	// lstm.weight_ih_l0_reverse [16 3]  bilstm1/backward/InputWeights
	// lstm.weight_hh_l0_reverse [16 4]  bilstm1/backward/RecurrentWeights
	// lstm.bias_ih_l0_reverse   [16]    bilstm1/backward/Bias
	// lstm.bias_hh_l0_reverse   [16]    bilstm1/backward/Bias
	// lstm.weight_ih_l1         [16 8]  bilstm2/forward/InputWeights
	// lstm.weight_hh_l1         [16 4]  bilstm2/forward/RecurrentWeights
	// lstm.bias_ih_l1           [16]    bilstm2/forward/Bias
	// lstm.bias_hh_l1           [16]    bilstm2/forward/Bias
	// lstm.weight_ih_l1_reverse [16 8]  bilstm2/backward/InputWeights
	// lstm.weight_hh_l1_reverse [16 4]  bilstm2/backward/RecurrentWeights
	// lstm.bias_ih_l1_reverse   [16]    bilstm2/backward/Bias
	// lstm.bias_hh_l1_reverse   [16]    bilstm2/backward/Bias
	// fc.weight                 [3 8]   fc1/Weights
	// fc.bias                   [3]     fc1/Bias
}

// TestCheckpointsDocLoadsAsTheExample keeps docs/checkpoints.md's Go
// example for PyTorch users true: it stands verbatim in
// ExampleNetwork_LoadStateDictFile, which go test runs.
func TestCheckpointsDocLoadsAsTheExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/checkpoints.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_torch_test.go")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(b[1], "LoadStateDictFile(") {
			found = true
			if !strings.Contains(string(src), b[1]) {
				t.Errorf("docs/checkpoints.md's example is not in example_torch_test.go:\n%s", b[1])
			}
		}
	}
	if !found {
		t.Error("docs/checkpoints.md has no Go example of LoadStateDictFile")
	}
}
