package dataset

import (
	"math"

	"github.com/pkg/errors"
)

// Sequence is the input of one observation: T timesteps of F features,
// stored row-major so that Data[t*F+f] is feature f at timestep t.
//
// Rows are timesteps. MATLAB stores a sequence as an F-by-T matrix; transpose
// it when importing. A Sequence may be built directly from its fields; the set
// constructors validate it either way.
type Sequence struct {
	Data []float64
	T, F int
}

// NewSequence copies rows, one per timestep, into a contiguous Sequence.
// Every row must have the same non-zero number of features and every value
// must be finite: a NaN or Inf in the input would silently poison every
// gradient of the mini-batch it lands in, long after the cause is gone.
func NewSequence(rows [][]float64) (Sequence, error) {
	if len(rows) == 0 {
		return Sequence{}, errors.New("dataset: empty sequence: no timesteps")
	}
	f := len(rows[0])
	if f == 0 {
		return Sequence{}, errors.New("dataset: row 0 has no features")
	}
	data := make([]float64, 0, len(rows)*f)
	for t, row := range rows {
		if len(row) != f {
			return Sequence{}, errors.Errorf("dataset: row %d has %d features, want %d", t, len(row), f)
		}
		data = append(data, row...)
	}
	s := Sequence{Data: data, T: len(rows), F: f}
	if err := s.check(); err != nil {
		return Sequence{}, errors.Wrap(err, "dataset")
	}
	return s, nil
}

// At returns feature f at timestep t. It panics if either is out of range,
// checking f explicitly because Data[t*F+f] with f >= F would quietly read
// the next timestep instead.
func (s Sequence) At(t, f int) float64 {
	if t < 0 || t >= s.T || f < 0 || f >= s.F {
		panic(errors.Errorf("dataset: Sequence.At(%d, %d) out of range for %dx%d sequence", t, f, s.T, s.F))
	}
	return s.Data[t*s.F+f]
}

// Row returns the F features of timestep t. The result shares storage with s.
func (s Sequence) Row(t int) []float64 {
	if t < 0 || t >= s.T {
		panic(errors.Errorf("dataset: Sequence.Row(%d) out of range for %d timesteps", t, s.T))
	}
	return s.Data[t*s.F : (t+1)*s.F : (t+1)*s.F]
}

// check reports the first way in which s is not a valid sequence. Its
// messages carry no "dataset:" prefix so that callers can say which
// sequence they were looking at.
func (s Sequence) check() error {
	switch {
	case s.T <= 0:
		return errors.Errorf("has %d timesteps, want at least 1", s.T)
	case s.F <= 0:
		return errors.Errorf("has %d features, want at least 1", s.F)
	case len(s.Data) != s.T*s.F:
		return errors.Errorf("len(Data) = %d, want T*F = %d*%d = %d", len(s.Data), s.T, s.F, s.T*s.F)
	}
	for i, v := range s.Data {
		if !isFinite(v) {
			return errors.Errorf("timestep %d, feature %d is %v", i/s.F, i%s.F, v)
		}
	}
	return nil
}

func isFinite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}
