//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// The transposes pack the panels whose lines are strided in the operand (a
// B that is transposed, an A that is not): n consecutive square blocks
// along the rows of src, each transposed into dst, with in-register
// shuffles instead of one scalar load and store per element.
//
// Register allocation:
//
//	SI      src, advancing by one block (8 or 4 elements) per iteration
//	R8      lds in bytes
//	R9      3·lds in bytes, for the addressing of rows 3 and 7
//	R12     src + 4·lds, the second group of four rows (float32)
//	DI      dst, advancing by one block (8 or 4 rows of ldd) per iteration
//	R10     ldd in bytes
//	R11     3·ldd in bytes
//	R13     dst + 4·ldd, the second group of four rows (float32)
//	CX      blocks left
//	Y0-Y7   the rows of the block, then the transposed rows
//	Y8-Y15  intermediate shuffles

// func transpose8x8PS(src *float32, lds int, dst *float32, ldd int, n int)
TEXT ·transpose8x8PS(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R9
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R11
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   ps_done

ps_loop:
	LEAQ (SI)(R8*4), R12
	// Rows a..h of the block.
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R12), Y4
	VMOVUPS (R12)(R8*1), Y5
	VMOVUPS (R12)(R8*2), Y6
	VMOVUPS (R12)(R9*1), Y7

	// Pairs: Y8 = a0 b0 a1 b1 | a4 b4 a5 b5, Y9 = a2 b2 a3 b3 | a6 b6 a7 b7,
	// and so on for (c, d), (e, f), (g, h).
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Quads: Y0 = a0 b0 c0 d0 | a4 b4 c4 d4, Y1 = a1 b1 c1 d1 | a5 b5 c5 d5,
	// Y2 = columns 2 and 6, Y3 = 3 and 7; Y4-Y7 the same for e..h.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Columns: the low halves of (Y0, Y4) give column 0, the high halves
	// column 4, and so on.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	LEAQ    (DI)(R10*4), R13
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R10*1)
	VMOVUPS Y10, (DI)(R10*2)
	VMOVUPS Y11, (DI)(R11*1)
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(R10*1)
	VMOVUPS Y14, (R13)(R10*2)
	VMOVUPS Y15, (R13)(R11*1)

	ADDQ $32, SI
	LEAQ (R13)(R10*4), DI
	DECQ CX
	JNZ  ps_loop

ps_done:
	VZEROUPPER
	RET

// func transpose4x4PD(src *float64, lds int, dst *float64, ldd int, n int)
TEXT ·transpose4x4PD(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $3, R8
	LEAQ (R8)(R8*2), R9
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), R10
	SHLQ $3, R10
	LEAQ (R10)(R10*2), R11
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ   pd_done

pd_loop:
	// Rows a..d of the block.
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(R8*1), Y1
	VMOVUPD (SI)(R8*2), Y2
	VMOVUPD (SI)(R9*1), Y3

	// Y8 = a0 b0 | a2 b2, Y9 = a1 b1 | a3 b3, Y10 = c0 d0 | c2 d2,
	// Y11 = c1 d1 | c3 d3.
	VUNPCKLPD Y1, Y0, Y8
	VUNPCKHPD Y1, Y0, Y9
	VUNPCKLPD Y3, Y2, Y10
	VUNPCKHPD Y3, Y2, Y11

	// Columns 0..3.
	VPERM2F128 $0x20, Y10, Y8, Y0
	VPERM2F128 $0x20, Y11, Y9, Y1
	VPERM2F128 $0x31, Y10, Y8, Y2
	VPERM2F128 $0x31, Y11, Y9, Y3

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, (DI)(R10*1)
	VMOVUPD Y2, (DI)(R10*2)
	VMOVUPD Y3, (DI)(R11*1)

	ADDQ $32, SI
	LEAQ (DI)(R10*4), DI
	DECQ CX
	JNZ  pd_loop

pd_done:
	VZEROUPPER
	RET
