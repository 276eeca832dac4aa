package optim_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/optim"
)

// Adam minimises (w₀ − 3)² + (w₁ + 1)², written as a Gorgonia graph.
func ExampleAdam() {
	g := gorgonia.NewGraph()
	w := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(2), gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithBacking([]float64{0, 0}))))
	target := gorgonia.NewConstant(tensor.New(tensor.WithBacking([]float64{3, -1})), gorgonia.WithName("target"))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(w, target))))))
	if _, err := gorgonia.Grad(cost, w); err != nil {
		log.Fatal(err)
	}

	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w))
	defer vm.Close()

	solver, err := optim.NewAdam(optim.WithLearnRate(0.1))
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if err := vm.RunAll(); err != nil {
			log.Fatal(err)
		}
		if err := solver.Step([]gorgonia.ValueGrad{w}); err != nil {
			log.Fatal(err)
		}
		vm.Reset()
	}
	fmt.Printf("w = %.3f\n", w.Value().Data())

	// Output:
	// w = [3.000 -1.000]
}
