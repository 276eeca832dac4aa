//go:build openblas && cgo

package openblas

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/seqgraph/seqgraph/internal/gemm"
)

// TestHybrid checks that Hybrid hands each product to the implementation
// its size says: its result is bit for bit that implementation's. The two
// sum in different orders, so for these shapes their results differ in
// rounding, which the test checks too, or it could not tell them apart.
func TestHybrid(t *testing.T) {
	if !gemm.Accelerated() {
		t.Skip("gemm has no assembly kernel for this CPU: Hybrid is OpenBLAS for every product")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		m, n, k  int
		wantGemm bool
	}{
		{32, 100, 400, true},   // an LSTM step's dz·R
		{400, 100, 3200, true}, // dZᵀ·H of a sequence
		{520, 520, 520, false}, // just above SmallProduct
	} {
		a, b := make([]float32, c.m*c.k), make([]float32, c.k*c.n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		got, fromGemm, fromOpenBLAS := make([]float32, c.m*c.n), make([]float32, c.m*c.n), make([]float32, c.m*c.n)
		Hybrid{}.Sgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a, c.k, b, c.n, 0, got, c.n)
		gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a, c.k, b, c.n, 0, fromGemm, c.n)
		Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a, c.k, b, c.n, 0, fromOpenBLAS, c.n)
		if slices.Equal(fromGemm, fromOpenBLAS) {
			t.Fatalf("%d×%d×%d: gemm and OpenBLAS agree bit for bit; the test cannot tell which one ran", c.m, c.n, c.k)
		}
		want, name := fromOpenBLAS, "OpenBLAS"
		if c.wantGemm {
			want, name = fromGemm, "gemm"
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d×%d×%d: Hybrid's product is not %s's", c.m, c.n, c.k, name)
		}
		d := make([]float64, c.m*c.n)
		a64, b64 := make([]float64, len(a)), make([]float64, len(b))
		for i, v := range a {
			a64[i] = float64(v)
		}
		for i, v := range b {
			b64[i] = float64(v)
		}
		Hybrid{}.Dgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a64, c.k, b64, c.n, 0, d, c.n)
		d2 := make([]float64, c.m*c.n)
		if c.wantGemm {
			gemm.Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a64, c.k, b64, c.n, 0, d2, c.n)
		} else {
			Implementation{}.Dgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a64, c.k, b64, c.n, 0, d2, c.n)
		}
		if !slices.Equal(d, d2) {
			t.Errorf("%d×%d×%d float64: Hybrid's product is not %s's", c.m, c.n, c.k, name)
		}
	}
}
