package vecmath

// LSTMStepBackward32 computes the backward pass of one LSTM step for one
// sequence of n = len(dh) hidden units, with sigmoid gates and tanh state
// activations, for a step whose mask is 1 (a real step). gates holds the
// step's activations i, f, g, o one after the other (4n values), sc holds
// tanh(c̃) of the new cell state, cPrev the cell state before the step, and
// dh, dc the gradients reaching the hidden and cell state after the step.
// It sets dz (4n values, in the order of gates) to the gradients of the
// pre-activations and dcPrev to that of the cell state before the step:
//
//	dc̃ = dc + dh ⊙ o ⊙ (1 - sc²)
//	dz_i = dc̃ ⊙ g ⊙ i(1-i)       dz_f = dc̃ ⊙ cPrev ⊙ f(1-f)
//	dz_g = dc̃ ⊙ i ⊙ (1-g²)       dz_o = dh ⊙ sc ⊙ o(1-o)
//	dcPrev = dc̃ ⊙ f
//
// Results smaller in magnitude than the smallest normal float32 (2⁻¹²⁶) are
// set to zero. Gradients that small carry no information a float32 weight
// update could use, and subnormal operands make every later product and
// step of the backward pass many times slower on x86: over long sequences
// vanishing gradients would otherwise fill the buffers with them.
//
// The slices must not overlap, except that dz may be gates (each element is
// read before it is written) and dcPrev may be dc. It panics if
// a length is wrong.
func LSTMStepBackward32(dz, gates, sc, cPrev, dh, dc, dcPrev []float32) {
	n := len(dh)
	if len(dz) != 4*n || len(gates) != 4*n || len(sc) != n || len(cPrev) != n || len(dc) != n || len(dcPrev) != n {
		panic("vecmath: LSTMStepBackward32: lengths do not match")
	}
	k := lstmBackwardAsm(best, dz, gates, sc, cPrev, dh, dc, dcPrev)
	lstmBackwardGo(dz, gates, sc, cPrev, dh, dc, dcPrev, k)
}

// smallestNormal32 is 2⁻¹²⁶, the smallest normal float32.
const smallestNormal32 = 1.17549435e-38

// flush32 returns 0 for a subnormal x, and x otherwise.
func flush32(x float32) float32 {
	if x > -smallestNormal32 && x < smallestNormal32 {
		return 0
	}
	return x
}

// lstmBackwardGo is LSTMStepBackward32 for the hidden units from k on.
func lstmBackwardGo(dz, gates, sc, cPrev, dh, dc, dcPrev []float32, k int) {
	n := len(dh)
	ig := gates[k:n]
	fg, gg, og := gates[n+k : 2*n][:len(ig)], gates[2*n+k : 3*n][:len(ig)], gates[3*n+k:][:len(ig)]
	dzi, dzf, dzg, dzo := dz[k:n][:len(ig)], dz[n+k : 2*n][:len(ig)], dz[2*n+k : 3*n][:len(ig)], dz[3*n+k:][:len(ig)]
	scr, cp, dhr, dcr, dcp := sc[k:][:len(ig)], cPrev[k:][:len(ig)], dh[k:][:len(ig)], dc[k:][:len(ig)], dcPrev[k:][:len(ig)]
	for j, i := range ig {
		f, g, o, s, d := fg[j], gg[j], og[j], scr[j], dhr[j]
		c := dcr[j] + d*o*(1-s*s)
		dzi[j] = flush32(c * g * (i * (1 - i)))
		dzf[j] = flush32(c * cp[j] * (f * (1 - f)))
		dzg[j] = flush32(c * i * (1 - g*g))
		dzo[j] = flush32(d * s * (o * (1 - o)))
		dcp[j] = flush32(c * f)
	}
}

// FlushSubnormals32 sets every subnormal element of v (magnitude below
// 2⁻¹²⁶) to zero, for the reason LSTMStepBackward32 gives.
func FlushSubnormals32(v []float32) {
	k := flushAsm(best, v)
	for i, x := range v[k:] {
		v[k+i] = flush32(x)
	}
}

// LSTMCell32 sets c to the new cell state of one LSTM step for one
// sequence of n = len(c) hidden units from the step's gate activations
// (gates holds i, f, g, o one after the other, 4n values) and the cell
// state cPrev before it: c = f ⊙ cPrev + i ⊙ g, with subnormal results set
// to zero as LSTMStepBackward32 does. c must not overlap the others. It
// panics if a length is wrong.
func LSTMCell32(c, gates, cPrev []float32) {
	n := len(c)
	if len(gates) != 4*n || len(cPrev) != n {
		panic("vecmath: LSTMCell32: lengths do not match")
	}
	k := lstmCellAsm(best, c, gates, cPrev)
	i, f, g := gates[k:n], gates[n+k:2*n], gates[2*n+k:3*n]
	f, g = f[:len(i)], g[:len(i)]
	cp, cr := cPrev[k:][:len(i)], c[k:][:len(i)]
	for j, x := range i {
		cr[j] = flush32(f[j]*cp[j] + x*g[j])
	}
}

// MulFlush32 sets dst[i] = a[i]·b[i] for every i, with subnormal results
// set to zero. dst may be a or b. It panics if the lengths differ.
func MulFlush32(dst, a, b []float32) {
	if len(a) != len(dst) || len(b) != len(dst) {
		panic("vecmath: MulFlush32: lengths do not match")
	}
	k := mulFlushAsm(best, dst, a, b)
	a, b = a[k:][:len(dst)-k], b[k:][:len(dst)-k]
	for j, x := range a {
		dst[k+j] = flush32(x * b[j])
	}
}
