//go:build openblas && cgo

package openblas

import (
	"gonum.org/v1/gonum/blas"

	"github.com/seqgraph/seqgraph/internal/gemm"
)

// SmallProduct is the number of multiply-adds (m·n·k) below which Hybrid
// computes a product with seqgraph's gemm. The products of recurrent layers
// are below it: a step's are batch×4H×H, a sequence's at most 4H×H×(T·batch)
// (1.3e8 for H = 100, T = 100, batch 32). Measured with BenchmarkLSTMShapes
// and square products, one thread, on an AVX-512 CPU that OpenBLAS 0.3.21
// runs with its Cooperlake kernels: seqgraph's gemm is as fast or up to 27%
// faster on every product of an LSTM layer, in both precisions, and on
// square ones up to 384³; OpenBLAS is 5–10% faster from 512³ (2^27) up.
const SmallProduct = 1 << 27

// Hybrid is Implementation with the products smaller than SmallProduct
// computed by gemm.Implementation, when gemm has an assembly kernel for the
// CPU (gemm.Accelerated): OpenBLAS's kernels are tuned for large matrices,
// and on the small products of a recurrent layer they run slower than
// seqgraph's. Larger products, and every product where gemm has only its
// portable kernel, run on OpenBLAS. Which one computes a product depends on
// its shape alone, so a program's results are the same from run to run.
type Hybrid struct{ Implementation }

// useGemm reports whether Hybrid computes an m×n×k product with gemm.
func useGemm(m, n, k int) bool {
	// In float64 to stay clear of overflow whatever the sizes.
	return gemm.Accelerated() && float64(m)*float64(n)*float64(k) < SmallProduct
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C as gemm.Implementation.Sgemm does.
func (h Hybrid) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if useGemm(m, n, k) {
		gemm.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	h.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C as gemm.Implementation.Dgemm does.
func (h Hybrid) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if useGemm(m, n, k) {
		gemm.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	h.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
