package text

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	for _, test := range []struct {
		name string
		tk   Tokenizer
		doc  string
		want []string
	}{
		{"punctuation", Tokenizer{}, "Items are occasionally getting stuck in the scanner spools.", []string{"items", "are", "occasionally", "getting", "stuck", "in", "the", "scanner", "spools"}},
		{"commas and quotes", Tokenizer{}, `"Loud rattling, and banging!"`, []string{"loud", "rattling", "and", "banging"}},
		{"apostrophes inside words", Tokenizer{}, "Don't stop; it’s 'fine'", []string{"don't", "stop", "it’s", "fine"}},
		{"hyphens and decimals", Tokenizer{}, "set-up at 3.5 bar", []string{"set", "up", "at", "3", "5", "bar"}},
		{"space of every kind", Tokenizer{}, "a\tb\nc\u00a0d  \r\n", []string{"a", "b", "c", "d"}},
		{"Unicode", Tokenizer{}, "Élan VITAL über naïve", []string{"élan", "vital", "über", "naïve"}},
		{"combining marks", Tokenizer{}, "Cafe\u0301 OK", []string{"cafe\u0301", "ok"}},
		{"empty", Tokenizer{}, "", nil},
		{"only punctuation", Tokenizer{}, " ... !? ", nil},
		{"keep case", Tokenizer{KeepCase: true}, "Hello, World", []string{"Hello", "World"}},
		{"keep punctuation", Tokenizer{KeepPunctuation: true}, "Hi, you!?", []string{"hi", ",", "you", "!", "?"}},
		{"keep both", Tokenizer{KeepCase: true, KeepPunctuation: true}, "A-B", []string{"A", "-", "B"}},
	} {
		if got := test.tk.Tokenize(test.doc); !slices.Equal(got, test.want) {
			t.Errorf("%s: Tokenize(%q) = %q, want %q", test.name, test.doc, got, test.want)
		}
	}
	if got := TokenizeAll([]string{"A b", "", "c."}); len(got) != 3 || !slices.Equal(got[0], []string{"a", "b"}) || got[1] != nil || !slices.Equal(got[2], []string{"c"}) {
		t.Errorf("TokenizeAll = %q", got)
	}
}

// kerasWords is Keras's text_to_word_sequence with its default filters,
// the outside definition of Tokenize for ASCII text without apostrophes:
// lower-case, turn every filtered character into a space, split at spaces.
func kerasWords(s string) []string {
	const filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(filters, r) {
			return ' '
		}
		return r
	}, s)
	var out []string
	for _, w := range strings.Split(s, " ") {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

func TestTokenizeLikeKeras(t *testing.T) {
	const alphabet = "abcXYZ019 \t\n!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(30))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		if got, want := Tokenize(s), kerasWords(s); !slices.Equal(got, want) {
			t.Fatalf("Tokenize(%q) = %q, Keras gives %q", s, got, want)
		}
	}
}

// FuzzTokenize checks that tokens are never empty, hold no space and, by
// default, are lower case and free of punctuation.
func FuzzTokenize(f *testing.F) {
	f.Add("Don't stop, it's 3.5 o'clock!")
	f.Add("'' '\u0301 a'b'")
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Tokenize(s) {
			if w == "" || strings.ContainsFunc(w, func(r rune) bool { return !isWordRune(r) && !isApostrophe(r) }) {
				t.Fatalf("Tokenize(%q) gives token %q", s, w)
			}
			if isApostrophe([]rune(w)[0]) {
				t.Fatalf("Tokenize(%q) gives token %q that starts with an apostrophe", s, w)
			}
		}
	})
}
