//go:build amd64 && gc && !noasm && !purego

package gemm

import "golang.org/x/sys/cpu"

// The assembly micro-kernels (kernel_amd64.s); see kernel.fn for their
// contract.

//go:noescape
func sgemmKernel6x16AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dgemmKernel6x8AVX2(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)

//go:noescape
func sgemmKernel16x16AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// sgemmEdge16x4AVX512 and sgemmEdge16x8AVX512 are the edge kernels of
// sgemmKernel16x16AVX512 (kernel512_amd64.s); see edgeKernel.fn.
//
//go:noescape
func sgemmEdge16x4AVX512(k int, a *float32, lda int, b *float32, ldb int, t *float32)

//go:noescape
func sgemmEdge16x8AVX512(k int, a *float32, lda int, b *float32, ldb int, t *float32)

//go:noescape
func dgemmKernel16x8AVX512(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)

// transpose8x8PS and transpose4x4PD transpose n consecutive square blocks
// (transpose_amd64.s): for each block q < n, they set
// dst[(q*tb+p)*ldd + r] = src[r*lds + q*tb + p] for p, r < tb, tb being 8 and
// 4 respectively.
//
//go:noescape
func transpose8x8PS(src *float32, lds int, dst *float32, ldd int, n int)

//go:noescape
func transpose4x4PD(src *float64, lds int, dst *float64, ldd int, n int)

var (
	avx2Kernel32 = kernel[float32]{name: "avx2_6x16", mr: 6, nr: 16, kc: 256, mc: 144, nc: 2048, fn: sgemmKernel6x16AVX2, transpose: transpose8x8PS, tb: 8}
	avx2Kernel64 = kernel[float64]{name: "avx2_6x8", mr: 6, nr: 8, kc: 256, mc: 72, nc: 1024, fn: dgemmKernel6x8AVX2, transpose: transpose4x4PD, tb: 4}
)

var (
	avx512Kernel32 = kernel[float32]{name: "avx512_16x16", mr: 16, nr: 16, kc: 256, mc: 256, nc: 4096, fn: sgemmKernel16x16AVX512, transpose: transpose8x8PS, tb: 8,
		edges: []edgeKernel[float32]{{4, sgemmEdge16x4AVX512}, {8, sgemmEdge16x8AVX512}}}
	avx512Kernel64 = kernel[float64]{name: "avx512_16x8", mr: 16, nr: 8, kc: 256, mc: 128, nc: 2048, fn: dgemmKernel16x8AVX512, transpose: transpose4x4PD, tb: 4}
)

var (
	hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512  = hasAVX2FMA && cpu.X86.HasAVX512F
)

// kernel32 and kernel64 are the kernels of Sgemm and Dgemm, chosen once, at
// package initialization, for the CPU at hand; they never change afterwards.
var (
	kernel32 = pick(&goKernel32, &avx2Kernel32, &avx512Kernel32)
	kernel64 = pick(&goKernel64, &avx2Kernel64, &avx512Kernel64)
)

func pick[T float](portable, avx2, avx512 *kernel[T]) kernel[T] {
	switch {
	case hasAVX512:
		return *avx512
	case hasAVX2FMA:
		return *avx2
	}
	return *portable
}

// asmKernels32 and asmKernels64 list the assembly kernels usable on this
// CPU, for the tests.
var (
	asmKernels32 = usable(&avx2Kernel32, &avx512Kernel32)
	asmKernels64 = usable(&avx2Kernel64, &avx512Kernel64)
)

func usable[T float](avx2, avx512 *kernel[T]) []*kernel[T] {
	var ks []*kernel[T]
	if hasAVX2FMA {
		ks = append(ks, avx2)
	}
	if hasAVX512 {
		ks = append(ks, avx512)
	}
	return ks
}
