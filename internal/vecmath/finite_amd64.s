//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

DATA finiteExp<>+0(SB)/4, $0x7f800000
GLOBL finiteExp<>(SB), RODATA|NOPTR, $4

// func nonFiniteAVX2(v *float32, n int) int
//
// An element is NaN or infinite when its exponent bits are all ones: each
// block of 4 vectors is masked to its exponents (Y15), compared with the
// mask, and the comparisons or-ed together.
TEXT ·nonFiniteAVX2(SB), NOSPLIT, $0-24
	MOVQ         v+0(FP), SI
	MOVQ         n+8(FP), CX
	VPBROADCASTD finiteExp<>(SB), Y15
	XORQ         AX, AX

finiteloop:
	VPAND    (SI)(AX*4), Y15, Y0
	VPAND    32(SI)(AX*4), Y15, Y1
	VPAND    64(SI)(AX*4), Y15, Y2
	VPAND    96(SI)(AX*4), Y15, Y3
	VPCMPEQD Y15, Y0, Y0
	VPCMPEQD Y15, Y1, Y1
	VPCMPEQD Y15, Y2, Y2
	VPCMPEQD Y15, Y3, Y3
	VPOR     Y1, Y0, Y0
	VPOR     Y3, Y2, Y2
	VPOR     Y2, Y0, Y0
	VPTEST   Y0, Y0
	JNZ      found
	ADDQ     $32, AX
	CMPQ     AX, CX
	JLT      finiteloop

found:
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET
