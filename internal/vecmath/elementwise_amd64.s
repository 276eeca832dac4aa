//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

DATA elemOne<>+0(SB)/4, $1.0
GLOBL elemOne<>(SB), RODATA|NOPTR, $4

// func elementwiseAVX2(op int, dst, a, b *float32, n int)
//
// One loop per operation, each computing as the Go expression of
// Elementwise32's op does: VMULPS, VADDPS and VSUBPS round as float32
// multiplication, addition and subtraction do (Y15 holds 1).
TEXT ·elementwiseAVX2(SB), NOSPLIT, $0-40
	MOVQ op+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	MOVQ n+32(FP), CX
	XORQ R9, R9
	VBROADCASTSS elemOne<>(SB), Y15
	CMPQ AX, $0
	JEQ  add
	CMPQ AX, $1
	JEQ  sub
	CMPQ AX, $2
	JEQ  mul
	CMPQ AX, $3
	JEQ  addmul
	CMPQ AX, $4
	JEQ  sgrad
	CMPQ AX, $5
	JEQ  addsgrad
	CMPQ AX, $6
	JEQ  tgrad
	CMPQ AX, $7
	JEQ  addtgrad
	JMP  addto

add:
	VMOVUPS (SI)(R9*1), Y0
	VADDPS  (DX)(R9*1), Y0, Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     add
	JMP     done

sub:
	VMOVUPS (SI)(R9*1), Y0
	VSUBPS  (DX)(R9*1), Y0, Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     sub
	JMP     done

mul:
	VMOVUPS (SI)(R9*1), Y0
	VMULPS  (DX)(R9*1), Y0, Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     mul
	JMP     done

addmul:
	VMOVUPS (SI)(R9*1), Y0
	VMULPS  (DX)(R9*1), Y0, Y0
	VADDPS  (DI)(R9*1), Y0, Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     addmul
	JMP     done

sgrad:
	VMOVUPS (DX)(R9*1), Y1
	VSUBPS  Y1, Y15, Y2
	VMULPS  Y2, Y1, Y2
	VMULPS  (SI)(R9*1), Y2, Y2
	VMOVUPS Y2, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     sgrad
	JMP     done

addsgrad:
	VMOVUPS (DX)(R9*1), Y1
	VSUBPS  Y1, Y15, Y2
	VMULPS  Y2, Y1, Y2
	VMULPS  (SI)(R9*1), Y2, Y2
	VADDPS  (DI)(R9*1), Y2, Y2
	VMOVUPS Y2, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     addsgrad
	JMP     done

tgrad:
	VMOVUPS (DX)(R9*1), Y1
	VMULPS  Y1, Y1, Y2
	VSUBPS  Y2, Y15, Y2
	VMULPS  (SI)(R9*1), Y2, Y2
	VMOVUPS Y2, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     tgrad
	JMP     done

addtgrad:
	VMOVUPS (DX)(R9*1), Y1
	VMULPS  Y1, Y1, Y2
	VSUBPS  Y2, Y15, Y2
	VMULPS  (SI)(R9*1), Y2, Y2
	VADDPS  (DI)(R9*1), Y2, Y2
	VMOVUPS Y2, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     addtgrad
	JMP     done

addto:
	VMOVUPS (DI)(R9*1), Y0
	VADDPS  (SI)(R9*1), Y0, Y0
	VMOVUPS Y0, (DI)(R9*1)
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     addto
	JMP     done

done:
	VZEROUPPER
	RET
