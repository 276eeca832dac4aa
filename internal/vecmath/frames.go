package vecmath

// The kernels of a rectifier and of a batch normalization over large
// tensors (a convolution's output, 2²¹ values in the video benchmark):
// each is one pass over memory, which scalar Go loops made several times
// slower than it need be (a mispredicted branch per element for the
// rectifier, a float64 conversion per element for the normalization). On
// amd64 with AVX2 and FMA an assembly kernel (frames_amd64.s) does the
// whole vectors, on AVX-512 machines too, and the Go loop the rest.

// ReLU32 sets dst[i] = max(src[i], 0) for every i; NaN stays NaN and -0
// stays -0 (x is kept unless 0 > x). dst and src may be the same slice but
// must not otherwise overlap. It panics if their lengths differ.
func ReLU32(dst, src []float32) {
	checkLen("ReLU32", dst, src)
	k := reluAsm(best, dst, src)
	reluGo(dst[k:], src[k:])
}

// ReLUGrad32 sets dst[i] = g[i] where y[i] > 0 and 0 elsewhere: the
// gradient of a rectifier with respect to its input, given its output y
// (or its input, which is positive where y is) and the gradient g of its
// output. dst may be g. It panics if the lengths differ.
func ReLUGrad32(dst, y, g []float32) {
	checkLens("ReLUGrad32", len(dst), len(y), len(g))
	k := reluGradAsm(best, dst, y, g)
	reluGradGo(dst[k:], y[k:], g[k:])
}

// ReLU64 is ReLU32 for float64 values.
func ReLU64(dst, src []float64) {
	checkLens("ReLU64", len(dst), len(src))
	k := relu64Asm(best, dst, src)
	reluGo(dst[k:], src[k:])
}

// ReLUGrad64 is ReLUGrad32 for float64 values.
func ReLUGrad64(dst, y, g []float64) {
	checkLens("ReLUGrad64", len(dst), len(y), len(g))
	k := reluGrad64Asm(best, dst, y, g)
	reluGradGo(dst[k:], y[k:], g[k:])
}

// reluGo and reluGradGo are ReLU32 and ReLUGrad32 in Go, for either
// precision.
func reluGo[T float32 | float64](dst, src []T) {
	dst = dst[:len(src)]
	for i, x := range src {
		if 0 > x {
			x = 0
		}
		dst[i] = x
	}
}

func reluGradGo[T float32 | float64](dst, y, g []T) {
	dst, g = dst[:len(y)], g[:len(y)]
	for i, v := range y {
		d := g[i]
		if !(v > 0) {
			d = 0
		}
		dst[i] = d
	}
}

// checkLens panics, naming fn, unless every length is n, the first.
func checkLens(fn string, n int, others ...int) {
	for _, m := range others {
		if m != n {
			panic("vecmath: " + fn + ": lengths do not match")
		}
	}
}

// Normalize32 sets dst[i] = (x[i]-mu)·a + b for every i, in float32 (with a
// fused multiply-add where there is one). dst may be x. It panics if the
// lengths differ.
func Normalize32(dst, x []float32, mu, a, b float32) {
	checkLen("Normalize32", dst, x)
	k := normalizeAsm(best, dst, x, mu, a, b)
	for i, v := range x[k:] {
		dst[k+i] = (v-mu)*a + b
	}
}

// NormalizeGrad32 sets dst[i] = a·g[i] + c·(x[i]-mu) + b for every i, in
// float32: the gradient of a batch normalization's input. dst may be g or
// x. It panics if the lengths differ.
func NormalizeGrad32(dst, g, x []float32, a, c, mu, b float32) {
	checkLens("NormalizeGrad32", len(dst), len(g), len(x))
	k := normalizeGradAsm(best, dst, g, x, a, c, mu, b)
	g = g[k:]
	for i, v := range x[k:] {
		dst[k+i] = a*g[i] + c*(v-mu) + b
	}
}

// Sum32 returns Σ v[i], accumulated in float64.
func Sum32(v []float32) float64 {
	var acc [4]float64
	k := sumAsm(best, v, &acc)
	for i, x := range v[k:] {
		acc[i%4] += float64(x)
	}
	return (acc[0] + acc[1]) + (acc[2] + acc[3])
}

// SquaredDeviations32 returns Σ (v[i]-m)², accumulated in float64 from
// the float64 differences.
func SquaredDeviations32(v []float32, m float64) float64 {
	var acc [4]float64
	k := squaredDeviationsAsm(best, v, m, &acc)
	for i, x := range v[k:] {
		d := float64(x) - m
		acc[i%4] += d * d
	}
	return (acc[0] + acc[1]) + (acc[2] + acc[3])
}

// GradSums32 returns Σ g[i] and Σ g[i]·(x[i]-mu), accumulated in float64
// from the float64 values: the sums of the gradient of a batch
// normalization's offset and scale. It panics if the lengths differ.
func GradSums32(x, g []float32, mu float64) (sg, sgx float64) {
	checkLens("GradSums32", len(x), len(g))
	var acc [4]float64 // Σg in 0 and 1, Σg·(x-mu) in 2 and 3
	k := gradSumsAsm(best, x, g, mu, &acc)
	g = g[k:]
	for i, v := range x[k:] {
		gi := float64(g[i])
		acc[i%2] += gi
		acc[2+i%2] += gi * (float64(v) - mu)
	}
	return acc[0] + acc[1], acc[2] + acc[3]
}

// AddDots32 adds to c, m×n with rows ldc apart, the products of the rows
// of a, m×k with rows lda apart, and of b, n×k with rows ldb apart:
//
//	c[i·ldc+j] += Σ_p a[i·lda+p]·b[j·ldb+p],
//
// each sum accumulated in float32 over lanes of eight. It suits a short c
// and a long k along which both a and b are contiguous, such as the
// gradient of a convolution's filters (the output gradient of an image
// times its windows, summed over the pixels), which a gemm would first
// transpose into panels. It panics if a slice is too short.
func AddDots32(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if len(c) < (m-1)*ldc+n || len(a) < (m-1)*lda+k || len(b) < (n-1)*ldb+k {
		panic("vecmath: AddDots32: a slice is too short")
	}
	var out [8]float32
	for i := 0; i < m; i += 2 {
		i1 := min(i+1, m-1) // an odd last row is computed twice, kept once
		for j := 0; j < n; j += 4 {
			rows := [4]int{j, min(j+1, n-1), min(j+2, n-1), min(j+3, n-1)}
			dots2x4(a[i*lda:][:k], a[i1*lda:][:k], b, ldb, rows, k, &out)
			for r := range 2 {
				if r == 1 && i1 == i {
					break
				}
				for q := range min(4, n-j) {
					c[(i+r)*ldc+j+q] += out[r*4+q]
				}
			}
		}
	}
}

// dots2x4 sets out[r·4+q] to the product of row r of (a0, a1) and row
// rows[q] of b, k values each.
func dots2x4(a0, a1, b []float32, ldb int, rows [4]int, k int, out *[8]float32) {
	b0, b1, b2, b3 := b[rows[0]*ldb:][:k], b[rows[1]*ldb:][:k], b[rows[2]*ldb:][:k], b[rows[3]*ldb:][:k]
	p := dotsAsm(best, a0, a1, b0, b1, b2, b3, out)
	if p == 0 {
		*out = [8]float32{}
	}
	for ; p < k; p++ {
		for r, x := range [2]float32{a0[p], a1[p]} {
			out[r*4] += x * b0[p]
			out[r*4+1] += x * b1[p]
			out[r*4+2] += x * b2[p]
			out[r*4+3] += x * b3[p]
		}
	}
}
