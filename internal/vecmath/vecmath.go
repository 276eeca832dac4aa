// Package vecmath evaluates float32 activation functions over slices, with
// AVX-512 and AVX2 kernels on amd64 chosen at run time and a portable Go
// loop elsewhere. The activation and LSTM kernels do the last partial
// vector with masked loads and stores, so that every element of a slice
// goes through the same vector arithmetic wherever it lies (the other
// kernels leave it to the Go loop, which rounds as they do).
//
// The functions compute exactly the rational approximation of nodes'
// scalar tanh32 (Eigen's float32 tanh): x clamped to [-9, 9], x itself for
// |x| < 4e-4, else x·P(x²)/Q(x²) with P of degree 6 and Q of degree 3 in x².
// The Go path is bit-identical to that scalar code; the assembly paths
// evaluate the polynomials with fused multiply-adds and so may differ from
// it by an ulp or two. NaN gives NaN, ±Inf gives ±1 (tanh) and 1 or 0
// (sigmoid).
//
// Beside them: the LSTM's cell update and backward step;
// Elementwise32, sums, products and activation gradients over slices for
// graphs of gate nodes, which round as Go's float32 arithmetic does; and
// the kernels of the layers on folded video frames (frames.go): a
// rectifier (float32 and float64), a batch normalization and its gradient,
// sums accumulated in float64, and the products of rows of a convolution's
// filter gradient.
package vecmath

// Tanh32 sets dst[i] = tanh(src[i]) for every i. dst and src may be the same
// slice but must not otherwise overlap. It panics if their lengths differ.
func Tanh32(dst, src []float32) { tanhWith(best, dst, src) }

// Sigmoid32 sets dst[i] = 1/(1+exp(-src[i])), computed as
// 0.5 + 0.5·tanh(0.5·src[i]), for every i. dst and src may be the same
// slice but must not otherwise overlap. It panics if their lengths differ.
func Sigmoid32(dst, src []float32) { sigmoidWith(best, dst, src) }

// path is an implementation of the kernels.
type path int

const (
	pathGo path = iota
	pathAVX2
	pathAVX512
)

func (p path) String() string {
	switch p {
	case pathAVX2:
		return "avx2"
	case pathAVX512:
		return "avx512"
	}
	return "go"
}

func checkLen(fn string, dst, src []float32) {
	if len(dst) != len(src) {
		panic("vecmath: " + fn + ": len(dst) != len(src)")
	}
}

func tanhWith(p path, dst, src []float32) {
	checkLen("Tanh32", dst, src)
	k := tanhAsm(p, dst, src)
	tanhGo(dst[k:], src[k:])
}

func sigmoidWith(p path, dst, src []float32) {
	checkLen("Sigmoid32", dst, src)
	k := sigmoidAsm(p, dst, src)
	sigmoidGo(dst[k:], src[k:])
}

func tanhGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = tanh32(x)
	}
}

func sigmoidGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = 0.5 + 0.5*tanh32(0.5*x)
	}
}

// tanh32 is the scalar reference, a copy of nodes' tanh32: Eigen's float32
// tanh, an odd rational p(x)/q(x) of degrees 13 and 6 in x, on x clamped to
// [-9, 9] (tanh is ±1 in float32 beyond), and x itself for |x| < 4e-4,
// where tanh(x) rounds to x.
func tanh32(x float32) float32 {
	if x > 9 {
		x = 9
	} else if x < -9 {
		x = -9
	}
	if x > -0.0004 && x < 0.0004 {
		return x
	}
	x2 := x * x
	p := x2*-2.76076847742355e-16 + 2.00018790482477e-13
	p = x2*p + -8.60467152213735e-11
	p = x2*p + 5.12229709037114e-08
	p = x2*p + 1.48572235717979e-05
	p = x2*p + 6.37261928875436e-04
	p = x2*p + 4.89352455891786e-03
	p = x * p
	q := x2*1.19825839466702e-06 + 1.18534705686654e-04
	q = x2*q + 2.26843463243900e-03
	q = x2*q + 4.89352518554385e-03
	return p / q
}
