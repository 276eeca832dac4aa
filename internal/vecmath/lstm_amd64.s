//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

DATA lstmOne<>+0(SB)/4, $1.0
GLOBL lstmOne<>(SB), RODATA|NOPTR, $4
DATA lstmAbs<>+0(SB)/4, $0x7fffffff
GLOBL lstmAbs<>(SB), RODATA|NOPTR, $4
DATA lstmMinNormal<>+0(SB)/4, $0x00800000
GLOBL lstmMinNormal<>(SB), RODATA|NOPTR, $4

// FLUSH zeroes the lanes of v whose magnitude is below the smallest normal
// float32 (Y13 = abs mask, Y14 = 2⁻¹²⁶), using t.
#define FLUSH(v, t) \
	VANDPS  v, Y13, t;      \
	VCMPPS  $5, Y14, t, t;  \
	VANDPS  t, v, v

// func lstmBackwardAVX2(dz, gates, sc, cPrev, dh, dc, dcPrev *float32, n, stride int)
//
// R11 walks the i block of gates and R12 that of dz; the f, g and o blocks
// are at +stride, +2·stride and +3·stride bytes (R10, R10*2, R13). R9 is the
// byte offset into sc, cPrev, dh, dc and dcPrev.
TEXT ·lstmBackwardAVX2(SB), NOSPLIT, $0-72
	MOVQ dz+0(FP), R12
	MOVQ gates+8(FP), R11
	MOVQ sc+16(FP), CX
	MOVQ cPrev+24(FP), DX
	MOVQ dh+32(FP), SI
	MOVQ dc+40(FP), DI
	MOVQ dcPrev+48(FP), R8
	MOVQ n+56(FP), AX
	MOVQ stride+64(FP), R10
	SHLQ $2, R10
	LEAQ (R10)(R10*2), R13
	XORQ R9, R9
	VBROADCASTSS lstmOne<>(SB), Y15
	VBROADCASTSS lstmAbs<>(SB), Y13
	VBROADCASTSS lstmMinNormal<>(SB), Y14

loop:
	VMOVUPS (R11), Y0         // i
	VMOVUPS (R11)(R10*1), Y1  // f
	VMOVUPS (R11)(R10*2), Y2  // g
	VMOVUPS (R11)(R13*1), Y3  // o
	VMOVUPS (CX)(R9*1), Y4    // sc
	VMOVUPS (SI)(R9*1), Y5    // dh
	VMOVUPS (DI)(R9*1), Y6    // dc

	// dc̃ = dc + dh·o·(1-sc²)
	VMULPS      Y4, Y4, Y8
	VSUBPS      Y8, Y15, Y8
	VMULPS      Y3, Y5, Y9
	VFMADD231PS Y8, Y9, Y6

	// dz_i = dc̃·g·(i·(1-i))
	VSUBPS Y0, Y15, Y10
	VMULPS Y10, Y0, Y10
	VMULPS Y2, Y6, Y11
	VMULPS Y10, Y11, Y10
	FLUSH(Y10, Y12)
	VMOVUPS Y10, (R12)

	// dz_f = dc̃·cPrev·(f·(1-f))
	VMOVUPS (DX)(R9*1), Y7
	VSUBPS  Y1, Y15, Y10
	VMULPS  Y10, Y1, Y10
	VMULPS  Y7, Y6, Y11
	VMULPS  Y10, Y11, Y10
	FLUSH(Y10, Y12)
	VMOVUPS Y10, (R12)(R10*1)

	// dz_g = dc̃·i·(1-g²)
	VMULPS  Y2, Y2, Y10
	VSUBPS  Y10, Y15, Y10
	VMULPS  Y0, Y6, Y11
	VMULPS  Y10, Y11, Y10
	FLUSH(Y10, Y12)
	VMOVUPS Y10, (R12)(R10*2)

	// dz_o = dh·sc·(o·(1-o))
	VSUBPS  Y3, Y15, Y10
	VMULPS  Y10, Y3, Y10
	VMULPS  Y4, Y5, Y11
	VMULPS  Y10, Y11, Y10
	FLUSH(Y10, Y12)
	VMOVUPS Y10, (R12)(R13*1)

	// dcPrev = dc̃·f
	VMULPS  Y1, Y6, Y10
	FLUSH(Y10, Y12)
	VMOVUPS Y10, (R8)(R9*1)

	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R9
	SUBQ $8, AX
	JNZ  loop
	VZEROUPPER
	RET

// func flushAVX2(v *float32, n int)
TEXT ·flushAVX2(SB), NOSPLIT, $0-16
	MOVQ v+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS lstmAbs<>(SB), Y13
	VBROADCASTSS lstmMinNormal<>(SB), Y14

flushloop:
	VMOVUPS (SI), Y0
	FLUSH(Y0, Y1)
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     flushloop
	VZEROUPPER
	RET

// func lstmCellAVX2(c, gates, cPrev *float32, n, stride int)
TEXT ·lstmCellAVX2(SB), NOSPLIT, $0-40
	MOVQ c+0(FP), DI
	MOVQ gates+8(FP), SI
	MOVQ cPrev+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ stride+32(FP), R10
	SHLQ $2, R10
	XORQ R9, R9
	VBROADCASTSS lstmAbs<>(SB), Y13
	VBROADCASTSS lstmMinNormal<>(SB), Y14

cellloop:
	VMOVUPS     (SI), Y0         // i
	VMOVUPS     (SI)(R10*1), Y1  // f
	VMOVUPS     (SI)(R10*2), Y2  // g
	VMOVUPS     (DX)(R9*1), Y3   // cPrev
	VMULPS      Y3, Y1, Y4       // f·cPrev
	VFMADD231PS Y2, Y0, Y4       // + i·g
	FLUSH(Y4, Y5)
	VMOVUPS     Y4, (DI)(R9*1)
	ADDQ        $32, SI
	ADDQ        $32, R9
	SUBQ        $8, CX
	JNZ         cellloop
	VZEROUPPER
	RET

// func mulFlushAVX2(dst, a, b *float32, n int)
TEXT ·mulFlushAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ R9, R9
	VBROADCASTSS lstmAbs<>(SB), Y13
	VBROADCASTSS lstmMinNormal<>(SB), Y14

mulloop:
	VMOVUPS (SI)(R9*1), Y0
	VMULPS  (DX)(R9*1), Y0, Y0
	FLUSH(Y0, Y1)
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     mulloop
	VZEROUPPER
	RET
