package dataset

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
)

// writeSequenceFiles writes n sequence files of minT to maxT timesteps and f
// features into dir, with a labels.csv giving file i the class named
// "c<i%5>", which is class i%5. Feature 0 of every row is i, so that a test
// can tell which file a row of a batch came from; the others are random.
func writeSequenceFiles(tb testing.TB, dir string, n, minT, maxT, f int, seed int64) {
	tb.Helper()
	rng := rand.New(rand.NewSource(seed))
	labels, err := os.Create(filepath.Join(dir, "labels.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	lw := bufio.NewWriter(labels)
	var line []byte
	for i := range n {
		name := fmt.Sprintf("seq%05d.csv", i)
		fmt.Fprintf(lw, "%s,c%d\n", name, i%5)
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriter(fh)
		steps := minT + rng.Intn(maxT-minT+1)
		for range steps {
			line = strconv.AppendInt(line[:0], int64(i), 10)
			for range f - 1 {
				line = append(line, ',')
				line = strconv.AppendFloat(line, rng.NormFloat64(), 'f', 5, 64)
			}
			line = append(line, '\n')
			w.Write(line)
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		if err := fh.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	if err := lw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := labels.Close(); err != nil {
		tb.Fatal(err)
	}
}

// TestCSVFolderBoundedMemory runs a shuffled epoch over a folder many times
// larger than the read-ahead, with the Batcher prefetching each next batch,
// and checks that the heap stays far below the size of the data: a
// datastore must not accumulate what it has read.
func TestCSVFolderBoundedMemory(t *testing.T) {
	const (
		n         = 2000
		steps     = 200
		features  = 12
		batch     = 32
		readAhead = 32
		total     = n * steps * features * 8 // 36.6 MiB as float64
		bound     = 12 << 20
	)
	dir := t.TempDir()
	writeSequenceFiles(t, dir, n, steps, steps, features, 1)
	src, err := OpenCSVFolder(dir, WithReadAhead(readAhead))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	br, err := NewBatcher(src, batch, WithShuffle(1))
	if err != nil {
		t.Fatal(err)
	}

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak, peakLive uint64
	sample := func(gc bool) {
		if gc {
			runtime.GC()
		}
		runtime.ReadMemStats(&ms)
		d := ms.HeapAlloc - min(base, ms.HeapAlloc)
		peak = max(peak, d)
		if gc {
			peakLive = max(peakLive, d)
		}
	}

	seen := make([]bool, n)
	k := 0
	for bt, err := range br.Epoch(0) {
		if err != nil {
			t.Fatal(err)
		}
		for b, i := range bt.Indices {
			if seen[i] || bt.X[b*bt.T*bt.F] != float64(i) || bt.Labels[b] != i%5 || bt.Lengths[b] != steps {
				t.Fatalf("batch %d row %d is not observation %d, or is seen twice", k, b, i)
			}
			seen[i] = true
		}
		if c, _, _ := src.cacheStats(); c > readAhead {
			t.Fatalf("batch %d: read-ahead holds %d observations, want at most %d", k, c, readAhead)
		}
		sample(k%16 == 0)
		k++
	}
	if i := slices.Index(seen, false); i >= 0 {
		t.Fatalf("epoch missed observation %d", i)
	}
	_, _, hits := src.cacheStats()
	t.Logf("%d observations, %.1f MiB as float64; peak heap growth %.1f MiB, live after GC %.1f MiB; %d of %d read ahead",
		n, float64(total)/(1<<20), float64(peak)/(1<<20), float64(peakLive)/(1<<20), hits, n)
	if peak > bound {
		t.Errorf("heap grew by %.1f MiB during the epoch, want under %.1f MiB (data is %.1f MiB)",
			float64(peak)/(1<<20), float64(bound)/(1<<20), float64(total)/(1<<20))
	}
	if hits == 0 {
		t.Errorf("no observation was read ahead")
	}
}

// BenchmarkCSVFolderBatches measures observations per second from disk
// (the page cache, after the first epoch) through a Batcher, with the shape
// of BenchmarkBatcher: 1024 sequences of 1 to 150 steps of 16 features,
// shuffled batches of 32. "sync" reads every file when the batcher asks for
// it; the others read the next batch ahead, as the Batcher asks.
func BenchmarkCSVFolderBatches(b *testing.B) {
	const n, batch = 1024, 32
	dir := b.TempDir()
	writeSequenceFiles(b, dir, n, 1, 150, 16, 1)
	for _, bc := range []struct {
		name               string
		readAhead, workers int
	}{{"sync", 0, 1}, {"readahead", 64, 1}, {"readahead-2workers", 64, 2}, {"readahead-4workers", 64, 4}} {
		b.Run(bc.name, func(b *testing.B) {
			src, err := OpenCSVFolder(dir, WithReadAhead(bc.readAhead), WithReadWorkers(bc.workers))
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			br, err := NewBatcher(src, batch, WithShuffle(1))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			obs, epoch := 0, 0
			for b.Loop() {
				for bt, err := range br.Epoch(epoch) {
					if err != nil {
						b.Fatal(err)
					}
					obs += bt.B
				}
				epoch++
			}
			b.ReportMetric(float64(obs)/b.Elapsed().Seconds(), "obs/s")
		})
	}
}
