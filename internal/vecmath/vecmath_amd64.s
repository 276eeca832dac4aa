//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"
#include "tail_amd64.h"

// Vector forms of vecmath's scalar tanh32 (see tanh.go): clamp x to
// [-9, 9], p = x·P(x²), q = Q(x²), p/q, and x itself where |x| < 4e-4.
// The polynomials are evaluated by Horner's rule with FMAs, so results may
// differ from the scalar code (two roundings per step) in the last bit or
// two; the quotient is therefore clamped to [-1, 1], lest tanh near ±9
// come out as ±(1+ulp) and sigmoid of large negative x as a tiny negative
// number. Operands keep x as the second Intel source of VMINPS/VMAXPS so that
// a NaN x passes through the clamp (those instructions return the second
// source when either is NaN) and on to the result; the |x| < 4e-4 compare
// is false for NaN.
//
// Each function processes n > 0 elements, two vectors per iteration while
// it can, then one, then the last partial vector with masked loads and
// stores (VMASKMOVPS for AVX2, an opmask for AVX-512), so that every
// element goes through the same vector arithmetic.

// consts holds each constant in 8 copies (32 bytes), for AVX2 memory
// operands; the AVX-512 kernels broadcast the first copy.
#define C_NINE consts<>+0(SB)
#define C_MNINE consts<>+32(SB)
#define C_ABS consts<>+64(SB)
#define C_SMALL consts<>+96(SB)
#define C_HALF consts<>+128(SB)
#define C_A13 consts<>+160(SB)
#define C_A11 consts<>+192(SB)
#define C_A9 consts<>+224(SB)
#define C_A7 consts<>+256(SB)
#define C_A5 consts<>+288(SB)
#define C_A3 consts<>+320(SB)
#define C_A1 consts<>+352(SB)
#define C_B6 consts<>+384(SB)
#define C_B4 consts<>+416(SB)
#define C_B2 consts<>+448(SB)
#define C_B0 consts<>+480(SB)
#define C_ONE consts<>+512(SB)
#define C_MONE consts<>+544(SB)

// nine
DATA consts<>+0(SB)/8, $0x4110000041100000
DATA consts<>+8(SB)/8, $0x4110000041100000
DATA consts<>+16(SB)/8, $0x4110000041100000
DATA consts<>+24(SB)/8, $0x4110000041100000
// mnine
DATA consts<>+32(SB)/8, $0xc1100000c1100000
DATA consts<>+40(SB)/8, $0xc1100000c1100000
DATA consts<>+48(SB)/8, $0xc1100000c1100000
DATA consts<>+56(SB)/8, $0xc1100000c1100000
// abs
DATA consts<>+64(SB)/8, $0x7fffffff7fffffff
DATA consts<>+72(SB)/8, $0x7fffffff7fffffff
DATA consts<>+80(SB)/8, $0x7fffffff7fffffff
DATA consts<>+88(SB)/8, $0x7fffffff7fffffff
// small
DATA consts<>+96(SB)/8, $0x39d1b71739d1b717
DATA consts<>+104(SB)/8, $0x39d1b71739d1b717
DATA consts<>+112(SB)/8, $0x39d1b71739d1b717
DATA consts<>+120(SB)/8, $0x39d1b71739d1b717
// half
DATA consts<>+128(SB)/8, $0x3f0000003f000000
DATA consts<>+136(SB)/8, $0x3f0000003f000000
DATA consts<>+144(SB)/8, $0x3f0000003f000000
DATA consts<>+152(SB)/8, $0x3f0000003f000000
// a13
DATA consts<>+160(SB)/8, $0xa59f25c0a59f25c0
DATA consts<>+168(SB)/8, $0xa59f25c0a59f25c0
DATA consts<>+176(SB)/8, $0xa59f25c0a59f25c0
DATA consts<>+184(SB)/8, $0xa59f25c0a59f25c0
// a11
DATA consts<>+192(SB)/8, $0x2a61337e2a61337e
DATA consts<>+200(SB)/8, $0x2a61337e2a61337e
DATA consts<>+208(SB)/8, $0x2a61337e2a61337e
DATA consts<>+216(SB)/8, $0x2a61337e2a61337e
// a9
DATA consts<>+224(SB)/8, $0xaebd37ffaebd37ff
DATA consts<>+232(SB)/8, $0xaebd37ffaebd37ff
DATA consts<>+240(SB)/8, $0xaebd37ffaebd37ff
DATA consts<>+248(SB)/8, $0xaebd37ffaebd37ff
// a7
DATA consts<>+256(SB)/8, $0x335c0041335c0041
DATA consts<>+264(SB)/8, $0x335c0041335c0041
DATA consts<>+272(SB)/8, $0x335c0041335c0041
DATA consts<>+280(SB)/8, $0x335c0041335c0041
// a5
DATA consts<>+288(SB)/8, $0x3779434a3779434a
DATA consts<>+296(SB)/8, $0x3779434a3779434a
DATA consts<>+304(SB)/8, $0x3779434a3779434a
DATA consts<>+312(SB)/8, $0x3779434a3779434a
// a3
DATA consts<>+320(SB)/8, $0x3a270ded3a270ded
DATA consts<>+328(SB)/8, $0x3a270ded3a270ded
DATA consts<>+336(SB)/8, $0x3a270ded3a270ded
DATA consts<>+344(SB)/8, $0x3a270ded3a270ded
// a1
DATA consts<>+352(SB)/8, $0x3ba059dc3ba059dc
DATA consts<>+360(SB)/8, $0x3ba059dc3ba059dc
DATA consts<>+368(SB)/8, $0x3ba059dc3ba059dc
DATA consts<>+376(SB)/8, $0x3ba059dc3ba059dc
// b6
DATA consts<>+384(SB)/8, $0x35a0d3d835a0d3d8
DATA consts<>+392(SB)/8, $0x35a0d3d835a0d3d8
DATA consts<>+400(SB)/8, $0x35a0d3d835a0d3d8
DATA consts<>+408(SB)/8, $0x35a0d3d835a0d3d8
// b4
DATA consts<>+416(SB)/8, $0x38f895d638f895d6
DATA consts<>+424(SB)/8, $0x38f895d638f895d6
DATA consts<>+432(SB)/8, $0x38f895d638f895d6
DATA consts<>+440(SB)/8, $0x38f895d638f895d6
// b2
DATA consts<>+448(SB)/8, $0x3b14aa053b14aa05
DATA consts<>+456(SB)/8, $0x3b14aa053b14aa05
DATA consts<>+464(SB)/8, $0x3b14aa053b14aa05
DATA consts<>+472(SB)/8, $0x3b14aa053b14aa05
// b0
DATA consts<>+480(SB)/8, $0x3ba059dd3ba059dd
DATA consts<>+488(SB)/8, $0x3ba059dd3ba059dd
DATA consts<>+496(SB)/8, $0x3ba059dd3ba059dd
DATA consts<>+504(SB)/8, $0x3ba059dd3ba059dd
// one
DATA consts<>+512(SB)/8, $0x3f8000003f800000
DATA consts<>+520(SB)/8, $0x3f8000003f800000
DATA consts<>+528(SB)/8, $0x3f8000003f800000
DATA consts<>+536(SB)/8, $0x3f8000003f800000
// mone
DATA consts<>+544(SB)/8, $0xbf800000bf800000
DATA consts<>+552(SB)/8, $0xbf800000bf800000
DATA consts<>+560(SB)/8, $0xbf800000bf800000
DATA consts<>+568(SB)/8, $0xbf800000bf800000
GLOBL consts<>(SB), RODATA|NOPTR, $576

// tailMask is 8 lanes of all ones and then 8 of zeros: the 8 lanes from
// its element 8-r are the mask with which the AVX2 kernels of this package
// load and store the last r elements (TAILMASK in tail_amd64.h).
DATA ·tailMask+0(SB)/8, $0xffffffffffffffff
DATA ·tailMask+8(SB)/8, $0xffffffffffffffff
DATA ·tailMask+16(SB)/8, $0xffffffffffffffff
DATA ·tailMask+24(SB)/8, $0xffffffffffffffff
DATA ·tailMask+32(SB)/8, $0
DATA ·tailMask+40(SB)/8, $0
DATA ·tailMask+48(SB)/8, $0
DATA ·tailMask+56(SB)/8, $0
GLOBL ·tailMask(SB), RODATA|NOPTR, $64


// AVX2 + FMA. Registers: Y15 = 9, Y14 = -9, Y13 = abs mask, Y12 = 4e-4,
// Y11 = 1, Y10 = -1; the coefficients and 0.5 come from memory.
#define LOADC8 \
	VMOVUPS C_NINE, Y15;  \
	VMOVUPS C_MNINE, Y14; \
	VMOVUPS C_ABS, Y13;   \
	VMOVUPS C_SMALL, Y12; \
	VMOVUPS C_ONE, Y11;   \
	VMOVUPS C_MONE, Y10

// TANH8 replaces x by tanh(x), using m, x2, p and q as scratch.
#define TANH8(x, m, x2, p, q) \
	VMINPS      x, Y15, x;       \
	VMAXPS      x, Y14, x;       \
	VANDPS      Y13, x, m;       \
	VCMPPS      $1, Y12, m, m;   \
	VMULPS      x, x, x2;        \
	VMOVUPS     C_A11, p;        \
	VFMADD231PS C_A13, x2, p;    \
	VMOVUPS     C_B4, q;         \
	VFMADD231PS C_B6, x2, q;     \
	VFMADD213PS C_A9, x2, p;     \
	VFMADD213PS C_B2, x2, q;     \
	VFMADD213PS C_A7, x2, p;     \
	VFMADD213PS C_B0, x2, q;     \
	VFMADD213PS C_A5, x2, p;     \
	VFMADD213PS C_A3, x2, p;     \
	VFMADD213PS C_A1, x2, p;     \
	VMULPS      x, p, p;         \
	VDIVPS      q, p, p;         \
	VMINPS      p, Y11, p;       \
	VMAXPS      p, Y10, p;       \
	VBLENDVPS   m, x, p, x

#define SIGIN8(x) VMULPS C_HALF, x, x
#define SIGOUT8(x) VMULPS C_HALF, x, x; VADDPS C_HALF, x, x

#define NOP8(x)

#define BODY8(pre, post) \
	MOVQ dst+0(FP), DI;  \
	MOVQ src+8(FP), SI;  \
	MOVQ n+16(FP), CX;   \
	LOADC8;              \
loop2:                       \
	CMPQ    CX, $16;     \
	JLT     one;         \
	VMOVUPS (SI), Y0;    \
	VMOVUPS 32(SI), Y5;  \
	pre(Y0);             \
	pre(Y5);             \
	TANH8(Y0, Y1, Y2, Y3, Y4); \
	TANH8(Y5, Y6, Y7, Y8, Y9); \
	post(Y0);            \
	post(Y5);            \
	VMOVUPS Y0, (DI);    \
	VMOVUPS Y5, 32(DI);  \
	ADDQ    $64, SI;     \
	ADDQ    $64, DI;     \
	SUBQ    $16, CX;     \
	JMP     loop2;       \
one:                         \
	CMPQ    CX, $8;      \
	JLT     tail;        \
	VMOVUPS (SI), Y0;    \
	pre(Y0);             \
	TANH8(Y0, Y1, Y2, Y3, Y4); \
	post(Y0);            \
	VMOVUPS Y0, (DI);    \
	ADDQ    $32, SI;     \
	ADDQ    $32, DI;     \
	SUBQ    $8, CX;      \
tail:                        \
	TESTQ   CX, CX;      \
	JZ      done;        \
	TAILMASK(CX, AX, Y5); \
	VMASKMOVPS (SI), Y5, Y0; \
	pre(Y0);             \
	TANH8(Y0, Y1, Y2, Y3, Y4); \
	post(Y0);            \
	VMASKMOVPS Y0, Y5, (DI); \
done:                        \
	VZEROUPPER;          \
	RET

// func tanhAVX2(dst, src *float32, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	BODY8(NOP8, NOP8)

// func sigmoidAVX2(dst, src *float32, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	BODY8(SIGIN8, SIGOUT8)

// AVX-512F. All constants live in registers: Z31 = 9, Z30 = -9, Z29 = abs
// mask, Z28 = 4e-4, Z27 = 0.5, Z20-Z26 = α13…α1, Z16-Z19 = β6…β0,
// Z15 = 1, Z14 = -1.
#define LOADC16 \
	VBROADCASTSS C_NINE, Z31;  \
	VBROADCASTSS C_MNINE, Z30; \
	VBROADCASTSS C_ABS, Z29;   \
	VBROADCASTSS C_SMALL, Z28; \
	VBROADCASTSS C_HALF, Z27;  \
	VBROADCASTSS C_A13, Z20;   \
	VBROADCASTSS C_A11, Z21;   \
	VBROADCASTSS C_A9, Z22;    \
	VBROADCASTSS C_A7, Z23;    \
	VBROADCASTSS C_A5, Z24;    \
	VBROADCASTSS C_A3, Z25;    \
	VBROADCASTSS C_A1, Z26;    \
	VBROADCASTSS C_B6, Z16;    \
	VBROADCASTSS C_B4, Z17;    \
	VBROADCASTSS C_B2, Z18;    \
	VBROADCASTSS C_B0, Z19;    \
	VBROADCASTSS C_ONE, Z15;   \
	VBROADCASTSS C_MONE, Z14

// TANH16 replaces x by tanh(x), using k as the small-|x| mask and m, x2, p
// and q as scratch. VPANDD (not VANDPS, which is AVX512DQ) takes |x|.
#define TANH16(x, k, m, x2, p, q) \
	VMINPS      x, Z31, x;     \
	VMAXPS      x, Z30, x;     \
	VPANDD      Z29, x, m;     \
	VCMPPS      $1, Z28, m, k; \
	VMULPS      x, x, x2;      \
	VMOVAPS     Z21, p;        \
	VFMADD231PS Z20, x2, p;    \
	VMOVAPS     Z17, q;        \
	VFMADD231PS Z16, x2, q;    \
	VFMADD213PS Z22, x2, p;    \
	VFMADD213PS Z18, x2, q;    \
	VFMADD213PS Z23, x2, p;    \
	VFMADD213PS Z19, x2, q;    \
	VFMADD213PS Z24, x2, p;    \
	VFMADD213PS Z25, x2, p;    \
	VFMADD213PS Z26, x2, p;    \
	VMULPS      x, p, p;       \
	VDIVPS      q, p, p;       \
	VMINPS      p, Z15, p;     \
	VMAXPS      p, Z14, p;     \
	VMOVAPS     x, k, p;       \
	VMOVAPS     p, x

#define SIGIN16(x) VMULPS Z27, x, x
#define SIGOUT16(x) VFMADD213PS Z27, Z27, x

#define NOP16(x)

#define BODY16(pre, post) \
	MOVQ dst+0(FP), DI;  \
	MOVQ src+8(FP), SI;  \
	MOVQ n+16(FP), CX;   \
	LOADC16;             \
loop2:                       \
	CMPQ    CX, $32;     \
	JLT     one;         \
	VMOVUPS (SI), Z0;    \
	VMOVUPS 64(SI), Z5;  \
	pre(Z0);             \
	pre(Z5);             \
	TANH16(Z0, K1, Z1, Z2, Z3, Z4); \
	TANH16(Z5, K2, Z6, Z7, Z8, Z9); \
	post(Z0);            \
	post(Z5);            \
	VMOVUPS Z0, (DI);    \
	VMOVUPS Z5, 64(DI);  \
	ADDQ    $128, SI;    \
	ADDQ    $128, DI;    \
	SUBQ    $32, CX;     \
	JMP     loop2;       \
one:                         \
	CMPQ    CX, $16;     \
	JLT     tail;        \
	VMOVUPS (SI), Z0;    \
	pre(Z0);             \
	TANH16(Z0, K1, Z1, Z2, Z3, Z4); \
	post(Z0);            \
	VMOVUPS Z0, (DI);    \
	ADDQ    $64, SI;     \
	ADDQ    $64, DI;     \
	SUBQ    $16, CX;     \
tail:                        \
	TESTQ   CX, CX;      \
	JZ      done;        \
	MOVL    $1, AX;      \
	SHLL    CX, AX;      \
	DECL    AX;          \
	KMOVW   AX, K3;      \
	VMOVUPS.Z (SI), K3, Z0; \
	pre(Z0);             \
	TANH16(Z0, K1, Z1, Z2, Z3, Z4); \
	post(Z0);            \
	VMOVUPS Z0, K3, (DI); \
done:                        \
	VZEROUPPER;          \
	RET

// func tanhAVX512(dst, src *float32, n int)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	BODY16(NOP16, NOP16)

// func sigmoidAVX512(dst, src *float32, n int)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	BODY16(SIGIN16, SIGOUT16)
