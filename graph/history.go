package graph

import "time"

// History records a training run, as MATLAB's training information: one
// record per iteration (mini-batch) and one per validation.
type History struct {
	// Classifier says whether the network classifies: Accuracy is then
	// meaningful and RMSE is not, and the other way round for regression.
	Classifier  bool
	Iterations  []IterationRecord
	Validations []ValidationRecord
	// BestIteration is the iteration whose weights the network holds at
	// the end: the last one, or with early stopping the one with the lowest
	// validation loss.
	BestIteration int
	// Stop says why training ended: "max epochs", "validation patience",
	// "canceled", or "diverged" (the loss or a gradient was NaN or
	// infinite; Train returns an error wrapping ErrDiverged).
	Stop string
}

// IterationRecord is the state of training after one iteration.
type IterationRecord struct {
	Epoch, Iteration int // from 1
	// Loss is the mini-batch loss; Accuracy (percent, classification) and
	// RMSE (regression) are the mini-batch's, as MATLAB reports them.
	Loss, Accuracy, RMSE float64
	LearnRate            float64
	Elapsed              time.Duration
}

// ValidationRecord is one evaluation on the validation data.
type ValidationRecord struct {
	Epoch, Iteration     int
	Loss, Accuracy, RMSE float64
}
