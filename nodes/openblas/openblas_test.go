//go:build openblas && cgo

package openblas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestOpenBLAS compares the cgo OpenBLAS products with gonum's for every
// transpose and a range of shapes and coefficients.
func TestOpenBLAS(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {3, 7, 5}, {32, 400, 112}, {17, 33, 65}, {400, 112, 32}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float64{{1, 0}, {-0.5, 0.3}, {0, 1}} {
					a, b := make([]float64, m*k), make([]float64, k*n)
					for i := range a {
						a[i] = rng.NormFloat64()
					}
					for i := range b {
						b[i] = rng.NormFloat64()
					}
					lda, ldb := k, n
					if tA == blas.Trans {
						lda = m
					}
					if tB == blas.Trans {
						ldb = k
					}
					c1, c2 := make([]float64, m*n), make([]float64, m*n)
					for i := range c1 {
						c1[i] = rng.NormFloat64()
						c2[i] = c1[i]
					}
					Implementation{}.Dgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], c1, n)
					gonum.Implementation{}.Dgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], c2, n)
					for i := range c1 {
						if math.Abs(c1[i]-c2[i]) > 1e-12*float64(k+1) {
							t.Fatalf("%v %v %v alpha %v beta %v: C[%d] = %v, gonum %v", s, tA, tB, ab[0], ab[1], i, c1[i], c2[i])
						}
					}
					a32, b32 := make([]float32, len(a)), make([]float32, len(b))
					for i := range a {
						a32[i] = float32(a[i])
					}
					for i := range b {
						b32[i] = float32(b[i])
					}
					d1, d2 := make([]float32, m*n), make([]float32, m*n)
					Implementation{}.Sgemm(tA, tB, m, n, k, float32(ab[0]), a32, lda, b32, ldb, 0, d1, n)
					gonum.Implementation{}.Sgemm(tA, tB, m, n, k, float32(ab[0]), a32, lda, b32, ldb, 0, d2, n)
					for i := range d1 {
						if math.Abs(float64(d1[i]-d2[i])) > 1e-5*float64(k+1) {
							t.Fatalf("float32 %v %v %v: C[%d] = %v, gonum %v", s, tA, tB, i, d1[i], d2[i])
						}
					}
				}
			}
		}
	}
}

func TestMisdetected(t *testing.T) {
	for _, c := range []struct {
		core         string
		avx512, avx2 bool
		want         bool
	}{
		{"Cooperlake", true, true, false},
		{"SkylakeX", true, true, false},
		{"Prescott", true, true, true},
		{"Haswell", true, true, true},
		{"Haswell", false, true, false},
		{"Zen", false, true, false},
		{"Prescott", false, true, true},
		{"Prescott", false, false, false},
	} {
		if got := misdetected(c.core, c.avx512, c.avx2); got != c.want {
			t.Errorf("misdetected(%q, avx512 %v, avx2 %v) = %v, want %v", c.core, c.avx512, c.avx2, got, c.want)
		}
	}
	t.Logf("OpenBLAS runs %s kernels here; misdetected: %v", CoreName(), Misdetected())
}
