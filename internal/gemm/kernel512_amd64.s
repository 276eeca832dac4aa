//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// The AVX-512 micro-kernels compute one 16×nr tile of C = alpha·A·B + beta·C
// (see kernel.fn in driver.go), nr being one ZMM register: 16 float32 or 8
// float64. For each of the k steps they load one row of B and do sixteen
// FMAs, one per row of the tile, each with an element of A's column
// broadcast from memory by the FMA itself (embedded broadcast), so that the
// loop needs no broadcast register and no separate broadcast instruction.
// Sixteen independent accumulators cover the FMA latency. Sixteen rows suit
// seqgraph's shapes (batches of 32, 4·100 gate columns): most tiles are
// whole, where 6-row tiles leave partial ones. Only AVX-512F instructions
// are used.
//
// Register allocation, both kernels:
//
//	SI      A, advancing by one column (lda elements) per step
//	DI      B, advancing by one row (ldb elements) per step
//	R10     lda in bytes
//	R11     ldb in bytes
//	DX      C, advancing by one row (ldc elements) in the epilogue
//	R8      ldc in bytes
//	R9      number of 4-step iterations (k/4)
//	CX      steps left after them (k%4)
//	AX      beta's bits, to test beta = ±0 without a vector register
//	Z0-Z15  accumulators, row r of the tile in Zr
//	Z16     the current row of B
//	Z30     alpha, in the epilogue
//	Z31     beta, in the epilogue

// SSTEP16 is one step of the 16×16 float32 kernel.
#define SSTEP16 \
	VMOVUPS          (DI), Z16;        \
	VFMADD231PS.BCST 0(SI), Z16, Z0;   \
	VFMADD231PS.BCST 4(SI), Z16, Z1;   \
	VFMADD231PS.BCST 8(SI), Z16, Z2;   \
	VFMADD231PS.BCST 12(SI), Z16, Z3;  \
	VFMADD231PS.BCST 16(SI), Z16, Z4;  \
	VFMADD231PS.BCST 20(SI), Z16, Z5;  \
	VFMADD231PS.BCST 24(SI), Z16, Z6;  \
	VFMADD231PS.BCST 28(SI), Z16, Z7;  \
	VFMADD231PS.BCST 32(SI), Z16, Z8;  \
	VFMADD231PS.BCST 36(SI), Z16, Z9;  \
	VFMADD231PS.BCST 40(SI), Z16, Z10; \
	VFMADD231PS.BCST 44(SI), Z16, Z11; \
	VFMADD231PS.BCST 48(SI), Z16, Z12; \
	VFMADD231PS.BCST 52(SI), Z16, Z13; \
	VFMADD231PS.BCST 56(SI), Z16, Z14; \
	VFMADD231PS.BCST 60(SI), Z16, Z15; \
	ADDQ             R10, SI;          \
	ADDQ             R11, DI

// SROW16 scales row r (Zr) by alpha, adds beta times C's row at DX, stores
// it and moves DX to the next row; SROW16Z is the same for beta = 0, where C
// is not read.
#define SROW16(r) \
	VMULPS           Z30, r, r;    \
	VFMADD231PS      (DX), Z31, r; \
	VMOVUPS          r, (DX);      \
	ADDQ             R8, DX

#define SROW16Z(r) \
	VMULPS           Z30, r, r; \
	VMOVUPS          r, (DX);   \
	ADDQ             R8, DX

// DSTEP16 is one step of the 16×8 float64 kernel.
#define DSTEP16 \
	VMOVUPD          (DI), Z16;         \
	VFMADD231PD.BCST 0(SI), Z16, Z0;    \
	VFMADD231PD.BCST 8(SI), Z16, Z1;    \
	VFMADD231PD.BCST 16(SI), Z16, Z2;   \
	VFMADD231PD.BCST 24(SI), Z16, Z3;   \
	VFMADD231PD.BCST 32(SI), Z16, Z4;   \
	VFMADD231PD.BCST 40(SI), Z16, Z5;   \
	VFMADD231PD.BCST 48(SI), Z16, Z6;   \
	VFMADD231PD.BCST 56(SI), Z16, Z7;   \
	VFMADD231PD.BCST 64(SI), Z16, Z8;   \
	VFMADD231PD.BCST 72(SI), Z16, Z9;   \
	VFMADD231PD.BCST 80(SI), Z16, Z10;  \
	VFMADD231PD.BCST 88(SI), Z16, Z11;  \
	VFMADD231PD.BCST 96(SI), Z16, Z12;  \
	VFMADD231PD.BCST 104(SI), Z16, Z13; \
	VFMADD231PD.BCST 112(SI), Z16, Z14; \
	VFMADD231PD.BCST 120(SI), Z16, Z15; \
	ADDQ             R10, SI;           \
	ADDQ             R11, DI

// DROW16 and DROW16Z are SROW16 and SROW16Z for float64.
#define DROW16(r) \
	VMULPD           Z30, r, r;    \
	VFMADD231PD      (DX), Z31, r; \
	VMOVUPD          r, (DX);      \
	ADDQ             R8, DX

#define DROW16Z(r) \
	VMULPD           Z30, r, r; \
	VMOVUPD          r, (DX);   \
	ADDQ             R8, DX

// func sgemmKernel16x16AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel16x16AVX512(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R10
	SHLQ $2, R10
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R11
	SHLQ $2, R11
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ  CX, R9
	SHRQ  $2, R9
	ANDQ  $3, CX
	TESTQ R9, R9
	JZ    s16_tail

s16_loop4:
	SSTEP16
	SSTEP16
	SSTEP16
	SSTEP16
	DECQ R9
	JNZ  s16_loop4

s16_tail:
	TESTQ CX, CX
	JZ    s16_store

s16_loop1:
	SSTEP16
	DECQ CX
	JNZ  s16_loop1

s16_store:
	VBROADCASTSS alpha+56(FP), Z30
	MOVL         beta+60(FP), AX
	SHLL         $1, AX // drop the sign: -0 is 0 too
	JNZ          s16_beta // NaN is not zero either: C = NaN·C must read C

	SROW16Z(Z0)
	SROW16Z(Z1)
	SROW16Z(Z2)
	SROW16Z(Z3)
	SROW16Z(Z4)
	SROW16Z(Z5)
	SROW16Z(Z6)
	SROW16Z(Z7)
	SROW16Z(Z8)
	SROW16Z(Z9)
	SROW16Z(Z10)
	SROW16Z(Z11)
	SROW16Z(Z12)
	SROW16Z(Z13)
	SROW16Z(Z14)
	SROW16Z(Z15)
	VZEROUPPER
	RET

s16_beta:
	VBROADCASTSS beta+60(FP), Z31
	SROW16(Z0)
	SROW16(Z1)
	SROW16(Z2)
	SROW16(Z3)
	SROW16(Z4)
	SROW16(Z5)
	SROW16(Z6)
	SROW16(Z7)
	SROW16(Z8)
	SROW16(Z9)
	SROW16(Z10)
	SROW16(Z11)
	SROW16(Z12)
	SROW16(Z13)
	SROW16(Z14)
	SROW16(Z15)
	VZEROUPPER
	RET

// func dgemmKernel16x8AVX512(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)
TEXT ·dgemmKernel16x8AVX512(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R10
	SHLQ $3, R10
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R11
	SHLQ $3, R11
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $3, R8

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ  CX, R9
	SHRQ  $2, R9
	ANDQ  $3, CX
	TESTQ R9, R9
	JZ    d16_tail

d16_loop4:
	DSTEP16
	DSTEP16
	DSTEP16
	DSTEP16
	DECQ R9
	JNZ  d16_loop4

d16_tail:
	TESTQ CX, CX
	JZ    d16_store

d16_loop1:
	DSTEP16
	DECQ CX
	JNZ  d16_loop1

d16_store:
	VBROADCASTSD alpha+56(FP), Z30
	MOVQ         beta+64(FP), AX
	SHLQ         $1, AX // drop the sign: -0 is 0 too
	JNZ          d16_beta // NaN is not zero either: C = NaN·C must read C

	DROW16Z(Z0)
	DROW16Z(Z1)
	DROW16Z(Z2)
	DROW16Z(Z3)
	DROW16Z(Z4)
	DROW16Z(Z5)
	DROW16Z(Z6)
	DROW16Z(Z7)
	DROW16Z(Z8)
	DROW16Z(Z9)
	DROW16Z(Z10)
	DROW16Z(Z11)
	DROW16Z(Z12)
	DROW16Z(Z13)
	DROW16Z(Z14)
	DROW16Z(Z15)
	VZEROUPPER
	RET

d16_beta:
	VBROADCASTSD beta+64(FP), Z31
	DROW16(Z0)
	DROW16(Z1)
	DROW16(Z2)
	DROW16(Z3)
	DROW16(Z4)
	DROW16(Z5)
	DROW16(Z6)
	DROW16(Z7)
	DROW16(Z8)
	DROW16(Z9)
	DROW16(Z10)
	DROW16(Z11)
	DROW16(Z12)
	DROW16(Z13)
	DROW16(Z14)
	DROW16(Z15)
	VZEROUPPER
	RET

// The edge kernels compute the partial tiles at the right edge of C, whose
// micro-panel of B (always packed, zero-padded to 16 columns) has at most 4
// or 8 columns in use. The full kernel would spend 16 FMAs per step on them
// whatever the width; these turn the tile around and keep one column of it
// per register (the 16 rows in its lanes): per step they load a column of A
// (16 elements, contiguous in packed and in transposed A alike) and do one
// FMA per column with the element of B broadcast. They store the tile
// transposed, column j at t[16*j:], unscaled; the driver merges it into C.
//
// func sgemmEdge16x4AVX512(k int, a *float32, lda int, b *float32, ldb int, t *float32)
//
// Four accumulators would leave the FMA latency uncovered, so even and odd
// steps have their own (Z0-Z3 and Z4-Z7), added at the end.
TEXT ·sgemmEdge16x4AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R10
	SHLQ $2, R10
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R11
	SHLQ $2, R11
	MOVQ t+40(FP), DX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	MOVQ  CX, R9
	SHRQ  $1, R9
	ANDQ  $1, CX
	TESTQ R9, R9
	JZ    e4_tail

e4_loop2:
	VMOVUPS          (SI), Z16
	VFMADD231PS.BCST 0(DI), Z16, Z0
	VFMADD231PS.BCST 4(DI), Z16, Z1
	VFMADD231PS.BCST 8(DI), Z16, Z2
	VFMADD231PS.BCST 12(DI), Z16, Z3
	ADDQ             R10, SI
	ADDQ             R11, DI
	VMOVUPS          (SI), Z17
	VFMADD231PS.BCST 0(DI), Z17, Z4
	VFMADD231PS.BCST 4(DI), Z17, Z5
	VFMADD231PS.BCST 8(DI), Z17, Z6
	VFMADD231PS.BCST 12(DI), Z17, Z7
	ADDQ             R10, SI
	ADDQ             R11, DI
	DECQ             R9
	JNZ              e4_loop2

e4_tail:
	TESTQ CX, CX
	JZ    e4_store
	VMOVUPS          (SI), Z16
	VFMADD231PS.BCST 0(DI), Z16, Z0
	VFMADD231PS.BCST 4(DI), Z16, Z1
	VFMADD231PS.BCST 8(DI), Z16, Z2
	VFMADD231PS.BCST 12(DI), Z16, Z3

e4_store:
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1
	VADDPS  Z6, Z2, Z2
	VADDPS  Z7, Z3, Z3
	VMOVUPS Z0, 0(DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	VZEROUPPER
	RET

// func sgemmEdge16x8AVX512(k int, a *float32, lda int, b *float32, ldb int, t *float32)
TEXT ·sgemmEdge16x8AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R10
	SHLQ $2, R10
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R11
	SHLQ $2, R11
	MOVQ t+40(FP), DX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

e8_loop:
	VMOVUPS          (SI), Z16
	VFMADD231PS.BCST 0(DI), Z16, Z0
	VFMADD231PS.BCST 4(DI), Z16, Z1
	VFMADD231PS.BCST 8(DI), Z16, Z2
	VFMADD231PS.BCST 12(DI), Z16, Z3
	VFMADD231PS.BCST 16(DI), Z16, Z4
	VFMADD231PS.BCST 20(DI), Z16, Z5
	VFMADD231PS.BCST 24(DI), Z16, Z6
	VFMADD231PS.BCST 28(DI), Z16, Z7
	ADDQ             R10, SI
	ADDQ             R11, DI
	DECQ             CX
	JNZ              e8_loop

	VMOVUPS Z0, 0(DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	VMOVUPS Z4, 256(DX)
	VMOVUPS Z5, 320(DX)
	VMOVUPS Z6, 384(DX)
	VMOVUPS Z7, 448(DX)
	VZEROUPPER
	RET
