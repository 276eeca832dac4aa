package nodes

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func embedBuild(spec EmbeddingSpec) seqBuild {
	return func(in map[string]*gorgonia.Node) (*gorgonia.Node, error) { return Embedding(in["x"], in["w"], spec) }
}

// TestEmbeddingLooksUpColumnsAndSkipsPadding checks y[r] = w[:, x[r]] and
// its gradient by the definition, with index 0 mapping to zeros and getting
// no gradient although column 0 of w is not zero.
func TestEmbeddingLooksUpColumnsAndSkipsPadding(t *testing.T) {
	const dim, vocab = 2, 4
	w := []float64{ // D×V: column v is token v
		9, 1, 2, 3,
		9, 4, 5, 6,
	}
	x := []float64{3, 0, 1, 3, 0, 2}
	gy := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		r := mustRun(t, dt, []tin{{"x", []int{6, 1}, x}, {"w", []int{dim, vocab}, w}}, []string{"w"}, gy, embedBuild(EmbeddingSpec{}))
		closeTo(t, "y", r.y, []float64{3, 6, 0, 0, 1, 4, 3, 6, 0, 0, 2, 5}, 0)
		// Token 3 is at rows 0 and 3, token 1 at row 2, token 2 at row 5.
		closeTo(t, "dw", r.grads["w"], []float64{
			0, 5, 11, 1 + 7,
			0, 6, 12, 2 + 8,
		}, 0)
	}
}

func TestEmbeddingRejectsBadIndices(t *testing.T) {
	w := tin{"w", []int{2, 5}, uniform(rand.New(rand.NewPCG(1, 2)), 10)}
	cases := []struct {
		name  string
		index float64
		spec  EmbeddingSpec
		parts []string
	}{
		{"out of vocabulary", 5, EmbeddingSpec{Batch: 3}, []string{"index 5 at row 4 (sequence 1, step 1)", "[0, 5)"}},
		{"negative", -1, EmbeddingSpec{Batch: 3}, []string{"index -1 at row 4 (sequence 1, step 1)"}},
		{"not an integer", 2.5, EmbeddingSpec{Batch: 3}, []string{"index 2.5 at row 4 (sequence 1, step 1)", "not an integer"}},
		{"NaN", math.NaN(), EmbeddingSpec{}, []string{"index NaN at row 4 is not"}},
		{"one step of a batch", 7, EmbeddingSpec{Batch: 2, FirstStep: 9}, []string{"row 4 (sequence 0, step 11)"}},
	}
	for _, c := range cases {
		x := []float64{1, 2, 3, 4, c.index, 0}
		_, err := runOpGraph(t, tensor.Float64, []tin{{"x", []int{6, 1}, x}, w}, nil, nil, embedBuild(c.spec))
		wantErr(t, c.name, err, c.parts...)
	}
	g := gorgonia.NewGraph()
	rng := rand.New(rand.NewPCG(3, 4))
	wn := randMatrix(g, rng, "w", 2, 5)
	bad := map[string]func() (*gorgonia.Node, error){
		"indices not N×1": func() (*gorgonia.Node, error) { return Embedding(randMatrix(g, rng, "x2", 3, 2), wn, EmbeddingSpec{}) },
		"weights a vector": func() (*gorgonia.Node, error) {
			return Embedding(randMatrix(g, rng, "x", 3, 1), randMatrix(g, rng, "v", 5), EmbeddingSpec{})
		},
		"dtypes": func() (*gorgonia.Node, error) { return Embedding(f32Node(g, rng, "x32", 3, 1), wn, EmbeddingSpec{}) },
		"negative batch": func() (*gorgonia.Node, error) {
			return Embedding(randMatrix(g, rng, "x", 3, 1), wn, EmbeddingSpec{Batch: -1})
		},
	}
	for name, f := range bad {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestEmbeddingRefusesIndexGradient: the indices are data, and asking for
// their gradient is Gorgonia's "Non Differentiable WRTs" error.
func TestEmbeddingRefusesIndexGradient(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, denseOf(tensor.Float64, []float64{1, 0, 2}, 3, 1), gorgonia.WithName("x"))
	w := randMatrix(g, rand.New(rand.NewPCG(5, 6)), "w", 2, 3)
	y, err := Embedding(x, w, EmbeddingSpec{})
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(y))
	_, err = gorgonia.Grad(cost, x)
	wantErr(t, "gradient of the indices", err, "Non Differentiable")
}

// BenchmarkEmbedding times a forward and backward pass in a float32 graph:
// 32 sequences of 100 tokens of a vocabulary of 1000, dimension 64.
func BenchmarkEmbedding(b *testing.B) {
	const dim, vocab = 64, 1000
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, benchT*benchB)
	for i := range x {
		x[i] = float64(rng.IntN(vocab))
	}
	ins := []tin{{"x", []int{len(x), 1}, x}, {"w", []int{dim, vocab}, uniform(rng, dim*vocab)}}
	benchOp(b, ins, []string{"w"}, embedBuild(EmbeddingSpec{Batch: benchB}))
}
