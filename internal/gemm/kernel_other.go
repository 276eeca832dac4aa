//go:build !amd64 || !gc || noasm || purego

package gemm

// Without assembly kernels the portable ones serve. The selection is made
// once, at package initialization, and never changes.
var (
	kernel32 = goKernel32
	kernel64 = goKernel64
)

// asmKernels32 and asmKernels64 list the assembly kernels usable on this
// CPU, for the tests: none here.
var (
	asmKernels32 []*kernel[float32]
	asmKernels64 []*kernel[float64]
)
