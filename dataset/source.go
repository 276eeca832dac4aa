package dataset

import (
	"fmt"
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
	case s.PerStep && s.NumClasses == 0 && s.ResponseSize == 0:
		return errors.New("dataset: schema has per-step targets but neither classes nor a response size")
	case !s.Frame.IsZero() && (s.Frame.C <= 0 || s.Frame.H <= 0 || s.Frame.W <= 0):
		return errors.Errorf("dataset: schema has frame shape %v, want positive sizes", s.Frame)
	case !s.Frame.IsZero() && s.Frame.Size() != s.NumFeatures:
		return errors.Errorf("dataset: schema has %d features but frames of %v = %d values", s.NumFeatures, s.Frame, s.Frame.Size())
	}
	return nil
}

// Observation is one input sequence with its target. Which target field is
// meaningful depends on the source's Schema: Label when NumClasses > 0,
// Response when ResponseSize > 0, and StepLabels or StepResponses instead
// when PerStep is also set.
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

// String returns f as C×H×W, the order of its values.
func (f FrameShape) String() string { return fmt.Sprintf("%d×%d×%d", f.C, f.H, f.W) }

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
// The sequences' Data, and that of per-step response sequences, is shared
// with the caller, not copied, since it is usually the bulk of the memory;
// it must not be modified while the set is in use. Labels and per-sequence
// responses are copied.
type InMemory struct {
	seqs      []Sequence
	labels    []int     // nil unless sequence-to-label classification
	responses []float64 // [n, schema.ResponseSize], nil unless sequence-to-one regression
	// stepLabels holds the per-step labels of all sequences end to end,
	// sequence i's at stepLabels[offsets[i]:offsets[i+1]]; both are nil
	// unless sequence-to-sequence classification.
	stepLabels []int
	offsets    []int
	// stepTargets[i] is the T×ResponseSize response sequence of sequence i;
	// nil unless sequence-to-sequence regression.
	stepTargets []Sequence
	schema      Schema
}

var (
	_ Source       = (*InMemory)(nil)
	_ LengthSource = (*InMemory)(nil)
)

// SetOption configures a set built by NewClassification, NewRegression,
// NewStepClassification, NewStepRegression or NewUnlabeled.
type SetOption func(*setConfig)

type setConfig struct {
	frame FrameShape
}

// WithFrame declares that every timestep of every sequence is one image of
// the given shape, a frame of a video, with its C*H*W values in channel,
// row, column order (see NewVideoSequence and FromHWC). Every sequence must
// then have exactly frame.Size() features. The shape is carried in the
// set's Schema and in every Batch, so that a network can read X, which is
// [B, T, F], as [B, T, C, H, W].
func WithFrame(frame FrameShape) SetOption {
	return func(c *setConfig) { c.frame = frame }
}

// newSet validates seqs under opts and returns a set holding them, with the
// schema's NumFeatures and Frame filled in.
func newSet(seqs []Sequence, opts []SetOption) (*InMemory, error) {
	var cfg setConfig
	for i, opt := range opts {
		if opt == nil {
			return nil, errors.Errorf("dataset: option %d is nil", i)
		}
		opt(&cfg)
	}
	fr := cfg.frame
	if !fr.IsZero() && (fr.C <= 0 || fr.H <= 0 || fr.W <= 0) {
		return nil, errors.Errorf("dataset: frame shape %v, want positive channels, height and width", fr)
	}
	if len(seqs) == 0 {
		return nil, errors.New("dataset: no sequences")
	}
	for i, s := range seqs {
		if err := s.check(); err != nil {
			return nil, errors.Wrapf(err, "dataset: sequence %d", i)
		}
		switch {
		case !fr.IsZero() && s.F != fr.Size():
			return nil, errors.Errorf("dataset: sequence %d has %d features, want %d for frames of %v", i, s.F, fr.Size(), fr)
		case s.F != seqs[0].F:
			return nil, errors.Errorf("dataset: sequence %d has %d features, want %d as in sequence 0", i, s.F, seqs[0].F)
		}
	}
	return &InMemory{
		seqs:   slices.Clone(seqs),
		schema: Schema{NumFeatures: seqs[0].F, Frame: fr},
	}, nil
}

// NewClassification returns a set for sequence-to-label classification in
// which sequence i has class labels[i], in [0, numClasses).
func NewClassification(seqs []Sequence, labels []int, numClasses int, opts ...SetOption) (*InMemory, error) {
	if numClasses <= 0 {
		return nil, errors.Errorf("dataset: %d classes, want at least 1", numClasses)
	}
	m, err := newSet(seqs, opts)
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
	m.labels = slices.Clone(labels)
	m.schema.NumClasses = numClasses
	return m, nil
}

// NewStepClassification returns a set for sequence-to-sequence
// classification in which timestep t of sequence i has class
// stepLabels[i][t], in [0, numClasses). Each sequence needs exactly one
// label per timestep.
func NewStepClassification(seqs []Sequence, stepLabels [][]int, numClasses int, opts ...SetOption) (*InMemory, error) {
	if numClasses <= 0 {
		return nil, errors.Errorf("dataset: %d classes, want at least 1", numClasses)
	}
	m, err := newSet(seqs, opts)
	if err != nil {
		return nil, err
	}
	if len(stepLabels) != len(seqs) {
		return nil, errors.Errorf("dataset: %d sequences but %d label sequences", len(seqs), len(stepLabels))
	}
	offsets := make([]int, len(seqs)+1)
	for i, ls := range stepLabels {
		if len(ls) != seqs[i].T {
			return nil, errors.Errorf("dataset: sequence %d: %d labels for %d timesteps, want one per timestep", i, len(ls), seqs[i].T)
		}
		for t, l := range ls {
			if l < 0 || l >= numClasses {
				return nil, errors.Errorf("dataset: sequence %d: timestep %d: label %d out of range [0, %d)", i, t, l, numClasses)
			}
		}
		offsets[i+1] = offsets[i] + len(ls)
	}
	m.stepLabels = slices.Concat(stepLabels...)
	m.offsets = offsets
	m.schema.NumClasses = numClasses
	m.schema.PerStep = true
	return m, nil
}

// NewRegression returns a set for sequence-to-one regression in which
// sequence i has the response vector responses[i]. All response vectors
// must have the same non-zero length and finite values.
func NewRegression(seqs []Sequence, responses [][]float64, opts ...SetOption) (*InMemory, error) {
	m, err := newSet(seqs, opts)
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
	m.responses = flat
	m.schema.ResponseSize = r
	return m, nil
}

// NewStepRegression returns a set for sequence-to-sequence regression in
// which timestep t of sequence i has the response vector
// responses[i].Row(t). A response is a Sequence because it has the same
// shape as an input, T timesteps of R values, which also makes MATLAB's
// cell arrays of R-by-T response matrices import the same way as the
// predictors. Every responses[i] must have as many timesteps as seqs[i],
// all must have the same number of values R, and every value must be
// finite. Their Data is shared, not copied.
func NewStepRegression(seqs []Sequence, responses []Sequence, opts ...SetOption) (*InMemory, error) {
	m, err := newSet(seqs, opts)
	if err != nil {
		return nil, err
	}
	if len(responses) != len(seqs) {
		return nil, errors.Errorf("dataset: %d sequences but %d response sequences", len(seqs), len(responses))
	}
	for i, r := range responses {
		if err := r.check(); err != nil {
			return nil, errors.Wrapf(err, "dataset: sequence %d: response", i)
		}
		if r.T != seqs[i].T {
			return nil, errors.Errorf("dataset: sequence %d: response has %d timesteps, want %d as the sequence", i, r.T, seqs[i].T)
		}
		if r.F != responses[0].F {
			return nil, errors.Errorf("dataset: sequence %d: response has %d values per timestep, want %d as in sequence 0", i, r.F, responses[0].F)
		}
	}
	m.stepTargets = slices.Clone(responses)
	m.schema.ResponseSize = responses[0].F
	m.schema.PerStep = true
	return m, nil
}

// NewUnlabeled returns a set of sequences without targets, for prediction.
func NewUnlabeled(seqs []Sequence, opts ...SetOption) (*InMemory, error) {
	return newSet(seqs, opts)
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

// SeqLen returns the number of timesteps of sequence i.
func (m *InMemory) SeqLen(i int) (int, error) {
	if i < 0 || i >= len(m.seqs) {
		return 0, errors.Errorf("dataset: observation %d out of range [0, %d)", i, len(m.seqs))
	}
	return m.seqs[i].T, nil
}

// Label returns the class of sequence i, or -1 if the set is not for
// sequence-to-label classification. It panics if i is out of range.
func (m *InMemory) Label(i int) int {
	if m.labels == nil {
		_ = m.seqs[i]
		return -1
	}
	return m.labels[i]
}

// Response returns the response vector of sequence i, or nil if the set is
// not for sequence-to-one regression. The result shares storage with m and
// must not be modified. It panics if i is out of range.
func (m *InMemory) Response(i int) []float64 {
	if m.responses == nil {
		_ = m.seqs[i]
		return nil
	}
	r := m.schema.ResponseSize
	return m.responses[i*r : (i+1)*r : (i+1)*r]
}

// StepLabels returns the per-timestep labels of sequence i, or nil if the
// set is not for sequence-to-sequence classification. The result shares
// storage with m and must not be modified. It panics if i is out of range.
func (m *InMemory) StepLabels(i int) []int {
	if m.stepLabels == nil {
		_ = m.seqs[i]
		return nil
	}
	return m.stepLabels[m.offsets[i]:m.offsets[i+1]:m.offsets[i+1]]
}

// StepResponses returns the per-timestep responses of sequence i, T×R
// row-major, or nil if the set is not for sequence-to-sequence regression.
// The result shares storage with the caller's response sequence and must
// not be modified. It panics if i is out of range.
func (m *InMemory) StepResponses(i int) []float64 {
	if m.stepTargets == nil {
		_ = m.seqs[i]
		return nil
	}
	return m.stepTargets[i].Data
}

// Observation returns sequence i with its target.
func (m *InMemory) Observation(i int) (Observation, error) {
	if i < 0 || i >= len(m.seqs) {
		return Observation{}, errors.Errorf("dataset: observation %d out of range [0, %d)", i, len(m.seqs))
	}
	return Observation{
		Seq:           m.seqs[i],
		Label:         m.Label(i),
		Response:      m.Response(i),
		StepLabels:    m.StepLabels(i),
		StepResponses: m.StepResponses(i),
	}, nil
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
	if m.stepLabels != nil {
		sub.offsets = make([]int, 1, len(indices)+1)
		sub.stepLabels = []int{}
	}
	if m.stepTargets != nil {
		sub.stepTargets = make([]Sequence, len(indices))
	}
	for p, i := range indices {
		sub.seqs[p] = m.seqs[i]
		if m.labels != nil {
			sub.labels[p] = m.labels[i]
		}
		if m.responses != nil {
			sub.responses = append(sub.responses, m.Response(i)...)
		}
		if m.stepLabels != nil {
			sub.stepLabels = append(sub.stepLabels, m.StepLabels(i)...)
			sub.offsets = append(sub.offsets, len(sub.stepLabels))
		}
		if m.stepTargets != nil {
			sub.stepTargets[p] = m.stepTargets[i]
		}
	}
	return sub, nil
}

// Prefetcher is a Source that reads ahead: before each mini-batch the
// Batcher tells it which observations it will ask for in the next one, so
// that a source on disk can read them while the current batch trains.
//
// The Batcher calls Prefetch with the indices of the first mini-batch of an
// epoch before reading it, and with those of mini-batch k+1 once it has
// read mini-batch k and before yielding it (before its first chunk, when
// batches are split into chunks). Prefetch must not block for long and must
// not modify indices; it may keep them, since the Batcher does not reuse
// them within the epoch. A hint is only a hint: the Batcher still calls
// Observation for every index, possibly from another goroutine when several
// epochs run at once.
type Prefetcher interface {
	Source
	Prefetch(indices []int)
}

// LengthSource is a Source that can tell the number of timesteps of an
// observation without reading it. Length-dependent options (WithSortByLength,
// WithBuckets, Batcher.NumChunks and Batcher.PaddingFraction) need every
// observation's length; from a plain Source they get it by reading every
// observation once, which may be slow for a source on disk.
type LengthSource interface {
	Source
	SeqLen(i int) (int, error)
}
