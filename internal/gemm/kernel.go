package gemm

import "unsafe"

// The portable kernels: a 4×4 register block in plain Go, used where no
// assembly kernel applies (other architectures, amd64 without AVX2 and FMA,
// the purego and noasm build tags) and by the tests to cross-check the
// assembly. Sixteen accumulators fit the sixteen floating-point registers of
// amd64 and leave the compiler little to spill elsewhere.
var (
	goKernel32 = kernel[float32]{name: "go4x4", mr: 4, nr: 4, kc: 256, mc: 128, nc: 1024, fn: kernelGo4x4[float32]}
	goKernel64 = kernel[float64]{name: "go4x4", mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024, fn: kernelGo4x4[float64]}
)

// kernelGo4x4 is the portable micro-kernel of mr = nr = 4 (see kernel.fn).
func kernelGo4x4[T float](k int, a *T, lda int, b *T, ldb int, c *T, ldc int, alpha, beta T) {
	as := unsafe.Slice(a, (k-1)*lda+4)
	bs := unsafe.Slice(b, (k-1)*ldb+4)
	var (
		c00, c01, c02, c03 T
		c10, c11, c12, c13 T
		c20, c21, c22, c23 T
		c30, c31, c32, c33 T
	)
	for p := range k {
		ap := (*[4]T)(as[p*lda:])
		bp := (*[4]T)(bs[p*ldb:])
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	store4(cs[0:4], alpha, beta, c00, c01, c02, c03)
	store4(cs[ldc:ldc+4], alpha, beta, c10, c11, c12, c13)
	store4(cs[2*ldc:2*ldc+4], alpha, beta, c20, c21, c22, c23)
	store4(cs[3*ldc:3*ldc+4], alpha, beta, c30, c31, c32, c33)
}

// store4 sets c to alpha·(x0, x1, x2, x3) + beta·c, without reading c when
// beta is zero.
func store4[T float](c []T, alpha, beta T, x0, x1, x2, x3 T) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*x0, alpha*x1, alpha*x2, alpha*x3
		return
	}
	c[0] = alpha*x0 + beta*c[0]
	c[1] = alpha*x1 + beta*c[1]
	c[2] = alpha*x2 + beta*c[2]
	c[3] = alpha*x3 + beta*c[3]
}
