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

func reluAsm(path, []float32, []float32) int                { return 0 }
func reluGradAsm(path, []float32, []float32, []float32) int { return 0 }
func normalizeAsm(path, []float32, []float32, float32, float32, float32) int {
	return 0
}
func normalizeGradAsm(path, []float32, []float32, []float32, float32, float32, float32, float32) int {
	return 0
}
func sumAsm(path, []float32, *[4]float64) int                        { return 0 }
func squaredDeviationsAsm(path, []float32, float64, *[4]float64) int { return 0 }
func gradSumsAsm(path, []float32, []float32, float64, *[4]float64) int {
	return 0
}
func dotsAsm(path, []float32, []float32, []float32, []float32, []float32, []float32, *[8]float32) int {
	return 0
}
func adamAsm(path, []float32, []float32, []float32, []float32, *AdamCoefficients) int {
	return 0
}
func nonFiniteAsm(path, []float32) int                        { return 0 }
func relu64Asm(path, []float64, []float64) int                { return 0 }
func reluGrad64Asm(path, []float64, []float64, []float64) int { return 0 }
