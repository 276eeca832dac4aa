package gemm

import (
	"sync"
	"unsafe"
)

// float is the element type of the blocked driver: the driver is written
// once and instantiated for float32 and float64, which get separate machine
// code since they have different GC shapes.
type float interface {
	~float32 | ~float64
}

// kernel describes a micro-kernel and the cache blocking that suits it.
//
// fn computes the mr×nr tile
//
//	C = alpha·A·B + beta·C
//
// where column p of A (mr elements) starts at a[p*lda] and row p of B (nr
// elements) at b[p*ldb], for p < k, and C is row-major with row stride ldc.
// The driver passes either packed micro-panels (lda = mr, ldb = nr) or, when
// the operand's layout already has contiguous columns of A or rows of B, the
// operand itself. When beta is zero C is only written, never read. fn is
// called with k ≥ 1 and alpha ≠ 0 only.
type kernel[T float] struct {
	name   string
	mr, nr int // micro-tile: mr rows of C by nr columns

	// kc, mc and nc are the cache blocks of the GotoBLAS/BLIS loop nest:
	// a kc×nr micro-panel of B stays in L1 while the micro-panels of an
	// mc×kc block of A stream from L2, and a kc×nc panel of B is packed
	// once for all of A's blocks. mc is a multiple of mr and nc of nr.
	kc, mc, nc int

	fn func(k int, a *T, lda int, b *T, ldb int, c *T, ldc int, alpha, beta T)

	// transpose, if not nil, speeds up the packing of the panels whose
	// lines are strided in the operand: for each block q < n it sets
	// dst[(q*tb+p)*ldd + r] = src[r*lds + q*tb + p] for p, r < tb.
	transpose func(src *T, lds int, dst *T, ldd int, n int)
	tb        int

	// edges, in increasing order of n, compute the partial tiles at the
	// right edge of C more cheaply than fn, which spends a whole tile's
	// work on them whatever their width: the edge of the 100 columns of
	// an LSTM's hidden state is 4 of 16 columns wide.
	edges []edgeKernel[T]
}

// edgeKernel computes the partial tiles of C that are at most n columns
// wide. fn sets t[j*mr + i] = Σ_p A[i, p]·B[p, j] for i < mr and j < n: the
// tile, unscaled and stored column by column. A is read as for kernel.fn;
// B is a packed micro-panel (ldb = nr, zero past the tile's width) or, when
// the tile is exactly n columns wide, B itself; fn reads the first n
// columns of its rows. fn is called with k ≥ 1 only.
type edgeKernel[T float] struct {
	n  int
	fn func(k int, a *T, lda int, b *T, ldb int, t *T)
}

// edgeFor returns the narrowest edge kernel for a partial tile of nrr
// columns, or nil if there is none.
func (kern *kernel[T]) edgeFor(nrr int) *edgeKernel[T] {
	for i := range kern.edges {
		if nrr <= kern.edges[i].n {
			return &kern.edges[i]
		}
	}
	return nil
}

// workspace holds the packing buffers of one call. They are reused across
// calls through a sync.Pool, so a steady stream of calls does not allocate.
type workspace[T float] struct {
	a, b, tile []T
}

// The pools of packing buffers, one per element type. They are the only
// package-level mutable state: a sync.Pool rather than a buffer in
// Implementation, because Implementation is a value that gorgonia copies and
// that several goroutines (data-parallel training) may use at once.
var (
	pool32 = sync.Pool{New: func() any { return new(workspace[float32]) }}
	pool64 = sync.Pool{New: func() any { return new(workspace[float64]) }}
)

func poolFor[T float]() *sync.Pool {
	var z T
	if _, ok := any(z).(float32); ok {
		return &pool32
	}
	return &pool64
}

// grow returns s with length n, reallocating only when its capacity is too
// small.
func grow[T float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func roundUp(n, q int) int { return (n + q - 1) / q * q }

// gemm computes C = alpha·op(A)·op(B) + beta·C for m, n > 0 with the given
// micro-kernel, by the blocked algorithm whatever the shape (the tests call
// it directly). The arguments have been checked by checkGemm.
func gemm[T float](kern *kernel[T], aTrans, bTrans bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if alpha == 0 || k == 0 {
		// BLAS does not read A and B then: C = beta·C.
		scale(m, n, beta, c, ldc)
		return
	}

	pool := poolFor[T]()
	ws := pool.Get().(*workspace[T])
	mr, nr := kern.mr, kern.nr
	kcMax := min(kern.kc, k)
	ws.a = grow(ws.a, min(kern.mc, roundUp(m, mr))*kcMax)
	ws.b = grow(ws.b, min(kern.nc, roundUp(n, nr))*kcMax)
	ws.tile = grow(ws.tile, mr*nr)
	packedA, packedB, scratch := ws.a, ws.b, ws.tile

	// The micro-kernel reads A by columns and B by rows, so a transposed
	// A and a B that is not are already laid out as it needs: their whole
	// micro-panels are read in place and only the partial ones at the
	// edges are packed, saving a copy of the operand.
	directA := aTrans && direct[T](lda)
	directB := !bTrans && direct[T](ldb)

	for jc := 0; jc < n; jc += kern.nc {
		nc := min(kern.nc, n-jc)
		for pc := 0; pc < k; pc += kern.kc {
			kc := min(kern.kc, k-pc)
			// Pack B, all of it or only the partial micro-panel at
			// its right edge.
			jPacked := 0
			if directB {
				jPacked = nc / nr * nr
			}
			// An edge kernel reads only the first e.n columns of
			// its panel of B: when the partial panel is that wide,
			// it is read in place too. Packing the 400 rows of 4
			// columns of an LSTM step's dz·R took 3–3.6 µs of its
			// 28 µs, three times the edge kernel's own work.
			edgeDirect := false
			if e := kern.edgeFor(nc - jPacked); directB && e != nil && e.n == nc-jPacked {
				edgeDirect = true
			} else if jPacked < nc {
				packB(kern, packedB[jPacked*kc:], b, ldb, bTrans, pc, jc+jPacked, kc, nc-jPacked)
			}
			// beta applies once, with the first block of k; the
			// later blocks accumulate onto it.
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := 0; ic < m; ic += kern.mc {
				mc := min(kern.mc, m-ic)
				iPacked := 0
				if directA {
					iPacked = mc / mr * mr
				}
				if iPacked < mc {
					packA(kern, packedA[iPacked*kc:], a, lda, aTrans, ic+iPacked, pc, mc-iPacked, kc)
				}
				// tile computes the tile of C at (ic+ir, jc+jr).
				// The assembly kernels do not check bounds: the
				// blank slice indexes check, once per call, the
				// last element each call reads or writes.
				tile := func(ir, jr int) {
					nrr := min(nr, nc-jr)
					bp, bs := &packedB[jr*kc], nr
					_ = packedB[jr*kc+kc*nr-1]
					if jr < jPacked || edgeDirect {
						bp, bs = &b[pc*ldb+jc+jr], ldb
						_ = b[(pc+kc-1)*ldb+jc+jr+nrr-1]
					}
					mrr := min(mr, mc-ir)
					ap, as := &packedA[ir*kc], mr
					_ = packedA[ir*kc+kc*mr-1]
					if ir < iPacked {
						ap, as = &a[pc*lda+ic+ir], lda
						_ = a[(pc+kc-1)*lda+ic+ir+mr-1]
					}
					ci := (ic+ir)*ldc + jc + jr
					if mrr == mr && nrr == nr {
						_ = c[ci+(mr-1)*ldc+nr-1]
						kern.fn(kc, ap, as, bp, bs, &c[ci], ldc, alpha, bet)
						return
					}
					// A partial tile goes through a scratch
					// tile: an edge kernel computes the columns
					// it needs, or the kernel a whole tile (the
					// packed panels are padded with zeros).
					if e := kern.edgeFor(nrr); e != nil {
						_ = scratch[mr*e.n-1]
						e.fn(kc, ap, as, bp, bs, &scratch[0])
						mergeTransposed(mrr, nrr, scratch, mr, alpha, bet, c[ci:], ldc)
						return
					}
					kern.fn(kc, ap, as, bp, bs, &scratch[0], nr, alpha, 0)
					merge(mrr, nrr, scratch, nr, bet, c[ci:], ldc)
				}
				// BLIS's order, a column of tiles after another,
				// keeps a micro-panel of B in L1 for a whole
				// column. With a short k, though, storing C
				// costs as much as computing it, and the
				// stores are faster a row of tiles after
				// another, as consecutive tiles write the
				// next bytes of the same rows of C; the packed
				// kc×nc panel of B is then small.
				if kc <= 64 {
					for ir := 0; ir < mc; ir += mr {
						for jr := 0; jr < nc; jr += nr {
							tile(ir, jr)
						}
					}
				} else {
					for jr := 0; jr < nc; jr += nr {
						for ir := 0; ir < mc; ir += mr {
							tile(ir, jr)
						}
					}
				}
			}
		}
	}
	pool.Put(ws)
}

// direct reports whether the micro-kernel may read an operand in place, with
// its rows ld elements apart, rather than from a packed copy. It is not when
// the rows are a multiple of 256 bytes apart: then the kc rows of a
// micro-panel fall into few sets of the 8-way L1 cache (4 KiB apart, all
// into one) and evict each other, which a packed copy avoids.
func direct[T float](ld int) bool {
	var z T
	return ld*int(unsafe.Sizeof(z))%256 != 0
}

// scale computes C = beta·C for an m×n C, without reading C when beta is
// zero.
func scale[T float](m, n int, beta T, c []T, ldc int) {
	switch beta {
	case 1:
	case 0:
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
	default:
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// merge computes C = t + beta·C for the mrr×nrr top left corner of the tile t
// of row stride nr, without reading C when beta is zero.
func merge[T float](mrr, nrr int, t []T, nr int, beta T, c []T, ldc int) {
	for r := range mrr {
		cr := c[r*ldc : r*ldc+nrr]
		tr := t[r*nr : r*nr+nrr]
		if beta == 0 {
			copy(cr, tr)
			continue
		}
		for j, v := range tr {
			cr[j] = beta*cr[j] + v
		}
	}
}

// mergeTransposed computes C = alpha·t + beta·C for the mrr×nrr top left
// corner of the tile t stored column by column, mr elements per column,
// without reading C when beta is zero.
func mergeTransposed[T float](mrr, nrr int, t []T, mr int, alpha, beta T, c []T, ldc int) {
	for r := range mrr {
		cr := c[r*ldc : r*ldc+nrr]
		for j := range cr {
			v := alpha * t[j*mr+r]
			if beta != 0 {
				v += beta * cr[j]
			}
			cr[j] = v
		}
	}
}

// packA packs the mc×kc block of op(A) at (i0, p0) into dst as consecutive
// mr×kc micro-panels, each stored column by column, the last one padded with
// zero rows.
func packA[T float](kern *kernel[T], dst, a []T, lda int, aTrans bool, i0, p0, mc, kc int) {
	if aTrans {
		// op(A)[i, p] = a[p*lda + i]: the columns of the micro-panels
		// are contiguous in a.
		packCopy(dst, a[p0*lda+i0:], lda, kc, mc, kern.mr)
		return
	}
	// op(A)[i, p] = a[i*lda + p]: the rows of the micro-panels are.
	packTranspose(kern, dst, a[i0*lda+p0:], lda, kc, mc, kern.mr)
}

// packB packs the kc×nc block of op(B) at (p0, j0) into dst as consecutive
// kc×nr micro-panels, each stored row by row, the last one padded with zero
// columns.
func packB[T float](kern *kernel[T], dst, b []T, ldb int, bTrans bool, p0, j0, kc, nc int) {
	if bTrans {
		// op(B)[p, j] = b[j*ldb + p]: the columns of the micro-panels
		// are contiguous in b.
		packTranspose(kern, dst, b[j0*ldb+p0:], ldb, kc, nc, kern.nr)
		return
	}
	// op(B)[p, j] = b[p*ldb + j]: the rows of the micro-panels are.
	packCopy(dst, b[p0*ldb+j0:], ldb, kc, nc, kern.nr)
}

// packCopy packs panels whose lines are contiguous in src: for each of the
// ⌈width/w⌉ panels s, dst[s*w*kc + p*w + r] = src[p*ld + s*w + r] for p < kc
// and r < w, with zeros past width.
func packCopy[T float](dst, src []T, ld, kc, width, w int) {
	for s := 0; s < width; s += w {
		cols := min(w, width-s)
		d := dst[s*kc : s*kc+w*kc]
		switch {
		case cols == 16 && w == 16:
			for p := range kc {
				// The temporary keeps the compiler from calling
				// memmove, as it would for a direct array copy.
				t := *(*[16]T)(src[p*ld+s:])
				*(*[16]T)(d[p*16:]) = t
			}
		case cols == 8 && w == 8:
			for p := range kc {
				t := *(*[8]T)(src[p*ld+s:])
				*(*[8]T)(d[p*8:]) = t
			}
		case cols == 6 && w == 6:
			for p := range kc {
				v := src[p*ld+s : p*ld+s+6]
				dd := d[p*6 : p*6+6]
				dd[0], dd[1], dd[2], dd[3], dd[4], dd[5] = v[0], v[1], v[2], v[3], v[4], v[5]
			}
		case w == 16:
			// The partial panel at the right edge of B, packed at
			// every call where no edge kernel reads it in place: a
			// whole-line store and an element loop per row, where
			// copy and clear called memmove and memclr for a few
			// elements (400 rows of 4 columns: 5.0 → 3.0 µs).
			for p := range kc {
				dd := (*[16]T)(d[p*16:])
				*dd = [16]T{}
				//lint:ignore S1001 the element loop is measured faster than copy here (above)
				for r, v := range src[p*ld+s : p*ld+s+cols] {
					dd[r] = v
				}
			}
		default:
			for p := range kc {
				dd := d[p*w : p*w+w]
				copy(dd, src[p*ld+s:p*ld+s+cols])
				clear(dd[cols:])
			}
		}
	}
}

// packTranspose packs panels whose lines are strided in src: for each of the
// ⌈width/w⌉ panels s, dst[s*w*kc + p*w + r] = src[(s*w+r)*ld + p] for p < kc
// and r < w, with zeros past width.
func packTranspose[T float](kern *kernel[T], dst, src []T, ld, kc, width, w int) {
	for s := 0; s < width; s += w {
		rows := min(w, width-s)
		d := dst[s*kc : s*kc+w*kc]
		src := src[s*ld:]
		r := 0
		// Whole tb×tb blocks with the assembly transpose.
		if tb := kern.tb; kern.transpose != nil && kc >= tb {
			pEnd := kc / tb * tb
			for ; r+tb <= rows; r += tb {
				// The slicing checks the bounds the assembly
				// relies on.
				_ = src[(r+tb-1)*ld+pEnd-1]
				_ = d[(pEnd-1)*w+r+tb-1]
				kern.transpose(&src[r*ld], ld, &d[r], w, pEnd/tb)
				for i := r; i < r+tb; i++ {
					for p, v := range src[i*ld+pEnd : i*ld+kc] {
						d[(pEnd+p)*w+i] = v
					}
				}
			}
		}
		// The rest four lines at a time, then one at a time.
		for ; r+4 <= rows; r += 4 {
			s0 := src[r*ld : r*ld+kc]
			s1 := src[(r+1)*ld : (r+1)*ld+kc]
			s2 := src[(r+2)*ld : (r+2)*ld+kc]
			s3 := src[(r+3)*ld : (r+3)*ld+kc]
			for p := range kc {
				dd := d[p*w+r : p*w+r+4]
				dd[0], dd[1], dd[2], dd[3] = s0[p], s1[p], s2[p], s3[p]
			}
		}
		for ; r < rows; r++ {
			for p, v := range src[r*ld : r*ld+kc] {
				d[p*w+r] = v
			}
		}
		for ; r < w; r++ {
			for p := range kc {
				d[p*w+r] = 0
			}
		}
	}
}
