package graph

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// TestLoadVersion1Checkpoints loads the checkpoints that version 1 of the
// format wrote (testdata/checkpoint/v1, written before version 2 existed)
// and checks that each predicts what the network that saved it predicted:
// to 1e-12 in float64 and 1e-6 in float32, as later versions may compute
// in another order (the graph optimizer sums a custom cell's products
// otherwise); within one version a loaded network predicts bit for bit as
// the saved one (TestCheckpointPredictsBitIdentically). A version-1 bidirectional layer with output mode "last"
// meant each direction's final state: it must load as rnn.Final.
func TestLoadVersion1Checkpoints(t *testing.T) {
	dir := filepath.Join(fixtureDir, "v1")
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil || len(files) < 12 {
		t.Fatalf("%d version-1 fixtures in %s (%v); want the 12 that were written", len(files), dir, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".safetensors")
		if strings.HasPrefix(name, "go_lstm_") {
			continue // the PyTorch round trip's fixtures, which TestLoadVersion1 loads
		}
		t.Run(name, func(t *testing.T) {
			var fx struct {
				Batch       *dataset.Batch `json:"batch"`
				Predictions [][]float64    `json:"predictions"`
			}
			raw, err := os.ReadFile(strings.TrimSuffix(file, ".safetensors") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &fx); err != nil {
				t.Fatal(err)
			}
			net, err := LoadFile(file, WithCellFactory("mgu", newCkptMGU))
			if err != nil {
				t.Fatal(err)
			}
			got, err := net.PredictBatch(fx.Batch)
			if err != nil {
				t.Fatal(err)
			}
			for s, row := range fx.Predictions {
				for k, want := range row {
					if tol := map[string]float64{"float32": 1e-6, "float64": 1e-12}[net.Dtype().String()]; !closeTo(got[s][k], want, tol) {
						t.Fatalf("sequence %d, output %d: %v, the saved network predicted %v", s, k, got[s][k], want)
					}
				}
			}
			for _, l := range net.layers {
				if r, ok := l.Layer.(*recurrentLayer); ok && r.bidirectional && r.opts.mode == rnn.Last {
					t.Errorf("layer %q: a version-1 bidirectional \"last\" loaded as rnn.Last; want rnn.Final", l.name)
				}
			}
		})
	}
}
