package dataset

import (
	"github.com/pkg/errors"
)

// NewSequences copies a set of sequences given as nested slices into
// Sequences: data[i][t] holds the features of timestep t of sequence i, so
// that data is N sequences of T_i×F rows, as a NumPy array of shape
// [N, T, F] or a Python list of per-sequence lists of rows. Sequences may
// differ in length but not in features: every row of every sequence must
// have as many features as the first row of sequence 0, and every value
// must be finite. Errors name the sequence and the row.
//
// The result is ready for NewClassification, NewRegression and the other set
// constructors.
func NewSequences(data [][][]float64) ([]Sequence, error) {
	if len(data) == 0 {
		return nil, errors.New("dataset: no sequences")
	}
	if len(data[0]) == 0 {
		return nil, errors.New("dataset: sequence 0 has no timesteps")
	}
	f := len(data[0][0])
	if f == 0 {
		return nil, errors.New("dataset: sequence 0, row 0 has no features")
	}
	seqs := make([]Sequence, len(data))
	for i, rows := range data {
		if len(rows) == 0 {
			return nil, errors.Errorf("dataset: sequence %d has no timesteps", i)
		}
		flat := make([]float64, 0, len(rows)*f)
		for t, row := range rows {
			if len(row) != f {
				return nil, errors.Errorf("dataset: sequence %d, row %d has %d features, want %d as in sequence 0, row 0", i, t, len(row), f)
			}
			flat = append(flat, row...)
		}
		seqs[i] = Sequence{Data: flat, T: len(rows), F: f}
		if err := seqs[i].check(); err != nil {
			return nil, errors.Wrapf(err, "dataset: sequence %d", i)
		}
	}
	return seqs, nil
}

// Padded is a set of sequences stored as one dense array, the way NumPy,
// PyTorch and Keras hold a padded batch: Data is batch-major [N, T, F],
// feature f of timestep t of sequence i at Data[(i*T+t)*F+f], the layout of
// Batch.X.
//
// Sequence i has Lengths[i] real timesteps, in 1..T, and the rest of its T
// rows is padding, after the real steps with PadRight (the default, as
// PyTorch's pad_sequence) or before them with PadLeft (Keras's
// pad_sequences default, padding "pre"). Nil Lengths means that every
// sequence is T steps long. Padding values are ignored, whatever they are;
// real values must be finite.
type Padded struct {
	Data      []float64
	N, T, F   int
	Lengths   []int
	Direction PaddingDirection
}

// Sequences copies the real timesteps of every sequence of p into a
// Sequence. Errors name the sequence at fault.
func (p Padded) Sequences() ([]Sequence, error) {
	seqs, err := p.sequences()
	if err != nil {
		return nil, errors.Wrap(err, "dataset")
	}
	return seqs, nil
}

// sequences is Sequences with errors that have no "dataset:" prefix.
func (p Padded) sequences() ([]Sequence, error) {
	switch {
	case p.N <= 0 || p.T <= 0 || p.F <= 0:
		return nil, errors.Errorf("padded array of shape [%d, %d, %d], want positive N, T and F", p.N, p.T, p.F)
	case len(p.Data) != p.N*p.T*p.F:
		return nil, errors.Errorf("padded array has %d values, want N*T*F = %d*%d*%d = %d", len(p.Data), p.N, p.T, p.F, p.N*p.T*p.F)
	case p.Lengths != nil && len(p.Lengths) != p.N:
		return nil, errors.Errorf("%d lengths for %d sequences", len(p.Lengths), p.N)
	case !p.Direction.valid():
		return nil, errors.Errorf("invalid padding direction %v", p.Direction)
	}
	seqs := make([]Sequence, p.N)
	for i := range seqs {
		n := p.T
		if p.Lengths != nil {
			n = p.Lengths[i]
		}
		if n < 1 || n > p.T {
			return nil, errors.Errorf("sequence %d has length %d, want 1 to T = %d", i, n, p.T)
		}
		start := i * p.T
		if p.Direction == PadLeft {
			start += p.T - n
		}
		data := append([]float64(nil), p.Data[start*p.F:(start+n)*p.F]...)
		seqs[i] = Sequence{Data: data, T: n, F: p.F}
		if err := seqs[i].check(); err != nil {
			return nil, errors.Wrapf(err, "sequence %d", i)
		}
	}
	return seqs, nil
}
