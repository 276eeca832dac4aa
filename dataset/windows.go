package dataset

import (
	"fmt"

	"github.com/pkg/errors"
)

// WholeSeries, as the window of NewStepAheadRegression, takes every series
// whole: one observation per series, as in MATLAB's time series forecasting
// example.
const WholeSeries = 0

// Series returns values as a Sequence of one feature per timestep, sharing
// their storage, for the window constructors.
func Series(values []float64) Sequence {
	return Sequence{Data: values, T: len(values), F: 1}
}

// WindowOption configures NewWindowRegression and NewStepAheadRegression.
type WindowOption func(*windowConfig)

type windowConfig struct {
	horizon int
	stride  int
	targets []int // features that make the responses; nil for all
}

// WithHorizon sets how far ahead the responses reach; the default is 1.
// For NewWindowRegression the response of a window is the next h timesteps
// after it; for NewStepAheadRegression the response of timestep t is
// timestep t+h.
func WithHorizon(h int) WindowOption {
	return func(c *windowConfig) { c.horizon = h }
}

// WithStride sets the number of timesteps from the start of one window to
// the start of the next; the default is 1, every possible window.
func WithStride(s int) WindowOption {
	return func(c *windowConfig) { c.stride = s }
}

// WithTargetFeatures chooses the features of the series, by index, that
// make up the responses, in that order; by default all of them. The inputs
// always hold every feature. Predicting one channel of a multichannel
// series from all of them is WithTargetFeatures(k).
func WithTargetFeatures(features ...int) WindowOption {
	features = append(make([]int, 0, len(features)), features...)
	return func(c *windowConfig) { c.targets = features }
}

// newWindowConfig applies opts and checks them, and the series, which must
// be valid sequences of one number of features that the target features
// index.
func newWindowConfig(series []Sequence, opts []WindowOption) (windowConfig, error) {
	c := windowConfig{horizon: 1, stride: 1}
	for i, opt := range opts {
		if opt == nil {
			return c, errors.Errorf("dataset: option %d is nil", i)
		}
		opt(&c)
	}
	switch {
	case c.horizon < 1:
		return c, errors.Errorf("dataset: horizon %d, want at least 1", c.horizon)
	case c.stride < 1:
		return c, errors.Errorf("dataset: stride %d, want at least 1", c.stride)
	case len(series) == 0:
		return c, errors.New("dataset: no series")
	}
	for i, s := range series {
		if err := s.check(); err != nil {
			return c, errors.Wrapf(err, "dataset: series %d", i)
		}
		if s.F != series[0].F {
			return c, errors.Errorf("dataset: series %d has %d features, want %d as series 0", i, s.F, series[0].F)
		}
	}
	if c.targets != nil {
		if len(c.targets) == 0 {
			return c, errors.New("dataset: no target features")
		}
		seen := make(map[int]bool, len(c.targets))
		for _, f := range c.targets {
			switch {
			case f < 0 || f >= series[0].F:
				return c, errors.Errorf("dataset: target feature %d out of range [0, %d)", f, series[0].F)
			case seen[f]:
				return c, errors.Errorf("dataset: target feature %d chosen twice", f)
			}
			seen[f] = true
		}
	}
	return c, nil
}

// rows returns timesteps [from, to) of s, sharing s's storage when every
// feature is a target and copying the target features otherwise.
func (c windowConfig) rows(s Sequence, from, to int) []float64 {
	if c.targets == nil {
		return s.Data[from*s.F : to*s.F : to*s.F]
	}
	out := make([]float64, 0, (to-from)*len(c.targets))
	for t := from; t < to; t++ {
		for _, f := range c.targets {
			out = append(out, s.Data[t*s.F+f])
		}
	}
	return out
}

// windows calls fn with the start k of every window of n input steps of
// every series, as far as the window and the horizon after it fit in the
// series, n being window or, for WholeSeries, the whole series less the
// horizon. It fails for a series too short for one window.
func (c windowConfig) windows(series []Sequence, window int, fn func(s Sequence, k, n int)) error {
	for i, s := range series {
		n, what := window, fmt.Sprintf("a window of %d and a horizon of %d", window, c.horizon)
		if window == WholeSeries {
			n, what = max(s.T-c.horizon, 1), fmt.Sprintf("a horizon of %d", c.horizon)
		}
		if s.T < n+c.horizon {
			return errors.Errorf("dataset: series %d has %d timesteps, want at least %d for %s", i, s.T, n+c.horizon, what)
		}
		for k := 0; k+n+c.horizon <= s.T; k += c.stride {
			fn(s, k, n)
		}
	}
	return nil
}

// input returns timesteps [k, k+n) of s, sharing its storage.
func input(s Sequence, k, n int) Sequence {
	return Sequence{Data: s.Data[k*s.F : (k+n)*s.F : (k+n)*s.F], T: n, F: s.F}
}

// NewWindowRegression returns a sequence-to-one regression set of sliding
// windows over series: every window of window consecutive timesteps of a
// series is an input, and the timesteps that follow it are its response.
// With horizon h (WithHorizon) and stride s (WithStride), the window that
// starts at timestep k of a series x is
//
//	input     x[k], x[k+1], ..., x[k+window-1]
//	response  x[k+window], ..., x[k+window+h-1]   (concatenated, step by step)
//
// for k = 0, s, 2s, ... as long as the response fits in the series. The
// response vector holds the target features (WithTargetFeatures, by default
// all F) of each of the h steps, step-major, so its size is h times their
// number. This is the windowing of the Keras and TensorFlow forecasting
// tutorials and of the cosine demo.
//
// Windows come series by series, by start, and never span two series, so
// that independent recordings, such as one per unit, are not joined. Every
// series must hold at least window+h timesteps, and all the same number of
// features. Inputs share their storage with the series, so that
// overlapping windows cost no memory; responses share it when every
// feature is a target.
func NewWindowRegression(series []Sequence, window int, opts ...WindowOption) (*InMemory, error) {
	c, err := newWindowConfig(series, opts)
	if err != nil {
		return nil, err
	}
	if window < 1 {
		return nil, errors.Errorf("dataset: window of %d timesteps, want at least 1", window)
	}
	var seqs []Sequence
	var responses [][]float64
	err = c.windows(series, window, func(s Sequence, k, n int) {
		seqs = append(seqs, input(s, k, n))
		responses = append(responses, c.rows(s, k+n, k+n+c.horizon))
	})
	if err != nil {
		return nil, err
	}
	return NewRegression(seqs, responses)
}

// NewStepAheadRegression returns a sequence-to-sequence regression set
// that teaches a network to predict each timestep of a series from the
// ones before it, the layout of MATLAB's "Time Series Forecasting Using
// Deep Learning": with horizon h (WithHorizon, default 1), the input of
// timestep t is x[t] and its response is x[t+h] (the target features of
// it, WithTargetFeatures, by default all).
//
// With window WholeSeries each series x of T timesteps gives one
// observation, x[0..T-h-1] with responses x[h..T-1], MATLAB's
// X = data(1:end-1), T = data(2:end). A positive window instead cuts every
// series into windows of that many input steps, starting every stride
// steps (WithStride), as far as their responses fit, for training on
// subsequences of a long series.
//
// Windows never span two series; every series must hold at least window+h
// timesteps (h+1 with WholeSeries) and all the same number of features.
// Inputs share their storage with the series, as do responses when every
// feature is a target.
func NewStepAheadRegression(series []Sequence, window int, opts ...WindowOption) (*InMemory, error) {
	c, err := newWindowConfig(series, opts)
	if err != nil {
		return nil, err
	}
	if window < 0 {
		return nil, errors.Errorf("dataset: window of %d timesteps, want at least 1, or WholeSeries", window)
	}
	var seqs, responses []Sequence
	err = c.windows(series, window, func(s Sequence, k, n int) {
		seqs = append(seqs, input(s, k, n))
		r := c.rows(s, k+c.horizon, k+n+c.horizon)
		responses = append(responses, Sequence{Data: r, T: n, F: len(r) / n})
	})
	if err != nil {
		return nil, err
	}
	return NewStepRegression(seqs, responses)
}
