// Package japanesevowels holds the UCI Japanese Vowels data set, the data of
// MATLAB's "Sequence Classification Using Deep Learning" example: nine male
// speakers uttering the Japanese vowels /ae/, each utterance a sequence of 7
// to 29 frames of 12 LPC cepstrum coefficients; 270 training and 370 test
// utterances, the speaker as the label.
//
// The files are embedded (see data/README.md for their layout and source),
// so programs need nothing on disk.
//
// Source: UCI Machine Learning Repository, "Japanese Vowels"
// (DOI 10.24432/C5NS47). M. Kudo, J. Toyama, M. Shimbo, "Multidimensional
// Curve Classification Using Passing-Through Regions", Pattern Recognition
// Letters 20(11-13):1103-1111, 1999.
package japanesevowels

import (
	"embed"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
)

//go:embed data/ae.train data/ae.train.labels data/ae.test data/ae.test.labels
var files embed.FS

// Train returns the 270 training utterances, labelled with the speaker
// (classes 0..8 for speakers 1..9).
func Train() (*dataset.InMemory, error) { return load("train") }

// Test returns the 370 test utterances.
func Test() (*dataset.InMemory, error) { return load("test") }

// ClassNames returns the speakers' names, "1" to "9", in class order.
func ClassNames() []string { return dataset.JapaneseVowelsClassNames() }

func load(split string) (*dataset.InMemory, error) {
	data, err := files.Open("data/ae." + split)
	if err != nil {
		return nil, errors.Wrapf(err, "japanesevowels: %s split", split)
	}
	defer data.Close()
	labels, err := files.Open("data/ae." + split + ".labels")
	if err != nil {
		return nil, errors.Wrapf(err, "japanesevowels: %s labels", split)
	}
	defer labels.Close()
	seqs, ls, err := dataset.ParseJapaneseVowels(data, labels)
	if err != nil {
		return nil, errors.Wrapf(err, "japanesevowels: %s split", split)
	}
	return dataset.NewClassification(seqs, ls, dataset.JapaneseVowelsClasses)
}
