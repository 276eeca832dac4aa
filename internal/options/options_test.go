package options

import "testing"

func TestCheck(t *testing.T) {
	var g Given
	if err := g.Check("lstm", "gate activation"); err != nil {
		t.Errorf("no options given: %v", err)
	}
	g.Mark("stride")
	g.Mark("gate activation")
	g.Mark("padding")
	if !g.Has("stride") || g.Has("name") {
		t.Errorf("Has: %v", g)
	}
	err := g.Check("graph: layer 2 (LSTM)", "gate activation")
	if err == nil || err.Error() != "graph: layer 2 (LSTM) does not take a padding" {
		t.Errorf("error %v; want the first option by name that is not taken", err)
	}
	if err := g.Check("conv", "stride", "padding", "gate activation"); err != nil {
		t.Errorf("all taken: %v", err)
	}
}
