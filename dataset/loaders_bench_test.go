package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
)

// BenchmarkReadCSVSequences reads a table of the size of NASA's turbofan
// test file: 100 units, 166 cycles each, 26 space-separated columns.
func BenchmarkReadCSVSequences(b *testing.B) {
	var sb strings.Builder
	names := []string{"unit", "cycle"}
	for j := range 24 {
		names = append(names, fmt.Sprintf("s%d", j))
	}
	for u := range 100 {
		for c := range 166 {
			fmt.Fprintf(&sb, "%d %d", u+1, c+1)
			for j := range 24 {
				fmt.Fprintf(&sb, " %.4f", float64(u*j)+float64(c)/7)
			}
			sb.WriteString(" \n")
		}
	}
	path := writeTable(b, sb.String())
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		if _, err := ReadCSVSequences(path, WithColumnNames(names...), WithDelimiter(' '), WithIDColumn("unit"), WithTimeColumn("cycle")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadNumPy reads a float32 array of 100 sequences of 100 steps of
// 12 features.
func BenchmarkReadNumPy(b *testing.B) {
	var x [100][100][12]float32
	path := filepath.Join(b.TempDir(), "x.npy")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := npy.Write(f, x); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.SetBytes(100 * 100 * 12 * 4)
	for b.Loop() {
		if _, err := ReadNumPy(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewWindowRegression makes the cosine demo's 10000 windows of 10.
func BenchmarkNewWindowRegression(b *testing.B) {
	s := make([]float64, 10010)
	series := []Sequence{Series(s)}
	for b.Loop() {
		if _, err := NewWindowRegression(series, 10); err != nil {
			b.Fatal(err)
		}
	}
}
