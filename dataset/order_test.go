package dataset

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// lengthSet returns an unlabeled set with sequences of the given lengths,
// one feature each, whose values are the observation's index.
func lengthSet(t testing.TB, lens ...int) *InMemory {
	t.Helper()
	seqs := make([]Sequence, len(lens))
	for i, l := range lens {
		data := make([]float64, l)
		fill(data, float64(i))
		seqs[i] = Sequence{Data: data, T: l, F: 1}
	}
	m, err := NewUnlabeled(seqs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustBatcher(t testing.TB, src Source, size int, opts ...BatchOption) *Batcher {
	t.Helper()
	br, err := NewBatcher(src, size, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return br
}

func TestShuffleModes(t *testing.T) {
	src := randomSet(t, 20, 5, 1, 1)
	ident := identity(make([]int, 20))
	order := func(br *Batcher, e int) []int { return br.order(e, make([]int, 20)) }

	never := mustBatcher(t, src, 3, WithShuffleMode(ShuffleNever, 5))
	once := mustBatcher(t, src, 3, WithShuffleMode(ShuffleOnce, 5))
	every := mustBatcher(t, src, 3, WithShuffleMode(ShuffleEveryEpoch, 5))
	short := mustBatcher(t, src, 3, WithShuffle(5))
	for _, e := range []int{0, 1, 7} {
		if !slices.Equal(order(never, e), ident) {
			t.Errorf("never: epoch %d in order %v, want source order", e, order(never, e))
		}
		if !slices.Equal(order(once, e), order(every, 0)) {
			t.Errorf("once: epoch %d in order %v, want every-epoch's epoch 0 %v", e, order(once, e), order(every, 0))
		}
		if !slices.Equal(order(short, e), order(every, e)) {
			t.Errorf("WithShuffle differs from WithShuffleMode(ShuffleEveryEpoch) in epoch %d", e)
		}
	}
	if slices.Equal(order(once, 0), ident) {
		t.Errorf("once: not shuffled")
	}
	if slices.Equal(order(every, 0), order(every, 1)) {
		t.Errorf("every-epoch: epochs 0 and 1 in the same order")
	}
	other := mustBatcher(t, src, 3, WithShuffleMode(ShuffleOnce, 6))
	if slices.Equal(order(once, 0), order(other, 0)) {
		t.Errorf("once: seeds 5 and 6 give the same order")
	}

	for _, m := range []ShuffleMode{ShuffleNever, ShuffleOnce, ShuffleEveryEpoch} {
		if got, err := ParseShuffleMode(m.String()); err != nil || got != m {
			t.Errorf("%v does not round-trip: %v, %v", m, got, err)
		}
	}
	if got, err := ParseShuffleMode("Every-Epoch"); err != nil || got != ShuffleEveryEpoch {
		t.Errorf(`ParseShuffleMode("Every-Epoch") = %v, %v`, got, err)
	}
	_, err := ParseShuffleMode("always")
	checkErr(t, "ParseShuffleMode", err, `unknown shuffle mode "always"`)
}

// TestSortByLength follows MATLAB's recipe: sort by length, never shuffle.
func TestSortByLength(t *testing.T) {
	src := lengthSet(t, 3, 1, 2, 1, 5, 2, 4)
	for _, test := range []struct {
		name    string
		opts    []BatchOption
		batches [][]int
		ts      []int
	}{
		{"sorted", []BatchOption{WithSortByLength()}, [][]int{{1, 3}, {2, 5}, {0, 6}, {4}}, []int{1, 2, 4, 5}},
		{"sorted never", []BatchOption{WithSortByLength(), WithShuffleMode(ShuffleNever, 3)}, [][]int{{1, 3}, {2, 5}, {0, 6}, {4}}, []int{1, 2, 4, 5}},
		{"sorted drop last", []BatchOption{WithSortByLength(), WithDropLast(true)}, [][]int{{1, 3}, {2, 5}, {0, 6}}, []int{1, 2, 4}},
		{"unsorted", nil, [][]int{{0, 1}, {2, 3}, {4, 5}, {6}}, []int{3, 2, 5, 4}},
	} {
		br := mustBatcher(t, src, 2, test.opts...)
		for _, e := range []int{0, 3} {
			var got [][]int
			var ts []int
			for bt, err := range br.Epoch(e) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, slices.Clone(bt.Indices))
				ts = append(ts, bt.T)
			}
			if !slices.EqualFunc(got, test.batches, slices.Equal) || !slices.Equal(ts, test.ts) {
				t.Errorf("%s epoch %d: batches %v of T %v, want %v of T %v", test.name, e, got, ts, test.batches, test.ts)
			}
		}
	}
}

func TestBucketsExact(t *testing.T) {
	// Windows of 2 batches of 2: lengths 5 1 4 2 sort to 1 3 2 0, lengths
	// 3 6 1 1 to 6 7 4 5; observation 8 is the remainder.
	src := lengthSet(t, 5, 1, 4, 2, 3, 6, 1, 1, 9)
	br := mustBatcher(t, src, 2, WithBuckets(2))
	want := []int{1, 3, 2, 0, 6, 7, 4, 5, 8}
	for _, e := range []int{0, 1} {
		if got := br.order(e, make([]int, 9)); !slices.Equal(got, want) {
			t.Errorf("epoch %d: order %v, want %v", e, got, want)
		}
	}
	// One window as large as the set sorts everything but the remainder.
	br = mustBatcher(t, src, 2, WithBuckets(100))
	if got, want := br.order(0, make([]int, 9)), []int{1, 6, 7, 3, 4, 2, 0, 5, 8}; !slices.Equal(got, want) {
		t.Errorf("one window: order %v, want %v", got, want)
	}
}

func TestBuckets(t *testing.T) {
	for _, n := range []int{1, 9, 50} {
		src := randomSet(t, n, 30, 2, int64(n))
		for _, size := range []int{1, 4, 64} {
			for _, buckets := range []int{1, 3, 1000} {
				for _, mode := range []ShuffleMode{ShuffleNever, ShuffleOnce, ShuffleEveryEpoch} {
					for _, drop := range []bool{false, true} {
						name := fmt.Sprintf("n=%d size=%d buckets=%d %v drop=%t", n, size, buckets, mode, drop)
						opts := []BatchOption{WithBuckets(buckets), WithShuffleMode(mode, 11), WithDropLast(drop), WithPaddingValue(-0.5)}
						br, err := NewBatcher(src, size, opts...)
						if drop && n < size {
							checkErr(t, name, err, "no batches")
							continue
						}
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						// Every kept observation exactly once per epoch, in
						// batches of the right sizes.
						testCoverage(t, name, src, br, n, size, drop)
						again := mustBatcher(t, src, size, opts...)
						for e := range 3 {
							if a, b := br.order(e, make([]int, n)), again.order(e, make([]int, n)); !slices.Equal(a, b) {
								t.Errorf("%s epoch %d: same seed, different orders %v and %v", name, e, a, b)
							}
						}
						if a, b := br.order(0, make([]int, n)), br.order(1, make([]int, n)); mode != ShuffleEveryEpoch && !slices.Equal(a, b) {
							t.Errorf("%s: epochs 0 and 1 in orders %v and %v, want the same", name, a, b)
						}
						checkWindowsSorted(t, name, src, br, size, buckets)
					}
				}
			}
		}
	}
}

// checkWindowsSorted checks that within every whole batch the lengths
// ascend, as sorting the batch's window leaves them; TestBucketsExact
// checks the windows themselves.
func checkWindowsSorted(t *testing.T, name string, src *InMemory, br *Batcher, size, buckets int) {
	t.Helper()
	n := src.Len()
	full := n - n%size
	for e := range 2 {
		order := br.order(e, make([]int, n))
		for p := range full {
			if p%size == 0 {
				continue
			}
			// Within a batch the window's sort leaves lengths ascending.
			if src.Sequence(order[p]).T < src.Sequence(order[p-1]).T {
				t.Errorf("%s epoch %d: batch %d not sorted by length: %v", name, e, p/size, order[p/size*size:(p/size+1)*size])
				return
			}
		}
	}
}

func TestBucketsShuffle(t *testing.T) {
	src := randomSet(t, 200, 100, 1, 2)
	br := mustBatcher(t, src, 8, WithBuckets(5), WithShuffle(4))
	a, b := br.order(0, make([]int, 200)), br.order(1, make([]int, 200))
	if slices.Equal(a, b) {
		t.Errorf("every-epoch bucketing gives the same order in epochs 0 and 1")
	}
	// The batch order is shuffled: batch lengths do not ascend in runs of
	// whole windows.
	var ts []int
	for k := 0; k < 25; k++ {
		lens := make([]int, 8)
		for j := range lens {
			lens[j] = src.Sequence(a[k*8+j]).T
		}
		ts = append(ts, maxOf(lens))
	}
	if slices.IsSorted(ts[:5]) && slices.IsSorted(ts[5:10]) && slices.IsSorted(ts[10:15]) {
		t.Errorf("batch order not shuffled: batch lengths %v", ts)
	}
}

// TestBucketsReducePadding compares the padding of plain shuffling with
// that of bucketing on a set of widely varying lengths.
func TestBucketsReducePadding(t *testing.T) {
	src := randomSet(t, 1000, 500, 1, 3)
	plain := mustBatcher(t, src, 16, WithShuffle(1))
	bucketed := mustBatcher(t, src, 16, WithShuffle(1), WithBuckets(8))
	sorted := mustBatcher(t, src, 16, WithSortByLength())
	for e := range 3 {
		p, err := plain.PaddingFraction(e)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bucketed.PaddingFraction(e)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sorted.PaddingFraction(e)
		if err != nil {
			t.Fatal(err)
		}
		// Lengths uniform on [1, 500] in random batches of 16 pad nearly
		// half of every batch. Sorted windows of 128 observations space
		// lengths about 4 apart, so a batch spans about 60 steps and pads
		// about 30 of the 280 or so of its longest: about 0.11.
		if p < 0.4 || b > 0.15 || b > p/3 || s > b {
			t.Errorf("epoch %d: padding fraction %.3f plain, %.3f bucketed, %.3f sorted, want bucketed at most 0.15 and a third of plain, and sorted least", e, p, b, s)
		}
		t.Logf("epoch %d: padding fraction %.3f plain, %.3f bucketed, %.4f sorted", e, p, b, s)
	}
}

// TestPaddingFraction checks the measure against the masks of the batches
// that the epoch actually yields.
func TestPaddingFraction(t *testing.T) {
	src := lengthSet(t, 3, 1, 2)
	for _, test := range []struct {
		name string
		opts []BatchOption
		want float64
	}{
		{"longest", nil, 2.0 / 8},
		{"chunked", []BatchOption{WithSequenceLength(2)}, 2.0 / 8},
		{"shortest", []BatchOption{WithSequenceLength(Shortest)}, 0},
	} {
		br := mustBatcher(t, src, 2, test.opts...)
		got, err := br.PaddingFraction(0)
		if err != nil || got != test.want {
			t.Errorf("%s: PaddingFraction = %v, %v, want %v", test.name, got, err, test.want)
		}
	}

	rs := randomSet(t, 100, 40, 1, 9)
	for _, opts := range [][]BatchOption{
		{WithShuffle(1)},
		{WithShuffle(1), WithBuckets(3), WithDropLast(true)},
		{WithShuffle(1), WithSequenceLength(7)},
		{WithSortByLength(), WithPaddingDirection(PadLeft)},
	} {
		br := mustBatcher(t, rs, 8, opts...)
		for e := range 2 {
			var zeros, total int
			for bt, err := range br.Epoch(e) {
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range bt.Mask {
					if m == 0 {
						zeros++
					}
				}
				total += len(bt.Mask)
			}
			got, err := br.PaddingFraction(e)
			if err != nil {
				t.Fatal(err)
			}
			if want := float64(zeros) / float64(total); math.Abs(got-want) > 1e-12 {
				t.Errorf("%d options, epoch %d: PaddingFraction = %v, want %v from the masks", len(opts), e, got, want)
			}
		}
	}
}

func TestOrderErrors(t *testing.T) {
	src := randomSet(t, 5, 3, 1, 1)
	for _, test := range []struct {
		name string
		opts []BatchOption
		want []string
	}{
		{"sort and shuffle", []BatchOption{WithSortByLength(), WithShuffle(1)}, []string{"WithSortByLength with shuffle mode every-epoch", "WithBuckets"}},
		{"sort and once", []BatchOption{WithShuffleMode(ShuffleOnce, 1), WithSortByLength()}, []string{"shuffle mode once"}},
		{"sort and buckets", []BatchOption{WithSortByLength(), WithBuckets(2)}, []string{"WithSortByLength and WithBuckets"}},
		{"zero buckets", []BatchOption{WithBuckets(0)}, []string{"buckets of 0 batches"}},
		{"bad shuffle mode", []BatchOption{WithShuffleMode(3, 1)}, []string{"invalid shuffle mode ShuffleMode(3)"}},
		{"bad sequence length", []BatchOption{WithSequenceLength(-2)}, []string{"invalid sequence length SequenceLength(-2)"}},
	} {
		_, err := NewBatcher(src, 2, test.opts...)
		checkErr(t, test.name, err, test.want...)
		_, err = MakeBatch(src, []int{0}, test.opts...)
		checkErr(t, test.name+" MakeBatch", err, test.want...)
	}

	// A source that fails while its lengths are read fails NewBatcher when
	// an option orders by length, and the measures otherwise.
	seq := Sequence{Data: []float64{1}, T: 1, F: 1}
	bad := &fakeSource{schema: Schema{NumFeatures: 1}, obs: []Observation{{Seq: seq}, {Seq: seq}, {Seq: seq}}, failAt: 2}
	_, err := NewBatcher(bad, 2, WithBuckets(1))
	checkErr(t, "buckets on failing source", err, "observation 2", "disk on fire")
	br := mustBatcher(t, bad, 2, WithSequenceLength(4))
	_, err = br.NumChunks(0)
	checkErr(t, "NumChunks on failing source", err, "observation 2", "disk on fire")
	_, err = br.PaddingFraction(0)
	checkErr(t, "PaddingFraction on failing source", err, "observation 2", "disk on fire")
}

func TestSequenceLengthParse(t *testing.T) {
	for _, test := range []struct {
		s    string
		want SequenceLength
	}{
		{"longest", Longest}, {"Shortest", Shortest}, {"LONGEST", Longest}, {"50", 50}, {"1", 1},
	} {
		got, err := ParseSequenceLength(test.s)
		if err != nil || got != test.want {
			t.Errorf("ParseSequenceLength(%q) = %v, %v, want %v", test.s, got, err, test.want)
		}
		if back, err := ParseSequenceLength(got.String()); err != nil || back != got {
			t.Errorf("%v does not round-trip: %v, %v", got, back, err)
		}
	}
	for _, s := range []string{"", "0", "-3", "long", "2.5"} {
		_, err := ParseSequenceLength(s)
		checkErr(t, s, err, "unknown sequence length")
	}
}
