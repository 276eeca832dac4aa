package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwise32 checks every operation on every path of this CPU
// against the Go expression its comment gives, bit for bit, for lengths
// that leave a tail after the whole vectors, with dst a separate slice and
// dst the same slice as a.
func TestElementwise32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	want := func(op Op, d, x, y float32) float32 {
		switch op {
		case Add:
			return x + y
		case Sub:
			return x - y
		case Mul:
			return x * y
		case AddMul:
			return d + float32(x*y)
		case SigmoidGrad:
			return x * float32(y*(1-y))
		case AddSigmoidGrad:
			return d + float32(x*float32(y*(1-y)))
		case TanhGrad:
			return x * (1 - float32(y*y))
		case AddTanhGrad:
			return d + float32(x*(1-float32(y*y)))
		}
		return d + x // AddTo
	}
	for _, p := range paths {
		for op := Add; op <= AddTo; op++ {
			for _, n := range []int{0, 1, 7, 8, 9, 100, 3200} {
				for _, inPlace := range []bool{false, true} {
					a, b, d := make([]float32, n), make([]float32, n), make([]float32, n)
					for i := range a {
						a[i], b[i], d[i] = float32(rng.NormFloat64()), float32(rng.Float64()), float32(rng.NormFloat64())
					}
					exp := make([]float32, n)
					for i := range exp {
						x := a[i]
						if inPlace {
							x = d[i]
						}
						exp[i] = want(op, d[i], x, b[i])
					}
					src := a
					if inPlace {
						src = d
					}
					elementwiseWith(p, op, d, src, b)
					for i := range exp {
						if math.Float32bits(d[i]) != math.Float32bits(exp[i]) {
							t.Fatalf("%v op %d n=%d in place %v: [%d] = %v, want %v", p, op, n, inPlace, i, d[i], exp[i])
						}
					}
				}
			}
		}
	}
}

// BenchmarkElementwise32 times AddMul and the sigmoid gradient on a
// step's 32 rows of 100 units, on each path.
func BenchmarkElementwise32(b *testing.B) {
	const n = 3200
	x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
	for _, p := range paths {
		for _, op := range []Op{AddMul, AddSigmoidGrad} {
			b.Run(p.String()+"/"+map[Op]string{AddMul: "addmul", AddSigmoidGrad: "sigmoidgrad"}[op], func(b *testing.B) {
				b.SetBytes(3 * 4 * n)
				for range b.N {
					elementwiseWith(p, op, d, x, y)
				}
			})
		}
	}
}
