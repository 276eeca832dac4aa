package graph

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Summary describes the network as Keras's model.summary does: each layer
// with its kind, the shape of its output (per timestep for a sequence), its
// learnables with their shapes and its number of parameters, then the
// total (ExampleNetwork_Summary shows one).
func (n *Network) Summary() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "layer\tkind\toutput\tlearnables\tparameters")
	total := 0
	for _, l := range n.layers {
		var parts []string
		count := 0
		for _, name := range n.Learnables() {
			part, ok := strings.CutPrefix(name, l.name+"/")
			if !ok {
				continue
			}
			shape := n.LearnableShape(name)
			size := 1
			dims := make([]string, len(shape))
			for i, d := range shape {
				size *= d
				dims[i] = fmt.Sprint(d)
			}
			count += size
			parts = append(parts, part+" "+strings.Join(dims, "×"))
		}
		total += count
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\t%d\n", l.name, titleOf(l.Layer), l.out, strings.Join(parts, ", "), count)
	}
	w.Flush()
	fmt.Fprintf(&b, "total parameters: %d\n", total)
	return b.String()
}
