//go:build amd64 && gc && !noasm && !purego

package vecmath

// lstmBackwardAVX2 is LSTMStepBackward32 on the first n > 0 hidden units;
// stride is the number of hidden units, the distance between the gates in
// gates and dz. Like the other kernels of this file it does the last
// partial vector with masked loads and stores.
//
//go:noescape
func lstmBackwardAVX2(dz, gates, sc, cPrev, dh, dc, dcPrev *float32, n, stride int)

// lstmBackwardAsm runs the AVX2 kernel, on AVX-512 machines too (there is
// no AVX-512 version), on all units and returns their number, or 0 on the
// Go path. The 4 units a row of 100 leaves after 12 vectors took a Go loop
// 2–4% of a training step in profiles before the kernel did them.
func lstmBackwardAsm(p path, dz, gates, sc, cPrev, dh, dc, dcPrev []float32) int {
	n := len(dh)
	if p == pathGo || n == 0 {
		return 0
	}
	lstmBackwardAVX2(&dz[0], &gates[0], &sc[0], &cPrev[0], &dh[0], &dc[0], &dcPrev[0], n, len(dh))
	return n
}

// flushAVX2 is FlushSubnormals32 on the first n elements of v, n a multiple
// of 8 and > 0.
//
//go:noescape
func flushAVX2(v *float32, n int)

// flushAsm runs flushAVX2 on the longest prefix of whole vectors and
// returns its length.
func flushAsm(p path, v []float32) int {
	if p == pathGo {
		return 0
	}
	n := len(v) &^ 7
	if n == 0 {
		return 0
	}
	flushAVX2(&v[0], n)
	return n
}

// lstmCellAVX2 is LSTMCell32 on the first n > 0 hidden units; stride is
// the number of hidden units.
//
//go:noescape
func lstmCellAVX2(c, gates, cPrev *float32, n, stride int)

//go:noescape
func mulFlushAVX2(dst, a, b *float32, n int)

// lstmCellAsm and mulFlushAsm run the AVX2 kernels on all elements and
// return their number, or 0 on the Go path.
func lstmCellAsm(p path, c, gates, cPrev []float32) int {
	n := len(c)
	if p == pathGo || n == 0 {
		return 0
	}
	lstmCellAVX2(&c[0], &gates[0], &cPrev[0], n, len(c))
	return n
}

func mulFlushAsm(p path, dst, a, b []float32) int {
	n := len(dst)
	if p == pathGo || n == 0 {
		return 0
	}
	mulFlushAVX2(&dst[0], &a[0], &b[0], n)
	return n
}
