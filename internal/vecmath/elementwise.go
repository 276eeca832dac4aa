package vecmath

// Op is an elementwise operation of Elementwise32 on dst, a and b.
type Op int

// The operations, with the expressions they evaluate (the gradient ops
// take a gradient a and an activation's output b).
const (
	Add            Op = iota // dst = a + b
	Sub                      // dst = a - b
	Mul                      // dst = a · b
	AddMul                   // dst = dst + a · b
	SigmoidGrad              // dst = a · (b · (1 - b))
	AddSigmoidGrad           // dst = dst + a · (b · (1 - b))
	TanhGrad                 // dst = a · (1 - b · b)
	AddTanhGrad              // dst = dst + a · (1 - b · b)
	AddTo                    // dst = dst + a (b is not read)
)

// Elementwise32 evaluates op for every element i of dst. Each operation
// rounds as the Go expression of its comment does, one float32 operation
// at a time (no fused multiply-add), so the assembly and Go paths agree bit
// for bit. dst may be a or b, but must not otherwise overlap them. It
// panics if a (or b, where read) is shorter than dst.
//
// A graph of gate nodes spends much of its elementwise time in such
// operations on B×H values (sums and products of gates, the gradients
// through their activations), which Go's compiler does not vectorise.
func Elementwise32(op Op, dst, a, b []float32) { elementwiseWith(best, op, dst, a, b) }

func elementwiseWith(p path, op Op, dst, a, b []float32) {
	n := len(dst)
	if len(a) < n || (op != AddTo && len(b) < n) {
		panic("vecmath: Elementwise32: an operand is shorter than dst")
	}
	if op == AddTo {
		b = a
	}
	k := elementwiseAsm(p, op, dst, a[:n], b[:n])
	elementwiseGo(op, dst[k:], a[k:n], b[k:n])
}

// elementwiseGo is Elementwise32 in Go. The conversions round each
// product to float32 before it is added, as the vector kernels do, which
// keeps a compiler that fuses multiply-adds (GOAMD64=v3) from changing the
// result.
func elementwiseGo(op Op, dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	switch op {
	case Add:
		for i, x := range a {
			dst[i] = x + b[i]
		}
	case Sub:
		for i, x := range a {
			dst[i] = x - b[i]
		}
	case Mul:
		for i, x := range a {
			dst[i] = x * b[i]
		}
	case AddMul:
		for i, x := range a {
			dst[i] += float32(x * b[i])
		}
	case SigmoidGrad:
		for i, x := range a {
			y := b[i]
			dst[i] = x * float32(y*(1-y))
		}
	case AddSigmoidGrad:
		for i, x := range a {
			y := b[i]
			dst[i] += float32(x * float32(y*(1-y)))
		}
	case TanhGrad:
		for i, x := range a {
			y := b[i]
			dst[i] = x * (1 - float32(y*y))
		}
	case AddTanhGrad:
		for i, x := range a {
			y := b[i]
			dst[i] += float32(x * (1 - float32(y*y)))
		}
	case AddTo:
		for i, x := range a {
			dst[i] += x
		}
	}
}
