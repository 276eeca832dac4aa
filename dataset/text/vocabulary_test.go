package text

import (
	"slices"
	"strings"
	"testing"
)

// docs has the counts the, 4; cat, 2; sat, 2; a, 1; mat, 1; on, 1.
var docs = [][]string{
	{"the", "cat", "sat"},
	{"the", "the", "mat"},
	{"a", "cat", "sat", "on", "the"},
}

func TestNewVocabulary(t *testing.T) {
	for _, test := range []struct {
		name  string
		opts  []Option
		words []string
	}{
		// Ties in lexical order: cat before sat, a before mat before on.
		{"all", nil, []string{"the", "cat", "sat", "a", "mat", "on"}},
		{"max words", []Option{WithMaxWords(3)}, []string{"the", "cat", "sat"}},
		{"max words more than there are", []Option{WithMaxWords(100)}, []string{"the", "cat", "sat", "a", "mat", "on"}},
		{"min count", []Option{WithMinCount(2)}, []string{"the", "cat", "sat"}},
		{"both", []Option{WithMinCount(2), WithMaxWords(1)}, []string{"the"}},
	} {
		v, err := NewVocabulary(docs, test.opts...)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if !slices.Equal(v.Words(), test.words) || v.Size() != len(test.words)+2 {
			t.Errorf("%s: words %q, size %d; want %q, %d", test.name, v.Words(), v.Size(), test.words, len(test.words)+2)
		}
	}
	// The order of the documents does not matter.
	rev := slices.Clone(docs)
	slices.Reverse(rev)
	a, _ := NewVocabulary(docs)
	b, _ := NewVocabulary(rev)
	if !slices.Equal(a.Words(), b.Words()) {
		t.Errorf("reordered documents give %q, want %q", b.Words(), a.Words())
	}
}

// TestIndices checks the convention that an embedding layer relies on:
// 0 is padding, 1 the unknown word, words from 2, every index below Size,
// as nn.Embedding(Size, D, padding_idx=0) requires.
func TestIndices(t *testing.T) {
	v, err := NewVocabulary(docs, WithMaxWords(3))
	if err != nil {
		t.Fatal(err)
	}
	got := v.Encode([]string{"the", "mat", "sat", "cat", "dog"})
	if want := []int{2, Unknown, 4, 3, Unknown}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	for i := range v.Size() {
		w := v.Word(i)
		switch i {
		case Padding:
			if w != PaddingName {
				t.Errorf("Word(0) = %q, want %q", w, PaddingName)
			}
		case Unknown:
			if w != UnknownName {
				t.Errorf("Word(1) = %q, want %q", w, UnknownName)
			}
		default:
			if v.Index(w) != i {
				t.Errorf("Index(Word(%d)) = %d", i, v.Index(w))
			}
		}
	}
	for _, i := range []int{-1, v.Size()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Word(%d) did not panic", i)
				}
			}()
			v.Word(i)
		}()
	}
	s, err := v.Sequence([]string{"cat", "dog", "the"})
	if err != nil {
		t.Fatal(err)
	}
	if s.T != 3 || s.F != 1 || !slices.Equal(s.Data, []float64{3, 1, 2}) {
		t.Errorf("Sequence = %dx%d %v, want 3x1 [3 1 2]", s.T, s.F, s.Data)
	}
}

func TestClassification(t *testing.T) {
	v, err := NewVocabulary(docs)
	if err != nil {
		t.Fatal(err)
	}
	set, err := v.Classification(docs, []int{0, 1, 0}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 3 || set.NumFeatures() != 1 || set.NumClasses() != 2 || set.Label(1) != 1 {
		t.Errorf("set of %d, %d features, %d classes, label 1 = %d", set.Len(), set.NumFeatures(), set.NumClasses(), set.Label(1))
	}
	if got := set.Sequence(1).Data; !slices.Equal(got, []float64{2, 2, 6}) {
		t.Errorf("sequence 1 = %v, want [2 2 6] (the the mat)", got)
	}
	withEmpty := [][]string{{"the"}, nil, {"cat"}}
	_, err = v.Classification(withEmpty, []int{0, 1, 0}, 2)
	checkErr(t, "empty document", err, "document 1 has no tokens", "DropEmpty")
	_, err = v.Classification(docs, []int{0, 2, 0}, 2)
	checkErr(t, "bad label", err, "label 2 out of range")

	kept, labels, idx, err := DropEmpty(withEmpty, []string{"x", "y", "z"})
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || !slices.Equal(labels, []string{"x", "z"}) || !slices.Equal(idx, []int{0, 2}) {
		t.Errorf("DropEmpty kept %q with %q at %v", kept, labels, idx)
	}
	_, _, _, err = DropEmpty(withEmpty, []int{1})
	checkErr(t, "DropEmpty counts", err, "3 documents but 1 labels")
}

func TestFromWords(t *testing.T) {
	v, err := NewVocabulary(docs)
	if err != nil {
		t.Fatal(err)
	}
	w, err := FromWords(v.Words())
	if err != nil {
		t.Fatal(err)
	}
	doc := []string{"on", "the", "rug"}
	if !slices.Equal(v.Encode(doc), w.Encode(doc)) || v.Size() != w.Size() {
		t.Errorf("restored vocabulary encodes %v, want %v", w.Encode(doc), v.Encode(doc))
	}
	_, err = FromWords([]string{"a", "b", "a"})
	checkErr(t, "repeated word", err, `words 0 and 2 are both "a"`)
	_, err = FromWords([]string{"a", ""})
	checkErr(t, "empty word", err, "word 1 is empty")
	_, err = FromWords(nil)
	checkErr(t, "no words", err, "no words")
}

func TestNewVocabularyErrors(t *testing.T) {
	for _, test := range []struct {
		name string
		docs [][]string
		opts []Option
		want string
	}{
		{"no documents", nil, nil, "no word of 0 documents"},
		{"only empty documents", [][]string{{}, nil}, nil, "no word of 2 documents occurs at least 1 times"},
		{"min count too high", docs, []Option{WithMinCount(5)}, "occurs at least 5 times"},
		{"empty token", [][]string{{"a"}, {"b", ""}}, nil, "document 1, token 1 is empty"},
		{"negative max", docs, []Option{WithMaxWords(-1)}, "at most -1 words"},
		{"zero min count", docs, []Option{WithMinCount(0)}, "minimum count 0"},
		{"nil option", docs, []Option{nil}, "option 0 is nil"},
	} {
		_, err := NewVocabulary(test.docs, test.opts...)
		checkErr(t, test.name, err, test.want)
	}
}

func checkErr(t *testing.T, name string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", name, want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not contain %q", name, err, w)
		}
	}
}
