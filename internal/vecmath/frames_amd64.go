//go:build amd64 && gc && !noasm && !purego

package vecmath

// The kernels of elementwise_amd64.s process the first n elements, n a
// positive multiple of 8, with AVX2 and FMA, on AVX-512 machines too.
// Each ...Asm function runs its kernel on the longest prefix of whole
// vectors and returns its length.

//go:noescape
func reluAVX2(dst, src *float32, n int)

//go:noescape
func reluGradAVX2(dst, y, gr *float32, n int)

//go:noescape
func relu64AVX2(dst, src *float64, n int)

//go:noescape
func reluGrad64AVX2(dst, y, gr *float64, n int)

//go:noescape
func normalizeAVX2(dst, x *float32, n int, mu, a, b float32)

//go:noescape
func normalizeGradAVX2(dst, gr, x *float32, n int, a, c, mu, b float32)

// sumAVX2, squaredDeviationsAVX2 and gradSumsAVX2 set acc to their sums,
// four running sums for Sum32 and SquaredDeviations32, two of Σg and two
// of Σg·(x-mu) for GradSums32.
//
//go:noescape
func sumAVX2(v *float32, n int, acc *[4]float64)

//go:noescape
func squaredDeviationsAVX2(v *float32, n int, m float64, acc *[4]float64)

//go:noescape
func gradSumsAVX2(x, gr *float32, n int, mu float64, acc *[4]float64)

// vectors returns the length of the longest prefix of whole vectors of n
// elements that path p has a kernel for, 0 for none.
func vectors(p path, n int) int {
	if p == pathGo {
		return 0
	}
	return n &^ 7
}

func reluAsm(p path, dst, src []float32) int {
	n := vectors(p, len(dst))
	if n > 0 {
		reluAVX2(&dst[0], &src[0], n)
	}
	return n
}

func reluGradAsm(p path, dst, y, g []float32) int {
	n := vectors(p, len(dst))
	if n > 0 {
		reluGradAVX2(&dst[0], &y[0], &g[0], n)
	}
	return n
}

// relu64Asm and reluGrad64Asm run their kernels, four float64 lanes a
// step, on the longest prefix of whole vectors of eight.
func relu64Asm(p path, dst, src []float64) int {
	n := vectors(p, len(dst))
	if n > 0 {
		relu64AVX2(&dst[0], &src[0], n)
	}
	return n
}

func reluGrad64Asm(p path, dst, y, g []float64) int {
	n := vectors(p, len(dst))
	if n > 0 {
		reluGrad64AVX2(&dst[0], &y[0], &g[0], n)
	}
	return n
}

func normalizeAsm(p path, dst, x []float32, mu, a, b float32) int {
	n := vectors(p, len(dst))
	if n > 0 {
		normalizeAVX2(&dst[0], &x[0], n, mu, a, b)
	}
	return n
}

func normalizeGradAsm(p path, dst, g, x []float32, a, c, mu, b float32) int {
	n := vectors(p, len(dst))
	if n > 0 {
		normalizeGradAVX2(&dst[0], &g[0], &x[0], n, a, c, mu, b)
	}
	return n
}

func sumAsm(p path, v []float32, acc *[4]float64) int {
	n := vectors(p, len(v))
	if n > 0 {
		sumAVX2(&v[0], n, acc)
	}
	return n
}

func squaredDeviationsAsm(p path, v []float32, m float64, acc *[4]float64) int {
	n := vectors(p, len(v))
	if n > 0 {
		squaredDeviationsAVX2(&v[0], n, m, acc)
	}
	return n
}

func gradSumsAsm(p path, x, g []float32, mu float64, acc *[4]float64) int {
	n := vectors(p, len(x))
	if n > 0 {
		gradSumsAVX2(&x[0], &g[0], n, mu, acc)
	}
	return n
}

// dots2x4AVX2 sets out to the eight products of rows a0, a1 and b0 to b3
// over their first n elements, n a positive multiple of 8 (see dots2x4).
//
//go:noescape
func dots2x4AVX2(a0, a1, b0, b1, b2, b3 *float32, n int, out *[8]float32)

func dotsAsm(p path, a0, a1, b0, b1, b2, b3 []float32, out *[8]float32) int {
	n := vectors(p, len(a0))
	if n > 0 {
		dots2x4AVX2(&a0[0], &a1[0], &b0[0], &b1[0], &b2[0], &b3[0], n, out)
	}
	return n
}
