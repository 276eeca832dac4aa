//go:build !amd64 || !gc || noasm || purego

package vecmath

// Without assembly kernels the Go loop serves.
var (
	best  = pathGo
	paths = []path{pathGo}
)

func tanhAsm(path, []float32, []float32) int    { return 0 }
func sigmoidAsm(path, []float32, []float32) int { return 0 }

func lstmBackwardAsm(path, []float32, []float32, []float32, []float32, []float32, []float32, []float32) int {
	return 0
}

func flushAsm(path, []float32) int { return 0 }

func lstmCellAsm(path, []float32, []float32, []float32) int { return 0 }
func mulFlushAsm(path, []float32, []float32, []float32) int { return 0 }

func elementwiseAsm(path, Op, []float32, []float32, []float32) int { return 0 }
