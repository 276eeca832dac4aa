//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// func adamAVX2(w, grad, m, v *float32, n int, c *AdamCoefficients)
//
// Computes what adamGo does, one float32 operation at a time in the same
// order: VMULPS, VADDPS, VSUBPS, VDIVPS and VSQRTPS round as Go's float32
// operations do. Y8-Y14 hold the coefficients in AdamCoefficients' order,
// Y15 zero.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // step
	VBROADCASTSS 4(AX), Y9   // β1
	VBROADCASTSS 8(AX), Y10  // 1-β1
	VBROADCASTSS 12(AX), Y11 // β2
	VBROADCASTSS 16(AX), Y12 // 1-β2
	VBROADCASTSS 20(AX), Y13 // ε
	VBROADCASTSS 24(AX), Y14 // 1/√(1-β2^t)
	VXORPS       Y15, Y15, Y15
	XORQ         R9, R9

adamloop:
	VMOVUPS (SI)(R9*1), Y0
	VMULPS  (DX)(R9*1), Y9, Y1 // β1·m
	VMULPS  Y0, Y10, Y2        // (1-β1)·g
	VADDPS  Y2, Y1, Y1         // m
	VMOVUPS Y1, (DX)(R9*1)
	VMULPS  (R8)(R9*1), Y11, Y3 // β2·v
	VMULPS  Y0, Y12, Y4         // (1-β2)·g
	VMULPS  Y0, Y4, Y4          // ·g
	VADDPS  Y4, Y3, Y3          // v
	VMOVUPS Y3, (R8)(R9*1)
	VSQRTPS Y3, Y3
	VMULPS  Y14, Y3, Y3
	VADDPS  Y13, Y3, Y3         // √v·InvSqrtC2 + ε
	VMULPS  Y1, Y8, Y1          // step·m
	VDIVPS  Y3, Y1, Y1
	VMOVUPS (DI)(R9*1), Y5
	VSUBPS  Y1, Y5, Y5
	VMOVUPS Y5, (DI)(R9*1)
	VMOVUPS Y15, (SI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     adamloop
	VZEROUPPER
	RET
