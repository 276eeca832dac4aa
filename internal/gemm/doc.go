// Package gemm provides a BLAS for Gorgonia whose matrix products, Sgemm and
// Dgemm, are several times faster than gonum's pure Go ones; every other
// routine is gonum's.
//
// seqgraph's nodes.MatMul, and so its recurrent layers, run on this BLAS
// while Gorgonia has its default one (gonum's); in builds with -tags
// openblas they run on nodes/openblas's Hybrid, which hands this package
// the products of recurrent layers of usual sizes. A program that installs
// another BLAS with gorgonia.Use keeps its choice. The package is internal:
// nothing outside the module depends on its interface.
//
// gorgonia.Use is process-wide (it also sets the BLAS of gorgonia.org/tensor)
// and is not synchronized with running graphs, so call it at start-up.
//
// # Semantics
//
// Sgemm and Dgemm are BLAS's, with gonum's row-major conventions, argument
// checks and panic messages: C = alpha·op(A)·op(B) + beta·C for all four
// transpose combinations and any leading dimensions. When beta is zero C is
// not read, so NaN in C does not reach the result; when alpha or k is zero,
// A and B are not read. Otherwise NaN and Inf in A and B propagate through
// IEEE arithmetic to every element of C they contribute to, even times zero
// (gonum skips zero elements of A in some transpose cases, so 0·Inf may give
// 0 there and NaN here). Results agree with gonum's to rounding: the sums
// are accumulated in a different order.
//
// The products are single-threaded: seqgraph parallelizes training at a
// higher level, and gonum's own Sgemm and Dgemm start goroutines for large
// products, which this package does not.
//
// # Design
//
// The blocked algorithm is that of GotoBLAS and BLIS. C is computed in tiles
// of mr×nr elements by a micro-kernel that keeps the tile in registers and
// streams a column of A and a row of B per step of the inner dimension k.
// Around it, the loop nest blocks k by kc, m by mc and n by nc, so that a
// kc×nr micro-panel of B stays in L1 while an mc×kc block of A stays in L2,
// and packs these blocks into contiguous buffers laid out in the order the
// micro-kernel reads them, padded with zeros to whole tiles. Partial tiles
// at the edges of C go through a scratch tile. An operand whose layout is
// already the micro-kernel's (a transposed A, a B that is not) is read in
// place, except for its partial micro-panels and for leading dimensions
// that would make its rows collide in the L1 cache; packing a transposed
// operand uses in-register 8×8 (float32) and 4×4 (float64) transposes.
//
// The micro-kernels, chosen once at start-up with golang.org/x/sys/cpu:
//
//	AVX-512F         16×16 float32, 16×8 float64 (one ZMM register per row
//	                 of the tile, 16 accumulators, broadcasts embedded in the
//	                 FMAs); 16 rows fit the batches of 32 and the 4·100 gate
//	                 columns of seqgraph's layers with no partial tile
//	AVX2 and FMA     6×16 float32, 6×8 float64 (two YMM registers per row,
//	                 12 accumulators)
//	other            a 4×4 register block in portable Go, also used on
//	                 other architectures and with the purego or noasm build
//	                 tags
//
// The float32 AVX-512 kernel has two edge kernels for the partial tiles at
// the right edge of C that are at most 4 or 8 columns wide (the 100 units of
// an LSTM leave 4 after six tiles of 16): they keep a column of the tile
// per register, so they spend a quarter and a half of a whole tile's FMAs,
// and read B's partial panel in place when it is exactly that wide.
//
// Products with m = 1 or n = 1 are matrix-vector products, which gonum's
// Sgemv and Dgemv compute without the padding a tile would need.
//
// # State
//
// Implementation holds no state and is safe for concurrent use. Each call
// takes its packing buffers from a package-level sync.Pool (one per element
// type), the package's only mutable state, so that steady use does not
// allocate; the kernel selection is made during initialization and never
// changes.
package gemm
