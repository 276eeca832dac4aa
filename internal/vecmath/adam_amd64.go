//go:build amd64 && gc && !noasm && !purego

package vecmath

// adamAVX2 is Adam32 on the first n elements, n a multiple of 8 and > 0.
//
//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, c *AdamCoefficients)

// adamAsm runs the AVX2 kernel, on AVX-512 machines too, on the longest
// prefix of whole vectors and returns its length.
func adamAsm(p path, w, g, m, v []float32, c *AdamCoefficients) int {
	n := len(w) &^ 7
	if p == pathGo || n == 0 {
		return 0
	}
	adamAVX2(&w[0], &g[0], &m[0], &v[0], n, c)
	return n
}
