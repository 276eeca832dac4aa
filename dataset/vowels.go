package dataset

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

const (
	// JapaneseVowelsFeatures is the number of features of the Japanese
	// Vowels set: 12 LPC cepstrum coefficients per frame.
	JapaneseVowelsFeatures = 12
	// JapaneseVowelsClasses is the number of classes of the Japanese Vowels
	// set: its nine speakers.
	JapaneseVowelsClasses = 9
)

// JapaneseVowelsClassNames returns the names of the classes of the Japanese
// Vowels set, "1" to "9": class k is speaker k+1.
func JapaneseVowelsClassNames() []string {
	names := make([]string, JapaneseVowelsClasses)
	for k := range names {
		names[k] = strconv.Itoa(k + 1)
	}
	return names
}

// ReadJapaneseVowels reads the train or test split of the UCI Japanese
// Vowels set, the data of MATLAB's sequence classification example, from
// the files ae.<split> and ae.<split>.labels in dir, as ParseJapaneseVowels
// describes. The result is a classification set of 12 features and 9
// classes, speaker s being class s-1; JapaneseVowelsClassNames names them.
// The training split has 270 sequences, the test split 370.
func ReadJapaneseVowels(dir, split string) (*InMemory, error) {
	if split != "train" && split != "test" {
		return nil, errors.Errorf(`dataset: Japanese Vowels split %q, want "train" or "test"`, split)
	}
	dataPath := filepath.Join(dir, "ae."+split)
	labelsPath := dataPath + ".labels"
	df, err := os.Open(dataPath)
	if err != nil {
		return nil, errors.Wrap(err, "dataset")
	}
	defer df.Close()
	lf, err := os.Open(labelsPath)
	if err != nil {
		return nil, errors.Wrap(err, "dataset")
	}
	defer lf.Close()
	seqs, labels, err := parseJapaneseVowels(df, dataPath, lf, labelsPath)
	if err != nil {
		return nil, err
	}
	return NewClassification(seqs, labels, JapaneseVowelsClasses)
}

// ParseJapaneseVowels parses the Japanese Vowels format: data holds one
// sequence (utterance) after another, one timestep (frame) per line of 12
// numbers separated by space, each sequence followed by one blank line (the
// last one's may be missing); labels holds the speaker, 1 to 9, of each
// sequence, one per line. It returns the sequences and their classes,
// speaker s being class s-1.
//
// Errors name the line at fault: a line that does not have 12 values, a
// value that is not a finite number, two blank lines in a row, a speaker
// that is not an integer in 1 to 9, or a number of sequences that differs
// from the number of labels. Blank lines in labels, and at the end of data,
// are ignored.
func ParseJapaneseVowels(data, labels io.Reader) ([]Sequence, []int, error) {
	return parseJapaneseVowels(data, "data", labels, "labels")
}

// parseJapaneseVowels is ParseJapaneseVowels with the names of the readers
// for messages.
func parseJapaneseVowels(data io.Reader, dataName string, labels io.Reader, labelsName string) ([]Sequence, []int, error) {
	seqs, err := parseVowelBlocks(data)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "dataset: %s", dataName)
	}
	classes, err := parseVowelLabels(labels)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "dataset: %s", labelsName)
	}
	if len(seqs) != len(classes) {
		return nil, nil, errors.Errorf("dataset: %s has %d sequences but %s has %d labels", dataName, len(seqs), labelsName, len(classes))
	}
	return seqs, classes, nil
}

// parseVowelBlocks reads the sequences of a Japanese Vowels data file.
func parseVowelBlocks(r io.Reader) ([]Sequence, error) {
	const f = JapaneseVowelsFeatures
	var (
		seqs   []Sequence
		data   []float64 // the sequence being read
		blanks int       // blank lines since the last row
	)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			if len(seqs) == 0 && len(data) == 0 {
				return nil, errors.Errorf("line %d: blank line before the first sequence", line)
			}
			if blanks == 0 {
				seqs = append(seqs, Sequence{Data: data, T: len(data) / f, F: f})
				data = nil
			}
			blanks++
			continue
		}
		if blanks > 1 {
			// Two separators in a row would be an empty sequence, most
			// likely a frame lost in editing.
			return nil, errors.Errorf("line %d: %d blank lines before this sequence, want 1", line, blanks)
		}
		blanks = 0
		if len(fields) != f {
			return nil, errors.Errorf("line %d has %d values, want %d", line, len(fields), f)
		}
		for j, s := range fields {
			v, err := parseValue(s)
			if err != nil {
				return nil, errors.Errorf("line %d, value %d: %v", line, j+1, err)
			}
			data = append(data, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrapf(err, "after line %d", line)
	}
	if len(data) > 0 {
		seqs = append(seqs, Sequence{Data: data, T: len(data) / f, F: f})
	}
	if len(seqs) == 0 {
		return nil, errors.New("no sequences")
	}
	return seqs, nil
}

// parseVowelLabels reads a Japanese Vowels labels file into classes 0 to 8.
func parseVowelLabels(r io.Reader) ([]int, error) {
	var classes []int
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		switch len(fields) {
		case 0:
			continue
		case 1:
		default:
			return nil, errors.Errorf("line %d has %d values, want 1 speaker", line, len(fields))
		}
		s, err := strconv.Atoi(fields[0])
		if err != nil || s < 1 || s > JapaneseVowelsClasses {
			return nil, errors.Errorf("line %d: speaker %q, want an integer from 1 to %d", line, fields[0], JapaneseVowelsClasses)
		}
		classes = append(classes, s-1)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrapf(err, "after line %d", line)
	}
	if len(classes) == 0 {
		return nil, errors.New("no labels")
	}
	return classes, nil
}
