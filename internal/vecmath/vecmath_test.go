package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// testValues returns the edge cases followed by random values: uniform on
// [-12, 12], log-uniform magnitudes from 1e-8 to 1e3, and random bit
// patterns (which include NaNs, infinities and subnormals).
func testValues(n int) []float32 {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	vs := []float32{
		0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-38, -1e-38, 1e-20, -1e-20,
		math.MaxFloat32, -math.MaxFloat32, 1e10, -1e10, 100, -100,
		inf, -inf, nan, float32(math.Float32frombits(0xffc00001)),
	}
	for _, b := range []float32{0.0004, 0.0008, 9, 18} {
		for _, s := range []float32{1, -1} {
			x := s * b
			vs = append(vs, x, math.Nextafter32(x, 0), math.Nextafter32(x, 2*x),
				math.Nextafter32(math.Nextafter32(x, 0), 0))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for len(vs) < n {
		switch len(vs) % 3 {
		case 0:
			vs = append(vs, float32(24*r.Float64()-12))
		case 1:
			m := float32(math.Pow(10, -8+11*r.Float64()))
			if r.IntN(2) == 0 {
				m = -m
			}
			vs = append(vs, m)
		default:
			vs = append(vs, math.Float32frombits(r.Uint32()))
		}
	}
	return vs
}

// ulps is the distance between a and b in units in the last place; NaN
// against NaN is 0 and NaN against a number is huge.
func ulps(a, b float32) int64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxInt64
	}
	key := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&0x80000000 != 0 {
			return -(u & 0x7fffffff)
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

type kernelFunc struct {
	name string
	vec  func(path, []float32, []float32)
	ref  func(float32) float32
}

var kernelFuncs = []kernelFunc{
	{"tanh", tanhWith, tanh32},
	{"sigmoid", sigmoidWith, func(x float32) float32 { return 0.5 + 0.5*tanh32(0.5*x) }},
}

// check reports any element of got farther from the reference than allowed:
// bit-identical for the Go path, else 2 ulps or 4e-7 absolute (with the same
// sign). It returns the largest raw ulp distance and the number of elements
// that are not bit-identical.
func check(t *testing.T, p path, kf kernelFunc, src, got []float32) (maxULP int64, diff int) {
	t.Helper()
	bad := 0
	for i, x := range src {
		want := kf.ref(x)
		d := ulps(got[i], want)
		if d != 0 {
			diff++
		}
		if d < math.MaxInt64 {
			maxULP = max(maxULP, d)
		}
		ok := d == 0
		if p != pathGo && want == want && got[i] == got[i] {
			ok = (d <= 2 || math.Abs(float64(got[i]-want)) <= 4e-7) &&
				(want == 0 || got[i] == 0 || math.Signbit(float64(got[i])) == math.Signbit(float64(want)))
		}
		if !ok {
			if bad++; bad <= 10 {
				t.Errorf("%s/%v: x=%g (%#08x): got %g (%#08x), want %g (%#08x)",
					kf.name, p, x, math.Float32bits(x), got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
			}
		}
	}
	return maxULP, diff
}

func TestAccuracy(t *testing.T) {
	src := testValues(100000)
	for _, p := range paths {
		for _, kf := range kernelFuncs {
			got := make([]float32, len(src))
			kf.vec(p, got, src)
			m, diff := check(t, p, kf, src, got)
			t.Logf("%s/%v: %d of %d values differ from the scalar code, by at most %d ulp", kf.name, p, diff, len(src), m)
		}
	}
}

func TestLengths(t *testing.T) {
	src := testValues(200)
	for _, p := range paths {
		for _, kf := range kernelFuncs {
			for off := 0; off < 3; off++ {
				for n := 0; n <= 70; n++ {
					s := src[off+13 : off+13+n]
					// Guard elements around dst catch writes out of range.
					buf := make([]float32, n+2)
					buf[0], buf[n+1] = 42, 42
					kf.vec(p, buf[1:n+1], s)
					if buf[0] != 42 || buf[n+1] != 42 {
						t.Errorf("%s/%v n=%d: wrote outside dst", kf.name, p, n)
					}
					check(t, p, kf, s, buf[1:n+1])
					// In place.
					in := append([]float32(nil), s...)
					kf.vec(p, in, in)
					check(t, p, kf, s, in)
				}
			}
		}
	}
}

func TestSpecial(t *testing.T) {
	inf := float32(math.Inf(1))
	src := make([]float32, 67)
	for i := range src {
		src[i] = [...]float32{inf, -inf, float32(math.NaN()), 0}[i%4]
	}
	for _, p := range paths {
		th := make([]float32, len(src))
		sg := make([]float32, len(src))
		tanhWith(p, th, src)
		sigmoidWith(p, sg, src)
		for i := range src {
			var wt, ws float32
			switch i % 4 {
			case 0:
				wt, ws = 1, 1
			case 1:
				wt, ws = -1, 0
			case 2:
				if th[i] == th[i] || sg[i] == sg[i] {
					t.Errorf("%v: NaN gave tanh %g, sigmoid %g", p, th[i], sg[i])
				}
				continue
			case 3:
				wt, ws = 0, 0.5
			}
			if th[i] != wt || sg[i] != ws {
				t.Errorf("%v: x=%g gave tanh %g, sigmoid %g; want %g, %g", p, src[i], th[i], sg[i], wt, ws)
			}
		}
	}
}

func TestPaths(t *testing.T) {
	t.Logf("paths on this CPU: %v; Tanh32 and Sigmoid32 use %v", paths, best)
}

func TestReferenceAccuracy(t *testing.T) {
	for x := -10.0; x <= 10; x += 1.0 / 1024 {
		if d := math.Abs(float64(tanh32(float32(x))) - math.Tanh(float64(float32(x)))); d > 1e-6 {
			t.Fatalf("tanh32(%g) off by %g", x, d)
		}
	}
}

func TestLengthMismatch(t *testing.T) {
	for _, f := range []func([]float32, []float32){Tanh32, Sigmoid32} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic for len(dst) != len(src)")
				}
			}()
			f(make([]float32, 3), make([]float32, 4))
		}()
	}
}

func BenchmarkActivation(b *testing.B) {
	const n = 12800
	src := testValues(n)
	for i := range src {
		src[i] = float32(math.Mod(float64(src[i]), 12)) // finite, mostly in range
		if src[i] != src[i] {
			src[i] = 1
		}
	}
	dst := make([]float32, n)
	for _, kf := range kernelFuncs {
		for _, p := range paths {
			b.Run(fmt.Sprintf("%s/%v", kf.name, p), func(b *testing.B) {
				b.SetBytes(4 * n)
				for b.Loop() {
					kf.vec(p, dst, src)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			})
		}
	}
}
