package dataset

import (
	"fmt"

	"github.com/pkg/errors"
)

// EncodeLabels numbers class labels given as text, such as the category
// column of a table: labels[i] becomes class k where classNames[k] ==
// labels[i]. With classNames nil the classes are the distinct labels in
// sorted order, numerical if every label is an integer (so that "10" comes
// after "9") and lexical otherwise, as OpenCSVFolder numbers them; the
// classes are returned either way. Pass the class names of the training set
// when encoding a test set, so that a class missing from one split does not
// renumber the others; a label that is not among them is then an error.
func EncodeLabels(labels []string, classNames []string) ([]int, []string, error) {
	if err := checkClassNamesIfAny(classNames); err != nil {
		return nil, nil, err
	}
	codes, names, err := encodeLabels(labels, classNames, func(i int) string { return fmt.Sprintf("label %d", i) })
	return codes, names, errors.Wrap(err, "dataset")
}

// checkClassNamesIfAny checks classNames unless they are nil, which asks
// for the classes to be found.
func checkClassNamesIfAny(classNames []string) error {
	if classNames == nil {
		return nil
	}
	return checkClassNames(classNames)
}

// encodeLabels is EncodeLabels, for checked class names, with where(i)
// naming label i in messages, which have no "dataset:" prefix.
func encodeLabels(labels []string, classNames []string, where func(i int) string) ([]int, []string, error) {
	if len(labels) == 0 {
		return nil, nil, errors.New("no labels")
	}
	if classNames == nil {
		for i, l := range labels {
			if l == "" {
				return nil, nil, errors.Errorf("%s is empty", where(i))
			}
		}
		classNames = sortedLabels(labels)
	}
	class := make(map[string]int, len(classNames))
	for k, name := range classNames {
		class[name] = k
	}
	out := make([]int, len(labels))
	for i, l := range labels {
		k, ok := class[l]
		if !ok {
			return nil, nil, errors.Errorf("%s is %q, not one of the %d class names given", where(i), l, len(classNames))
		}
		out[i] = k
	}
	return out, append([]string(nil), classNames...), nil
}
