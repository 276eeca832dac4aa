package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's BLAS with faster Sgemm and Dgemm. Every other
// routine is gonum's, through the embedded gonum.Implementation, so
// Implementation satisfies gorgonia.BLAS and blas.Float32, blas.Float64,
// blas.Complex64 and blas.Complex128.
//
// The zero value is ready to use and safe for concurrent use: it holds no
// state, and each call takes its packing buffers from a package-level
// sync.Pool (see the package documentation).
type Implementation struct {
	gonum.Implementation
}

// Compile-time checks that Implementation is a complete BLAS.
var (
	_ blas.Float32    = Implementation{}
	_ blas.Float64    = Implementation{}
	_ blas.Complex64  = Implementation{}
	_ blas.Complex128 = Implementation{}
)

// Panic strings of the argument checks. They are gonum's own (the constants
// are unexported in gonum.org/v1/gonum/blas/gonum), so a caller sees the
// same message whichever implementation is installed.
const (
	badTranspose = "blas: illegal transpose"
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m dense matrix, B is an n×k or k×n dense matrix, C is
// an m×n matrix, and alpha and beta are scalars. tA and tB specify whether A or
// B are transposed. When beta is zero C is not read, so NaN or Inf in C does
// not reach the result; when alpha is zero or k is zero A and B are not read.
//
// Sgemm panics with gonum's messages on invalid arguments.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	aTrans, bTrans := checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	switch {
	case m == 0 || n == 0:
	case alpha == 0 || k == 0:
		// BLAS does not read A and B then: C = beta·C.
		scale(m, n, beta, c, ldc)
	case m == 1 || n == 1:
		gemv(impl.Implementation.Sgemv, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		gemm(&kernel32, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// Dgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m dense matrix, B is an n×k or k×n dense matrix, C is
// an m×n matrix, and alpha and beta are scalars. tA and tB specify whether A or
// B are transposed. When beta is zero C is not read, so NaN or Inf in C does
// not reach the result; when alpha is zero or k is zero A and B are not read.
//
// Dgemm panics with gonum's messages on invalid arguments.
func (impl Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	aTrans, bTrans := checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	switch {
	case m == 0 || n == 0:
	case alpha == 0 || k == 0:
		// BLAS does not read A and B then: C = beta·C.
		scale(m, n, beta, c, ldc)
	case m == 1 || n == 1:
		gemv(impl.Implementation.Dgemv, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		gemm(&kernel64, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// checkGemm makes gonum's checks of ?gemm's arguments, in gonum's order so
// that a call with several bad arguments panics with the same message, and
// returns whether A and B are transposed. The slice lengths are only checked
// when C is not empty, as gonum does.
// CheckGemm panics with gonum's messages when the arguments of a Gemm call
// are invalid, and reports whether A and B are transposed: the checks every
// Gemm backend (package openblas too) makes before it computes.
func CheckGemm(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) (aTrans, bTrans bool) {
	return checkGemm(tA, tB, m, n, k, lenA, lda, lenB, ldb, lenC, ldc)
}

func checkGemm(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) (aTrans, bTrans bool) {
	switch tA {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	switch tB {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aTrans = tA == blas.Trans || tA == blas.ConjTrans
	if aTrans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else {
		if lda < max(1, k) {
			panic(badLdA)
		}
	}
	bTrans = tB == blas.Trans || tB == blas.ConjTrans
	if bTrans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else {
		if ldb < max(1, n) {
			panic(badLdB)
		}
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return aTrans, bTrans
	}
	// With k == 0 these checks are trivially satisfied, as in gonum.
	if aTrans {
		if lenA < (k-1)*lda+m {
			panic(shortA)
		}
	} else {
		if lenA < (m-1)*lda+k {
			panic(shortA)
		}
	}
	if bTrans {
		if lenB < (n-1)*ldb+k {
			panic(shortB)
		}
	} else {
		if lenB < (k-1)*ldb+n {
			panic(shortB)
		}
	}
	if lenC < (m-1)*ldc+n {
		panic(shortC)
	}
	return aTrans, bTrans
}

// gemvFunc is the signature of gonum's ?gemv.
type gemvFunc[T float] func(tA blas.Transpose, m, n int, alpha T, a []T, lda int, x []T, incX int, beta T, y []T, incY int)

// gemv computes C = alpha·op(A)·op(B) + beta·C for m = 1 or n = 1, k ≥ 1
// and alpha ≠ 0 as a matrix-vector product with gonum's ?gemv: a tile of the
// blocked algorithm would be mostly padding. (gonum's ?gemv does not read y
// when beta is zero, as ?gemm must not read C, but with beta = 0 and a unit
// increment it zeroes all of y, not only its n elements: y is sliced to its
// exact length so that C's elements past the vector are left alone.)
func gemv[T float](f gemvFunc[T], aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if n == 1 {
		// C's column = op(A)·x, x the column of op(B).
		incX := 1 // op(B) = Bᵀ: x is B's first row
		if !bTrans {
			incX = ldb // x is B's first column
		}
		y := c[:(m-1)*ldc+1]
		if aTrans {
			f(blas.Trans, k, m, alpha, a, lda, b, incX, beta, y, ldc)
		} else {
			f(blas.NoTrans, m, k, alpha, a, lda, b, incX, beta, y, ldc)
		}
		return
	}
	// m == 1: C's row = op(B)ᵀ·x, x the row of op(A).
	incX := 1 // op(A) = A: x is A's first row
	if aTrans {
		incX = lda // x is A's first column
	}
	y := c[:n]
	if bTrans {
		f(blas.NoTrans, n, k, alpha, b, ldb, a, incX, beta, y, 1)
	} else {
		f(blas.Trans, k, n, alpha, b, ldb, a, incX, beta, y, 1)
	}
}

// Accelerated reports whether Sgemm and Dgemm run on an assembly
// micro-kernel (AVX-512 or AVX2 with FMA) on this CPU, rather than on the
// portable one, which is several times slower.
func Accelerated() bool { return kernel32.name != goKernel32.name }
