//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// The AVX2 micro-kernels compute one 6×nr tile of C = alpha·A·B + beta·C
// (see kernel.fn in driver.go). A's columns and B's rows are read through
// strides, so that either can be a packed micro-panel or the matrix itself.
// For each of the k steps they load one row of B (two YMM registers),
// broadcast each of the six elements of A's column in turn and accumulate
// the outer product with FMA. The twelve accumulators stay in registers for
// the whole loop, which does only loads and FMAs: 12 FMAs for 2 loads and 6
// broadcasts, more independent FMAs than two FMA pipes of latency 4 need.
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
//	AX      beta's bits, to test beta = ±0
//	Y0-Y11  accumulators: row r of the tile in Y(2r) (left half) and
//	        Y(2r+1) (right half)
//	Y12-Y13 the current row of B
//	Y14-Y15 broadcast elements of A, alternately, so that consecutive
//	        broadcasts do not wait on each other's FMAs; alpha and beta in
//	        the epilogue

// SSTEP is one step of the 6×16 float32 kernel.
#define SSTEP \
	VMOVUPS      (DI), Y12;       \
	VMOVUPS      32(DI), Y13;     \
	VBROADCASTSS (SI), Y14;       \
	VFMADD231PS  Y12, Y14, Y0;    \
	VFMADD231PS  Y13, Y14, Y1;    \
	VBROADCASTSS 4(SI), Y15;      \
	VFMADD231PS  Y12, Y15, Y2;    \
	VFMADD231PS  Y13, Y15, Y3;    \
	VBROADCASTSS 8(SI), Y14;      \
	VFMADD231PS  Y12, Y14, Y4;    \
	VFMADD231PS  Y13, Y14, Y5;    \
	VBROADCASTSS 12(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y6;    \
	VFMADD231PS  Y13, Y15, Y7;    \
	VBROADCASTSS 16(SI), Y14;     \
	VFMADD231PS  Y12, Y14, Y8;    \
	VFMADD231PS  Y13, Y14, Y9;    \
	VBROADCASTSS 20(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y10;   \
	VFMADD231PS  Y13, Y15, Y11;   \
	ADDQ         R10, SI;         \
	ADDQ         R11, DI

// SROW scales row r of the tile (accumulators lo, hi) by alpha (Y14), adds
// beta (Y15) times C's row at DX, stores it and moves DX to the next row.
#define SROW(lo, hi) \
	VMULPS      Y14, lo, lo;     \
	VMULPS      Y14, hi, hi;     \
	VFMADD231PS (DX), Y15, lo;   \
	VFMADD231PS 32(DX), Y15, hi; \
	VMOVUPS     lo, (DX);        \
	VMOVUPS     hi, 32(DX);      \
	ADDQ        R8, DX

// SROW0 is SROW for beta = 0: C is not read.
#define SROW0(lo, hi) \
	VMULPS  Y14, lo, lo; \
	VMULPS  Y14, hi, hi; \
	VMOVUPS lo, (DX);    \
	VMOVUPS hi, 32(DX);  \
	ADDQ    R8, DX

// func sgemmKernel6x16AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel6x16AVX2(SB), NOSPLIT, $0-64
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

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ  CX, R9
	SHRQ  $2, R9
	ANDQ  $3, CX
	TESTQ R9, R9
	JZ    s_tail

s_loop4:
	SSTEP
	SSTEP
	SSTEP
	SSTEP
	DECQ R9
	JNZ  s_loop4

s_tail:
	TESTQ CX, CX
	JZ    s_store

s_loop1:
	SSTEP
	DECQ CX
	JNZ  s_loop1

s_store:
	VBROADCASTSS alpha+56(FP), Y14
	MOVL         beta+60(FP), AX
	SHLL         $1, AX // drop the sign: -0 is 0 too
	JNZ          s_beta // NaN is not zero either: C = NaN·C must read C

	SROW0(Y0, Y1)
	SROW0(Y2, Y3)
	SROW0(Y4, Y5)
	SROW0(Y6, Y7)
	SROW0(Y8, Y9)
	SROW0(Y10, Y11)
	VZEROUPPER
	RET

s_beta:
	VBROADCASTSS beta+60(FP), Y15
	SROW(Y0, Y1)
	SROW(Y2, Y3)
	SROW(Y4, Y5)
	SROW(Y6, Y7)
	SROW(Y8, Y9)
	SROW(Y10, Y11)
	VZEROUPPER
	RET

// DSTEP is one step of the 6×8 float64 kernel.
#define DSTEP \
	VMOVUPD      (DI), Y12;       \
	VMOVUPD      32(DI), Y13;     \
	VBROADCASTSD (SI), Y14;       \
	VFMADD231PD  Y12, Y14, Y0;    \
	VFMADD231PD  Y13, Y14, Y1;    \
	VBROADCASTSD 8(SI), Y15;      \
	VFMADD231PD  Y12, Y15, Y2;    \
	VFMADD231PD  Y13, Y15, Y3;    \
	VBROADCASTSD 16(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y4;    \
	VFMADD231PD  Y13, Y14, Y5;    \
	VBROADCASTSD 24(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y6;    \
	VFMADD231PD  Y13, Y15, Y7;    \
	VBROADCASTSD 32(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y8;    \
	VFMADD231PD  Y13, Y14, Y9;    \
	VBROADCASTSD 40(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y10;   \
	VFMADD231PD  Y13, Y15, Y11;   \
	ADDQ         R10, SI;         \
	ADDQ         R11, DI

// DROW and DROW0 are SROW and SROW0 for float64.
#define DROW(lo, hi) \
	VMULPD      Y14, lo, lo;     \
	VMULPD      Y14, hi, hi;     \
	VFMADD231PD (DX), Y15, lo;   \
	VFMADD231PD 32(DX), Y15, hi; \
	VMOVUPD     lo, (DX);        \
	VMOVUPD     hi, 32(DX);      \
	ADDQ        R8, DX

#define DROW0(lo, hi) \
	VMULPD  Y14, lo, lo; \
	VMULPD  Y14, hi, hi; \
	VMOVUPD lo, (DX);    \
	VMOVUPD hi, 32(DX);  \
	ADDQ    R8, DX

// func dgemmKernel6x8AVX2(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, alpha, beta float64)
TEXT ·dgemmKernel6x8AVX2(SB), NOSPLIT, $0-72
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

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	MOVQ  CX, R9
	SHRQ  $2, R9
	ANDQ  $3, CX
	TESTQ R9, R9
	JZ    d_tail

d_loop4:
	DSTEP
	DSTEP
	DSTEP
	DSTEP
	DECQ R9
	JNZ  d_loop4

d_tail:
	TESTQ CX, CX
	JZ    d_store

d_loop1:
	DSTEP
	DECQ CX
	JNZ  d_loop1

d_store:
	VBROADCASTSD alpha+56(FP), Y14
	MOVQ         beta+64(FP), AX
	SHLQ         $1, AX // drop the sign: -0 is 0 too
	JNZ          d_beta // NaN is not zero either: C = NaN·C must read C

	DROW0(Y0, Y1)
	DROW0(Y2, Y3)
	DROW0(Y4, Y5)
	DROW0(Y6, Y7)
	DROW0(Y8, Y9)
	DROW0(Y10, Y11)
	VZEROUPPER
	RET

d_beta:
	VBROADCASTSD beta+64(FP), Y15
	DROW(Y0, Y1)
	DROW(Y2, Y3)
	DROW(Y4, Y5)
	DROW(Y6, Y7)
	DROW(Y8, Y9)
	DROW(Y10, Y11)
	VZEROUPPER
	RET
