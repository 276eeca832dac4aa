package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The tests compare Implementation's Sgemm and Dgemm, and the blocked driver
// with each kernel explicitly (the portable Go one and every assembly one
// this CPU runs), against gonum's Sgemm and Dgemm. Each kernel is also run
// with tiny cache blocks so that small matrices cross every block boundary
// of the loop nest (several blocks of k, so that beta is applied only once;
// several blocks of m and n; partial micro-tiles everywhere).

// kernelsUnderTest returns the kernels to check: the portable one, the
// assembly ones this CPU runs, and a copy of each with tiny cache blocks.
func kernelsUnderTest[T float](goKern *kernel[T], asm []*kernel[T]) []*kernel[T] {
	base := append([]*kernel[T]{goKern}, asm...)
	var ks []*kernel[T]
	for _, k := range base {
		small := *k
		small.name += "/tinyblocks"
		small.kc = 5
		small.mc = 2 * k.mr
		small.nc = 3 * k.nr
		ks = append(ks, k, &small)
		if len(k.edges) > 0 {
			// The partial tiles that the edge kernels take
			// otherwise go through the kernel itself.
			noEdges := *k
			noEdges.name += "/noedges"
			noEdges.edges = nil
			ks = append(ks, &noEdges)
		}
	}
	return ks
}

// gemmFunc is the signature of both gonum's ?gemm and the driver.
type gemmFunc[T float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// withKernel returns ?gemm with the given kernel in place of the default.
func withKernel[T float](kern *kernel[T]) gemmFunc[T] {
	return func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
		aTrans, bTrans := checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
		if m == 0 || n == 0 {
			return
		}
		gemm(kern, aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// sentinel fills the elements outside a matrix, which must be neither read
// nor written: reading one turns a result into NaN, writing one shows.
var sentinel = math.NaN()

// matrix returns an r×c matrix with row stride ld = c + pad, values in
// [-1, 1) and NaN in the padding.
func matrix[T float](rng *rand.Rand, r, c, pad int) ([]T, int) {
	ld := max(1, c+pad)
	s := make([]T, max(0, (r-1)*ld+c)+pad) // a slice may end right after the last row, or not
	for i := range s {
		if i%ld < c {
			s[i] = T(2*rng.Float64() - 1)
		} else {
			s[i] = T(sentinel)
		}
	}
	return s, ld
}

type gemmCase struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta float64
	padA, padB  int
	padC        int
	nanC        bool // C holds NaN before the call (with beta = 0)
}

func (c gemmCase) String() string {
	return fmt.Sprintf("%c%c/m=%d,n=%d,k=%d/alpha=%g,beta=%g/pad=%d,%d,%d/nanC=%t",
		c.tA, c.tB, c.m, c.n, c.k, c.alpha, c.beta, c.padA, c.padB, c.padC, c.nanC)
}

// check runs one case with got and with gonum's want, and reports whether
// they agree within tol relative to alpha·Σ|a||b| + |beta·c| per element,
// and whether got left the padding of C alone.
func check[T float](t *testing.T, rng *rand.Rand, name string, got, want gemmFunc[T], tc gemmCase, tol float64) bool {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.tA != blas.NoTrans {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.tB != blas.NoTrans {
		br, bc = bc, br
	}
	a, lda := matrix[T](rng, ar, ac, tc.padA)
	b, ldb := matrix[T](rng, br, bc, tc.padB)
	c, ldc := matrix[T](rng, tc.m, tc.n, tc.padC)
	if tc.nanC {
		for i := range tc.m {
			for j := range tc.n {
				c[i*ldc+j] = T(math.NaN())
			}
		}
	}
	c0 := append([]T(nil), c...)
	cWant := append([]T(nil), c...)
	if tc.nanC {
		// gonum does not read C when beta is 0 either, but keep the
		// reference independent of that.
		for i := range cWant {
			if i%ldc < tc.n {
				cWant[i] = 0
			}
		}
	}
	alpha, beta := T(tc.alpha), T(tc.beta)
	got(tc.tA, tc.tB, tc.m, tc.n, tc.k, alpha, a, lda, b, ldb, beta, c, ldc)
	want(tc.tA, tc.tB, tc.m, tc.n, tc.k, alpha, a, lda, b, ldb, beta, cWant, ldc)

	// s[i*n+j] = Σ_p |op(A)[i,p]|·|op(B)[p,j]|, the scale of the
	// rounding errors of C[i,j].
	s := make([]float64, tc.m*tc.n)
	if tc.alpha != 0 {
		for i := range tc.m {
			si := s[i*tc.n : (i+1)*tc.n]
			for p := range tc.k {
				var av T
				if tc.tA != blas.NoTrans {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				aa := math.Abs(float64(av))
				for j := range si {
					var bv T
					if tc.tB != blas.NoTrans {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					si[j] += aa * math.Abs(float64(bv))
				}
			}
		}
	}
	for i := range c {
		if i%ldc >= tc.n || i/ldc >= tc.m {
			if math.Float64bits(float64(c[i])) != math.Float64bits(float64(c0[i])) {
				t.Errorf("%s %v: padding element %d of C changed from %v to %v", name, tc, i, c0[i], c[i])
				return false
			}
			continue
		}
		row, col := i/ldc, i%ldc
		bound := math.Abs(tc.alpha) * s[row*tc.n+col]
		if !tc.nanC {
			bound += math.Abs(tc.beta * float64(c0[i]))
		}
		g, w := float64(c[i]), float64(cWant[i])
		if math.IsNaN(g) || math.IsInf(g, 0) || math.Abs(g-w) > tol*bound {
			t.Errorf("%s %v: C[%d,%d] = %v, want %v (tolerance %g)", name, tc, row, col, g, w, tol*bound)
			return false
		}
	}
	return true
}

// cases returns the test cases: every transpose combination over odd and
// even small sizes, the shapes of seqgraph's LSTM layers, sizes that cross
// the default cache blocks, all with the alpha and beta of the BLAS special
// cases, padded strides and NaN in C under beta = 0.
func cases(rng *rand.Rand, short bool) []gemmCase {
	trans := []blas.Transpose{blas.NoTrans, blas.Trans}
	alphas := []float64{1, -0.5, 0}
	betas := []float64{0, 1, 0.3}
	var cs []gemmCase
	add := func(m, n, k int, i int) {
		for _, tA := range trans {
			for _, tB := range trans {
				tc := gemmCase{tA: tA, tB: tB, m: m, n: n, k: k,
					alpha: alphas[i%3], beta: betas[(i/3)%3],
					padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3)}
				tc.nanC = tc.beta == 0 && i%2 == 0
				cs = append(cs, tc)
				i++
			}
		}
	}
	small := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33}
	i := 0
	for _, m := range small {
		for _, n := range small {
			for _, k := range small {
				add(m, n, k, i)
				i += 5
			}
		}
	}
	odd := []int{1, 3, 7, 17, 33, 65, 129}
	for _, m := range odd {
		for _, n := range odd {
			k := odd[rng.IntN(len(odd))]
			add(m, n, k, i)
			i += 7
		}
	}
	// Every alpha and beta on one shape that has whole and partial tiles.
	for j := range 9 {
		add(13, 37, 19, j)
	}
	// Partial panels of B as wide as an edge kernel (4 and 8 columns of
	// 16, as in an LSTM of 100 units), which B's whole panels around
	// them are read in place with.
	for j, s := range [][3]int{{32, 100, 40}, {19, 24, 37}, {21, 8, 300}} {
		add(s[0], s[1], s[2], i+j)
		i += 4
	}
	// Leading dimensions of 256 bytes and multiples, which the driver
	// packs rather than reading in place (see direct).
	for _, s := range [][3]int{{64, 64, 64}, {64, 128, 40}, {128, 64, 20}} {
		for _, tA := range trans {
			for _, tB := range trans {
				cs = append(cs, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0.3})
			}
		}
	}
	if short {
		return cs
	}
	for _, s := range [][3]int{
		{32, 400, 112}, {32, 400, 100}, {400, 112, 32}, {32, 112, 400},
		{145, 70, 257}, {300, 33, 513}, {7, 2100, 5}, {1, 1, 1000},
	} {
		add(s[0], s[1], s[2], i)
		i += 4
	}
	return cs
}

func TestSgemm(t *testing.T) {
	testGemm(t, gonum.Implementation{}.Sgemm, Implementation{}.Sgemm, &goKernel32, asmKernels32, 1e-5)
}

func TestDgemm(t *testing.T) {
	testGemm(t, gonum.Implementation{}.Dgemm, Implementation{}.Dgemm, &goKernel64, asmKernels64, 1e-12)
}

func testGemm[T float](t *testing.T, want, impl gemmFunc[T], goKern *kernel[T], asm []*kernel[T], tol float64) {
	if len(asm) == 0 {
		t.Log("no assembly kernel in this build or on this CPU: testing the portable kernel only")
	}
	funcs := []struct {
		name string
		f    gemmFunc[T]
	}{{"Implementation", impl}}
	for _, k := range kernelsUnderTest(goKern, asm) {
		funcs = append(funcs, struct {
			name string
			f    gemmFunc[T]
		}{k.name, withKernel(k)})
	}
	for _, f := range funcs {
		t.Run(f.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			fails := 0
			for _, tc := range cases(rng, testing.Short()) {
				if !check(t, rng, f.name, f.f, want, tc, tol) {
					fails++
					if fails > 10 {
						t.Fatal("too many failures")
					}
				}
			}
		})
	}
}

// TestLargeShapes checks the shapes of a whole-sequence layer, which cross
// the default blocks of m and k, with the kernel Sgemm and Dgemm use.
func TestLargeShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large shapes")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []gemmCase{
		{tA: blas.NoTrans, tB: blas.NoTrans, m: 3200, n: 400, k: 12, alpha: 1, beta: 0, padA: 1, padC: 3, nanC: true},
		{tA: blas.Trans, tB: blas.NoTrans, m: 400, n: 100, k: 3200, alpha: 1, beta: 1, padB: 2},
	} {
		check(t, rng, "Sgemm", Implementation{}.Sgemm, gonum.Implementation{}.Sgemm, tc, 1e-5)
		check(t, rng, "Dgemm", Implementation{}.Dgemm, gonum.Implementation{}.Dgemm, tc, 1e-12)
	}
}

// TestAlphaZero checks that A and B are not read when alpha is zero (nor
// when k is zero), as BLAS specifies: NaN in them must not reach C.
func TestAlphaZero(t *testing.T) {
	nan := math.NaN()
	a := []float64{nan, nan, nan, nan, nan, nan}
	b := []float64{nan, nan, nan, nan, nan, nan}
	for _, beta := range []float64{0, 1, 0.5} {
		c := []float64{1, 2, 3, 4}
		Implementation{}.Dgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 0, a, 3, b, 3, beta, c, 2)
		for i, v := range c {
			if want := beta * float64(i+1); v != want {
				t.Errorf("Dgemm alpha=0 beta=%v: c[%d] = %v, want %v", beta, i, v, want)
			}
		}
		c32 := []float32{1, 2, 3, 4}
		nan32 := []float32{float32(nan), float32(nan)}
		Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 0, 1, nan32, 1, nan32, 2, float32(beta), c32, 2)
		for i, v := range c32 {
			if want := float32(beta) * float32(i+1); v != want {
				t.Errorf("Sgemm k=0 beta=%v: c[%d] = %v, want %v", beta, i, v, want)
			}
		}
	}
}

// TestBetaSpecial checks the kernels' test of beta = 0: a NaN beta makes C
// NaN, as beta·C is NaN, and a negative zero is zero, so C is not read.
func TestBetaSpecial(t *testing.T) {
	testBetaSpecial(t, &goKernel32, asmKernels32, gonum.Implementation{}.Sgemm)
	testBetaSpecial(t, &goKernel64, asmKernels64, gonum.Implementation{}.Dgemm)
}

func testBetaSpecial[T float](t *testing.T, goKern *kernel[T], asm []*kernel[T], gonumGemm gemmFunc[T]) {
	const m, n, k = 17, 19, 9
	check := func(name string, f gemmFunc[T]) {
		a := make([]T, m*k)
		b := make([]T, k*n)
		for i := range a {
			a[i] = 1
		}
		for i := range b {
			b[i] = 1
		}
		c := make([]T, m*n)
		f(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, T(math.NaN()), c, n)
		for i, v := range c {
			if !math.IsNaN(float64(v)) {
				t.Errorf("%s, beta = NaN: c[%d] = %v, want NaN", name, i, v)
				break
			}
		}
		for i := range c {
			c[i] = T(math.NaN())
		}
		f(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, T(math.Copysign(0, -1)), c, n)
		for i, v := range c {
			if v != k {
				t.Errorf("%s, beta = -0: c[%d] = %v, want %d", name, i, v, k)
				break
			}
		}
	}
	for _, kern := range kernelsUnderTest(goKern, asm) {
		check(kern.name, withKernel(kern))
	}
	check("gonum", gonumGemm)
}

// TestPanics checks that bad arguments panic with gonum's messages.
func TestPanics(t *testing.T) {
	const (
		N = blas.NoTrans
		T = blas.Trans
	)
	s := make([]float64, 100)
	for i, tc := range []struct {
		tA, tB  blas.Transpose
		m, n, k int
		a       []float64
		lda     int
		b       []float64
		ldb     int
		c       []float64
		ldc     int
	}{
		{blas.Transpose('X'), N, 2, 2, 2, s, 2, s, 2, s, 2},
		{N, blas.Transpose(0), 2, 2, 2, s, 2, s, 2, s, 2},
		{N, N, -1, 2, 2, s, 2, s, 2, s, 2},
		{N, N, 2, -1, 2, s, 2, s, 2, s, 2},
		{N, N, 2, 2, -1, s, 2, s, 2, s, 2},
		{N, N, 2, 2, 3, s, 2, s, 2, s, 2}, // lda < k
		{T, N, 3, 2, 2, s, 2, s, 2, s, 2}, // lda < m
		{N, N, 2, 3, 2, s, 2, s, 2, s, 3}, // ldb < n
		{N, T, 2, 2, 3, s, 3, s, 2, s, 2}, // ldb < k
		{N, N, 2, 3, 2, s, 2, s, 3, s, 2}, // ldc < n
		{N, N, 2, 2, 2, s[:3], 2, s, 2, s, 2},
		{T, N, 2, 2, 2, s[:3], 2, s, 2, s, 2},
		{N, N, 2, 2, 2, s, 2, s[:3], 2, s, 2},
		{N, T, 2, 2, 2, s, 2, s[:3], 2, s, 2},
		{N, N, 2, 2, 2, s, 2, s, 2, s[:3], 2},
		{N, N, 0, 2, 2, nil, 2, nil, 2, nil, 2}, // m = 0: lengths not checked
		{N, N, 2, 0, 2, nil, 2, nil, 1, nil, 1}, // n = 0: lengths not checked
	} {
		msg := func(f func()) (s string) {
			defer func() {
				if r := recover(); r != nil {
					s = fmt.Sprint(r)
				}
			}()
			f()
			return ""
		}
		got := msg(func() {
			Implementation{}.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, tc.c, tc.ldc)
		})
		want := msg(func() {
			gonum.Implementation{}.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, tc.c, tc.ldc)
		})
		if got != want {
			t.Errorf("case %d: Dgemm panicked with %q, gonum with %q", i, got, want)
		}
		a32, b32, c32 := make([]float32, len(tc.a)), make([]float32, len(tc.b)), make([]float32, len(tc.c))
		got = msg(func() {
			Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, a32, tc.lda, b32, tc.ldb, 0, c32, tc.ldc)
		})
		want = msg(func() {
			gonum.Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, a32, tc.lda, b32, tc.ldb, 0, c32, tc.ldc)
		})
		if got != want {
			t.Errorf("case %d: Sgemm panicked with %q, gonum with %q", i, got, want)
		}
	}
}

// TestNoAllocs checks that, once warm, a call does not allocate.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	a, _ := matrix[float32](rng, 32, 112, 0)
	b, _ := matrix[float32](rng, 112, 400, 0)
	c := make([]float32, 32*400)
	f := func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 32, 400, 112, 1, a, 112, b, 400, 0, c, 400) }
	f()
	if n := testing.AllocsPerRun(20, f); n > 0 {
		t.Errorf("Sgemm allocates %v times per call", n)
	}
}
