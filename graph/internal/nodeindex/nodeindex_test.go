package nodeindex

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// chain adds n nodes to g, each the sum of the one before and an input of
// its own, and returns them.
func chain(t *testing.T, g *gorgonia.ExprGraph, n int) []*gorgonia.Node {
	t.Helper()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("x"))
	made := []*gorgonia.Node{x}
	for i := 0; i < n; i++ {
		in := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName(fmt.Sprintf("in%d", i)))
		sum, err := gorgonia.Add(made[len(made)-1], in)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, in, sum)
	}
	return made
}

// TestPrimedLookupsFindTheirNodes checks Gorgonia's definition of a lookup
// on a primed graph, for nodes made before priming, within the reserve and
// past it: Node(id) is the node of that ID, and From(id) its arguments in
// order.
func TestPrimedLookupsFindTheirNodes(t *testing.T) {
	g := gorgonia.NewGraph()
	before := chain(t, g, 5)
	ix, err := Prime(g, 10)
	if err != nil {
		t.Fatal(err)
	}
	after := chain(t, g, 20)
	if !ix.Intact() {
		t.Fatal("no node was removed, yet the index is not intact")
	}
	for _, n := range append(before, after...) {
		if got := g.Node(n.ID()); got != n {
			t.Fatalf("Node(%d) = %v, want %v", n.ID(), got, n)
		}
		if op := n.Op(); op != nil && op.Arity() == 2 {
			from := g.From(n.ID())
			if from.Len() != 2 {
				t.Fatalf("From(%v) has %d nodes, want 2", n, from.Len())
			}
		}
	}
	ix.Trim()
	for _, n := range after {
		if got := g.Node(n.ID()); got != n {
			t.Fatalf("after Trim, Node(%d) = %v, want %v", n.ID(), got, n)
		}
	}
}

// TestRemovalIsReported: Gorgonia removes nodes it has made (its
// stabilization rewrites log(1+a), for its own constant 1, as log1p(a) and
// removes 1+a), which shifts the positions the index primed; Intact must
// say so, before and after more nodes are added.
func TestRemovalIsReported(t *testing.T) {
	g := gorgonia.NewGraph()
	ix, err := Prime(g, 100)
	if err != nil {
		t.Fatal(err)
	}
	made := chain(t, g, 3)
	if !ix.Intact() {
		t.Fatal("the index is not intact before any removal")
	}
	g.RemoveNode(made[2])
	if ix.Intact() {
		t.Error("a node was removed, yet the index reports it intact")
	}
	chain(t, g, 1)
	if ix.Intact() {
		t.Error("a node was removed and others added, yet the index reports it intact")
	}
}
