package japanesevowels

import (
	"testing"

	"github.com/seqgraph/seqgraph/dataset"
)

func TestSplits(t *testing.T) {
	for _, c := range []struct {
		name   string
		load   func() (*dataset.InMemory, error)
		counts []int // utterances per speaker, from data/size_ae.*
	}{
		{"train", Train, []int{30, 30, 30, 30, 30, 30, 30, 30, 30}},
		{"test", Test, []int{31, 35, 88, 44, 29, 24, 40, 50, 29}},
	} {
		src, err := c.load()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		counts := make([]int, 9)
		for i := 0; i < src.Len(); i++ {
			counts[src.Label(i)]++
			if src.Sequence(i).F != 12 {
				t.Fatalf("%s: utterance %d has %d features, want 12", c.name, i, src.Sequence(i).F)
			}
		}
		for k := range counts {
			if counts[k] != c.counts[k] {
				t.Errorf("%s: speaker %d has %d utterances, want %d", c.name, k+1, counts[k], c.counts[k])
			}
		}
	}
	if names := ClassNames(); len(names) != 9 || names[0] != "1" || names[8] != "9" {
		t.Errorf("class names %v", names)
	}
}
