//go:build amd64 && gc && !noasm && !purego

package vecmath

import "golang.org/x/sys/cpu"

// The assembly kernels (vecmath_amd64.s) process the first n elements of
// src into dst, any n > 0: they do the last partial vector with masked
// loads and stores.

//go:noescape
func tanhAVX2(dst, src *float32, n int)

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func tanhAVX512(dst, src *float32, n int)

//go:noescape
func sigmoidAVX512(dst, src *float32, n int)

var (
	hasAVX2FMA = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512  = hasAVX2FMA && cpu.X86.HasAVX512F
)

// best is the path Tanh32 and Sigmoid32 use, chosen once for the CPU.
var best = func() path {
	switch {
	case hasAVX512:
		return pathAVX512
	case hasAVX2FMA:
		return pathAVX2
	}
	return pathGo
}()

// paths lists the paths usable on this CPU, for the tests.
var paths = func() []path {
	ps := []path{pathGo}
	if hasAVX2FMA {
		ps = append(ps, pathAVX2)
	}
	if hasAVX512 {
		ps = append(ps, pathAVX512)
	}
	return ps
}()

// tanhAsm runs p's kernel on all of src and returns its length, or 0 on
// the Go path. Rows of 100 units leave 4 elements after the last whole
// vector. The Go loop that did them took about a third of an LSTM step's
// forward work in a profile (32 rows of 100); with the masked tail the
// step went from 17.1 to 13.7 µs with AVX-512.
func tanhAsm(p path, dst, src []float32) int { return activationAsm(p, false, dst, src) }

// sigmoidAsm is tanhAsm for the sigmoid kernels.
func sigmoidAsm(p path, dst, src []float32) int { return activationAsm(p, true, dst, src) }

// activationAsm runs p's tanh or sigmoid kernel on all of src and returns
// its length, or 0 on the Go path. (The kernels are called directly, not
// as function values, which would make dst and src escape.)
func activationAsm(p path, sigmoid bool, dst, src []float32) int {
	n := len(src)
	if n == 0 || p == pathGo {
		return 0
	}
	d, s := &dst[0], &src[0]
	switch {
	case p == pathAVX512 && sigmoid:
		sigmoidAVX512(d, s, n)
	case p == pathAVX512:
		tanhAVX512(d, s, n)
	case sigmoid:
		sigmoidAVX2(d, s, n)
	default:
		tanhAVX2(d, s, n)
	}
	return n
}

// nonFiniteAVX2 returns the offset, a multiple of 32, of the first block of
// 32 elements of v[:n] that holds a NaN or an infinity, or n if none does;
// n is a multiple of 32 and > 0.
//
//go:noescape
func nonFiniteAVX2(v *float32, n int) int

// nonFiniteAsm runs the AVX2 kernel, on AVX-512 machines too, on the
// longest prefix of whole blocks of 32 and returns where FirstNonFinite32's
// Go loop starts: the block with the first non-finite element, or the end
// of the prefix.
func nonFiniteAsm(p path, v []float32) int {
	n := len(v) &^ 31
	if p == pathGo || n == 0 {
		return 0
	}
	return nonFiniteAVX2(&v[0], n)
}
