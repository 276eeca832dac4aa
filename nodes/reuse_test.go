package nodes

import (
	"math"
	"reflect"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestOpsReuseTheirOutput checks every op of this package in the video
// pipeline that takes a preallocated result (gorgonia.UsePreallocDoer,
// which the graph package's direct runs use to write a step's result into
// its tensor of the run before): folding, the 2-D convolution and its
// gradients, batch normalization and its input gradient, the rectifier and
// its gradient, unfolding and its gather. Written into a tensor full of
// NaN, each must give what Do gives, bit for bit, in that very tensor; given
// a tensor that is one of its inputs, it must leave the input alone and
// still give Do's result.
func TestOpsReuseTheirOutput(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := gorgonia.NewGraph()
		net := newVideoNet(t, g, dt, 15, videoFrameWeights)
		if _, err := gorgonia.Grad(net.cost, append(net.inputs, net.learnables...)...); err != nil {
			t.Fatal(err)
		}
		type use struct {
			n    *gorgonia.Node
			args []gorgonia.Value
		}
		var uses []*use
		for _, n := range g.AllNodes() {
			if _, ok := n.Op().(gorgonia.UsePreallocDoer); ok && ours(n.Op()) {
				uses = append(uses, &use{n: n})
			}
		}
		for _, u := range uses {
			it := g.From(u.n.ID())
			u.args = make([]gorgonia.Value, it.Len())
			for i := 0; it.Next(); i++ {
				gorgonia.Read(it.Node().(*gorgonia.Node), &u.args[i])
			}
		}
		vm, err := NewTapeMachine(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Close()
		kinds := map[string]bool{}
		for _, u := range uses {
			op := u.n.Op()
			kinds[reflect.TypeOf(op).String()] = true
			if k, ok := op.(kernelOp); ok {
				kinds[reflect.TypeOf(k.k).String()] = true
			}
			want, err := op.Do(u.args...)
			if err != nil {
				t.Fatalf("%v: %v", op, err)
			}
			w := want.(*tensor.Dense)
			nan := newDense(dt, w.Shape())
			copyInto(nan, fill(w.Shape().TotalSize(), math.NaN()))
			got, err := op.(gorgonia.UsePreallocDoer).UsePreallocDo(nan, u.args...)
			if err != nil {
				t.Fatalf("%v into a tensor of NaN: %v", op, err)
			}
			if got != gorgonia.Value(nan) || !sameValues(toFloat64(nan), toFloat64(w)) {
				t.Errorf("%v %v: into a tensor of NaN, %v; Do gives %v", dt, op, got, w)
			}
			for i, a := range u.args {
				in, ok := a.(*tensor.Dense)
				if !ok || !in.Shape().Eq(w.Shape()) {
					continue
				}
				before := toFloat64(in)
				got, err := op.(gorgonia.UsePreallocDoer).UsePreallocDo(in, u.args...)
				if err != nil {
					t.Fatal(err)
				}
				if !sameValues(toFloat64(in), before) || !sameValues(toFloat64(got.(*tensor.Dense)), toFloat64(w)) {
					t.Errorf("%v %v: given its input %d to write into, it changed it or gave another result", dt, op, i)
				}
			}
		}
		for _, k := range []string{"nodes.foldOp", "nodes.conv2DKernel", "nodes.conv2DGradKernel", "nodes.rectifyKernel",
			"*nodes.batchNormOp", "nodes.bnInputGradOp", "nodes.unfoldStepOp", "nodes.unfoldGatherOp"} {
			if !kinds[k] {
				t.Errorf("%v: no op of type %s in the pipeline", dt, k)
			}
		}
	}
}

// ours reports whether op is of a type of this package.
func ours(op gorgonia.Op) bool {
	t := reflect.TypeOf(op)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == reflect.TypeOf(kernelOp{}).PkgPath()
}

func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// sameValues reports whether a and b hold the same values, NaN equal to
// NaN.
func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i, v := range a {
		if math.Float64bits(v) != math.Float64bits(b[i]) && !(v != v && b[i] != b[i]) {
			return false
		}
	}
	return true
}
