package graph

import (
	"math"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
)

// evaluate returns the loss of the network on src, computed as in training
// (cross-entropy or half squared error, averaged over each sequence's real
// timesteps and then over the sequences), with the accuracy in percent (classifiers)
// or the RMSE (regression; the other is NaN), predicting in mini-batches of
// batchSize padded as given.
func (n *Network) evaluate(src dataset.Source, batchSize int, dir dataset.PaddingDirection, pad float64) (loss, acc, rmse float64, err error) {
	if src == nil || src.Len() == 0 {
		return 0, 0, 0, errors.New("graph: evaluate: no observations")
	}
	acc, rmse = math.NaN(), math.NaN()
	var right, count, values int
	var se, total float64
	for b, err := range inOrder(src, batchSize, dataset.WithPaddingDirection(dir), dataset.WithPaddingValue(pad)) {
		if err != nil {
			return 0, 0, 0, err
		}
		if err := n.checkBatch(b, true); err != nil {
			return 0, 0, 0, err
		}
		// score adds one output row against its target, whose loss
		// weighs w (1/L for each of a sequence's L steps, as in training).
		score := func(row []float64, label int, want []float64, w float64) {
			if n.IsClassifier() {
				total -= w * math.Log(row[label])
				if argmax(row) == label {
					right++
				}
				count++
				return
			}
			for r, y := range row {
				d := y - want[r]
				total += w * d * d / 2
				se += d * d
				values++
			}
		}
		k := n.OutputSize()
		if n.PerStep() {
			out, err := n.PredictStepsBatch(b)
			if err != nil {
				return 0, 0, 0, err
			}
			for s, steps := range out {
				i := 0
				for t := 0; t < b.T; t++ {
					at := s*b.T + t
					if b.Mask[at] == 0 {
						continue
					}
					w := 1 / float64(len(steps))
					if n.IsClassifier() {
						score(steps[i], b.StepLabels[at], nil, w)
					} else {
						score(steps[i], 0, b.StepResponses[at*k:(at+1)*k], w)
					}
					i++
				}
			}
			continue
		}
		out, err := n.PredictBatch(b)
		if err != nil {
			return 0, 0, 0, err
		}
		for s, row := range out {
			if n.IsClassifier() {
				score(row, b.Labels[s], nil, 1)
			} else {
				score(row, 0, b.Responses[s*k:(s+1)*k], 1)
			}
		}
	}
	loss = total / float64(src.Len())
	if n.IsClassifier() {
		acc = 100 * float64(right) / float64(count)
	} else {
		rmse = math.Sqrt(se / float64(values))
	}
	return loss, acc, rmse, nil
}
