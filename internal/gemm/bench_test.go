package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are the products of seqgraph's LSTM layers (batch 32, 12
// features, 100 hidden units, T = 100 for the whole-sequence ones), as
// C[m×n] = op(A)·op(B) with inner size k.
var benchShapes = []struct {
	m, n, k int
	tA, tB  blas.Transpose
}{
	{32, 400, 112, blas.NoTrans, blas.NoTrans},  // [x h]·W, a step's gates
	{32, 400, 100, blas.NoTrans, blas.Trans},    // h·Wᵀ
	{400, 112, 32, blas.Trans, blas.NoTrans},    // gᵀ·[x h], a step's weight gradient
	{32, 112, 400, blas.NoTrans, blas.NoTrans},  // g·W, a step's input gradient
	{32, 100, 400, blas.NoTrans, blas.Trans},    // g·Wᵀ
	{3200, 400, 12, blas.NoTrans, blas.NoTrans}, // X·W for a whole sequence
	{400, 100, 3200, blas.Trans, blas.NoTrans},  // Gᵀ·H for a whole sequence
}

func BenchmarkSgemm(b *testing.B) {
	benchGemm(b, gonum.Implementation{}.Sgemm, Implementation{}.Sgemm)
}

func BenchmarkDgemm(b *testing.B) {
	benchGemm(b, gonum.Implementation{}.Dgemm, Implementation{}.Dgemm)
}

// benchGemm runs each shape with gonum's implementation and with ours, as
// sub-benchmarks impl=gonum and impl=seqgraph, so that
//
//	benchstat -col /impl
//
// puts them side by side.
func benchGemm[T float](b *testing.B, gonumGemm, ours gemmFunc[T]) {
	for _, s := range benchShapes {
		rng := rand.New(rand.NewPCG(1, 2))
		ar, ac := s.m, s.k
		if s.tA != blas.NoTrans {
			ar, ac = ac, ar
		}
		br, bc := s.k, s.n
		if s.tB != blas.NoTrans {
			br, bc = bc, br
		}
		a, lda := matrix[T](rng, ar, ac, 0)
		bm, ldb := matrix[T](rng, br, bc, 0)
		c := make([]T, s.m*s.n)
		for _, impl := range []struct {
			name string
			f    gemmFunc[T]
		}{{"gonum", gonumGemm}, {"seqgraph", ours}} {
			name := fmt.Sprintf("shape=%dx%dx%d/op=%c%c/impl=%s", s.m, s.n, s.k, s.tA, s.tB, impl.name)
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					impl.f(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
