package graph

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/nodes"
)

// Train trains net on data as MATLAB's trainNetwork does with the given
// trainingOptions, and returns it with the history of the run. The options
// default to MATLAB's: sgdm, 30 epochs, mini-batches of 128, shuffled once,
// L2 regularization 1e-4, sequences padded on the right to the longest of
// each mini-batch; a mini-batch that the data cannot fill at the end of an
// epoch is dropped. A network whose input layer normalizes gets its
// statistics from data first, unless it has them.
//
// Canceling ctx stops training after the current iteration; Train then
// returns the network as it is, the history so far and ctx's error.
func Train(ctx context.Context, net *Network, data dataset.Source, opts ...TrainOption) (*Network, *History, error) {
	t, err := newTrainer(ctx, net, data, opts)
	if err != nil {
		return nil, nil, err
	}
	defer t.closeProgress()
	err = t.run(ctx)
	t.restoreBest()
	return net, t.hist, err
}

// newTrainer checks Train's arguments and readies its run: the options,
// the data against the network, the solver, the input normalization, the
// batches and the progress report.
func newTrainer(ctx context.Context, net *Network, data dataset.Source, opts []TrainOption) (*trainer, error) {
	cfg, err := newTrainConfig(opts)
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, errors.New("graph: train: nil context (pass context.Background() to train without cancellation)")
	}
	if net == nil || data == nil || data.Len() == 0 {
		return nil, errors.New("graph: train: no network or no training data")
	}
	if err := net.checkSchema(data.Schema(), true); err != nil {
		return nil, errors.Wrap(err, "graph: train: training data")
	}
	if cfg.validation != nil {
		if err := net.checkSchema(cfg.validation.Schema(), true); err != nil {
			return nil, errors.Wrap(err, "graph: train: validation data")
		}
	}
	if cfg.resume != nil && cfg.resume.Epoch >= cfg.maxEpochs {
		return nil, errors.Errorf("graph: train: resuming after epoch %d of %d: nothing left to train", cfg.resume.Epoch, cfg.maxEpochs)
	}
	t := &trainer{net: net, cfg: cfg, hist: &History{Classifier: net.IsClassifier(), Stop: "max epochs"}, start: time.Now()}
	if t.solver, err = cfg.makeSolver(); err != nil {
		return nil, errors.Wrap(err, "graph: train")
	}
	t.baseRate = t.solver.LearnRate()
	if net.input.norm != dataset.NormNone && net.norm == nil {
		if err := net.FitNormalization(data); err != nil {
			return nil, err
		}
	}
	if t.batches, err = cfg.batcher(data); err != nil {
		return nil, errors.Wrap(err, "graph: train")
	}
	return t, t.openProgress(t.batches, data.Len())
}

// run trains epoch after epoch until the last, a stop rule, an error or
// ctx's cancellation, and validates at the end.
func (t *trainer) run(ctx context.Context) error {
	first := 1
	if r := t.cfg.resume; r != nil {
		t.iteration, first = r.Iteration, r.Epoch+1
	}
	for epoch := first; epoch <= t.cfg.maxEpochs; epoch++ {
		if stop, err := t.epoch(ctx, epoch); err != nil || stop {
			return err
		}
		if t.cfg.checkpointDir != "" && epoch%t.cfg.checkpointFrequency == 0 {
			if err := t.checkpoint(epoch, t.iteration); err != nil {
				return err
			}
		}
		t.epochLine(epoch)
	}
	if v := t.hist.Validations; t.cfg.validation != nil && (len(v) == 0 || v[len(v)-1].Iteration != t.iteration) {
		if _, err := t.validate(t.cfg.maxEpochs, t.iteration); err != nil {
			return err
		}
	}
	return nil
}

// epoch trains on the batches of an epoch at the learning rate of the
// schedule, and reports whether training stops early.
func (t *trainer) epoch(ctx context.Context, epoch int) (bool, error) {
	rate := t.baseRate
	if t.cfg.dropFactor > 0 {
		rate = t.baseRate * math.Pow(t.cfg.dropFactor, float64((epoch-1)/t.cfg.dropPeriod))
	}
	t.solver.SetLearnRate(rate)
	for b, err := range t.batches.Epoch(epoch - 1) {
		if err != nil {
			return true, errors.Wrapf(err, "graph: train: epoch %d", epoch)
		}
		if ctx.Err() != nil {
			t.hist.Stop = "canceled"
			return true, ctx.Err()
		}
		if stop, err := t.step(b, epoch, rate); err != nil || stop {
			return true, err
		}
	}
	return false, nil
}

// step trains on one mini-batch (or chunk), records the iteration,
// validates when it is time, and reports whether training stops early.
func (t *trainer) step(b *dataset.Batch, epoch int, rate float64) (bool, error) {
	loss, runs, err := t.net.trainStepParallel(b, t.solver, t.cfg.workers)
	if err != nil {
		if errors.Is(err, ErrDiverged) {
			t.hist.Stop = "diverged"
		}
		return true, errors.Wrapf(err, "graph: train: epoch %d, iteration %d", epoch, t.iteration+1)
	}
	defer t.net.releaseRuns(runs)
	if !holdsTargets(b) {
		return false, nil // a chunk that only carried the state on
	}
	t.iteration++
	acc, rmse := batchMetrics(t.net, runs)
	t.hist.Iterations = append(t.hist.Iterations, IterationRecord{
		Epoch: epoch, Iteration: t.iteration, Loss: loss, Accuracy: acc, RMSE: rmse, LearnRate: rate, Elapsed: time.Since(t.start),
	})
	t.hist.BestIteration = t.iteration
	if t.cfg.validation != nil && t.iteration%t.cfg.validationFrequency == 0 {
		if stop, err := t.validate(epoch, t.iteration); err != nil || stop {
			return true, err
		}
	}
	t.progress()
	return false, nil
}

// trainer is the state of one Train call.
type trainer struct {
	net       *Network
	cfg       trainConfig
	hist      *History
	start     time.Time
	solver    Solver
	baseRate  float64
	batches   *dataset.Batcher
	iteration int

	bar   *progressbar.ProgressBar
	lines io.Writer // plain progress lines; nil when silent or on a bar

	bestLoss  float64
	best      *snapshot // weights of the lowest validation loss
	sinceBest int
}

// snapshot is a copy of a network's learnables and running statistics.
type snapshot struct {
	iteration  int
	learnables map[string][]float64
	batchNorm  map[string]nodes.BatchNormState
}

func takeSnapshot(n *Network, iteration int) *snapshot {
	s := &snapshot{iteration: iteration, learnables: map[string][]float64{}, batchNorm: map[string]nodes.BatchNormState{}}
	for _, name := range n.Learnables() {
		s.learnables[name], _ = n.Learnable(name)
	}
	for name, st := range n.batchNorm {
		c := *st
		c.Mean = append([]float64(nil), st.Mean...)
		c.Variance = append([]float64(nil), st.Variance...)
		s.batchNorm[name] = c
	}
	return s
}

func (s *snapshot) restore(n *Network) {
	n.weights.Lock()
	defer n.weights.Unlock()
	for name, v := range s.learnables {
		_ = n.params.Set(name, v) // same names and sizes: cannot fail
	}
	for name, st := range s.batchNorm {
		copy(n.batchNorm[name].Mean, st.Mean)
		copy(n.batchNorm[name].Variance, st.Variance)
	}
}

// validate evaluates the validation data and applies the patience rule;
// it reports whether training should stop.
func (t *trainer) validate(epoch, iteration int) (bool, error) {
	loss, acc, rmse, err := t.net.evaluate(t.cfg.validation, t.cfg.miniBatchSize, t.cfg.padDirection, t.cfg.padValue)
	if err != nil {
		return true, errors.Wrapf(err, "graph: train: validation at iteration %d", iteration)
	}
	t.hist.Validations = append(t.hist.Validations, ValidationRecord{Epoch: epoch, Iteration: iteration, Loss: loss, Accuracy: acc, RMSE: rmse})
	if t.cfg.patience == 0 {
		return false, nil
	}
	if t.best == nil || loss < t.bestLoss {
		t.bestLoss, t.best, t.sinceBest = loss, takeSnapshot(t.net, iteration), 0
		return false, nil
	}
	t.sinceBest++
	if t.sinceBest >= t.cfg.patience {
		t.hist.Stop = "validation patience"
		return true, nil
	}
	return false, nil
}

// restoreBest puts back the weights of the lowest validation loss when
// training uses early stopping.
func (t *trainer) restoreBest() {
	if t.best != nil {
		t.best.restore(t.net)
		t.hist.BestIteration = t.best.iteration
	}
}

func (t *trainer) checkpoint(epoch, iteration int) error {
	if err := os.MkdirAll(t.cfg.checkpointDir, 0o755); err != nil {
		return errors.Wrap(err, "graph: train: checkpoint folder")
	}
	path := filepath.Join(t.cfg.checkpointDir, fmt.Sprintf("checkpoint_epoch%03d.safetensors", epoch))
	return errors.Wrapf(t.net.SaveFile(path, WithTrainingState(epoch, iteration)), "graph: train: checkpoint at epoch %d", epoch)
}

// openProgress starts the progress report: a bar on a terminal, lines
// elsewhere.
func (t *trainer) openProgress(batches *dataset.Batcher, observations int) error {
	if !t.cfg.verbose || t.cfg.out == nil {
		return nil
	}
	if f, ok := t.cfg.out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		total := 0
		for e := 0; e < t.cfg.maxEpochs; e++ {
			n, err := batches.NumChunks(e)
			if err != nil {
				return errors.Wrap(err, "graph: train")
			}
			total += n
		}
		t.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription("training"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(f) }),
		)
		return nil
	}
	if !t.cfg.progressAsked {
		return nil // not a terminal, and nobody asked
	}
	t.lines = t.cfg.out
	fmt.Fprintf(t.lines, "training on %d observations: %s, %d epochs, mini-batches of %d\n",
		observations, t.cfg.solver, t.cfg.maxEpochs, t.cfg.miniBatchSize)
	return nil
}

// metricText is the mini-batch accuracy or RMSE of r, for progress reports.
func (t *trainer) metricText(acc, rmse float64) string {
	if t.hist.Classifier {
		return fmt.Sprintf("accuracy %5.1f%%", acc)
	}
	return fmt.Sprintf("RMSE %.4g", rmse)
}

// progress updates the bar after an iteration.
func (t *trainer) progress() {
	if t.bar == nil {
		return
	}
	r := t.hist.Iterations[len(t.hist.Iterations)-1]
	t.bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.5g  %s", r.Epoch, t.cfg.maxEpochs, r.Loss, t.metricText(r.Accuracy, r.RMSE)))
	_ = t.bar.Add(1)
}

// epochLine prints one line at the end of an epoch when not on a terminal.
func (t *trainer) epochLine(epoch int) {
	if t.lines == nil || len(t.hist.Iterations) == 0 {
		return
	}
	r := t.hist.Iterations[len(t.hist.Iterations)-1]
	line := fmt.Sprintf("epoch %3d/%d  iteration %5d  elapsed %v  loss %.5g  %s  learn rate %.3g",
		epoch, t.cfg.maxEpochs, r.Iteration, time.Since(t.start).Round(time.Second), r.Loss, t.metricText(r.Accuracy, r.RMSE), r.LearnRate)
	if n := len(t.hist.Validations); n > 0 {
		v := t.hist.Validations[n-1]
		line += fmt.Sprintf("  validation loss %.5g %s", v.Loss, t.metricText(v.Accuracy, v.RMSE))
	}
	fmt.Fprintln(t.lines, line)
}

func (t *trainer) closeProgress() {
	if t.bar != nil {
		_ = t.bar.Finish()
	}
}

// batchMetrics returns the mini-batch accuracy in percent (classifiers) and
// RMSE (regression) of the outputs of the last runs of the shards of a
// batch; the other is NaN. Per-sequence targets count where each sequence
// ends.
func batchMetrics(n *Network, runs []shardRun) (acc, rmse float64) {
	acc, rmse = math.NaN(), math.NaN()
	var right, count, values int
	var se float64
	for _, run := range runs {
		b := run.b
		for t, v := range run.p.outVals {
			for s, row := range rows(v) {
				if n.PerStep() {
					if b.Mask[s*b.T+t] == 0 {
						continue
					}
				} else if b.Ends != nil && !b.Ends[s] {
					continue
				}
				if n.IsClassifier() {
					label := -1
					if n.PerStep() {
						label = b.StepLabels[s*b.T+t]
					} else {
						label = b.Labels[s]
					}
					if argmax(row) == label {
						right++
					}
					count++
					continue
				}
				for r, y := range row {
					var want float64
					if n.PerStep() {
						want = b.StepResponses[(s*b.T+t)*len(row)+r]
					} else {
						want = b.Responses[s*len(row)+r]
					}
					se += (y - want) * (y - want)
					values++
				}
			}
		}
	}
	if n.IsClassifier() && count > 0 {
		acc = 100 * float64(right) / float64(count)
	}
	if !n.IsClassifier() && values > 0 {
		rmse = math.Sqrt(se / float64(values))
	}
	return acc, rmse
}

func argmax(row []float64) int {
	best := 0
	for k, v := range row {
		if v > row[best] {
			best = k
		}
	}
	return best
}
