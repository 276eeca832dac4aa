package dataset

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// randomSet returns n classification observations of random lengths in
// [1, maxT] whose first feature at every timestep is the observation's
// index, so that batches can be checked against the source.
func randomSet(t testing.TB, n, maxT, f int, seed int64) *InMemory {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	seqs := make([]Sequence, n)
	labels := make([]int, n)
	for i := range seqs {
		l := 1 + rng.Intn(maxT)
		data := make([]float64, l*f)
		for j := range data {
			data[j] = rng.NormFloat64()
			if j%f == 0 {
				data[j] = float64(i)
			}
		}
		seqs[i] = Sequence{Data: data, T: l, F: f}
		labels[i] = i % 5
	}
	m, err := NewClassification(seqs, labels, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkBatch checks every field of bt against src.
func checkBatch(t *testing.T, name string, src *InMemory, bt *Batch, pad float64) {
	t.Helper()
	if bt.F != src.NumFeatures() || len(bt.X) != bt.B*bt.T*bt.F || len(bt.Mask) != bt.B*bt.T ||
		len(bt.Lengths) != bt.B || len(bt.Indices) != bt.B || len(bt.Labels) != bt.B {
		t.Fatalf("%s: inconsistent shapes: B, T, F = %d, %d, %d, len X, Mask, Lengths, Indices, Labels = %d, %d, %d, %d, %d",
			name, bt.B, bt.T, bt.F, len(bt.X), len(bt.Mask), len(bt.Lengths), len(bt.Indices), len(bt.Labels))
	}
	maxT := 0
	for b, i := range bt.Indices {
		seq := src.Sequence(i)
		maxT = max(maxT, seq.T)
		if bt.Lengths[b] != seq.T || bt.Labels[b] != src.Label(i) {
			t.Errorf("%s: sequence %d (observation %d): length %d, label %d, want %d, %d",
				name, b, i, bt.Lengths[b], bt.Labels[b], seq.T, src.Label(i))
		}
		start, end := bt.Span(b)
		for s := range bt.T {
			real := start <= s && s < end
			row := bt.X[(b*bt.T+s)*bt.F : (b*bt.T+s+1)*bt.F]
			switch {
			case real && bt.Mask[b*bt.T+s] != 1:
				t.Errorf("%s: sequence %d: mask 0 at real timestep %d", name, b, s)
			case !real && bt.Mask[b*bt.T+s] != 0:
				t.Errorf("%s: sequence %d: mask 1 at padding timestep %d", name, b, s)
			case real && !slices.Equal(row, seq.Row(s-start)):
				t.Errorf("%s: sequence %d: timestep %d is %v, want %v", name, b, s, row, seq.Row(s-start))
			case !real && slices.ContainsFunc(row, func(v float64) bool { return v != pad }):
				t.Errorf("%s: sequence %d: padding timestep %d is %v, want %v", name, b, s, row, pad)
			}
		}
	}
	if bt.T != maxT {
		t.Errorf("%s: T = %d, want longest length %d", name, bt.T, maxT)
	}
}

func TestBatcherCoverage(t *testing.T) {
	for _, n := range []int{1, 7, 10, 50} {
		src := randomSet(t, n, 6, 3, int64(n))
		for _, size := range []int{1, 3, 10, 64} {
			for _, shuffle := range []bool{false, true} {
				for _, drop := range []bool{false, true} {
					for _, dir := range []PaddingDirection{PadRight, PadLeft} {
						name := fmt.Sprintf("n=%d size=%d shuffle=%t drop=%t %v", n, size, shuffle, drop, dir)
						opts := []BatchOption{WithDropLast(drop), WithPaddingDirection(dir), WithPaddingValue(-0.5)}
						if shuffle {
							opts = append(opts, WithShuffle(42))
						}
						br, err := NewBatcher(src, size, opts...)
						if drop && n < size {
							checkErr(t, name, err, "no batches")
							continue
						}
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						testCoverage(t, name, src, br, n, size, drop)
					}
				}
			}
		}
	}
}

func testCoverage(t *testing.T, name string, src *InMemory, br *Batcher, n, size int, drop bool) {
	t.Helper()
	wantBatches := (n + size - 1) / size
	kept := n
	if drop {
		wantBatches = n / size
		kept = n - n%size
	}
	if br.NumBatches() != wantBatches {
		t.Errorf("%s: NumBatches() = %d, want %d", name, br.NumBatches(), wantBatches)
	}
	for epoch := range 3 {
		name := fmt.Sprintf("%s epoch %d", name, epoch)
		var visited []int
		batches := 0
		for bt, err := range br.Epoch(epoch) {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want := min(size, n-batches*size); bt.B != want {
				t.Errorf("%s: batch %d has %d observations, want %d", name, batches, bt.B, want)
			}
			checkBatch(t, name, src, bt, -0.5)
			visited = append(visited, bt.Indices...)
			batches++
		}
		if batches != wantBatches {
			t.Errorf("%s: %d batches, want %d", name, batches, wantBatches)
		}
		if len(visited) != kept {
			t.Errorf("%s: visited %d observations, want %d", name, len(visited), kept)
		}
		seen := make([]int, n)
		for _, i := range visited {
			seen[i]++
		}
		order := br.order(epoch, make([]int, n))
		if !slices.Equal(visited, order[:kept]) {
			t.Errorf("%s: visited %v, want the epoch's order %v", name, visited, order[:kept])
		}
		// Every kept observation exactly once; the dropped ones are exactly
		// the remainder at the end of the epoch's order.
		for p, i := range order {
			want := 1
			if p >= kept {
				want = 0
			}
			if seen[i] != want {
				t.Errorf("%s: observation %d at position %d visited %d times, want %d", name, i, p, seen[i], want)
			}
		}
	}
}

func TestBatcherUnshuffledOrder(t *testing.T) {
	src := randomSet(t, 10, 4, 1, 1)
	br, err := NewBatcher(src, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, epoch := range []int{0, 1, 17} {
		var got [][]int
		for bt, err := range br.Epoch(epoch) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, slices.Clone(bt.Indices))
		}
		want := [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("epoch %d: batches %v, want %v", epoch, got, want)
		}
	}
}

// collect returns deep copies of the batches of one epoch.
func collect(t *testing.T, br *Batcher, epoch int) []*Batch {
	t.Helper()
	var out []*Batch
	for bt, err := range br.Epoch(epoch) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bt.Clone())
	}
	return out
}

func TestBatcherReproducible(t *testing.T) {
	src := randomSet(t, 50, 8, 2, 3)
	newBatcher := func(seed int64) *Batcher {
		br, err := NewBatcher(src, 8, WithShuffle(seed), WithPaddingDirection(PadLeft))
		if err != nil {
			t.Fatal(err)
		}
		return br
	}
	a, b := newBatcher(7), newBatcher(7)

	// Epoch 4 of a fresh batcher must match epoch 4 of one that has already
	// run other epochs.
	for e := range 4 {
		collect(t, a, e)
	}
	got, want := collect(t, a, 4), collect(t, b, 4)
	if len(got) != len(want) {
		t.Fatalf("%d batches, want %d", len(got), len(want))
	}
	for k := range got {
		if !batchEqual(got[k], want[k]) {
			t.Errorf("batch %d differs between batchers with the same seed", k)
		}
	}

	orders := make(map[string]int)
	for e := range 20 {
		key := fmt.Sprint(a.order(e, make([]int, 50)))
		if prev, ok := orders[key]; ok {
			t.Errorf("epochs %d and %d have the same order", prev, e)
		}
		orders[key] = e
	}
	if slices.Equal(a.order(0, make([]int, 50)), newBatcher(8).order(0, make([]int, 50))) {
		t.Errorf("seeds 7 and 8 give the same order")
	}
	// Neighbouring seeds must not replay each other's epochs shifted by one.
	if slices.Equal(a.order(1, make([]int, 50)), newBatcher(8).order(0, make([]int, 50))) {
		t.Errorf("epoch 1 of seed 7 replays epoch 0 of seed 8")
	}
	ident := make([]int, 50)
	for i := range ident {
		ident[i] = i
	}
	if slices.Equal(a.order(0, make([]int, 50)), ident) {
		t.Errorf("shuffled epoch is in source order")
	}
}

func TestBatcherStopsEarly(t *testing.T) {
	br, err := NewBatcher(randomSet(t, 10, 3, 1, 1), 2)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range br.Epoch(0) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("ran %d iterations, want 2", n)
	}
}

func TestBatcherSourceError(t *testing.T) {
	seq := Sequence{Data: []float64{1}, T: 1, F: 1}
	obs := make([]Observation, 10)
	for i := range obs {
		obs[i] = Observation{Seq: seq}
	}
	src := &fakeSource{schema: Schema{NumFeatures: 1}, obs: obs, failAt: 5}
	br, err := NewBatcher(src, 2)
	if err != nil {
		t.Fatal(err)
	}
	var good, bad int
	for bt, err := range br.Epoch(0) {
		if err != nil {
			bad++
			checkErr(t, "source error", err, "observation 5", "disk on fire")
			if bt != nil {
				t.Errorf("non-nil batch with error")
			}
			continue
		}
		good++
	}
	if good != 2 || bad != 1 {
		t.Errorf("%d batches then %d errors, want 2 then 1", good, bad)
	}
}

func TestNewBatcherErrors(t *testing.T) {
	src := randomSet(t, 5, 3, 1, 1)
	for _, test := range []struct {
		name string
		src  Source
		size int
		opts []BatchOption
		want []string
	}{
		{"nil source", nil, 2, nil, []string{"nil source"}},
		{"zero batch size", src, 0, nil, []string{"batch size 0"}},
		{"negative batch size", src, -3, nil, []string{"batch size -3"}},
		{"NaN padding", src, 2, []BatchOption{WithPaddingValue(-1), WithPaddingValue(math.NaN())}, []string{"padding value is NaN"}},
		{"bad direction", src, 2, []BatchOption{WithPaddingDirection(-1)}, []string{"invalid padding direction"}},
		{"nil option", src, 2, []BatchOption{nil}, []string{"option 0 is nil"}},
		{"drop leaves nothing", src, 6, []BatchOption{WithDropLast(true)}, []string{"no batches", "5 observations, batch size 6"}},
		{"empty source", &fakeSource{schema: Schema{NumFeatures: 1}, failAt: -1}, 2, nil, []string{"0 observations"}},
		{"bad response size", &fakeSource{schema: Schema{NumFeatures: 1, ResponseSize: -2}, failAt: -1}, 2, nil, []string{"response size -2"}},
		{"bad schema", &fakeSource{schema: Schema{NumFeatures: 1, NumClasses: -1}, failAt: -1}, 2, nil, []string{"-1 classes"}},
	} {
		_, err := NewBatcher(test.src, test.size, test.opts...)
		checkErr(t, test.name, err, test.want...)
	}
}

func TestNumBatches(t *testing.T) {
	src := randomSet(t, 10, 2, 1, 1)
	for _, test := range []struct {
		size int
		drop bool
		want int
	}{
		{1, false, 10}, {1, true, 10},
		{3, false, 4}, {3, true, 3},
		{5, false, 2}, {5, true, 2},
		{10, false, 1}, {10, true, 1},
		{11, false, 1},
	} {
		br, err := NewBatcher(src, test.size, WithDropLast(test.drop))
		if err != nil {
			t.Fatal(err)
		}
		if got := br.NumBatches(); got != test.want {
			t.Errorf("size %d drop %t: NumBatches() = %d, want %d", test.size, test.drop, got, test.want)
		}
		if br.BatchSize() != test.size {
			t.Errorf("BatchSize() = %d, want %d", br.BatchSize(), test.size)
		}
	}
}

// TestBatcherAllocs checks that an epoch allocates its buffers once, not
// once per batch.
func TestBatcherAllocs(t *testing.T) {
	seqs := make([]Sequence, 200)
	for i := range seqs {
		seqs[i] = Sequence{Data: make([]float64, 20*4), T: 20, F: 4}
	}
	src, err := NewRegression(seqs, slices.Repeat([][]float64{{1, 2}}, len(seqs)))
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBatcher(src, 10, WithShuffle(1))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		for _, err := range br.Epoch(0) {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs > 15 {
		t.Errorf("%v allocations for an epoch of %d batches, want at most 15", allocs, br.NumBatches())
	}
}

func BenchmarkBatcher(b *testing.B) {
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		b.Run(dir.String(), func(b *testing.B) {
			src := randomSet(b, 1024, 150, 16, 1)
			br, err := NewBatcher(src, 32, WithShuffle(1), WithPaddingDirection(dir))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n, epoch := 0, 0
			for b.Loop() {
				for bt, err := range br.Epoch(epoch) {
					if err != nil {
						b.Fatal(err)
					}
					n += bt.B
				}
				epoch++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "obs/s")
		})
	}
}

// TestBatcherConcurrent is meant for the race detector: a Batcher is shared
// by goroutines, each ranging over its own epoch.
func TestBatcherConcurrent(t *testing.T) {
	src := randomSet(t, 40, 5, 2, 1)
	br, err := NewBatcher(src, 6, WithShuffle(3))
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]*Batch, 4)
	for e := range want {
		want[e] = collect(t, br, e)
	}
	done := make(chan error)
	for e := range want {
		go func() {
			k := 0
			for bt, err := range br.Epoch(e) {
				if err != nil {
					done <- err
					return
				}
				if !batchEqual(bt, want[e][k]) {
					done <- fmt.Errorf("epoch %d batch %d differs when run concurrently", e, k)
					return
				}
				k++
			}
			done <- nil
		}()
	}
	for range want {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestBatcherChunks checks that a Batcher with a fixed SequenceLength
// yields exactly the chunks of each batch, in order, and that NumChunks
// counts them.
func TestBatcherChunks(t *testing.T) {
	src := randomSet(t, 37, 23, 2, 4)
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		for _, n := range []SequenceLength{1, 4, 23, 30} {
			name := fmt.Sprintf("%v %v", dir, n)
			opts := []BatchOption{WithShuffle(2), WithSequenceLength(n), WithPaddingDirection(dir)}
			br := mustBatcher(t, src, 5, opts...)
			for e := range 2 {
				order := br.order(e, make([]int, 37))
				var got []*Batch
				for bt, err := range br.Epoch(e) {
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, bt.Clone())
				}
				var want []*Batch
				for k := range br.NumBatches() {
					chunks, err := MakeChunks(src, br.batchIndices(order, k), opts...)
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, chunks...)
				}
				if len(got) != len(want) {
					t.Fatalf("%s epoch %d: %d batches, want %d", name, e, len(got), len(want))
				}
				for k := range got {
					if !batchEqual(got[k], want[k]) {
						t.Errorf("%s epoch %d: batch %d differs from MakeChunks'", name, e, k)
					}
				}
				nc, err := br.NumChunks(e)
				if err != nil || nc != len(got) {
					t.Errorf("%s epoch %d: NumChunks = %d, %v, want %d", name, e, nc, err, len(got))
				}
			}
		}
	}
	br := mustBatcher(t, src, 5)
	if nc, err := br.NumChunks(0); err != nil || nc != br.NumBatches() {
		t.Errorf("unsplit: NumChunks = %d, %v, want NumBatches %d", nc, err, br.NumBatches())
	}
}

// prefetchSource logs the calls a Batcher makes.
type prefetchSource struct {
	*InMemory
	log []string
}

func (p *prefetchSource) Prefetch(indices []int) {
	p.log = append(p.log, fmt.Sprint("prefetch", indices))
}

func (p *prefetchSource) Observation(i int) (Observation, error) {
	p.log = append(p.log, fmt.Sprint("read ", i))
	return p.InMemory.Observation(i)
}

func TestBatcherPrefetch(t *testing.T) {
	src := &prefetchSource{InMemory: lengthSet(t, 1, 2, 3, 4, 5)}
	br := mustBatcher(t, src, 2, WithSequenceLength(2))
	for bt, err := range br.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		src.log = append(src.log, fmt.Sprint("yield", bt.Indices, " chunk ", bt.Chunk))
	}
	want := []string{
		"prefetch[0 1]", "read 0", "read 1", "prefetch[2 3]", "yield[0 1] chunk 0",
		"read 2", "read 3", "prefetch[4]", "yield[2 3] chunk 0", "yield[2 3] chunk 1",
		"read 4", "yield[4] chunk 0", "yield[4] chunk 1", "yield[4] chunk 2",
	}
	if !slices.Equal(src.log, want) {
		t.Errorf("calls\n%q\nwant\n%q", src.log, want)
	}
}

// TestBatcherFrames checks that video batches carry their frame shape.
func TestBatcherFrames(t *testing.T) {
	fr := FrameShape{C: 2, H: 1, W: 3}
	seqs := []Sequence{
		{Data: make([]float64, 2*6), T: 2, F: 6},
		{Data: make([]float64, 3*6), T: 3, F: 6},
	}
	src, err := NewClassification(seqs, []int{0, 1}, 2, WithFrame(fr))
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Schema(); got.Frame != fr || got.NumFeatures != 6 {
		t.Errorf("Schema() = %+v, want frame %v and 6 features", got, fr)
	}
	br := mustBatcher(t, src, 2, WithSequenceLength(2))
	for bt, err := range br.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		if bt.Frame != fr || bt.F != 6 || len(bt.X) != bt.B*bt.T*fr.C*fr.H*fr.W {
			t.Errorf("chunk %d: Frame, F, len(X) = %v, %d, %d, want %v, 6, B*T*C*H*W", bt.Chunk, bt.Frame, bt.F, len(bt.X), fr)
		}
	}
}

func BenchmarkBatcherChunked(b *testing.B) {
	for _, dir := range []PaddingDirection{PadRight, PadLeft} {
		b.Run(dir.String(), func(b *testing.B) {
			src := randomSet(b, 1024, 150, 16, 1)
			br, err := NewBatcher(src, 32, WithShuffle(1), WithPaddingDirection(dir), WithSequenceLength(20))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n, chunks, epoch := 0, 0, 0
			for b.Loop() {
				for bt, err := range br.Epoch(epoch) {
					if err != nil {
						b.Fatal(err)
					}
					if bt.Chunk == 0 {
						n += bt.B
					}
					chunks++
				}
				epoch++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "obs/s")
			b.ReportMetric(float64(chunks)/b.Elapsed().Seconds(), "chunks/s")
		})
	}
}
