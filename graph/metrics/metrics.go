package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Errors wrapped by the errors this package returns, for errors.Is.
var (
	// ErrEmpty says that there was nothing to score.
	ErrEmpty = errors.New("empty input")
	// ErrLengthMismatch says that predictions and truth differ in length.
	ErrLengthMismatch = errors.New("length mismatch")
	// ErrLabelRange says that a label is not a valid class index.
	ErrLabelRange = errors.New("label out of range")
)

// checkPair returns an error unless pred and truth have the same, non-zero
// length. op names the metric in the error.
func checkPair(op string, npred, ntruth int) error {
	if npred != ntruth {
		return fmt.Errorf("metrics: %s: %w: pred has %d values, truth has %d", op, ErrLengthMismatch, npred, ntruth)
	}
	if npred == 0 {
		return fmt.Errorf("metrics: %s: %w: no predictions", op, ErrEmpty)
	}
	return nil
}

// checkLabels returns an error for the first label of labels that is not
// in [0, classes); classes < 0 means there is no upper bound. name says
// which argument labels is, for the error.
func checkLabels(op, name string, labels []int, classes int) error {
	for i, l := range labels {
		if l < 0 || (classes >= 0 && l >= classes) {
			if classes < 0 {
				return fmt.Errorf("metrics: %s: %w: %s[%d] is %d, want a class index >= 0", op, ErrLabelRange, name, i, l)
			}
			return fmt.Errorf("metrics: %s: %w: %s[%d] is %d, want a class index in [0, %d)", op, ErrLabelRange, name, i, l, classes)
		}
	}
	return nil
}

// Accuracy returns the fraction of pred that equals truth, in [0, 1].
//
// Labels are class indices, so a negative label is an error rather than
// a value that never matches: it is more likely a padding marker or a
// failed ArgMax than a class.
func Accuracy(pred, truth []int) (float64, error) {
	const op = "accuracy"
	if err := checkPair(op, len(pred), len(truth)); err != nil {
		return 0, err
	}
	if err := checkLabels(op, "pred", pred, -1); err != nil {
		return 0, err
	}
	if err := checkLabels(op, "truth", truth, -1); err != nil {
		return 0, err
	}
	var correct int
	for i, p := range pred {
		if p == truth[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(pred)), nil
}

// ConfusionMatrix returns the classes×classes confusion matrix of pred
// against truth: cm[t][p] is the number of observations of true class t
// predicted as class p. Rows are true classes and columns predicted
// classes, as in MATLAB's confusionchart.
//
// Every label must be in [0, classes).
func ConfusionMatrix(pred, truth []int, classes int) ([][]int, error) {
	const op = "confusion matrix"
	if classes < 1 {
		return nil, fmt.Errorf("metrics: %s: %w: %d classes, want at least 1", op, ErrEmpty, classes)
	}
	if err := checkPair(op, len(pred), len(truth)); err != nil {
		return nil, err
	}
	if err := checkLabels(op, "pred", pred, classes); err != nil {
		return nil, err
	}
	if err := checkLabels(op, "truth", truth, classes); err != nil {
		return nil, err
	}
	// One backing array keeps the rows together in memory and costs a
	// single allocation however many classes there are.
	data := make([]int, classes*classes)
	cm := make([][]int, classes)
	for t := range cm {
		cm[t] = data[t*classes : (t+1)*classes : (t+1)*classes]
	}
	for i, p := range pred {
		cm[truth[i]][p]++
	}
	return cm, nil
}

// checkSquare panics unless cm is a square matrix of non-negative counts.
func checkSquare(op string, cm [][]int) {
	for t, row := range cm {
		if len(row) != len(cm) {
			panic(fmt.Sprintf("metrics: %s: confusion matrix row %d has %d columns, want %d", op, t, len(row), len(cm)))
		}
		for p, v := range row {
			if v < 0 {
				panic(fmt.Sprintf("metrics: %s: confusion matrix cell [%d][%d] is %d, want a count >= 0", op, t, p, v))
			}
		}
	}
}

// PrecisionRecall returns the precision and recall of each class of the
// confusion matrix cm, laid out as ConfusionMatrix returns it.
//
// The precision of class k is the fraction of the observations predicted
// as k that are k: cm[k][k] over the sum of column k. It is NaN if k was
// never predicted. The recall of class k is the fraction of the
// observations of class k that were predicted as k: cm[k][k] over the sum
// of row k. It is NaN if k never occurs in the truth.
//
// PrecisionRecall panics if cm is not square or holds a negative count.
func PrecisionRecall(cm [][]int) (precision, recall []float64) {
	checkSquare("precision and recall", cm)
	n := len(cm)
	precision = make([]float64, n)
	recall = make([]float64, n)
	for k := range n {
		var predicted, actual int
		for i := range n {
			predicted += cm[i][k]
			actual += cm[k][i]
		}
		precision[k] = ratio(cm[k][k], predicted)
		recall[k] = ratio(cm[k][k], actual)
	}
	return precision, recall
}

// F1 returns the F1 score of each class of the confusion matrix cm, the
// harmonic mean of its precision and recall, computed from the counts as
// 2·TP / (2·TP + FP + FN).
//
// Computing from the counts makes the score 0, not NaN, for a class that
// occurs but is never predicted (or is predicted but never occurs): such a
// class is classified as badly as can be. It is NaN only for a class that
// neither occurs nor is predicted.
//
// F1 panics if cm is not square or holds a negative count.
func F1(cm [][]int) []float64 {
	checkSquare("F1", cm)
	n := len(cm)
	f1 := make([]float64, n)
	for k := range n {
		tp := cm[k][k]
		var fp, fn int
		for i := range n {
			if i != k {
				fp += cm[i][k]
				fn += cm[k][i]
			}
		}
		f1[k] = ratio(2*tp, 2*tp+fp+fn)
	}
	return f1
}

// ratio returns num/den, or NaN if den is 0.
func ratio(num, den int) float64 {
	if den == 0 {
		return math.NaN()
	}
	return float64(num) / float64(den)
}

// RMSE returns the root-mean-square error of pred against truth.
// A NaN in either gives NaN, so that a diverged prediction is not hidden.
func RMSE(pred, truth []float64) (float64, error) {
	if err := checkPair("RMSE", len(pred), len(truth)); err != nil {
		return 0, err
	}
	var sum float64
	for i, p := range pred {
		d := p - truth[i]
		sum += d * d
	}
	return math.Sqrt(sum / float64(len(pred))), nil
}

// MAE returns the mean absolute error of pred against truth.
// A NaN in either gives NaN, so that a diverged prediction is not hidden.
func MAE(pred, truth []float64) (float64, error) {
	if err := checkPair("MAE", len(pred), len(truth)); err != nil {
		return 0, err
	}
	var sum float64
	for i, p := range pred {
		sum += math.Abs(p - truth[i])
	}
	return sum / float64(len(pred)), nil
}

// ArgMax returns for each row of scores the index of its largest score:
// the predicted label when scores[i] holds the per-class scores (such as
// softmax probabilities) of observation i. Ties go to the lowest index.
//
// NaN scores are skipped. A row that is empty or holds only NaN gets -1,
// which Accuracy and ConfusionMatrix reject with the row's index, rather
// than a label that would silently count as a prediction.
func ArgMax(scores [][]float64) []int {
	labels := make([]int, len(scores))
	for i, row := range scores {
		best := -1
		for k, v := range row {
			// Strictly greater keeps the lowest index on ties.
			if !math.IsNaN(v) && (best < 0 || v > row[best]) {
				best = k
			}
		}
		labels[i] = best
	}
	return labels
}
