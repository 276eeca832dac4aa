// TAILMASK sets the YMM register y to the VMASKMOVPS mask of the first r
// elements, 0 < r < 8 (the 8 lanes of tailMask, in vecmath_amd64.s, from
// its element 8-r), using the general register tmp; it clobbers r.
#define TAILMASK(r, tmp, y) \
	LEAQ    ·tailMask+32(SB), tmp; \
	SHLQ    $2, r;                 \
	SUBQ    r, tmp;                \
	VMOVUPS (tmp), y
