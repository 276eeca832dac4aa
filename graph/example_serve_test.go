package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/rnn"
)

// predictHandler serves a network's predictions over HTTP: a POST of JSON
// {"sequence": [[...features...], ...]} (one row per timestep) gets
// {"class": "...", "probabilities": [...]}. One Network serves every
// request at once: inference is safe for concurrent use.
func predictHandler(net *graph.Network) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Sequence [][]float64 `json:"sequence"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		seq, err := dataset.NewSequence(req.Sequence)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		src, err := dataset.NewUnlabeled([]dataset.Sequence{seq})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		classes, probs, err := net.Classify(src, 1)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"class": classes[0], "probabilities": probs[0]})
	})
}

// Example_serving loads a checkpoint once and serves its predictions with
// net/http; requests run at once on the one loaded network.
func Example_serving() {
	var checkpoint bytes.Buffer // a file, in a real server: graph.LoadFile
	trained, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(2), graph.LSTM(8, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(2), graph.Softmax(), graph.ClassificationOutput(),
	}, graph.WithClassNames([]string{"down", "up"}))
	if err != nil {
		log.Fatal(err)
	}
	if err := trained.Save(&checkpoint); err != nil {
		log.Fatal(err)
	}

	net, err := graph.Load(&checkpoint)
	if err != nil {
		log.Fatal(err)
	}
	server := httptest.NewServer(predictHandler(net)) // http.ListenAndServe(":8080", ...)
	defer server.Close()

	resp, err := http.Post(server.URL, "application/json", bytes.NewBufferString(`{"sequence": [[0.1, 1], [0.4, 2], [0.9, 3]]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Class         string    `json:"class"`
		Probabilities []float64 `json:"probabilities"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, len(answer.Probabilities), answer.Class == "down" || answer.Class == "up")
	// Output:
	// 200 2 true
}

// TestServingConcurrentRequests sends 64 requests from 16 goroutines at
// once to the handler of Example_serving, over a float64 network, and
// checks every answer against the network's serial prediction of that
// sequence, bit for bit; and that a bad request is an error, not a panic.
func TestServingConcurrentRequests(t *testing.T) {
	net, err := graph.NewNetwork([]graph.Layer{
		graph.SequenceInput(2), graph.GRU(6, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(3), graph.Softmax(), graph.ClassificationOutput(),
	}, graph.WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(predictHandler(net))
	defer server.Close()
	seqs := make([][][]float64, 8)
	want := make([]string, len(seqs))
	for i := range seqs {
		for step := 0; step < 2+i; step++ {
			seqs[i] = append(seqs[i], []float64{float64(i) * 0.1, float64(step)})
		}
		seq, _ := dataset.NewSequence(seqs[i])
		src, _ := dataset.NewUnlabeled([]dataset.Sequence{seq})
		_, probs, err := net.Classify(src, 1)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = fmt.Sprint(probs[0])
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 4; k++ {
				i := (g + k) % len(seqs)
				body, _ := json.Marshal(map[string]any{"sequence": seqs[i]})
				resp, err := http.Post(server.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				var answer struct{ Probabilities []float64 }
				err = json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
				if err == nil && fmt.Sprint(answer.Probabilities) != want[i] {
					err = fmt.Errorf("sequence %d: %v over HTTP, %s serially", i, answer.Probabilities, want[i])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	resp, err := http.Post(server.URL, "application/json", bytes.NewBufferString(`{"sequence": [[1, 2, 3]]}`))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !bytes.Contains(msg, []byte("3 features")) {
		t.Errorf("a sequence of 3 features for a network of 2: %d %s", resp.StatusCode, msg)
	}
}
