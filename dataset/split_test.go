package dataset

import (
	"math"
	"slices"
	"testing"
)

// TestStratifiedHoldOut checks the definition of a stratified hold-out
// (MATLAB's cvpartition with "HoldOut" and class labels): the parts are
// disjoint and cover every observation, and each class contributes
// round(p·n) observations, at most n-1, to the test part.
func TestStratifiedHoldOut(t *testing.T) {
	// The class sizes of MATLAB's factory reports: 204, 168, 68 and 40,
	// interleaved, and a class of one.
	sizes := []int{204, 168, 68, 40, 1}
	var labels []int
	for k, n := range sizes {
		for range n {
			labels = append(labels, k)
		}
	}
	// Interleave so that classes are not in blocks.
	for i := range labels {
		j := (i * 7919) % len(labels)
		labels[i], labels[j] = labels[j], labels[i]
	}
	for _, p := range []float64{0.1, 0.2, 0.5, 0.9} {
		train, test, err := StratifiedHoldOut(labels, p, 42)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(train) || !slices.IsSorted(test) {
			t.Errorf("p=%v: parts not sorted", p)
		}
		all := slices.Concat(train, test)
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("p=%v: parts are not a partition of 0..%d", p, len(labels)-1)
			}
		}
		count := make([]int, len(sizes))
		for _, i := range test {
			count[labels[i]]++
		}
		for k, n := range sizes {
			want := min(int(math.Round(p*float64(n))), n-1)
			if count[k] != want {
				t.Errorf("p=%v: class %d of %d has %d test observations, want %d", p, k, n, count[k], want)
			}
		}
	}
	// A seed gives one split; another seed another.
	a, _, _ := StratifiedHoldOut(labels, 0.2, 1)
	b, _, _ := StratifiedHoldOut(labels, 0.2, 1)
	c, _, _ := StratifiedHoldOut(labels, 0.2, 2)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Error("the split is not a function of the seed")
	}
}

func TestStratifiedHoldOutErrors(t *testing.T) {
	for _, test := range []struct {
		name   string
		labels []int
		p      float64
		want   []string
	}{
		{"zero", []int{0, 1}, 0, []string{"test fraction 0, want a number between 0 and 1"}},
		{"one", []int{0, 1}, 1, []string{"test fraction 1"}},
		{"NaN", []int{0, 1}, math.NaN(), []string{"test fraction NaN"}},
		{"no labels", nil, 0.5, []string{"no labels to split"}},
		{"nothing to test", []int{0, 0, 1, 1}, 0.1, []string{"leaves no test observations"}},
	} {
		_, _, err := StratifiedHoldOut(test.labels, test.p, 1)
		checkErr(t, test.name, err, test.want...)
	}
}

func TestInMemoryHoldOut(t *testing.T) {
	var seqs []Sequence
	var labels []int
	var responses [][]float64
	for i := range 20 {
		seqs = append(seqs, Series([]float64{float64(i)}))
		labels = append(labels, i%2)
		responses = append(responses, []float64{float64(i)})
	}
	cls, err := NewClassification(seqs, labels, 2)
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := cls.HoldOut(0.3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 14 || test.Len() != 6 {
		t.Fatalf("%d training and %d test observations, want 14 and 6", train.Len(), test.Len())
	}
	ones := 0
	for i := range test.Len() {
		// Each observation keeps its label: sequence i has label i%2.
		if v := test.Sequence(i).Data[0]; int(v)%2 != test.Label(i) {
			t.Errorf("test observation %v has label %d", v, test.Label(i))
		}
		ones += test.Label(i)
	}
	if ones != 3 {
		t.Errorf("%d of 6 test observations in class 1, want 3", ones)
	}
	reg, err := NewRegression(seqs, responses)
	if err != nil {
		t.Fatal(err)
	}
	train, test, err = reg.HoldOut(0.25, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 15 || test.Len() != 5 || test.Response(0)[0] != test.Sequence(0).Data[0] {
		t.Errorf("regression: %d and %d observations, want 15 and 5 with their responses", train.Len(), test.Len())
	}
}

func TestEncodeLabels(t *testing.T) {
	codes, names, err := EncodeLabels([]string{"10", "9", "10", "2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"2", "9", "10"}) || !slices.Equal(codes, []int{2, 1, 2, 0}) {
		t.Errorf("numeric labels: classes %q, codes %v; want [2 9 10], [2 1 2 0]", names, codes)
	}
	codes, names, err = EncodeLabels([]string{"Leak", "Mechanical Failure", "Leak"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"Leak", "Mechanical Failure"}) || !slices.Equal(codes, []int{0, 1, 0}) {
		t.Errorf("text labels: classes %q, codes %v", names, codes)
	}
	codes, _, err = EncodeLabels([]string{"b", "a"}, []string{"b", "c", "a"})
	if err != nil || !slices.Equal(codes, []int{0, 2}) {
		t.Errorf("given classes: codes %v, error %v; want [0 2]", codes, err)
	}
	_, _, err = EncodeLabels([]string{"a", "d"}, []string{"a", "b"})
	checkErr(t, "unknown label", err, `label 1 is "d", not one of the 2 class names given`)
	_, _, err = EncodeLabels([]string{"a", ""}, nil)
	checkErr(t, "empty label", err, "label 1 is empty")
	_, _, err = EncodeLabels(nil, nil)
	checkErr(t, "no labels", err, "no labels")
	_, _, err = EncodeLabels([]string{"a"}, []string{"a", "a"})
	checkErr(t, "class names twice", err, `class names 0 and 1 are both "a"`)
}
