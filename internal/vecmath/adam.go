package vecmath

import "math"

// AdamCoefficients are the scalars of one Adam update (see Adam32): the
// step lr/(1-β1^t), β1 and 1-β1, β2 and 1-β2, ε, and 1/√(1-β2^t).
type AdamCoefficients struct {
	Step, Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, Epsilon, InvSqrtC2 float32
}

// Adam32 applies one Adam update, in PyTorch's form, to the weights w from
// their gradient g and the first and second moments m and v, and zeroes the
// gradient: for every element,
//
//	m ← β1·m + (1-β1)·g
//	v ← β2·v + (1-β2)·g·g
//	w ← w − Step·m / (√v·InvSqrtC2 + ε)
//	g ← 0
//
// each operation rounded to float32 in the order written (no fused
// multiply-add; the square root correctly rounded), so that every path
// gives the same bits. It panics if g, m or v is shorter than w.
//
// A solver's update is a few operations per weight of every learnable, and
// Go's compiler does not vectorise it: about a tenth of a training step of
// a convolutional video network was its scalar loop.
func Adam32(w, g, m, v []float32, c AdamCoefficients) { adamWith(best, w, g, m, v, c) }

func adamWith(p path, w, g, m, v []float32, c AdamCoefficients) {
	n := len(w)
	if len(g) < n || len(m) < n || len(v) < n {
		panic("vecmath: Adam32: a slice is shorter than w")
	}
	g, m, v = g[:n], m[:n], v[:n]
	k := adamAsm(p, w, g, m, v, &c)
	adamGo(w[k:], g[k:], m[k:], v[k:], &c)
}

// adamGo is Adam32 in Go. The conversions round each product to float32
// before it is added, which keeps a compiler that fuses multiply-adds
// (GOAMD64=v3) from changing the result.
func adamGo(w, g, m, v []float32, c *AdamCoefficients) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		mi := float32(c.Beta1*m[i]) + float32(c.OneMinusBeta1*gi)
		vi := float32(c.Beta2*v[i]) + float32(float32(c.OneMinusBeta2*gi)*gi)
		m[i], v[i] = mi, vi
		// The float64 square root rounded to float32 is the correctly
		// rounded float32 square root.
		d := float32(float32(math.Sqrt(float64(vi)))*c.InvSqrtC2) + c.Epsilon
		w[i] -= float32(c.Step*mi) / d
		g[i] = 0
	}
}
