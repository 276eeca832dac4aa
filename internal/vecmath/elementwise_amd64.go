//go:build amd64 && gc && !noasm && !purego

package vecmath

// elementwiseAVX2 is Elementwise32 on the first n elements, n a multiple
// of 8 and > 0 (AddTo passes a as b).
//
//go:noescape
func elementwiseAVX2(op Op, dst, a, b *float32, n int)

// elementwiseAsm runs the AVX2 kernel, on AVX-512 machines too, on the
// longest prefix of whole vectors and returns its length.
func elementwiseAsm(p path, op Op, dst, a, b []float32) int {
	n := len(dst) &^ 7
	if p == pathGo || n == 0 {
		return 0
	}
	elementwiseAVX2(op, &dst[0], &a[0], &b[0], n)
	return n
}
