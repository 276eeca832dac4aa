package text

import (
	"cmp"
	"slices"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
)

// Reserved indices of every Vocabulary.
const (
	// Padding is the index of no word, which padding holds.
	Padding = 0
	// Unknown is the index of every word that the vocabulary does not
	// hold.
	Unknown = 1
	// firstWord is the index of the most frequent word.
	firstWord = 2
)

// Names that Word gives the reserved indices.
const (
	PaddingName = "<pad>"
	UnknownName = "<unk>"
)

// Vocabulary numbers words: padding is 0, unknown words 1, and the words 2
// on, as the package documentation describes. A Vocabulary is safe for
// concurrent use; it does not change once built.
type Vocabulary struct {
	words []string       // words[k] has index k+2
	index map[string]int // word to index
}

// Option configures NewVocabulary.
type Option func(*config)

type config struct {
	maxWords int // 0: all
	minCount int
}

// WithMaxWords keeps only the n most frequent words, MATLAB's MaxNumWords;
// the rest become unknown. Size is then at most n+2.
func WithMaxWords(n int) Option {
	return func(c *config) { c.maxWords = n }
}

// WithMinCount keeps only words that occur at least n times in the
// training documents; the default, 1, keeps every word.
func WithMinCount(n int) Option {
	return func(c *config) { c.minCount = n }
}

// NewVocabulary numbers the words of docs, tokenized training documents,
// by how often they occur, most frequent first (index 2), words of equal
// count in lexical order, so that the result depends on the documents'
// words and not on their order. Build it from the training documents only,
// so that test documents meet unknown words as new data will.
func NewVocabulary(docs [][]string, opts ...Option) (*Vocabulary, error) {
	c := config{minCount: 1}
	for i, opt := range opts {
		if opt == nil {
			return nil, errors.Errorf("text: option %d is nil", i)
		}
		opt(&c)
	}
	switch {
	case c.maxWords < 0:
		return nil, errors.Errorf("text: at most %d words, want at least 1 (or 0 for all)", c.maxWords)
	case c.minCount < 1:
		return nil, errors.Errorf("text: minimum count %d, want at least 1", c.minCount)
	}
	counts := make(map[string]int)
	for i, d := range docs {
		for j, w := range d {
			if w == "" {
				return nil, errors.Errorf("text: document %d, token %d is empty", i, j)
			}
			counts[w]++
		}
	}
	words := make([]string, 0, len(counts))
	for w, n := range counts {
		if n >= c.minCount {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil, errors.Errorf("text: no word of %d documents occurs at least %d times", len(docs), c.minCount)
	}
	slices.SortFunc(words, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	if c.maxWords > 0 && len(words) > c.maxWords {
		words = words[:c.maxWords]
	}
	return newVocabulary(words), nil
}

// FromWords returns the vocabulary whose word of index k+2 is words[k], as
// Words returns them, to restore a vocabulary saved with a network. Words
// must be distinct and not empty.
func FromWords(words []string) (*Vocabulary, error) {
	if len(words) == 0 {
		return nil, errors.New("text: no words")
	}
	seen := make(map[string]int, len(words))
	for k, w := range words {
		if w == "" {
			return nil, errors.Errorf("text: word %d is empty", k)
		}
		if j, ok := seen[w]; ok {
			return nil, errors.Errorf("text: words %d and %d are both %q", j, k, w)
		}
		seen[w] = k
	}
	return newVocabulary(slices.Clone(words)), nil
}

func newVocabulary(words []string) *Vocabulary {
	v := &Vocabulary{words: words, index: make(map[string]int, len(words))}
	for k, w := range words {
		v.index[w] = k + firstWord
	}
	return v
}

// Size returns the number of indices, padding and unknown included: the
// words number Size()-2, and every index is below Size.
func (v *Vocabulary) Size() int { return len(v.words) + firstWord }

// Words returns the words in index order, the word of index k+2 at k.
func (v *Vocabulary) Words() []string { return slices.Clone(v.words) }

// Index returns the index of word, or Unknown if the vocabulary does not
// hold it.
func (v *Vocabulary) Index(word string) int {
	if i, ok := v.index[word]; ok {
		return i
	}
	return Unknown
}

// Word returns the word of index i, PaddingName for 0 and UnknownName for
// 1. It panics if i is not in [0, Size()).
func (v *Vocabulary) Word(i int) string {
	switch {
	case i == Padding:
		return PaddingName
	case i == Unknown:
		return UnknownName
	case i < 0 || i >= v.Size():
		panic(errors.Errorf("text: index %d out of range [0, %d)", i, v.Size()))
	}
	return v.words[i-firstWord]
}

// Encode returns the index of every token of doc.
func (v *Vocabulary) Encode(doc []string) []int {
	out := make([]int, len(doc))
	for t, w := range doc {
		out[t] = v.Index(w)
	}
	return out
}

// Sequence returns doc as a sequence of one feature per timestep, the index
// of its token, MATLAB's doc2sequence. A document without tokens is an
// error.
func (v *Vocabulary) Sequence(doc []string) (dataset.Sequence, error) {
	if len(doc) == 0 {
		return dataset.Sequence{}, errors.New("text: document has no tokens, and a sequence needs at least one (DropEmpty removes such documents)")
	}
	data := make([]float64, len(doc))
	for t, w := range doc {
		data[t] = float64(v.Index(w))
	}
	return dataset.Sequence{Data: data, T: len(doc), F: 1}, nil
}

// Sequences returns every document of docs as Sequence does. Errors name
// the document.
func (v *Vocabulary) Sequences(docs [][]string) ([]dataset.Sequence, error) {
	if len(docs) == 0 {
		return nil, errors.New("text: no documents")
	}
	seqs := make([]dataset.Sequence, len(docs))
	for i, d := range docs {
		if len(d) == 0 {
			return nil, errors.Errorf("text: document %d has no tokens, and a sequence needs at least one (DropEmpty removes such documents)", i)
		}
		seqs[i], _ = v.Sequence(d)
	}
	return seqs, nil
}

// Classification returns the set of docs as index sequences, document i of
// class labels[i] in [0, numClasses), for dataset.NewClassification.
func (v *Vocabulary) Classification(docs [][]string, labels []int, numClasses int) (*dataset.InMemory, error) {
	seqs, err := v.Sequences(docs)
	if err != nil {
		return nil, err
	}
	return dataset.NewClassification(seqs, labels, numClasses)
}

// DropEmpty returns the documents of docs that have tokens, with their
// labels, in order; labels must be as many as docs. It returns the indices
// of the documents it keeps, to relate predictions to the originals.
func DropEmpty[L any](docs [][]string, labels []L) ([][]string, []L, []int, error) {
	if len(labels) != len(docs) {
		return nil, nil, nil, errors.Errorf("text: %d documents but %d labels", len(docs), len(labels))
	}
	var keptDocs [][]string
	var keptLabels []L
	var kept []int
	for i, d := range docs {
		if len(d) > 0 {
			keptDocs = append(keptDocs, d)
			keptLabels = append(keptLabels, labels[i])
			kept = append(kept, i)
		}
	}
	return keptDocs, keptLabels, kept, nil
}
