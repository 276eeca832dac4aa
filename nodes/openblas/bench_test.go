//go:build openblas && cgo

package openblas

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/seqgraph/seqgraph/internal/gemm"
)

// BenchmarkLSTMShapes times the products of a fused LSTM layer's training
// run (batch 32, 12 features, 100 hidden units, T = 100) on OpenBLAS and on
// seqgraph's gemm, in both precisions, as sub-benchmarks impl=openblas and
// impl=seqgraph (benchstat -col /impl puts them side by side). Run it with
// OPENBLAS_NUM_THREADS=1.
func BenchmarkLSTMShapes(b *testing.B) {
	b.Run("dtype=float32", func(b *testing.B) {
		benchLSTMShapes(b, Implementation{}.Sgemm, gemm.Implementation{}.Sgemm)
	})
	b.Run("dtype=float64", func(b *testing.B) {
		benchLSTMShapes(b, Implementation{}.Dgemm, gemm.Implementation{}.Dgemm)
	})
}

type gemmFunc[T float32 | float64] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

func benchLSTMShapes[T float32 | float64](b *testing.B, openblas, seqgraph gemmFunc[T]) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(rng.NormFloat64())
		}
		return v
	}
	for _, s := range lstmShapes {
		lda, ldb := s.k, s.n
		if s.tA == blas.Trans {
			lda = s.m
		}
		if s.tB == blas.Trans {
			ldb = s.k
		}
		a, bm, c := fill(s.m*s.k), fill(s.k*s.n), make([]T, s.m*s.n)
		for _, impl := range []struct {
			name string
			f    gemmFunc[T]
		}{{"openblas", openblas}, {"seqgraph", seqgraph}} {
			b.Run(fmt.Sprintf("shape=%dx%dx%d/impl=%s", s.m, s.n, s.k, impl.name), func(b *testing.B) {
				for b.Loop() {
					impl.f(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// lstmShapes are the products of a fused LSTM layer's training run, as
// C[m×n] = op(A)·op(B) with inner size k.
var lstmShapes = []struct {
	name    string
	m, n, k int
	tA, tB  blas.Transpose
}{
	{"step h·Rᵀ", 32, 400, 100, blas.NoTrans, blas.NoTrans},
	{"step dz·R", 32, 100, 400, blas.NoTrans, blas.NoTrans},
	{"sequence X·Wᵀ", 3200, 400, 12, blas.NoTrans, blas.NoTrans},
	{"sequence Xᵀ·dZ", 12, 400, 3200, blas.Trans, blas.NoTrans},
	{"sequence dZᵀ·H", 400, 100, 3200, blas.Trans, blas.NoTrans},
}
