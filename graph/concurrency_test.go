package graph

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/rnn"
)

// concurrencyNetworks are a classifier with an output per sequence and a
// regression network with an output per timestep, and data for each.
func concurrencyNetworks(t *testing.T) (cls, steps *Network, seqs []dataset.Sequence, src dataset.Source) {
	rng := rand.New(rand.NewPCG(31, 41))
	seqs = randomSequences(t, rng, 9, 3, 2, 9)
	src, _ = dataset.NewUnlabeled(seqs)
	var err error
	cls, err = NewNetwork([]Layer{SequenceInput(3), LSTM(5), GRU(4, WithOutputMode(rnn.Last)), FullyConnected(3), Softmax(), ClassificationOutput()},
		WithDtype(tensor.Float64), WithCacheSize(4))
	if err != nil {
		t.Fatal(err)
	}
	steps, err = NewNetwork([]Layer{SequenceInput(3), Recurrent(4, peepholeFactory), FullyConnected(2), RegressionOutput()}, WithDtype(tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	return cls, steps, seqs, src
}

// TestConcurrentInference: 12 goroutines call every inference entry point
// of two networks at once (Predict, PredictBatch, Classify, PredictSteps,
// PredictStepsBatch, ClassifySteps on a classifier, Activations, streams
// stepping series), in mini-batches of several sizes so that shapes are
// compiled as they go and a small cache evicts, and every result equals the
// serial call's bit for bit. Run with -race (.ci/run does).
func TestConcurrentInference(t *testing.T) {
	cls, steps, seqs, src := concurrencyNetworks(t)
	type call func() (string, error)
	var calls []call
	for _, size := range []int{1, 2, 4, 9} {
		calls = append(calls,
			func() (string, error) { r, err := cls.Predict(src, size); return fmt.Sprint(r), err },
			func() (string, error) { l, r, err := cls.Classify(src, size); return fmt.Sprint(l, r), err },
			func() (string, error) { r, err := steps.PredictSteps(src, size); return fmt.Sprint(r), err },
		)
	}
	batch, _ := dataset.MakeBatch(src, []int{3, 1, 4}, dataset.WithPaddingDirection(dataset.PadLeft))
	calls = append(calls,
		func() (string, error) { r, err := cls.PredictBatch(batch); return fmt.Sprint(r), err },
		func() (string, error) { r, err := steps.PredictStepsBatch(batch); return fmt.Sprint(r), err },
		func() (string, error) {
			a, err := steps.Activations(batch, "rnn1/t2/hidden", "fc1/t5")
			return fmt.Sprint(a["rnn1/t2/hidden"].Data(), a["fc1/t5"].Data()), err
		},
		func() (string, error) {
			s := steps.NewStream()
			var out []any
			for i := 0; i < seqs[0].T; i++ {
				y, err := s.Step(seqs[0].Row(i))
				if err != nil {
					return "", err
				}
				out = append(out, y)
			}
			return fmt.Sprint(out), nil
		},
	)
	want := make([]string, len(calls))
	for i, c := range calls {
		var err error
		if want[i], err = c(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for k := 0; k < 3*len(calls); k++ {
				i := rng.IntN(len(calls))
				got, err := calls[i]()
				if err == nil && got != want[i] {
					err = fmt.Errorf("goroutine %d, call %d: the result differs from the serial call's", g, i)
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
}

// flipSolver is a solver that sets the learnables to one of two sets of
// values in turn, whatever the gradients: a prediction that sees the
// weights of before or after a step equals one of the two predictions,
// and one that sees a mix of the two, neither.
type flipSolver struct {
	sets [2]map[string][]float64
	next int
}

func (s *flipSolver) Step(vgs []gorgonia.ValueGrad) error {
	for _, vg := range vgs {
		l := vg.(learnable)
		fill(l.Value().(*tensor.Dense), func(i int) float64 { return s.sets[s.next][l.Name()][i] })
		l.grad.Zero()
	}
	s.next = 1 - s.next
	return nil
}

// TestTrainingBesideInference: one goroutine trains while eight predict.
// The training steps set the weights to one of two sets in turn, and
// between them LoadStateDict loads the other set; every prediction must
// equal the prediction with one set or the other, bit for bit, never a
// torn mix.
func TestTrainingBesideInference(t *testing.T) {
	cls, _, seqs, src := concurrencyNetworks(t)
	labelled, _ := dataset.NewClassification(seqs, []int{0, 1, 2, 0, 1, 2, 0, 1, 2}, 3)
	trainBatch, _ := dataset.MakeBatch(labelled, []int{0, 1, 2, 3})
	solver := &flipSolver{}
	var preds [2]string
	var dicts [2][]byte // each set of weights as a PyTorch state_dict
	for k := range solver.sets {
		solver.sets[k] = make(map[string][]float64)
		for _, name := range cls.Learnables() {
			v, _ := cls.Learnable(name)
			for i := range v {
				v[i] += 0.3 * float64(k) * math.Sin(float64(i))
			}
			solver.sets[k][name] = v
		}
		for name, v := range solver.sets[k] {
			if err := cls.SetLearnable(name, v); err != nil {
				t.Fatal(err)
			}
		}
		r, err := cls.Predict(src, 3)
		if err != nil {
			t.Fatal(err)
		}
		preds[k] = fmt.Sprint(r)
		var buf bytes.Buffer
		if err := cls.SaveStateDict(&buf); err != nil {
			t.Fatal(err)
		}
		dicts[k] = buf.Bytes()
	}
	if preds[0] == preds[1] {
		t.Fatal("the two sets of weights predict alike")
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 9)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		// Training steps and loads of a state_dict take turns in
		// writing the weights.
		for i := 0; i < 40; i++ {
			var err error
			if i%2 == 0 {
				_, err = cls.TrainStep(trainBatch, solver)
			} else {
				err = cls.LoadStateDict(bytes.NewReader(dicts[(i/2+1)%2])) // the other set
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				r, err := cls.Predict(src, 3)
				if got := fmt.Sprint(r); err == nil && got != preds[0] && got != preds[1] {
					err = fmt.Errorf("a prediction during training saw neither set of weights")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
