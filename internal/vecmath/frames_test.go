package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// special are values every elementwise kernel must handle: signed zeros,
// infinities, NaN, subnormals, and numbers either side of zero.
var special = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0x1p-149, -0x1p-149, 3e38, -3e38,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0.5, -2.5}

// elementwiseInput returns n values, the special ones among random normal
// ones, and a guarded output buffer of n elements whose guards are 42.
func elementwiseInput(rng *rand.Rand, n int) (x []float32, out []float32) {
	x = make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		if i%3 == 0 {
			x[i] = special[(i/3)%len(special)]
		}
	}
	out = make([]float32, n+2)
	out[0], out[n+1] = 42, 42
	return x, out
}

// sameFloat reports whether a and b are the same float, NaN equal to NaN
// and -0 to -0 only.
func sameFloat[T float32 | float64](a, b T) bool {
	return (a == b && math.Signbit(float64(a)) == math.Signbit(float64(b))) || (a != a && b != b)
}

// TestReLU checks ReLU32, ReLUGrad32, ReLU64 and ReLUGrad64 on every path
// against their definitions: x unless 0 > x (so NaN and -0 stay), and g
// where y > 0.
func TestReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, p := range paths {
		for n := 0; n <= 40; n++ {
			x, _ := elementwiseInput(rng, n)
			g, _ := elementwiseInput(rng, n)
			withPath(p, func() {
				checkReLU(t, p, x, g, ReLU32, ReLUGrad32)
				checkReLU(t, p, widen(x), widen(g), ReLU64, ReLUGrad64)
			})
		}
	}
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// checkReLU runs relu and then grad, on its output, into a guarded buffer
// and checks every element against the definition, bit for bit.
func checkReLU[T float32 | float64](t *testing.T, p path, x, g []T, relu func(dst, src []T), grad func(dst, y, g []T)) {
	t.Helper()
	n := len(x)
	out := make([]T, n+2)
	out[0], out[n+1] = 42, 42
	relu(out[1:n+1], x)
	for i, v := range x {
		want := v
		if 0 > v {
			want = 0
		}
		if !sameFloat(out[1+i], want) {
			t.Fatalf("%v n=%d: relu(%v) = %v, want %v", p, n, v, out[1+i], want)
		}
	}
	y := append([]T(nil), out[1:n+1]...)
	grad(out[1:n+1], y, g)
	for i, v := range y {
		want := T(0)
		if v > 0 {
			want = g[i]
		}
		if !sameFloat(out[1+i], want) {
			t.Fatalf("%v n=%d: relu gradient at y=%v, g=%v: %v, want %v", p, n, v, g[i], out[1+i], want)
		}
	}
	if out[0] != 42 || out[n+1] != 42 {
		t.Fatalf("%v n=%d: wrote outside dst", p, n)
	}
}

// TestNormalize32 checks Normalize32 and NormalizeGrad32 on every path
// against their definitions in float64, to a few float32 roundings.
func TestNormalize32(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const mu, a, b, c = 0.75, -1.5, 0.25, 0.6
	for _, p := range paths {
		for n := 0; n <= 40; n++ {
			x, out := make([]float32, n), make([]float32, n+2)
			g := make([]float32, n)
			for i := range x {
				x[i], g[i] = float32(3*rng.NormFloat64()), float32(rng.NormFloat64())
			}
			out[0], out[n+1] = 42, 42
			withPath(p, func() { Normalize32(out[1:n+1], x, mu, a, b) })
			for i, v := range x {
				want := (float64(v)-mu)*a + b
				if math.Abs(float64(out[1+i])-want) > 1e-6*(math.Abs((float64(v)-mu)*a)+math.Abs(b)) {
					t.Fatalf("%v n=%d: Normalize32 of %g = %g, want %g", p, n, v, out[1+i], want)
				}
			}
			withPath(p, func() { NormalizeGrad32(out[1:n+1], g, x, a, c, mu, b) })
			for i, v := range x {
				want := a*float64(g[i]) + c*(float64(v)-mu) + b
				scale := math.Abs(a*float64(g[i])) + math.Abs(c*(float64(v)-mu)) + math.Abs(b)
				if math.Abs(float64(out[1+i])-want) > 1e-6*scale {
					t.Fatalf("%v n=%d: NormalizeGrad32 at g=%g, x=%g: %g, want %g", p, n, g[i], v, out[1+i], want)
				}
			}
			if out[0] != 42 || out[n+1] != 42 {
				t.Fatalf("%v n=%d: wrote outside dst", p, n)
			}
		}
	}
	withPath(pathGo, func() {
		var nan, inf = float32(math.NaN()), float32(math.Inf(1))
		out := make([]float32, 2)
		Normalize32(out, []float32{nan, inf}, 0, 1, 0)
		if out[0] == out[0] || out[1] != inf {
			t.Errorf("Normalize32 of NaN and +Inf: %v", out)
		}
	})
}

// TestSums32 checks Sum32, SquaredDeviations32 and GradSums32 on every
// path against float64 sums of the float64 values: they accumulate in
// float64, so they agree to float64 rounding.
func TestSums32(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const mu = 1.25
	for _, p := range paths {
		for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 1024, 1031} {
			x, g := make([]float32, n), make([]float32, n)
			var s, sq, sg, sgx float64
			for i := range x {
				x[i], g[i] = float32(1+rng.NormFloat64()), float32(rng.NormFloat64())
				s += float64(x[i])
				sq += (float64(x[i]) - mu) * (float64(x[i]) - mu)
				sg += float64(g[i])
				sgx += float64(g[i]) * (float64(x[i]) - mu)
			}
			var gotS, gotSq, gotSg, gotSgx float64
			withPath(p, func() {
				gotS, gotSq = Sum32(x), SquaredDeviations32(x, mu)
				gotSg, gotSgx = GradSums32(x, g, mu)
			})
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"Sum32", gotS, s}, {"SquaredDeviations32", gotSq, sq}, {"GradSums32 Σg", gotSg, sg}, {"GradSums32 Σg·(x-mu)", gotSgx, sgx}} {
				if math.Abs(c.got-c.want) > 1e-12*(1+float64(n)) {
					t.Errorf("%v n=%d: %s = %.17g, want %.17g", p, n, c.name, c.got, c.want)
				}
			}
		}
	}
}

// TestAddDots32 checks AddDots32 on every path against the sums in
// float64, for sizes around its blocks of 2×4 rows and 8 lanes, with rows
// farther apart than they are long, adding to what c holds.
func TestAddDots32(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, p := range paths {
		for _, d := range [][3]int{{1, 1, 1}, {2, 4, 8}, {3, 5, 7}, {8, 27, 1024}, {5, 9, 33}, {2, 3, 16}, {7, 1, 9}} {
			m, n, k := d[0], d[1], d[2]
			lda, ldb, ldc := k+3, k+1, n+2
			a, b, c := make([]float32, m*lda), make([]float32, n*ldb), make([]float32, m*ldc)
			for _, v := range [][]float32{a, b, c} {
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
			}
			want := make([]float64, len(c))
			for i := range m {
				for j := range n {
					s := float64(c[i*ldc+j])
					for q := range k {
						s += float64(a[i*lda+q]) * float64(b[j*ldb+q])
					}
					want[i*ldc+j] = s
				}
			}
			got := append([]float32(nil), c...)
			withPath(p, func() { AddDots32(got, ldc, a, lda, b, ldb, m, n, k) })
			for i := range got {
				if j := i % ldc; j >= n {
					if got[i] != c[i] {
						t.Fatalf("%v %v: wrote c[%d] outside the m×n block", p, d, i)
					}
					continue
				}
				if math.Abs(float64(got[i])-want[i]) > 1e-5*math.Sqrt(float64(k))*(1+math.Abs(want[i])) {
					t.Fatalf("%v %v: c[%d] = %v, want %v", p, d, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkFrames times the kernels on 2²¹ values, the size of the
// video benchmark's convolution output.
func BenchmarkFrames(b *testing.B) {
	const n = 1 << 21
	x, g, y := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = float32(i%7)-3, float32(i%5)-2
	}
	for _, p := range paths {
		withPath(p, func() {
			b.Run("relu/"+p.String(), func(b *testing.B) {
				for b.Loop() {
					ReLU32(y, x)
				}
			})
			b.Run("relugrad/"+p.String(), func(b *testing.B) {
				for b.Loop() {
					ReLUGrad32(y, x, g)
				}
			})
			b.Run("normalize/"+p.String(), func(b *testing.B) {
				for b.Loop() {
					Normalize32(y, x, 0.5, 2, 1)
				}
			})
			b.Run("dots/"+p.String(), func(b *testing.B) {
				c := make([]float32, 8*27)
				for b.Loop() {
					AddDots32(c, 27, g[:8*1024], 1024, x[:27*1024], 1024, 8, 27, 1024)
				}
			})
			b.Run("gradsums/"+p.String(), func(b *testing.B) {
				for b.Loop() {
					GradSums32(x, g, 0.5)
				}
			})
		})
	}
}
