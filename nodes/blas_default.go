//go:build !(openblas && cgo)

package nodes

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/internal/gemm"
)

// defaultBLAS is the BLAS of matrix products while Gorgonia has its own
// default: seqgraph's pure-Go gemm (build with -tags openblas for the
// system's OpenBLAS).
func defaultBLAS() gorgonia.BLAS { return gemm.Implementation{} }
