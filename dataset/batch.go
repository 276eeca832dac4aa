package dataset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pkg/errors"
)

// PaddingDirection says on which side of a sequence padding goes, as
// MATLAB's SequencePaddingDirection.
type PaddingDirection int

const (
	// PadRight appends padding after the last timestep, so that every
	// sequence starts at timestep 0. It is the default, as in MATLAB.
	PadRight PaddingDirection = iota
	// PadLeft puts padding before the first timestep, so that every
	// sequence ends at the last timestep. This suits sequence-to-one
	// networks that read the final hidden state.
	PadLeft
)

// ParsePaddingDirection parses MATLAB's "right" and "left", ignoring case
// as MATLAB does.
func ParsePaddingDirection(s string) (PaddingDirection, error) {
	switch {
	case strings.EqualFold(s, "right"):
		return PadRight, nil
	case strings.EqualFold(s, "left"):
		return PadLeft, nil
	}
	return 0, errors.Errorf(`dataset: unknown padding direction %q, want "right" or "left"`, s)
}

// String returns the MATLAB name of d, so that it round-trips through
// ParsePaddingDirection.
func (d PaddingDirection) String() string {
	switch d {
	case PadRight:
		return "right"
	case PadLeft:
		return "left"
	}
	return fmt.Sprintf("PaddingDirection(%d)", int(d))
}

func (d PaddingDirection) valid() bool { return d == PadRight || d == PadLeft }

// Batch is a mini-batch of B sequences padded to a common length T.
//
// X is batch-major [B, T, F]: X[(b*T+t)*F+f] is feature f of timestep t of
// sequence b. Mask is [B, T]: 1 where sequence b has a real timestep t and 0
// where it is padding. Responses is [B, ResponseSize].
//
// Fields may be added for later kinds of target and for truncated
// back-propagation through time, so build Batch values with keyed fields.
type Batch struct {
	B, T, F int

	X    []float64
	Mask []float64

	// Lengths[b] is the number of real timesteps of sequence b.
	Lengths []int
	// Indices[b] is the index in the source of sequence b.
	Indices []int
	// Direction is where the padding is, so that consumers can find the
	// last real timestep without scanning Mask.
	Direction PaddingDirection

	// Labels is nil unless the source is for classification.
	Labels []int
	// Responses is nil unless the source is for regression.
	Responses    []float64
	ResponseSize int

	// StepLabels is [B, T], one label per timestep, -1 at padded steps;
	// nil unless the source is for sequence-to-sequence classification.
	StepLabels []int
	// StepResponses is [B, T, ResponseSize], 0 at padded steps; nil unless
	// the source is for sequence-to-sequence regression.
	StepResponses []float64

	// Frame is the image shape of each timestep's features for video
	// (F = Frame.C*Frame.H*Frame.W, X is then [B, T, C, H, W]); zero for
	// plain features.
	Frame FrameShape

	// Chunk and Chunks say that this batch is chunk Chunk (from 0) of
	// Chunks consecutive chunks of the same sequences, made by splitting
	// them into pieces of a fixed length (SequenceLength N): a consumer
	// carries the recurrent state from one chunk to the next and starts
	// afresh at chunk 0. Without splitting, Chunk is 0 and Chunks 1. In a
	// chunk, Lengths counts the real steps within the chunk (possibly 0) and
	// Ends[b] says whether sequence b's last real step falls in it, which is
	// where a per-sequence target applies.
	Chunk, Chunks int
	Ends          []bool
}

// Padded reports whether any timestep of the batch is padding.
func (bt *Batch) Padded() bool {
	for _, l := range bt.Lengths {
		if l < bt.T {
			return true
		}
	}
	return false
}

// Span returns the range [start, end) of timesteps that are real for
// sequence b.
func (bt *Batch) Span(b int) (start, end int) {
	l := bt.Lengths[b]
	if bt.Direction == PadLeft {
		return bt.T - l, bt.T
	}
	return 0, l
}

// TimeMajor returns X reordered to [T, B, F], so that timestep t is the
// contiguous [B, F] block starting at t*B*F, which is what a recurrent step
// consumes. The result is written to dst, which is grown only if its
// capacity is too small; dst must not overlap X.
func (bt *Batch) TimeMajor(dst []float64) []float64 {
	dst = resize(dst, bt.B*bt.T*bt.F)
	f := bt.F
	for t := 0; t < bt.T; t++ {
		for b := 0; b < bt.B; b++ {
			copy(dst[(t*bt.B+b)*f:(t*bt.B+b+1)*f], bt.X[(b*bt.T+t)*f:(b*bt.T+t+1)*f])
		}
	}
	return dst
}

// MaskAt returns the mask of timestep t for each of the B sequences, written
// to dst, which is grown only if its capacity is too small. It panics if t
// is out of range.
func (bt *Batch) MaskAt(t int, dst []float64) []float64 {
	if t < 0 || t >= bt.T {
		panic(errors.Errorf("dataset: Batch.MaskAt(%d) out of range for %d timesteps", t, bt.T))
	}
	dst = resize(dst, bt.B)
	for b := range dst {
		dst[b] = bt.Mask[b*bt.T+t]
	}
	return dst
}

// Clone returns a deep copy of bt, for keeping a batch that a Batcher will
// overwrite.
func (bt *Batch) Clone() *Batch {
	c := *bt
	c.X = slices.Clone(bt.X)
	c.Mask = slices.Clone(bt.Mask)
	c.Lengths = slices.Clone(bt.Lengths)
	c.Indices = slices.Clone(bt.Indices)
	c.Labels = slices.Clone(bt.Labels)
	c.Responses = slices.Clone(bt.Responses)
	return &c
}

// MakeBatch pads the observations of src at indices, in that order, into a
// new Batch. Only the padding options apply; shuffling and dropping are the
// Batcher's business and are ignored here, so that the options of a training
// Batcher can be reused for prediction.
func MakeBatch(src Source, indices []int, opts ...BatchOption) (*Batch, error) {
	if src == nil {
		return nil, errors.New("dataset: nil source")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	schema := src.Schema()
	if err := schema.validate(); err != nil {
		return nil, err
	}
	bd := builder{cfg: cfg, schema: schema}
	var bt Batch
	if err := bd.build(&bt, src, src.Len(), indices); err != nil {
		return nil, err
	}
	return &bt, nil
}

// builder holds what filling a batch needs beyond the batch itself, so that
// a Batcher can reuse it for every batch of an epoch.
type builder struct {
	cfg    config
	schema Schema
	obs    []Observation
}

// build fills dst with the observations of src at indices, reusing dst's
// storage. n is src.Len(), passed in because the batcher already knows it.
func (bd *builder) build(dst *Batch, src Source, n int, indices []int) error {
	if len(indices) == 0 {
		return errors.New("dataset: empty batch")
	}
	s := bd.schema
	// Observations are fetched once and kept, because the padded length is
	// only known after seeing all of them and a lazy source may be slow.
	bd.obs = resize(bd.obs, len(indices))
	maxT := 0
	for p, i := range indices {
		if i < 0 || i >= n {
			return errors.Errorf("dataset: batch position %d: index %d out of range [0, %d)", p, i, n)
		}
		o, err := src.Observation(i)
		if err != nil {
			return errors.Wrapf(err, "dataset: observation %d", i)
		}
		if err := s.checkObservation(o); err != nil {
			return errors.Wrapf(err, "dataset: observation %d", i)
		}
		bd.obs[p] = o
		maxT = max(maxT, o.Seq.T)
	}

	bsz, t, f := len(indices), maxT, s.NumFeatures
	dst.B, dst.T, dst.F = bsz, t, f
	dst.Direction = bd.cfg.direction
	dst.ResponseSize = s.ResponseSize
	dst.X = resize(dst.X, bsz*t*f)
	dst.Mask = resize(dst.Mask, bsz*t)
	dst.Lengths = resize(dst.Lengths, bsz)
	dst.Indices = resize(dst.Indices, bsz)
	copy(dst.Indices, indices)
	if s.NumClasses > 0 {
		dst.Labels = resize(dst.Labels, bsz)
	} else {
		dst.Labels = nil
	}
	if s.ResponseSize > 0 {
		dst.Responses = resize(dst.Responses, bsz*s.ResponseSize)
	} else {
		dst.Responses = nil
	}

	pad := bd.cfg.padValue
	for b, o := range bd.obs {
		l := o.Seq.T
		start := 0
		if bd.cfg.direction == PadLeft {
			start = t - l
		}
		// Every element is written, padding included, because dst's
		// storage still holds the previous batch.
		x := dst.X[b*t*f : (b+1)*t*f]
		fill(x[:start*f], pad)
		copy(x[start*f:(start+l)*f], o.Seq.Data)
		fill(x[(start+l)*f:], pad)
		m := dst.Mask[b*t : (b+1)*t]
		fill(m[:start], 0)
		fill(m[start:start+l], 1)
		fill(m[start+l:], 0)

		dst.Lengths[b] = l
		if dst.Labels != nil {
			dst.Labels[b] = o.Label
		}
		if dst.Responses != nil {
			copy(dst.Responses[b*s.ResponseSize:], o.Response)
		}
	}
	// Let a lazy source's sequences be collected as soon as the caller is
	// done with the batch.
	clear(bd.obs)
	return nil
}

// checkObservation checks the shape and target of o against s. Values are
// not rescanned for NaN and Inf: that would double the cost of every batch.
func (s Schema) checkObservation(o Observation) error {
	q := o.Seq
	switch {
	case q.T <= 0:
		return errors.Errorf("sequence has %d timesteps, want at least 1", q.T)
	case q.F != s.NumFeatures:
		return errors.Errorf("sequence has %d features, want %d", q.F, s.NumFeatures)
	case len(q.Data) != q.T*q.F:
		return errors.Errorf("len(Data) = %d, want T*F = %d*%d = %d", len(q.Data), q.T, q.F, q.T*q.F)
	case s.NumClasses > 0 && (o.Label < 0 || o.Label >= s.NumClasses):
		return errors.Errorf("label %d out of range [0, %d)", o.Label, s.NumClasses)
	case s.ResponseSize > 0 && len(o.Response) != s.ResponseSize:
		return errors.Errorf("response has %d values, want %d", len(o.Response), s.ResponseSize)
	}
	return nil
}

// resize returns s with length n, reusing its storage when large enough.
// Contents are not preserved meaningfully: callers overwrite every element.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func fill(s []float64, v float64) {
	for i := range s {
		s[i] = v
	}
}
