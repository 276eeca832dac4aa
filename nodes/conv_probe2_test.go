package nodes

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestProbeReshapeLearnable(t *testing.T) {
	p, _ := NewParams(tensor.Float64, 1)
	for _, withGrad := range []bool{false, true} {
		g := gorgonia.NewGraph()
		f, err := p.Node(g, "f", tensor.Shape{2, 1, 3, 3}, He(9))
		if err != nil {
			t.Fatal(err)
		}
		x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, 1, 4, 4), tensor.Of(tensor.Float64)), gorgonia.WithName("x"))
		y, err := gorgonia.Conv2d(x, f, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		if err != nil {
			t.Fatal(err)
		}
		var opts []gorgonia.VMOpt
		if withGrad {
			c := gorgonia.Must(gorgonia.Sum(y))
			if _, err := gorgonia.Grad(c, f); err != nil {
				t.Fatal(err)
			}
			opts = append(opts, gorgonia.BindDualValues(f))
		}
		vm, err := NewTapeMachine(g, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			vm.Reset()
		}
		t.Logf("grad=%v learnable shape after run: %v node value shape %v", withGrad, p.Tensor("f").Shape(), f.Value().Shape())
		if withGrad {
			gr, _ := f.Grad()
			t.Logf("grad shape %v", gr.Shape())
		}
	}
}
