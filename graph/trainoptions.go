package graph

import (
	"io"
	"math"
	"os"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/optim"
)

// TrainOption sets one of Train's options, MATLAB's trainingOptions. Options
// are checked once, when Train starts.
type TrainOption func(*trainConfig)

type trainConfig struct {
	solver                   string
	maxEpochs, miniBatchSize int
	learnRate                float64 // 0: the solver's default
	dropFactor               float64 // piecewise schedule; 0: none
	dropPeriod               int
	l2                       float64
	gradThreshold            float64
	gradMethod               optim.ThresholdMethod
	solverOpts               []optim.Option
	shuffle                  dataset.ShuffleMode
	seqLength                dataset.SequenceLength
	padValue                 float64
	padDirection             dataset.PaddingDirection
	validation               dataset.Source
	validationFrequency      int
	patience                 int // 0: no early stopping
	verbose                  bool
	out                      io.Writer
	seed                     uint64
	checkpointDir            string
	checkpointFrequency      int
	resume                   *TrainingState
	sortByLength             bool
	workers                  int
	solverObject             Solver
	progressAsked            bool // WithVerbose(true) or WithProgressOutput
	errs                     []string
}

// Solver is what Train steps the learnables with: a gorgonia.Solver with a
// learning rate that the schedule can set (the solvers of package optim).
type Solver interface {
	gorgonia.Solver
	SetLearnRate(float64)
	LearnRate() float64
}

// newTrainConfig applies opts over MATLAB's defaults and checks them once.
func newTrainConfig(opts []TrainOption) (trainConfig, error) {
	cfg := defaultTrainConfig()
	for _, o := range opts {
		if o == nil {
			return cfg, errors.New("graph: train: nil option")
		}
		o(&cfg)
	}
	if cfg.solverObject != nil && (cfg.learnRate > 0 || cfg.l2 != defaultTrainConfig().l2 || !math.IsInf(cfg.gradThreshold, 1) || cfg.solverOpts != nil || cfg.solver != "sgdm") {
		cfg.bad("a solver given as a value has its own learning rate, L2 regularization, gradient threshold and options: set them when making it")
	}
	if len(cfg.errs) > 0 {
		return cfg, errors.Errorf("graph: train: %s", strings.Join(cfg.errs, "; "))
	}
	return cfg, nil
}

// batcher returns the batcher of the training data: MATLAB's sequence and
// shuffle options, dropping what does not fill the last mini-batch of an
// epoch, as MATLAB does, unless that would leave nothing.
func (c *trainConfig) batcher(data dataset.Source) (*dataset.Batcher, error) {
	opts := []dataset.BatchOption{
		dataset.WithPaddingDirection(c.padDirection), dataset.WithPaddingValue(c.padValue),
		dataset.WithSequenceLength(c.seqLength), dataset.WithShuffleMode(c.shuffle, int64(c.seed)),
		dataset.WithDropLast(data.Len() >= c.miniBatchSize),
	}
	if c.sortByLength {
		opts = append(opts, dataset.WithSortByLength())
	}
	return dataset.NewBatcher(data, min(c.miniBatchSize, data.Len()), opts...)
}

func defaultTrainConfig() trainConfig {
	return trainConfig{
		solver: "sgdm", maxEpochs: 30, miniBatchSize: 128, dropPeriod: 10,
		l2: 1e-4, gradThreshold: math.Inf(1), gradMethod: optim.L2Norm,
		shuffle: dataset.ShuffleOnce, validationFrequency: 50, verbose: true,
		out: os.Stdout, seed: 1, checkpointFrequency: 1, workers: 1,
	}
}

func (c *trainConfig) bad(format string, args ...any) {
	c.errs = append(c.errs, errors.Errorf(format, args...).Error())
}

// WithSolver sets the solver by MATLAB's name: "sgdm" (the default),
// "adam", "rmsprop" or "adagrad", made with the learning rate, L2
// regularization, gradient threshold and solver options of Train's options.
func WithSolver(name string) TrainOption {
	return func(c *trainConfig) { c.solver = strings.ToLower(name) }
}

// WithSolverValue trains with a solver made beforehand, such as
// optim.NewAdam(optim.WithLearnRate(0.01), optim.WithGradientThreshold(...)),
// with its own options; the learning rate schedule (WithPiecewiseLearnRate)
// starts from its learning rate. Options that make a solver (WithSolver,
// WithInitialLearnRate, WithL2Regularization, WithGradientThreshold,
// WithSolverOptions) cannot be given with it.
func WithSolverValue(s Solver) TrainOption {
	return func(c *trainConfig) {
		if s == nil {
			c.bad("nil solver")
		}
		c.solverObject = s
	}
}

// WithMaxEpochs sets the number of passes over the training data (30).
func WithMaxEpochs(n int) TrainOption {
	return func(c *trainConfig) {
		if n < 1 {
			c.bad("max epochs %d: want at least 1", n)
		}
		c.maxEpochs = n
	}
}

// WithMiniBatchSize sets the number of sequences per mini-batch (128).
func WithMiniBatchSize(n int) TrainOption {
	return func(c *trainConfig) {
		if n < 1 {
			c.bad("mini-batch size %d: want at least 1", n)
		}
		c.miniBatchSize = n
	}
}

// WithInitialLearnRate sets the learning rate of the first epoch (0.01 for
// sgdm and adagrad, 0.001 for adam and rmsprop).
func WithInitialLearnRate(lr float64) TrainOption {
	return func(c *trainConfig) {
		if !(lr > 0) || math.IsInf(lr, 0) {
			c.bad("initial learn rate %v: want a positive number", lr)
		}
		c.learnRate = lr
	}
}

// WithPiecewiseLearnRate multiplies the learning rate by dropFactor every
// dropPeriod epochs (MATLAB's LearnRateSchedule "piecewise" with
// LearnRateDropFactor and LearnRateDropPeriod; MATLAB's defaults are 0.1
// and 10).
func WithPiecewiseLearnRate(dropFactor float64, dropPeriod int) TrainOption {
	return func(c *trainConfig) {
		if !(dropFactor >= 0 && dropFactor <= 1) || dropPeriod < 1 {
			c.bad("piecewise learn rate: drop factor %v must be in [0, 1] and period %d at least 1", dropFactor, dropPeriod)
		}
		c.dropFactor, c.dropPeriod = dropFactor, dropPeriod
		if dropFactor == 0 {
			c.dropFactor = math.SmallestNonzeroFloat64 // 0 means "no schedule" internally
		}
	}
}

// WithL2Regularization sets the L2 regularization factor of the weights
// (1e-4; biases are not regularized, as MATLAB's BiasL2Factor 0).
func WithL2Regularization(lambda float64) TrainOption {
	return func(c *trainConfig) {
		if !(lambda >= 0) || math.IsInf(lambda, 0) {
			c.bad("L2 regularization %v: want a non-negative number", lambda)
		}
		c.l2 = lambda
	}
}

// WithGradientThreshold clips gradients whose norm or values exceed
// threshold, by MATLAB's GradientThresholdMethod (none by default).
func WithGradientThreshold(method optim.ThresholdMethod, threshold float64) TrainOption {
	return func(c *trainConfig) { c.gradMethod, c.gradThreshold = method, threshold }
}

// WithSolverOptions passes options to the solver: optim.WithMomentum for
// sgdm, optim.WithBetas for adam, optim.WithSquaredGradientDecay for
// rmsprop, optim.WithEpsilon (MATLAB's Momentum, GradientDecayFactor,
// SquaredGradientDecayFactor and Epsilon).
func WithSolverOptions(opts ...optim.Option) TrainOption {
	return func(c *trainConfig) { c.solverOpts = append(c.solverOpts, opts...) }
}

// WithShuffle sets when the training data is shuffled: dataset.ShuffleOnce
// (MATLAB's default), ShuffleEveryEpoch or ShuffleNever.
func WithShuffle(mode dataset.ShuffleMode) TrainOption {
	return func(c *trainConfig) { c.shuffle = mode }
}

// WithSortByLength orders the training data by sequence length once and
// does not shuffle it, so that each mini-batch holds sequences of similar
// length and little padding: the recipe of MATLAB's sequence classification
// example. For shuffled batches of similar length, see dataset.WithBuckets.
func WithSortByLength() TrainOption {
	return func(c *trainConfig) { c.sortByLength, c.shuffle = true, dataset.ShuffleNever }
}

// WithSequenceLength sets MATLAB's SequenceLength: dataset.Longest (the
// default), dataset.Shortest, or a number of timesteps to split into chunks
// (truncated backpropagation through time).
func WithSequenceLength(l dataset.SequenceLength) TrainOption {
	return func(c *trainConfig) { c.seqLength = l }
}

// WithSequencePadding sets MATLAB's SequencePaddingDirection and
// SequencePaddingValue ("right" and 0 by default).
func WithSequencePadding(dir dataset.PaddingDirection, value float64) TrainOption {
	return func(c *trainConfig) { c.padDirection, c.padValue = dir, value }
}

// WithValidationData evaluates the network on src every
// WithValidationFrequency iterations and at the end of training.
func WithValidationData(src dataset.Source) TrainOption {
	return func(c *trainConfig) { c.validation = src }
}

// WithValidationFrequency sets how many iterations pass between
// validations (50).
func WithValidationFrequency(n int) TrainOption {
	return func(c *trainConfig) {
		if n < 1 {
			c.bad("validation frequency %d: want at least 1", n)
		}
		c.validationFrequency = n
	}
}

// WithValidationPatience stops training once the validation loss has been
// larger than or equal to its smallest value n times in a row, and leaves
// the network with the weights of that smallest loss (MATLAB's
// ValidationPatience with OutputNetwork "best-validation-loss"). By default
// training does not stop early.
func WithValidationPatience(n int) TrainOption {
	return func(c *trainConfig) {
		if n < 1 {
			c.bad("validation patience %d: want at least 1", n)
		}
		c.patience = n
	}
}

// WithVerbose asks for progress reports (true) or none (false). By default
// Train reports progress only when its output is a terminal, as a
// progress bar; asked, it writes one line per epoch to any other output.
func WithVerbose(on bool) TrainOption {
	return func(c *trainConfig) { c.verbose, c.progressAsked = on, on }
}

// WithProgressOutput sets where progress goes (standard output by default)
// and asks for it: a terminal gets a progress bar, anything else plain
// lines.
func WithProgressOutput(w io.Writer) TrainOption {
	return func(c *trainConfig) { c.out, c.progressAsked = w, true }
}

// WithTrainSeed seeds the shuffling of the training data (1), so that one
// seed gives the same batches; the network's own seed governs its
// initialization and dropout.
func WithTrainSeed(seed uint64) TrainOption { return func(c *trainConfig) { c.seed = seed } }

// WithCheckpoints saves the network into dir every everyEpochs epochs, as
// checkpoint_epoch<NNN>.safetensors (MATLAB's CheckpointPath and
// CheckpointFrequency).
func WithCheckpoints(dir string, everyEpochs int) TrainOption {
	return func(c *trainConfig) {
		if dir == "" || everyEpochs < 1 {
			c.bad("checkpoints: folder %q and frequency %d: want a folder and at least 1", dir, everyEpochs)
		}
		c.checkpointDir, c.checkpointFrequency = dir, everyEpochs
	}
}

// WithResume continues a training run from a checkpoint's training state
// (LoadFileWithState): training goes on at the epoch after st.Epoch, with the
// iteration count and the learning rate schedule where they were, and the
// shuffling of the epochs that remain as in the uninterrupted run. The
// solver starts afresh, as MATLAB's does when it resumes from a checkpoint
// network.
func WithResume(st *TrainingState) TrainOption {
	return func(c *trainConfig) {
		if st == nil || st.Epoch < 1 || st.Iteration < 0 {
			c.bad("resume: no training state, or one before the first epoch")
		}
		c.resume = st
	}
}

// WithWorkers splits every mini-batch between n goroutines that run their
// shares on graphs of their own (Network.TrainStepParallel; MATLAB's
// ExecutionEnvironment "parallel" on one machine). One worker per core is
// the natural choice; 1, the default, trains serially. Chunks of split
// sequences are trained serially.
func WithWorkers(n int) TrainOption {
	return func(c *trainConfig) {
		if n < 1 {
			c.bad("workers %d: want at least 1", n)
		}
		c.workers = n
	}
}

// makeSolver returns the solver given as a value, or makes the one named.
func (c *trainConfig) makeSolver() (Solver, error) {
	if c.solverObject != nil {
		return c.solverObject, nil
	}
	opts := append([]optim.Option{optim.WithL2Regularization(c.l2)}, c.solverOpts...)
	if c.learnRate > 0 {
		opts = append(opts, optim.WithLearnRate(c.learnRate))
	}
	if !math.IsInf(c.gradThreshold, 1) {
		opts = append(opts, optim.WithGradientThreshold(c.gradMethod, c.gradThreshold))
	}
	switch c.solver {
	case "sgdm":
		return optim.NewSGDM(opts...)
	case "adam":
		return optim.NewAdam(opts...)
	case "rmsprop":
		return optim.NewRMSProp(opts...)
	case "adagrad":
		return optim.NewAdagrad(opts...)
	}
	return nil, errors.Errorf("unknown solver %q (want sgdm, adam, rmsprop or adagrad)", c.solver)
}
