package dataset

import (
	"slices"

	"github.com/pkg/errors"
)

// Schema describes what every observation of a Source looks like.
//
// At most one of NumClasses and ResponseSize is positive: NumClasses for
// classification, ResponseSize for regression, neither for unlabeled data
// such as the inputs of a prediction. Schema is a struct rather than more
// Source methods so that later kinds of target can be described by new
// fields without breaking Source implementations outside this package.
type Schema struct {
	NumFeatures  int
	NumClasses   int
	ResponseSize int
	// PerStep says that targets come one per timestep (MATLAB's
	// sequence-to-sequence tasks: Observation.StepLabels or StepResponses)
	// instead of one per sequence (Label or Response).
	PerStep bool
	// Frame is the shape of every timestep's features when they are images
	// (video): NumFeatures is then Frame.C*Frame.H*Frame.W, each timestep's
	// features laid out channel, row, column. The zero value means plain
	// features.
	Frame FrameShape
}

func (s Schema) validate() error {
	switch {
	case s.NumFeatures <= 0:
		return errors.Errorf("dataset: schema has %d features, want at least 1", s.NumFeatures)
	case s.NumClasses < 0:
		return errors.Errorf("dataset: schema has %d classes, want at least 0", s.NumClasses)
	case s.ResponseSize < 0:
		return errors.Errorf("dataset: schema has response size %d, want at least 0", s.ResponseSize)
	case s.NumClasses > 0 && s.ResponseSize > 0:
		return errors.Errorf("dataset: schema has both %d classes and response size %d, want at most one", s.NumClasses, s.ResponseSize)
	}
	return nil
}

// Observation is one input sequence with its target. Label is meaningful
// only when the source's Schema has NumClasses > 0, Response only when it
// has ResponseSize > 0.
type Observation struct {
	Seq      Sequence
	Label    int
	Response []float64
	// StepLabels holds one label per timestep (Seq.T of them) for
	// sequence-to-sequence classification; StepResponses one response
	// vector per timestep, Seq.T×ResponseSize row-major, for
	// sequence-to-sequence regression. Both are nil for per-sequence tasks.
	StepLabels    []int
	StepResponses []float64
}

// FrameShape is the shape of one image of a video: channels, height, width.
type FrameShape struct{ C, H, W int }

// Size returns the number of values of a frame, C*H*W.
func (f FrameShape) Size() int { return f.C * f.H * f.W }

// IsZero reports whether f is the zero value: plain features, no frames.
func (f FrameShape) IsZero() bool { return f == FrameShape{} }

// Source is what a Batcher draws observations from. Observation returns an
// error rather than panicking so that sources reading from disk can report
// I/O failures through the batcher.
//
// A Source must return observations that match its Schema; the batcher
// checks shapes and labels, since a mismatch would corrupt a whole batch,
// but does not rescan values for NaN and Inf on every epoch.
type Source interface {
	Len() int
	Schema() Schema
	Observation(i int) (Observation, error)
}

// InMemory is a Source whose sequences are all held in memory.
//
// The sequences' Data is shared with the caller, not copied, since it is
// usually the bulk of the memory; it must not be modified while the set is in
// use. Labels and responses are copied.
type InMemory struct {
	seqs      []Sequence
	labels    []int     // nil unless classification
	responses []float64 // [n, schema.ResponseSize], nil unless regression
	schema    Schema
}

var _ Source = (*InMemory)(nil)

// NewClassification returns a set in which sequence i has class labels[i],
// in [0, numClasses).
func NewClassification(seqs []Sequence, labels []int, numClasses int) (*InMemory, error) {
	if numClasses <= 0 {
		return nil, errors.Errorf("dataset: %d classes, want at least 1", numClasses)
	}
	f, err := checkSequences(seqs)
	if err != nil {
		return nil, err
	}
	if len(labels) != len(seqs) {
		return nil, errors.Errorf("dataset: %d sequences but %d labels", len(seqs), len(labels))
	}
	for i, l := range labels {
		if l < 0 || l >= numClasses {
			return nil, errors.Errorf("dataset: sequence %d: label %d out of range [0, %d)", i, l, numClasses)
		}
	}
	return &InMemory{
		seqs:   slices.Clone(seqs),
		labels: slices.Clone(labels),
		schema: Schema{NumFeatures: f, NumClasses: numClasses},
	}, nil
}

// NewRegression returns a set in which sequence i has the response vector
// responses[i]. All response vectors must have the same non-zero length and
// finite values.
func NewRegression(seqs []Sequence, responses [][]float64) (*InMemory, error) {
	f, err := checkSequences(seqs)
	if err != nil {
		return nil, err
	}
	if len(responses) != len(seqs) {
		return nil, errors.Errorf("dataset: %d sequences but %d responses", len(seqs), len(responses))
	}
	r := len(responses[0])
	if r == 0 {
		return nil, errors.New("dataset: sequence 0: empty response")
	}
	flat := make([]float64, 0, len(responses)*r)
	for i, resp := range responses {
		if len(resp) != r {
			return nil, errors.Errorf("dataset: sequence %d: response has %d values, want %d as in sequence 0", i, len(resp), r)
		}
		for j, v := range resp {
			if !isFinite(v) {
				return nil, errors.Errorf("dataset: sequence %d: response element %d is %v", i, j, v)
			}
		}
		flat = append(flat, resp...)
	}
	return &InMemory{
		seqs:      slices.Clone(seqs),
		responses: flat,
		schema:    Schema{NumFeatures: f, ResponseSize: r},
	}, nil
}

// NewUnlabeled returns a set of sequences without targets, for prediction.
func NewUnlabeled(seqs []Sequence) (*InMemory, error) {
	f, err := checkSequences(seqs)
	if err != nil {
		return nil, err
	}
	return &InMemory{
		seqs:   slices.Clone(seqs),
		schema: Schema{NumFeatures: f},
	}, nil
}

// checkSequences validates every sequence and returns their common number
// of features.
func checkSequences(seqs []Sequence) (int, error) {
	if len(seqs) == 0 {
		return 0, errors.New("dataset: no sequences")
	}
	for i, s := range seqs {
		if err := s.check(); err != nil {
			return 0, errors.Wrapf(err, "dataset: sequence %d", i)
		}
		if s.F != seqs[0].F {
			return 0, errors.Errorf("dataset: sequence %d has %d features, want %d as in sequence 0", i, s.F, seqs[0].F)
		}
	}
	return seqs[0].F, nil
}

// Len returns the number of observations.
func (m *InMemory) Len() int { return len(m.seqs) }

// Schema returns the shape of the observations.
func (m *InMemory) Schema() Schema { return m.schema }

// NumFeatures returns the number of features per timestep.
func (m *InMemory) NumFeatures() int { return m.schema.NumFeatures }

// NumClasses returns the number of classes, or 0 if the set is not for
// classification.
func (m *InMemory) NumClasses() int { return m.schema.NumClasses }

// ResponseSize returns the length of each response vector, or 0 if the set
// is not for regression.
func (m *InMemory) ResponseSize() int { return m.schema.ResponseSize }

// Sequence returns sequence i. It panics if i is out of range.
func (m *InMemory) Sequence(i int) Sequence { return m.seqs[i] }

// Label returns the class of sequence i, or -1 if the set is not for
// classification. It panics if i is out of range.
func (m *InMemory) Label(i int) int {
	if m.labels == nil {
		_ = m.seqs[i]
		return -1
	}
	return m.labels[i]
}

// Response returns the response vector of sequence i, or nil if the set is
// not for regression. The result shares storage with m and must not be
// modified. It panics if i is out of range.
func (m *InMemory) Response(i int) []float64 {
	if m.responses == nil {
		_ = m.seqs[i]
		return nil
	}
	r := m.schema.ResponseSize
	return m.responses[i*r : (i+1)*r : (i+1)*r]
}

// Observation returns sequence i with its target.
func (m *InMemory) Observation(i int) (Observation, error) {
	if i < 0 || i >= len(m.seqs) {
		return Observation{}, errors.Errorf("dataset: observation %d out of range [0, %d)", i, len(m.seqs))
	}
	return Observation{Seq: m.seqs[i], Label: m.Label(i), Response: m.Response(i)}, nil
}

// Subset returns the set of the observations at indices, in that order, for
// example to split off a validation set. Indices may repeat, which allows
// bootstrap resampling. Sequence data is shared with m.
func (m *InMemory) Subset(indices []int) (*InMemory, error) {
	if len(indices) == 0 {
		return nil, errors.New("dataset: empty subset")
	}
	n := len(m.seqs)
	for p, i := range indices {
		if i < 0 || i >= n {
			return nil, errors.Errorf("dataset: subset position %d: index %d out of range [0, %d)", p, i, n)
		}
	}
	sub := &InMemory{
		seqs:   make([]Sequence, len(indices)),
		schema: m.schema,
	}
	if m.labels != nil {
		sub.labels = make([]int, len(indices))
	}
	if m.responses != nil {
		sub.responses = make([]float64, 0, len(indices)*m.schema.ResponseSize)
	}
	for p, i := range indices {
		sub.seqs[p] = m.seqs[i]
		if m.labels != nil {
			sub.labels[p] = m.labels[i]
		}
		if m.responses != nil {
			sub.responses = append(sub.responses, m.Response(i)...)
		}
	}
	return sub, nil
}

// Prefetcher is a Source that reads ahead: before each mini-batch the
// Batcher tells it which observations it will ask for in the next one, so
// that a source on disk can read them while the current batch trains.
type Prefetcher interface {
	Source
	Prefetch(indices []int)
}
