// Package openblas runs seqgraph's matrix products on the system's OpenBLAS
// through cgo, in builds with -tags openblas (Debian: apt-get install
// libopenblas-dev). Package nodes then uses Hybrid instead of the pure-Go
// gemm alone: Hybrid computes the products of fewer than SmallProduct
// multiply-adds, which include all those of recurrent layers of usual sizes,
// with the gemm, faster on them, and the larger ones with OpenBLAS.
// Without the tag the package is empty. It is a package of its own because
// a Go package cannot hold both cgo and Go assembly.
//
// OpenBLAS starts a thread per core: set OPENBLAS_NUM_THREADS=1 for
// data-parallel training or to compare with single-threaded libraries. It
// picks its kernels for the CPU it detects when the library loads, before
// any Go code runs; where it misdetects the CPU (Debian's 0.3.21 takes some
// AVX-512 CPUs for older ones), set OPENBLAS_CORETYPE (Cooperlake, SkylakeX,
// Haswell, ...) in the program's environment. Misdetected reports it, and
// package nodes then keeps seqgraph's own gemm rather than run slow kernels.
package openblas
