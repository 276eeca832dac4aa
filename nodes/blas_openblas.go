//go:build openblas && cgo

package nodes

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/nodes/gemm"
	"github.com/seqgraph/seqgraph/nodes/gemm/openblas"
)

// defaultBLAS is the BLAS of matrix products while Gorgonia has its own
// default: the system's OpenBLAS through cgo, in builds with -tags openblas,
// unless OpenBLAS took this CPU for an older one (openblas.Misdetected),
// whose kernels would run slower than seqgraph's own gemm: then the gemm.
// Setting OPENBLAS_CORETYPE in the program's environment corrects the
// detection.
var defaultBLAS = func() func() gorgonia.BLAS {
	var impl gorgonia.BLAS = openblas.Implementation{}
	if openblas.Misdetected() {
		impl = gemm.Implementation{}
	}
	return func() gorgonia.BLAS { return impl }
}()
