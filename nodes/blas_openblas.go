//go:build openblas && cgo

package nodes

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes/gemm/openblas"
)

// defaultBLAS is the BLAS of matrix products while Gorgonia has its own
// default: the system's OpenBLAS through cgo, in builds with -tags openblas.
func defaultBLAS() gorgonia.BLAS { return openblas.Implementation{} }
