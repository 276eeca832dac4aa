package gemm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/internal/gemm"
	"github.com/seqgraph/seqgraph/nodes"
)

// counting is gemm.Implementation counting its Sgemm and Dgemm calls, to
// show that Gorgonia runs them.
type counting struct {
	gemm.Implementation
	calls *int
}

func (c counting) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	*c.calls++
	c.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

func (c counting) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, cm []float64, ldc int) {
	*c.calls++
	c.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

// matMulGraph builds y = op(a)·op(b) with nodes.MatMul and the gradients of
// Σ w⊙y, runs it on the BLAS installed with gorgonia.Use and returns y, ∂/∂a
// and ∂/∂b.
func matMulGraph(t *testing.T, dt tensor.Dtype, tA, tB bool, m, n, k int) [3][]float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	g := gorgonia.NewGraph()
	input := func(name string, r, c int) *gorgonia.Node {
		v := tensor.New(tensor.Of(dt), tensor.WithShape(r, c))
		for i := range r * c {
			x := 2*rng.Float64() - 1
			if dt == tensor.Float32 {
				v.Data().([]float32)[i] = float32(x)
			} else {
				v.Data().([]float64)[i] = x
			}
		}
		return gorgonia.NodeFromAny(g, v, gorgonia.WithName(name))
	}
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	a, b := input("a", ar, ac), input("b", br, bc)
	y, err := nodes.MatMul(a, b, tA, tB)
	if err != nil {
		t.Fatal(err)
	}
	p, err := gorgonia.HadamardProd(y, input("w", m, n))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := gorgonia.Sum(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gorgonia.Grad(cost, a, b); err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var out [3][]float64
	for i, v := range []gorgonia.Value{y.Value(), gradOf(t, a), gradOf(t, b)} {
		switch d := v.Data().(type) {
		case []float32:
			for _, x := range d {
				out[i] = append(out[i], float64(x))
			}
		case []float64:
			out[i] = append(out[i], d...)
		}
	}
	return out
}

func gradOf(t *testing.T, n *gorgonia.Node) gorgonia.Value {
	t.Helper()
	v, err := n.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGorgonia installs Implementation in Gorgonia and checks that a graph
// of nodes.MatMul, forward and backward, gives gonum's results. gorgonia.Use
// is process-wide: the test restores the previous BLAS and must not run in
// parallel with others that use Gorgonia.
func TestGorgonia(t *testing.T) {
	prev := gorgonia.WhichBLAS()
	defer gorgonia.Use(prev)

	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%v/tA=%t,tB=%t", dt, tr[0], tr[1]), func(t *testing.T) {
				gorgonia.Use(prev)
				want := matMulGraph(t, dt, tr[0], tr[1], 33, 40, 17)

				var calls int
				gorgonia.Use(counting{calls: &calls})
				got := matMulGraph(t, dt, tr[0], tr[1], 33, 40, 17)
				gorgonia.Use(prev)

				// The forward product and the two of the backward
				// pass.
				if calls < 3 {
					t.Errorf("%d calls of the installed ?gemm, want at least 3", calls)
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for i, name := range []string{"y", "∂a", "∂b"} {
					if len(got[i]) != len(want[i]) || len(got[i]) == 0 {
						t.Fatalf("%s: %d values, want %d", name, len(got[i]), len(want[i]))
					}
					for j := range got[i] {
						// The values are sums of at most 40
						// products of numbers in [-1, 1].
						if d := math.Abs(got[i][j] - want[i][j]); !(d <= tol*40) {
							t.Fatalf("%s[%d] = %v, want %v", name, j, got[i][j], want[i][j])
						}
					}
				}
			})
		}
	}
}
