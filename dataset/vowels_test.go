package dataset

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const vowelsDir = "japanesevowels/data"

// vowelsSizes reads the number of sequences of each speaker from the
// size_ae.<split> file that comes with the data.
func vowelsSizes(t *testing.T, split string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vowelsDir, "size_ae."+split))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, s := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

func TestReadJapaneseVowels(t *testing.T) {
	for _, tc := range []struct {
		split         string
		n, minT, maxT int
		counts        []int
	}{
		{"train", 270, 7, 26, []int{30, 30, 30, 30, 30, 30, 30, 30, 30}},
		{"test", 370, 7, 29, []int{31, 35, 88, 44, 29, 24, 40, 50, 29}},
	} {
		m, err := ReadJapaneseVowels(vowelsDir, tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.Schema(), (Schema{NumFeatures: 12, NumClasses: 9}); got != want {
			t.Errorf("%s: Schema = %+v, want %+v", tc.split, got, want)
		}
		if m.Len() != tc.n {
			t.Errorf("%s: %d sequences, want %d", tc.split, m.Len(), tc.n)
		}
		counts := make([]int, 9)
		minT, maxT, prev := 1<<30, 0, 0
		for i := range m.Len() {
			s := m.Sequence(i)
			minT, maxT = min(minT, s.T), max(maxT, s.T)
			l := m.Label(i)
			counts[l]++
			// Blocks come in speaker order.
			if l < prev {
				t.Errorf("%s: sequence %d of speaker %d after speaker %d", tc.split, i, l+1, prev+1)
			}
			prev = l
		}
		if minT != tc.minT || maxT != tc.maxT {
			t.Errorf("%s: lengths %d..%d, want %d..%d", tc.split, minT, maxT, tc.minT, tc.maxT)
		}
		if !slices.Equal(counts, tc.counts) {
			t.Errorf("%s: class counts %v, want %v", tc.split, counts, tc.counts)
		}
		if sizes := vowelsSizes(t, tc.split); !slices.Equal(counts, sizes) {
			t.Errorf("%s: class counts %v, want %v from size_ae.%s", tc.split, counts, sizes, tc.split)
		}
	}

	m, err := ReadJapaneseVowels(vowelsDir, "train")
	if err != nil {
		t.Fatal(err)
	}
	// The first and last values of the training file.
	first, last := m.Sequence(0), m.Sequence(m.Len()-1)
	if first.T != 20 || first.At(0, 0) != 1.860936 || first.At(0, 11) != 0.088728 {
		t.Errorf("first sequence: T = %d, starts %v", first.T, first.Row(0))
	}
	if got := last.At(last.T-1, 11); got != 0.173642 {
		t.Errorf("last value %v, want 0.173642", got)
	}
	if got, want := JapaneseVowelsClassNames(), []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}; !slices.Equal(got, want) {
		t.Errorf("JapaneseVowelsClassNames = %q, want %q", got, want)
	}
}

func TestReadJapaneseVowelsErrors(t *testing.T) {
	_, err := ReadJapaneseVowels(vowelsDir, "validation")
	wantErr(t, "split", err, `split "validation", want "train" or "test"`)
	_, err = ReadJapaneseVowels(t.TempDir(), "train")
	wantErr(t, "no files", err, "ae.train", "no such file")

	dir := writeFolder(t, map[string]string{
		"ae.test":        vowelRows(2) + "\n" + vowelRows(1)[:20] + "\n",
		"ae.test.labels": "1\n2\n",
	})
	_, err = ReadJapaneseVowels(dir, "test")
	wantErr(t, "names the file", err, "ae.test: line 4 has")
	dir = writeFolder(t, map[string]string{"ae.train": vowelRows(1)})
	_, err = ReadJapaneseVowels(dir, "train")
	wantErr(t, "no labels", err, "ae.train.labels", "no such file")
}

// vowelRows returns n rows of 12 values.
func vowelRows(n int) string {
	return strings.Repeat("1.5 -0.25 0 1 2 3 4 5 6 7 8 9\n", n)
}

func TestParseJapaneseVowels(t *testing.T) {
	data := vowelRows(2) + "\n" + vowelRows(3) + "\n" + strings.ReplaceAll(vowelRows(1), "\n", " \r\n")
	seqs, labels, err := ParseJapaneseVowels(strings.NewReader(data), strings.NewReader("9\n1\n 3 \n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 3 || seqs[0].T != 2 || seqs[1].T != 3 || seqs[2].T != 1 || !slices.Equal(labels, []int{8, 0, 2}) {
		t.Fatalf("got %d sequences, labels %v", len(seqs), labels)
	}
	for _, s := range seqs {
		if s.F != 12 || s.At(0, 0) != 1.5 || s.At(s.T-1, 11) != 9 {
			t.Errorf("sequence %+v", s)
		}
	}
	// Blank lines at the end of the data are allowed.
	if seqs, _, err := ParseJapaneseVowels(strings.NewReader(vowelRows(2)+"\n\n\n"), strings.NewReader("2")); err != nil || len(seqs) != 1 {
		t.Errorf("trailing blank lines: %d sequences, %v", len(seqs), err)
	}
}

func TestParseJapaneseVowelsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, labels string
		want               []string
	}{
		{"few columns", vowelRows(2) + "1 2 3\n\n", "1", []string{"data: line 3 has 3 values, want 12"}},
		{"many columns", vowelRows(1) + "\n" + strings.Repeat("1 ", 13) + "\n", "1\n1", []string{"data: line 3 has 13 values, want 12"}},
		{"non-numeric", vowelRows(1) + "1 2 3 4 5 6 7 8 9 10 x 12\n", "1", []string{"data: line 2, value 11: \"x\" is not a number"}},
		{"NaN", vowelRows(1) + "\n" + "1 2 3 4 5 6 7 8 9 10 11 NaN\n", "1\n1", []string{"data: line 3, value 12: value is NaN"}},
		{"Inf", "inf" + vowelRows(1)[3:], "1", []string{"data: line 1, value 1: value is inf"}},
		{"two blank lines", vowelRows(1) + "\n\n" + vowelRows(1), "1\n1", []string{"data: line 4: 2 blank lines before this sequence, want 1"}},
		{"leading blank line", "\n" + vowelRows(1), "1", []string{"data: line 1: blank line before the first sequence"}},
		{"empty data", "", "1", []string{"data: no sequences"}},
		{"more blocks", vowelRows(1) + "\n" + vowelRows(1), "1", []string{"data has 2 sequences but labels has 1 labels"}},
		{"more labels", vowelRows(1), "1\n2\n", []string{"data has 1 sequences but labels has 2 labels"}},
		{"speaker 0", vowelRows(1), "0\n", []string{"labels: line 1: speaker \"0\", want an integer from 1 to 9"}},
		{"speaker 10", vowelRows(1) + "\n" + vowelRows(1), "1\n\n10\n", []string{"labels: line 3: speaker \"10\""}},
		{"speaker text", vowelRows(1), "one\n", []string{"labels: line 1: speaker \"one\""}},
		{"two speakers", vowelRows(1), "1 2\n", []string{"labels: line 1 has 2 values, want 1 speaker"}},
		{"no labels", vowelRows(1), "\n", []string{"labels: no labels"}},
		{"long line", vowelRows(2) + strings.Repeat("1", 70000), "1", []string{"data: after line 2", "too long"}},
	} {
		_, _, err := ParseJapaneseVowels(strings.NewReader(tc.data), strings.NewReader(tc.labels))
		wantErr(t, tc.name, err, tc.want...)
	}
}

func FuzzParseJapaneseVowels(f *testing.F) {
	f.Add([]byte(vowelRows(2)+"\n"+vowelRows(1)+"\n"), []byte("1\n9\n"))
	f.Add([]byte(vowelRows(1)), []byte("5"))
	f.Add([]byte(vowelRows(1)+"\n\n"+vowelRows(1)), []byte("1\n2\n"))
	f.Add([]byte("1 2 3\n"), []byte("1\n"))
	f.Add([]byte(strings.Replace(vowelRows(1), "9", "NaN", 1)), []byte("1\n"))
	f.Add([]byte(vowelRows(1)), []byte("0\n"))
	f.Add([]byte("\n"), []byte(""))
	f.Fuzz(func(t *testing.T, data, labels []byte) {
		seqs, classes, err := ParseJapaneseVowels(strings.NewReader(string(data)), strings.NewReader(string(labels)))
		if err != nil {
			if seqs != nil || classes != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if len(seqs) == 0 || len(seqs) != len(classes) {
			t.Fatalf("%d sequences, %d classes", len(seqs), len(classes))
		}
		for i, s := range seqs {
			if err := s.check(); err != nil {
				t.Fatalf("sequence %d %v", i, err)
			}
			if s.F != JapaneseVowelsFeatures {
				t.Fatalf("sequence %d has %d features", i, s.F)
			}
			if c := classes[i]; c < 0 || c >= JapaneseVowelsClasses {
				t.Fatalf("class %d", c)
			}
		}
		if _, err := NewClassification(seqs, classes, JapaneseVowelsClasses); err != nil {
			t.Fatalf("valid parse rejected: %v", err)
		}

		// Writing the set out and reading it back changes nothing.
		var text, labelText strings.Builder
		for i, s := range seqs {
			for t := range s.T {
				for j, v := range s.Row(t) {
					if j > 0 {
						text.WriteByte(' ')
					}
					text.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
				}
				text.WriteByte('\n')
			}
			text.WriteByte('\n')
			labelText.WriteString(strconv.Itoa(classes[i]+1) + "\n")
		}
		again, againClasses, err := ParseJapaneseVowels(strings.NewReader(text.String()), strings.NewReader(labelText.String()))
		if err != nil {
			t.Fatalf("written out, the set does not read back: %v", err)
		}
		if !slices.Equal(againClasses, classes) || len(again) != len(seqs) {
			t.Fatalf("read back %d sequences, classes %v, want %d, %v", len(again), againClasses, len(seqs), classes)
		}
		for i := range seqs {
			if again[i].T != seqs[i].T || !slices.Equal(again[i].Data, seqs[i].Data) {
				t.Fatalf("sequence %d read back differs", i)
			}
		}
	})
}

func ExampleReadJapaneseVowels() {
	train, err := ReadJapaneseVowels(vowelsDir, "train")
	if err != nil {
		log.Fatal(err)
	}
	names := JapaneseVowelsClassNames()
	fmt.Printf("%d sequences of %d features, %d classes; the first is %d steps of speaker %s\n",
		train.Len(), train.NumFeatures(), train.NumClasses(), train.Sequence(0).T, names[train.Label(0)])
	// Output:
	// 270 sequences of 12 features, 9 classes; the first is 20 steps of speaker 1
}
