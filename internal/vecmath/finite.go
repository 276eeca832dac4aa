package vecmath

// FirstNonFinite32 returns the index of the first NaN or infinity in v, or
// -1 if every element is finite.
//
// A training step checks every gradient before the solver takes it, and
// the solver checks again; over the weights of a network a scalar loop of
// these checks took about as long as the update itself.
func FirstNonFinite32(v []float32) int { return firstNonFiniteWith(best, v) }

func firstNonFiniteWith(p path, v []float32) int {
	// The kernel finds the block of whole vectors the first non-finite
	// element lies in, or passes them all; the Go loop finds the element.
	k := nonFiniteAsm(p, v)
	for i, x := range v[k:] {
		// x-x is 0 for finite x and NaN for NaN and ±Inf.
		if x-x != 0 {
			return k + i
		}
	}
	return -1
}
