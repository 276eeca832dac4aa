package text

import (
	"strings"
	"unicode"
)

// Tokenizer splits documents into tokens. Its zero value is the default of
// Tokenize: lower-case words without punctuation.
//
// A word is a run of letters, digits and combining marks, which may hold
// apostrophes (' or ’) between two of them, as in "don't". Space of any
// kind separates words; so does every other character, punctuation or
// symbol, such as the hyphen of "set-up" or the point of "3.5", which Keras's
// Tokenizer also splits.
type Tokenizer struct {
	// KeepCase keeps upper-case letters instead of lower-casing every
	// token.
	KeepCase bool
	// KeepPunctuation makes every punctuation or symbol character a token
	// of its own instead of dropping it.
	KeepPunctuation bool
}

// Tokenize splits doc into lower-case words, dropping punctuation: the
// zero Tokenizer.
func Tokenize(doc string) []string { return Tokenizer{}.Tokenize(doc) }

// TokenizeAll tokenizes every document of docs with the zero Tokenizer.
func TokenizeAll(docs []string) [][]string { return Tokenizer{}.TokenizeAll(docs) }

// TokenizeAll tokenizes every document of docs.
func (tk Tokenizer) TokenizeAll(docs []string) [][]string {
	out := make([][]string, len(docs))
	for i, d := range docs {
		out[i] = tk.Tokenize(d)
	}
	return out
}

// Tokenize splits doc into tokens as the Tokenizer's fields say.
func (tk Tokenizer) Tokenize(doc string) []string {
	rs := []rune(doc)
	var out []string
	start := -1 // start of the current word, or -1
	flush := func(end int) {
		if start >= 0 {
			w := string(rs[start:end])
			if !tk.KeepCase {
				w = strings.ToLower(w)
			}
			out = append(out, w)
			start = -1
		}
	}
	for i, r := range rs {
		switch {
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		case isApostrophe(r) && start >= 0 && i+1 < len(rs) && isWordRune(rs[i+1]):
			// Inside a word: keep it.
		default:
			flush(i)
			if tk.KeepPunctuation && !unicode.IsSpace(r) && unicode.IsGraphic(r) {
				out = append(out, string(r))
			}
		}
	}
	flush(len(rs))
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }
