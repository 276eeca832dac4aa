//go:build openblas && cgo

package openblas

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
import "C"

import (
	"slices"
	"unsafe"

	"golang.org/x/sys/cpu"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/seqgraph/seqgraph/internal/gemm"
)

// scale sets C = beta·C, not reading C when beta is 0 (BLAS: A and B are
// not read when alpha or k is 0).
func scale[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

// Implementation is gonum's BLAS with Sgemm and Dgemm run by the system's
// OpenBLAS. Argument checks and the cases BLAS leaves open (alpha or k zero,
// empty C) behave as gemm.Implementation's.
//
// OpenBLAS starts a thread per core; set OPENBLAS_NUM_THREADS=1 when the
// network trains data-parallel or to compare with single-threaded
// libraries. OpenBLAS picks its kernels for the CPU it detects when the
// library loads, before any Go code runs; where it misdetects the CPU, set
// OPENBLAS_CORETYPE (Cooperlake, SkylakeX, Haswell, ...) in the environment
// of the program.
type Implementation struct{ gonum.Implementation }

func transpose(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C as gemm.Implementation.Sgemm does.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	aTrans, bTrans := gemm.CheckGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	switch {
	case m == 0 || n == 0:
	case alpha == 0 || k == 0:
		scale(m, n, beta, c, ldc)
	default:
		C.cblas_sgemm(C.CblasRowMajor, transpose(aTrans), transpose(bTrans), C.blasint(m), C.blasint(n), C.blasint(k),
			C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
			(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb), C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
	}
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C as gemm.Implementation.Dgemm does.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	aTrans, bTrans := gemm.CheckGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	switch {
	case m == 0 || n == 0:
	case alpha == 0 || k == 0:
		scale(m, n, beta, c, ldc)
	default:
		C.cblas_dgemm(C.CblasRowMajor, transpose(aTrans), transpose(bTrans), C.blasint(m), C.blasint(n), C.blasint(k),
			C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda),
			(*C.double)(unsafe.Pointer(&b[0])), C.blasint(ldb), C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
	}
}

// CoreName returns the name of the CPU core OpenBLAS chose its kernels for
// ("Cooperlake", "Haswell", "Prescott", ...).
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// Misdetected reports whether OpenBLAS chose kernels for an older CPU than
// the one it runs on: none of its AVX-512 core types on a CPU with AVX-512F,
// or none with AVX2 on a CPU with AVX2 and FMA. Debian's OpenBLAS 0.3.21
// takes some recent CPUs for a Prescott, whose kernels run our products at
// a third of the speed.
func Misdetected() bool {
	return misdetected(CoreName(), cpu.X86.HasAVX512F, cpu.X86.HasAVX2 && cpu.X86.HasFMA)
}

func misdetected(core string, avx512, avx2 bool) bool {
	// The core types of OpenBLAS 0.3.21 with AVX-512 kernels, and those
	// with AVX2 ones.
	with512 := []string{"SkylakeX", "Cooperlake", "SapphireRapids"}
	with2 := append([]string{"Haswell", "Zen"}, with512...)
	switch {
	case avx512:
		return !slices.Contains(with512, core)
	case avx2:
		return !slices.Contains(with2, core)
	}
	return false
}
