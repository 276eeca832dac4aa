// Package metrics scores a network's predictions against the truth, as
// MATLAB's confusionmat, confusionchart summaries and rmse do.
//
// Classification labels are class indices from 0. A classifier's output is
// a score per class (softmax probabilities), so ArgMax turns those scores
// into labels first:
//
//	pred := metrics.ArgMax(scores) // scores[i][k]: observation i, class k
//	acc, err := metrics.Accuracy(pred, truth)
//	cm, err := metrics.ConfusionMatrix(pred, truth, classes)
//	precision, recall := metrics.PrecisionRecall(cm)
//	f1 := metrics.F1(cm)
//
// A confusion matrix has a row per true class and a column per predicted
// class, as MATLAB's confusionchart: cm[t][p] counts the observations of
// class t that were predicted as p, so the diagonal counts the correct
// ones. Per-class scores that are undefined because a class never occurs
// (0/0) are NaN rather than 0, so that a missing class is not mistaken for
// a badly predicted one; use math.IsNaN to tell them apart.
//
// Regression predictions are scored with RMSE and MAE.
//
// Functions whose inputs come from data (labels, predictions) return
// errors that wrap ErrEmpty, ErrLengthMismatch or ErrLabelRange, so that a
// caller can tell the cases apart with errors.Is. Functions that take a
// confusion matrix made by ConfusionMatrix panic if it is malformed, as
// gonum's functions do for mismatched dimensions: that is a programming
// error, not a data error.
package metrics
