package dataset

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// Normalization is a way of rescaling the input features, as the
// Normalization option of MATLAB's sequenceInputLayer.
type Normalization int

const (
	// NormNone leaves the inputs as they are. It is the default, as in
	// MATLAB.
	NormNone Normalization = iota
	// ZeroCenter subtracts the mean: x - Mean.
	ZeroCenter
	// ZScore subtracts the mean and divides by the population standard
	// deviation: (x - Mean) / Std.
	ZScore
	// RescaleSymmetric maps [Min, Max] onto [-1, 1]:
	// 2(x - Min)/(Max - Min) - 1.
	RescaleSymmetric
	// RescaleZeroOne maps [Min, Max] onto [0, 1]: (x - Min)/(Max - Min).
	RescaleZeroOne
)

var normNames = [...]string{"none", "zerocenter", "zscore", "rescale-symmetric", "rescale-zero-one"}

// ParseNormalization parses MATLAB's names "none", "zerocenter", "zscore",
// "rescale-symmetric" and "rescale-zero-one", ignoring case.
func ParseNormalization(s string) (Normalization, error) {
	for m, name := range normNames {
		if strings.EqualFold(s, name) {
			return Normalization(m), nil
		}
	}
	return 0, errors.Errorf("dataset: unknown normalization %q, want one of %s", s, strings.Join(normNames[:], ", "))
}

// String returns the MATLAB name of m, so that it round-trips through
// ParseNormalization.
func (m Normalization) String() string {
	if m.valid() {
		return normNames[m]
	}
	return fmt.Sprintf("Normalization(%d)", int(m))
}

func (m Normalization) valid() bool { return m >= NormNone && int(m) < len(normNames) }

// NormalizationStats holds the statistics of a Normalization, computed from
// training data by FitNormalization and applied unchanged to the data of
// every later batch, validation and prediction alike, as MATLAB's
// sequenceInputLayer does. Its fields are exported so that a network can
// save them with its weights, or set them by hand as MATLAB's Mean,
// StandardDeviation, Min and Max properties.
//
// The statistics are per channel, as MATLAB's default
// NormalizationDimension "auto": per feature for plain features, and per
// image channel (over all rows, columns and timesteps) when Frame is set.
// Only the statistics that Mode uses need be set: Mean for ZeroCenter, Mean
// and Std for ZScore, Min and Max for the rescalings; each then has one
// value per channel.
//
// A feature that was constant in the training data has Std 0 and
// Max = Min. It is divided by 1 instead, so that it comes out as 0 (ZScore,
// ZeroCenter, RescaleZeroOne) or -1 (RescaleSymmetric), the lower end of
// the range as for MATLAB's rescale of a constant array, and later
// deviations from the constant pass through unscaled instead of as
// infinities.
type NormalizationStats struct {
	Mode Normalization
	// Frame is the image shape the statistics are per channel of, or zero
	// for statistics per feature.
	Frame FrameShape
	Mean  []float64
	Std   []float64
	Min   []float64
	Max   []float64
	// Count is the number of values each channel's statistics were
	// computed from.
	Count int
}

// FitNormalization computes the statistics of mode over every real
// timestep of every observation of src. It reads each observation once, in
// order, keeping only running sums, so the set need not fit in memory.
// The mean and standard deviation are accumulated by Welford's method,
// which stays accurate when the mean is large compared with the spread.
//
// All four statistics are computed whatever the mode, so that the mode can
// be changed afterwards. Values must be finite.
func FitNormalization(src Source, mode Normalization) (*NormalizationStats, error) {
	if src == nil {
		return nil, errors.New("dataset: nil source")
	}
	if !mode.valid() {
		return nil, errors.Errorf("dataset: invalid normalization %v", mode)
	}
	s := src.Schema()
	if err := s.validate(); err != nil {
		return nil, err
	}
	n := src.Len()
	if n <= 0 {
		return nil, errors.Errorf("dataset: source has %d observations, want at least 1", n)
	}
	// Channel c of timestep t covers features [c*px, (c+1)*px).
	nc, px := s.NumFeatures, 1
	if !s.Frame.IsZero() {
		nc, px = s.Frame.C, s.Frame.H*s.Frame.W
	}
	st := &NormalizationStats{
		Mode:  mode,
		Frame: s.Frame,
		Mean:  make([]float64, nc),
		Std:   make([]float64, nc),
		Min:   make([]float64, nc),
		Max:   make([]float64, nc),
	}
	m2 := make([]float64, nc) // sums of squared deviations from the mean
	fill(st.Min, math.Inf(1))
	fill(st.Max, math.Inf(-1))
	count := 0
	for i := range n {
		o, err := src.Observation(i)
		if err != nil {
			return nil, errors.Wrapf(err, "dataset: observation %d", i)
		}
		if err := s.checkObservation(o); err != nil {
			return nil, errors.Wrapf(err, "dataset: observation %d", i)
		}
		f := o.Seq.F
		for t := range o.Seq.T {
			row := o.Seq.Data[t*f : (t+1)*f]
			for j, v := range row {
				if !isFinite(v) {
					return nil, errors.Errorf("dataset: observation %d: timestep %d, feature %d is %v", i, t, j, v)
				}
			}
			for p := range px {
				count++
				k := float64(count)
				for c := range nc {
					v := row[c*px+p]
					d := v - st.Mean[c]
					st.Mean[c] += d / k
					m2[c] += d * (v - st.Mean[c])
					st.Min[c] = min(st.Min[c], v)
					st.Max[c] = max(st.Max[c], v)
				}
			}
		}
	}
	for c := range nc {
		st.Std[c] = math.Sqrt(m2[c] / float64(count))
	}
	st.Count = count
	return st, nil
}

// WithNormalization normalizes the real timesteps of every batch with st
// as they are copied in; padded entries keep the padding value, so that
// WithPaddingValue means the same with and without normalization (the mask
// hides them from the loss anyway). st is checked and read once, when the
// Batcher or batch is made: later changes to it have no effect there.
func WithNormalization(st *NormalizationStats) BatchOption {
	return func(c *config) { c.normStats, c.normSet = st, true }
}

// Apply normalizes x in place. x holds whole timesteps, row-major, of the
// statistics' number of features: len(Mean) (or of whichever statistics
// the mode uses), or Frame.Size() when Frame is set.
func (st *NormalizationStats) Apply(x []float64) error {
	nm, err := st.normalizer()
	if err != nil {
		return err
	}
	if nm == nil {
		return nil
	}
	if f := len(nm.sub); len(x)%f != 0 {
		return errors.Errorf("dataset: normalizing %d values, want whole timesteps of %d features", len(x), f)
	}
	nm.apply(x)
	return nil
}

// ApplyBatch normalizes the real timesteps of bt in place, leaving padded
// entries as they are, so that they keep the padding value. For a Batcher
// or MakeBatch, WithNormalization does the same as the batches are made.
func (st *NormalizationStats) ApplyBatch(bt *Batch) error {
	nm, err := st.normalizer()
	if err != nil {
		return err
	}
	if nm == nil {
		return nil
	}
	if err := st.checkSchema(Schema{NumFeatures: bt.F, Frame: bt.Frame}); err != nil {
		return err
	}
	f := bt.F
	for b := range bt.B {
		start, end := bt.Span(b)
		nm.apply(bt.X[(b*bt.T+start)*f : (b*bt.T+end)*f])
	}
	return nil
}

// checkSchema checks that st fits the observations of s.
func (st *NormalizationStats) checkSchema(s Schema) error {
	if st.Mode == NormNone {
		return nil
	}
	f := st.features()
	switch {
	case f != s.NumFeatures:
		return errors.Errorf("dataset: normalization statistics for %d features, want %d", f, s.NumFeatures)
	case !st.Frame.IsZero() && st.Frame != s.Frame:
		return errors.Errorf("dataset: normalization statistics per channel of %v frames, but the data has frames %v", st.Frame, s.Frame)
	}
	return nil
}

// features returns the number of features st normalizes, assuming st is
// valid.
func (st *NormalizationStats) features() int {
	if !st.Frame.IsZero() {
		return st.Frame.Size()
	}
	return st.channels()
}

// channels returns the length of the statistics that Mode uses.
func (st *NormalizationStats) channels() int {
	switch st.Mode {
	case ZeroCenter, ZScore:
		return len(st.Mean)
	default:
		return len(st.Min)
	}
}

// normalizer is a normalization expanded to one (x - sub)/div + add per
// feature. Division rather than multiplication by a reciprocal makes the
// results equal those computed by hand, as in MATLAB.
type normalizer struct {
	sub, div, add []float64
}

// normalizer validates st and expands it per feature; it returns nil for
// NormNone.
func (st *NormalizationStats) normalizer() (*normalizer, error) {
	if st == nil {
		return nil, errors.New("dataset: nil normalization statistics")
	}
	if !st.Mode.valid() {
		return nil, errors.Errorf("dataset: invalid normalization %v", st.Mode)
	}
	if st.Mode == NormNone {
		return nil, nil
	}
	nc := st.channels()
	if nc == 0 {
		return nil, errors.Errorf("dataset: %v normalization without statistics", st.Mode)
	}
	px, err := st.pixels(nc)
	if err != nil {
		return nil, err
	}
	sub, div, add, err := st.perChannel(nc)
	if err != nil {
		return nil, err
	}
	// Spread each channel's values over its features.
	nm := &normalizer{
		sub: make([]float64, nc*px),
		div: make([]float64, nc*px),
		add: make([]float64, nc*px),
	}
	for c := range nc {
		fill(nm.sub[c*px:(c+1)*px], sub[c])
		fill(nm.div[c*px:(c+1)*px], div[c])
		fill(nm.add[c*px:(c+1)*px], add[c])
	}
	return nm, nil
}

// pixels returns the features per channel of statistics for nc channels:
// a frame's height times width, or 1 without a frame.
func (st *NormalizationStats) pixels(nc int) (int, error) {
	if st.Frame.IsZero() {
		return 1, nil
	}
	if st.Frame.C <= 0 || st.Frame.H <= 0 || st.Frame.W <= 0 {
		return 0, errors.Errorf("dataset: normalization frame shape %v, want positive sizes", st.Frame)
	}
	if nc != st.Frame.C {
		return 0, errors.Errorf("dataset: %v normalization has statistics for %d channels, want %d for frames of %v", st.Mode, nc, st.Frame.C, st.Frame)
	}
	return st.Frame.H * st.Frame.W, nil
}

// perChannel validates the statistics of st's mode and returns, for each of
// the nc channels, what the normalizer subtracts, divides by and adds.
func (st *NormalizationStats) perChannel(nc int) (sub, div, add []float64, err error) {
	sub, div, add = make([]float64, nc), make([]float64, nc), make([]float64, nc)
	switch st.Mode {
	case ZeroCenter, ZScore:
		if err := st.checkStat("Mean", st.Mean, nc); err != nil {
			return nil, nil, nil, err
		}
		copy(sub, st.Mean)
		fill(div, 1)
		if st.Mode == ZScore {
			if err := st.checkStat("Std", st.Std, nc); err != nil {
				return nil, nil, nil, err
			}
			for c, s := range st.Std {
				if s < 0 {
					return nil, nil, nil, errors.Errorf("dataset: zscore normalization: Std[%d] is %v, want at least 0", c, s)
				}
				if s > 0 {
					div[c] = s
				}
			}
		}
	case RescaleSymmetric, RescaleZeroOne:
		if err := st.checkStat("Min", st.Min, nc); err != nil {
			return nil, nil, nil, err
		}
		if err := st.checkStat("Max", st.Max, nc); err != nil {
			return nil, nil, nil, err
		}
		for c := range nc {
			r := st.Max[c] - st.Min[c]
			switch {
			case r < 0:
				return nil, nil, nil, errors.Errorf("dataset: %v normalization: Max[%d] = %v is less than Min[%d] = %v", st.Mode, c, st.Max[c], c, st.Min[c])
			case math.IsInf(r, 0):
				return nil, nil, nil, errors.Errorf("dataset: %v normalization: Max[%d] - Min[%d] overflows", st.Mode, c, c)
			case r == 0:
				r = 1
			}
			sub[c], div[c] = st.Min[c], r
			if st.Mode == RescaleSymmetric {
				div[c], add[c] = r/2, -1
			}
		}
	}
	return sub, div, add, nil
}

// checkStat checks that the statistic called name holds nc finite values.
func (st *NormalizationStats) checkStat(name string, v []float64, nc int) error {
	if len(v) != nc {
		return errors.Errorf("dataset: %v normalization: %s has %d values, want %d", st.Mode, name, len(v), nc)
	}
	for c, x := range v {
		if !isFinite(x) {
			return errors.Errorf("dataset: %v normalization: %s[%d] is %v", st.Mode, name, c, x)
		}
	}
	return nil
}

// apply normalizes x, whole timesteps of len(nm.sub) features, in place.
func (nm *normalizer) apply(x []float64) {
	f := len(nm.sub)
	for lo := 0; lo < len(x); lo += f {
		row := x[lo : lo+f]
		for j, v := range row {
			row[j] = (v-nm.sub[j])/nm.div[j] + nm.add[j]
		}
	}
}
