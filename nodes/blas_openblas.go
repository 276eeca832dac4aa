//go:build openblas && cgo

package nodes

import (
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/internal/gemm"
	"github.com/seqgraph/seqgraph/nodes/openblas"
)

// defaultBLAS is the BLAS of matrix products while Gorgonia has its own
// default, in builds with -tags openblas: openblas.Hybrid, the system's
// OpenBLAS through cgo for large products and seqgraph's gemm for the small
// ones of recurrent layers, on which it is faster; or only the gemm when
// OpenBLAS took this CPU for an older one (openblas.Misdetected), whose
// kernels would run slower. Setting OPENBLAS_CORETYPE in the program's
// environment corrects the detection.
var defaultBLAS = func() func() gorgonia.BLAS {
	var impl gorgonia.BLAS = openblas.Hybrid{}
	if openblas.Misdetected() {
		impl = gemm.Implementation{}
	}
	return func() gorgonia.BLAS { return impl }
}()
