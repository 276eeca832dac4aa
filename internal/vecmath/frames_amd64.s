//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Kernels of elementwise.go, 8 float32 lanes a step. Go's operand order is
// Intel's reversed: VMAXPS Y0, Y15, Y0 is Intel's vmaxps ymm0, ymm15, ymm0.

// func reluAVX2(dst, src *float32, n int)
//
// max with 0 as the first Intel source and x as the second, which
// vmaxps returns when either is NaN or both are zero: NaN and -0 pass.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y15, Y15, Y15

reluloop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     reluloop
	VZEROUPPER
	RET

// func reluGradAVX2(dst, y, gr *float32, n int)
//
// g where y > 0 (ordered, so NaN y gives 0), as g AND the compare's mask.
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   gr+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15

relugradloop:
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1 // y > 0, _CMP_GT_OQ
	VANDPS  (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     relugradloop
	VZEROUPPER
	RET

// func relu64AVX2(dst, src *float64, n int)
//
// reluAVX2 on four float64 lanes, two vectors a step (n is a multiple of 8).
TEXT ·relu64AVX2(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPD Y15, Y15, Y15

relu64loop:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VMAXPD  Y0, Y15, Y0
	VMAXPD  Y1, Y15, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $8, CX
	JNZ     relu64loop
	VZEROUPPER
	RET

// func reluGrad64AVX2(dst, y, gr *float64, n int)
TEXT ·reluGrad64AVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   gr+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPD Y15, Y15, Y15

relugrad64loop:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VCMPPD  $0x1e, Y15, Y0, Y0 // y > 0, _CMP_GT_OQ
	VCMPPD  $0x1e, Y15, Y1, Y1
	VANDPD  (DX), Y0, Y0
	VANDPD  32(DX), Y1, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $8, CX
	JNZ     relugrad64loop
	VZEROUPPER
	RET

// func normalizeAVX2(dst, x *float32, n int, mu, a, b float32)
TEXT ·normalizeAVX2(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS mu+24(FP), Y13
	VBROADCASTSS a+28(FP), Y14
	VBROADCASTSS b+32(FP), Y15

normloop:
	VMOVUPS     (SI), Y0
	VSUBPS      Y13, Y0, Y0  // x-mu
	VFMADD213PS Y15, Y14, Y0 // (x-mu)·a + b
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNZ         normloop
	VZEROUPPER
	RET

// func normalizeGradAVX2(dst, gr, x *float32, n int, a, c, mu, b float32)
TEXT ·normalizeGradAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         gr+8(FP), DX
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Y12
	VBROADCASTSS c+36(FP), Y13
	VBROADCASTSS mu+40(FP), Y14
	VBROADCASTSS b+44(FP), Y15

normgradloop:
	VMOVUPS     (SI), Y0
	VSUBPS      Y14, Y0, Y0  // x-mu
	VMULPS      Y13, Y0, Y0  // c·(x-mu)
	VADDPS      Y15, Y0, Y0  // + b
	VMOVUPS     (DX), Y1
	VFMADD231PS Y12, Y1, Y0  // + a·g
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNZ         normgradloop
	VZEROUPPER
	RET

// func sumAVX2(v *float32, n int, acc *[4]float64)
//
// Two accumulators of four float64 lanes, one per half of each vector of
// eight float32, added together at the end.
TEXT ·sumAVX2(SB), NOSPLIT, $0-24
	MOVQ   v+0(FP), SI
	MOVQ   n+8(FP), CX
	MOVQ   acc+16(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

sumloop:
	VCVTPS2PD (SI), Y2
	VCVTPS2PD 16(SI), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $32, SI
	SUBQ      $8, CX
	JNZ       sumloop
	VADDPD    Y1, Y0, Y0
	VMOVUPD   Y0, (DI)
	VZEROUPPER
	RET

// func squaredDeviationsAVX2(v *float32, n int, m float64, acc *[4]float64)
TEXT ·squaredDeviationsAVX2(SB), NOSPLIT, $0-32
	MOVQ         v+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD m+16(FP), Y15
	MOVQ         acc+24(FP), DI
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1

sqloop:
	VCVTPS2PD   (SI), Y2
	VCVTPS2PD   16(SI), Y3
	VSUBPD      Y15, Y2, Y2
	VSUBPD      Y15, Y3, Y3
	VFMADD231PD Y2, Y2, Y0
	VFMADD231PD Y3, Y3, Y1
	ADDQ        $32, SI
	SUBQ        $8, CX
	JNZ         sqloop
	VADDPD      Y1, Y0, Y0
	VMOVUPD     Y0, (DI)
	VZEROUPPER
	RET

// func gradSumsAVX2(x, gr *float32, n int, mu float64, acc *[4]float64)
//
// Y0 and Y1 sum g, Y2 and Y3 g·(x-mu); each pair is folded to two lanes,
// Σg into acc[0:2] and Σg·(x-mu) into acc[2:4].
TEXT ·gradSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         gr+8(FP), DX
	MOVQ         n+16(FP), CX
	VBROADCASTSD mu+24(FP), Y15
	MOVQ         acc+32(FP), DI
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3

gradsumloop:
	VCVTPS2PD   (DX), Y4
	VCVTPS2PD   16(DX), Y5
	VCVTPS2PD   (SI), Y6
	VCVTPS2PD   16(SI), Y7
	VADDPD      Y4, Y0, Y0
	VADDPD      Y5, Y1, Y1
	VSUBPD      Y15, Y6, Y6
	VSUBPD      Y15, Y7, Y7
	VFMADD231PD Y6, Y4, Y2
	VFMADD231PD Y7, Y5, Y3
	ADDQ        $32, SI
	ADDQ        $32, DX
	SUBQ        $8, CX
	JNZ         gradsumloop
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VEXTRACTF128 $1, Y2, X3
	VADDPD       X3, X2, X2
	VMOVUPD      X0, (DI)
	VMOVUPD      X2, 16(DI)
	VZEROUPPER
	RET

// func dots2x4AVX2(a0, a1, b0, b1, b2, b3 *float32, n int, out *[8]float32)
//
// Y0-Y3 accumulate a0 against b0-b3 and Y4-Y7 a1 against them, eight lanes
// each, folded to one sum each at the end; eight independent chains of
// FMAs, six loads per eight FMAs.
TEXT ·dots2x4AVX2(SB), NOSPLIT, $0-64
	MOVQ   a0+0(FP), SI
	MOVQ   a1+8(FP), DI
	MOVQ   b0+16(FP), R8
	MOVQ   b1+24(FP), R9
	MOVQ   b2+32(FP), R10
	MOVQ   b3+40(FP), R11
	MOVQ   n+48(FP), CX
	MOVQ   out+56(FP), DX
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

dotsloop:
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     (DI)(AX*1), Y9
	VMOVUPS     (R8)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS     (R9)(AX*1), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS     (R10)(AX*1), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS     (R11)(AX*1), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ        $32, AX
	SUBQ        $8, CX
	JNZ         dotsloop

	// Fold each accumulator to one sum: Y0..Y3 -> lanes of X0, Y4..Y7 ->
	// lanes of X4, with two horizontal adds of pairs and one of halves.
	VHADDPS      Y1, Y0, Y0 // (0,0,1,1, 0,0,1,1) pairs summed, per 128-bit half
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0 // (0,1,2,3) per half
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DX)
	VHADDPS      Y5, Y4, Y4
	VHADDPS      Y7, Y6, Y6
	VHADDPS      Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS       X5, X4, X4
	VMOVUPS      X4, 16(DX)
	VZEROUPPER
	RET
