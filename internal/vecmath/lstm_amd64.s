//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"
#include "tail_amd64.h"

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

// LOADU and STOREU move a whole vector; LOADM and STOREM the lanes of the
// mask in Y12.
#define LOADU(addr, y) VMOVUPS addr, y
#define STOREU(y, addr) VMOVUPS y, addr
#define LOADM(addr, y) VMASKMOVPS addr, Y12, y
#define STOREM(y, addr) VMASKMOVPS y, Y12, addr

// BACKWARD8 is one vector of lstmBackwardAVX2, moving data with load and
// store and flushing with the scratch register t. It loads i, f, g, o, sc,
// dh and dc into Y0-Y6, computes dc̃ = dc + dh·o·(1-sc²) into Y6, then
// dz_i = dc̃·g·(i·(1-i)), dz_f = dc̃·cPrev·(f·(1-f)) (cPrev in Y7),
// dz_g = dc̃·i·(1-g²), dz_o = dh·sc·(o·(1-o)) and dcPrev = dc̃·f, each
// flushed and stored in turn.
#define BACKWARD8(load, store, t) \
	load((R11), Y0);          \
	load((R11)(R10*1), Y1);   \
	load((R11)(R10*2), Y2);   \
	load((R11)(R13*1), Y3);   \
	load((CX)(R9*1), Y4);     \
	load((SI)(R9*1), Y5);     \
	load((DI)(R9*1), Y6);     \
	VMULPS      Y4, Y4, Y8;   \
	VSUBPS      Y8, Y15, Y8;  \
	VMULPS      Y3, Y5, Y9;   \
	VFMADD231PS Y8, Y9, Y6;   \
	VSUBPS Y0, Y15, Y10;      \
	VMULPS Y10, Y0, Y10;      \
	VMULPS Y2, Y6, Y11;       \
	VMULPS Y10, Y11, Y10;     \
	FLUSH(Y10, t);            \
	store(Y10, (R12));        \
	load((DX)(R9*1), Y7);     \
	VSUBPS  Y1, Y15, Y10;     \
	VMULPS  Y10, Y1, Y10;     \
	VMULPS  Y7, Y6, Y11;      \
	VMULPS  Y10, Y11, Y10;    \
	FLUSH(Y10, t);            \
	store(Y10, (R12)(R10*1)); \
	VMULPS  Y2, Y2, Y10;      \
	VSUBPS  Y10, Y15, Y10;    \
	VMULPS  Y0, Y6, Y11;      \
	VMULPS  Y10, Y11, Y10;    \
	FLUSH(Y10, t);            \
	store(Y10, (R12)(R10*2)); \
	VSUBPS  Y3, Y15, Y10;     \
	VMULPS  Y10, Y3, Y10;     \
	VMULPS  Y4, Y5, Y11;      \
	VMULPS  Y10, Y11, Y10;    \
	FLUSH(Y10, t);            \
	store(Y10, (R12)(R13*1)); \
	VMULPS  Y1, Y6, Y10;      \
	FLUSH(Y10, t);            \
	store(Y10, (R8)(R9*1))

// func lstmBackwardAVX2(dz, gates, sc, cPrev, dh, dc, dcPrev *float32, n, stride int)
//
// R11 walks the i block of gates and R12 that of dz; the f, g and o blocks
// are at +stride, +2·stride and +3·stride bytes (R10, R10*2, R13). R9 is the
// byte offset into sc, cPrev, dh, dc and dcPrev. Whole vectors first, then
// the last n mod 8 units with the mask in Y12 (Y8, free once dc̃ is
// computed, is then the flush's scratch register).
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
	CMPQ AX, $8
	JLT  tail
	BACKWARD8(LOADU, STOREU, Y12)
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R9
	SUBQ $8, AX
	JMP  loop

tail:
	TESTQ AX, AX
	JZ    done
	TAILMASK(AX, BX, Y12)
	BACKWARD8(LOADM, STOREM, Y8)

done:
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

// CELL8 is one vector of lstmCellAVX2: i, f, g and cPrev into Y0-Y3,
// c = f·cPrev + i·g (one fused multiply-add), flushed.
#define CELL8(load, store) \
	load((SI), Y0);          \
	load((SI)(R10*1), Y1);   \
	load((SI)(R10*2), Y2);   \
	load((DX)(R9*1), Y3);    \
	VMULPS      Y3, Y1, Y4;  \
	VFMADD231PS Y2, Y0, Y4;  \
	FLUSH(Y4, Y5);           \
	store(Y4, (DI)(R9*1))

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
	CMPQ CX, $8
	JLT  celltail
	CELL8(LOADU, STOREU)
	ADDQ $32, SI
	ADDQ $32, R9
	SUBQ $8, CX
	JMP  cellloop

celltail:
	TESTQ CX, CX
	JZ    celldone
	TAILMASK(CX, AX, Y12)
	CELL8(LOADM, STOREM)

celldone:
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
	CMPQ    CX, $8
	JLT     multail
	VMOVUPS (SI)(R9*1), Y0
	VMULPS  (DX)(R9*1), Y0, Y0
	FLUSH(Y0, Y1)
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JMP     mulloop

multail:
	TESTQ CX, CX
	JZ    muldone
	TAILMASK(CX, AX, Y12)
	VMASKMOVPS (SI)(R9*1), Y12, Y0
	VMASKMOVPS (DX)(R9*1), Y12, Y2
	VMULPS     Y2, Y0, Y0
	FLUSH(Y0, Y1)
	VMASKMOVPS Y0, Y12, (DI)(R9*1)

muldone:
	VZEROUPPER
	RET
