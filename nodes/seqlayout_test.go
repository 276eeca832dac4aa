package nodes

import (
	"slices"
	"testing"
)

// timeMajor lays out per-sequence masks (one row of T values per sequence)
// as the T·B values of a time-major batch.
func timeMajor(seqs ...[]float64) []float64 {
	steps, b := len(seqs[0]), len(seqs)
	m := make([]float64, steps*b)
	for s, v := range seqs {
		for t, x := range v {
			m[t*b+s] = x
		}
	}
	return m
}

func TestLayoutOfReadsRunsAndSide(t *testing.T) {
	cases := []struct {
		name          string
		mask          [][]float64
		start, length []int
		left          bool
	}{
		{"right", [][]float64{{1, 1, 1, 0}, {1, 0, 0, 0}, {1, 1, 1, 1}}, []int{0, 0, 0}, []int{3, 1, 4}, false},
		{"left", [][]float64{{0, 1, 1, 1}, {0, 0, 0, 1}, {1, 1, 1, 1}}, []int{1, 3, 0}, []int{3, 1, 4}, true},
		{"full length", [][]float64{{1, 1}, {1, 1}}, []int{0, 0}, []int{2, 2}, false},
		{"one step", [][]float64{{1}}, []int{0}, []int{1}, false},
	}
	for _, c := range cases {
		l, err := layoutOf(timeMajor(c.mask...), len(c.mask[0]), len(c.mask))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(l.start, c.start) || !slices.Equal(l.length, c.length) || l.left != c.left {
			t.Errorf("%s: starts %v, lengths %v, left %t; want %v, %v, %t", c.name, l.start, l.length, l.left, c.start, c.length, c.left)
		}
		if got := l.mask(); !slices.Equal(got, timeMajor(c.mask...)) {
			t.Errorf("%s: mask() = %v, want the input mask", c.name, got)
		}
	}
}

func TestLayoutOfRejectsMalformedMasks(t *testing.T) {
	cases := []struct {
		name  string
		mask  [][]float64
		parts []string
	}{
		{"two runs", [][]float64{{1, 1, 1, 1}, {1, 0, 1, 0}}, []string{"sequence 1", "not one run"}},
		{"empty sequence", [][]float64{{1, 1, 1}, {0, 0, 0}}, []string{"sequence 1 has no real steps"}},
		{"both sides", [][]float64{{1, 1, 0}, {0, 1, 1}}, []string{"sequence 0 is padded on the right", "sequence 1 on the left"}},
		{"in the middle", [][]float64{{1, 1, 1}, {0, 1, 0}}, []string{"sequence 1", "touch neither end"}},
		{"not 0 or 1", [][]float64{{1, 0.5, 0}}, []string{"step 1 of sequence 0 is 0.5"}},
	}
	for _, c := range cases {
		_, err := layoutOf(timeMajor(c.mask...), len(c.mask[0]), len(c.mask))
		wantErr(t, c.name, err, c.parts...)
	}
	_, err := layoutOf(make([]float64, 5), 2, 3)
	wantErr(t, "wrong size", err, "5 values for 2 steps of 3 sequences")
}

func TestWindowPaddingFollowsMATLAB(t *testing.T) {
	same, causal := Padding1D{Mode: PadSame}, Padding1D{Mode: PadCausal}
	cases := []struct {
		w                 window1D
		n                 int
		left, right, outs int
	}{
		// MATLAB's "same": p = max((⌈n/s⌉-1)·s + d·(k-1)+1 - n, 0), ⌊p/2⌋ on the left.
		{window1D{size: 3, stride: 1, dilation: 1, pad: same}, 7, 1, 1, 7},
		{window1D{size: 4, stride: 1, dilation: 1, pad: same}, 7, 1, 2, 7},
		{window1D{size: 3, stride: 1, dilation: 2, pad: same}, 5, 2, 2, 5},
		{window1D{size: 3, stride: 2, dilation: 1, pad: same}, 8, 0, 1, 4},
		{window1D{size: 3, stride: 2, dilation: 1, pad: same}, 7, 1, 1, 4},
		{window1D{size: 2, stride: 3, dilation: 1, pad: same}, 10, 0, 1, 4},
		{window1D{size: 1, stride: 4, dilation: 1, pad: same}, 5, 0, 0, 2},
		{window1D{size: 3, stride: 1, dilation: 2, pad: causal}, 5, 4, 0, 5},
		{window1D{size: 2, stride: 2, dilation: 1, pad: causal}, 5, 1, 0, 3},
		{window1D{size: 3, stride: 2, dilation: 1, pad: Padding1D{Left: 1, Right: 2}}, 6, 1, 2, 4},
		{window1D{size: 4, stride: 1, dilation: 1}, 3, 0, 0, 0},
	}
	for _, c := range cases {
		l, r := c.w.pads(c.n)
		if l != c.left || r != c.right || c.w.outLen(c.n) != c.outs {
			t.Errorf("%v on %d steps: pads %d, %d and %d outputs, want %d, %d and %d",
				c.w, c.n, l, r, c.w.outLen(c.n), c.left, c.right, c.outs)
		}
	}
}
