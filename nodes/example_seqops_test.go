package nodes_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/nodes"
)

// Three sequences of 4, 2 and 3 steps, padded on the right to 4 steps: a
// stride-2 convolution with "same" padding gives each ⌈L/2⌉ outputs, from
// the first output step on.
func ExampleConv1DSpec_OutputMask() {
	mask := []float64{ // time-major: step t of sequence b at t·3+b
		1, 1, 1,
		1, 1, 1,
		1, 0, 1,
		1, 0, 0,
	}
	spec := nodes.Conv1DSpec{FilterSize: 3, Stride: 2, Dilation: 1, Padding: nodes.Padding1D{Mode: nodes.PadSame}}
	out, steps, err := spec.OutputMask(mask, 4, 3)
	fmt.Println(steps, out, err)
	// Output: 2 [1 1 1 1 0 1] <nil>
}

// A causal moving sum over two sequences of one channel, padded on the
// left: each output is its step plus the step before it, and the padding
// step of the second sequence (which holds 100) is never read.
func ExampleConv1D() {
	g := gorgonia.NewGraph()
	in := func(name string, shape []int, v ...float64) *gorgonia.Node {
		return gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), gorgonia.WithName(name))
	}
	x := in("x", []int{6, 1}, 1, 100, 2, 20, 3, 30) // steps 0, 1, 2 of sequences 0 and 1
	mask := in("mask", []int{6}, 1, 0, 1, 1, 1, 1)
	w := in("w", []int{1, 1, 2}, 1, 1) // one filter, one channel, two taps
	b := in("b", []int{1}, 0)
	spec := nodes.Conv1DSpec{FilterSize: 2, Stride: 1, Dilation: 1, Padding: nodes.Padding1D{Mode: nodes.PadCausal}}
	y, err := nodes.Conv1D(x, w, b, mask, 2, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	var out gorgonia.Value
	gorgonia.Read(y, &out)
	vm, err := nodes.NewTapeMachine(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Data())
	// Output: [1 0 3 20 5 50]
}
