package dataset

import (
	"fmt"
	"slices"
	"strconv"
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

// SequenceLength says how the sequences of a mini-batch are brought to a
// common length, as MATLAB's SequenceLength training option: Longest,
// Shortest, or a positive number of timesteps N, which splits every batch
// into chunks of N timesteps for truncated back-propagation through time.
// An untyped constant converts, as in WithSequenceLength(50).
type SequenceLength int

const (
	// Longest pads every sequence to the longest of its mini-batch. It is
	// the default, as in MATLAB.
	Longest SequenceLength = 0
	// Shortest truncates every sequence to the shortest of its mini-batch,
	// so that there is no padding at all. With PadRight a sequence keeps its
	// first timesteps, with PadLeft its last ones, as MATLAB does: the
	// steps that would have been padded in the other sequences are the
	// ones that go.
	Shortest SequenceLength = -1
)

// ParseSequenceLength parses MATLAB's "longest" and "shortest", ignoring
// case, or a positive integer number of timesteps.
func ParseSequenceLength(s string) (SequenceLength, error) {
	switch {
	case strings.EqualFold(s, "longest"):
		return Longest, nil
	case strings.EqualFold(s, "shortest"):
		return Shortest, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.Errorf(`dataset: unknown sequence length %q, want "longest", "shortest" or a positive integer`, s)
	}
	return SequenceLength(n), nil
}

// String returns the MATLAB name of l, or its number of timesteps, so that
// it round-trips through ParseSequenceLength.
func (l SequenceLength) String() string {
	switch {
	case l == Longest:
		return "longest"
	case l == Shortest:
		return "shortest"
	case l > 0:
		return strconv.Itoa(int(l))
	}
	return fmt.Sprintf("SequenceLength(%d)", int(l))
}

func (l SequenceLength) valid() bool { return l >= Shortest }

// numChunks returns how many chunks a batch padded to t timesteps is split
// into: ceil(t/N) for a fixed length N, else 1.
func (l SequenceLength) numChunks(t int) int {
	if l <= 0 {
		return 1
	}
	return (t + int(l) - 1) / int(l)
}

// Batch is a mini-batch of B sequences brought to a common length T.
//
// X is batch-major [B, T, F]: X[(b*T+t)*F+f] is feature f of timestep t of
// sequence b. Mask is [B, T]: 1 where sequence b has a real timestep t and 0
// where it is padding. Responses is [B, ResponseSize].
//
// Exactly one target field is non-nil for labelled data, as the source's
// Schema says: Labels, Responses, StepLabels or StepResponses. Per-step
// targets are padded on the same side as X.
//
// Fields may be added for later kinds of target, so build Batch values with
// keyed fields.
type Batch struct {
	B, T, F int

	X    []float64
	Mask []float64

	// Lengths[b] is the number of real timesteps of sequence b in this
	// batch: at most T, fewer than the sequence's own length when
	// SequenceLength Shortest truncated it or when this is one chunk of it.
	Lengths []int
	// Indices[b] is the index in the source of sequence b.
	Indices []int
	// Direction is where the padding is, so that consumers can find the
	// last real timestep without scanning Mask.
	Direction PaddingDirection

	// Labels is nil unless the source is for sequence-to-label
	// classification.
	Labels []int
	// Responses is nil unless the source is for sequence-to-one
	// regression. ResponseSize is the size of a response vector for
	// sequence-to-one and sequence-to-sequence regression alike.
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
// sequence b. It holds for chunks too, because within a chunk the real
// steps still sit on the side away from the padding.
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
	c.StepLabels = slices.Clone(bt.StepLabels)
	c.StepResponses = slices.Clone(bt.StepResponses)
	c.Ends = slices.Clone(bt.Ends)
	return &c
}

// PadSteps returns a copy of bt brought to t timesteps (t >= bt.T) by
// padding on bt's padding side: masked steps of zero features, with label
// -1 and zero responses for per-step targets. Lengths, Ends and the other
// fields are unchanged, so that a consumer that masks padding gets from the
// copy exactly what it gets from bt. With t == bt.T it returns bt itself.
// Frames (video batches) are padded like features.
func (bt *Batch) PadSteps(t int) (*Batch, error) {
	if t < bt.T {
		return nil, errors.Errorf("dataset: PadSteps(%d) would shorten a batch of %d timesteps", t, bt.T)
	}
	if t == bt.T {
		return bt, nil
	}
	c := *bt
	c.T = t
	// off is where a sequence's old steps start among its new ones.
	off := 0
	if bt.Direction == PadLeft {
		off = t - bt.T
	}
	c.X = make([]float64, bt.B*t*bt.F)
	c.Mask = make([]float64, bt.B*t)
	for b := range bt.B {
		copy(c.X[(b*t+off)*bt.F:], bt.X[b*bt.T*bt.F:(b+1)*bt.T*bt.F])
		copy(c.Mask[b*t+off:], bt.Mask[b*bt.T:(b+1)*bt.T])
	}
	if bt.StepLabels != nil {
		c.StepLabels = make([]int, bt.B*t)
		for i := range c.StepLabels {
			c.StepLabels[i] = -1
		}
		for b := range bt.B {
			copy(c.StepLabels[b*t+off:], bt.StepLabels[b*bt.T:(b+1)*bt.T])
		}
	}
	if bt.StepResponses != nil {
		r := bt.ResponseSize
		c.StepResponses = make([]float64, bt.B*t*r)
		for b := range bt.B {
			copy(c.StepResponses[(b*t+off)*r:], bt.StepResponses[b*bt.T*r:(b+1)*bt.T*r])
		}
	}
	return &c, nil
}

// MakeBatch brings the observations of src at indices, in that order, to a
// common length in a new Batch. Only the options that shape a batch apply
// (padding, SequenceLength, normalization); the ordering options are the
// Batcher's business and are ignored here, so that the options of a
// training Batcher can be reused for prediction.
//
// MakeBatch does not split: with a fixed SequenceLength it returns the
// whole batch padded to its longest sequence, as one chunk (Chunks 1), which
// is what prediction usually wants. MakeChunks returns the chunks.
func MakeBatch(src Source, indices []int, opts ...BatchOption) (*Batch, error) {
	bd, err := newBuilder(src, opts)
	if err != nil {
		return nil, err
	}
	var bt Batch
	if err := bd.build(&bt, src, src.Len(), indices); err != nil {
		return nil, err
	}
	return &bt, nil
}

// MakeChunks is MakeBatch followed by the split of a fixed SequenceLength N:
// it returns the chunks of the batch in order, each of at most N timesteps
// (see Batch.Chunk). Without a fixed length it returns the whole batch as
// the only chunk.
func MakeChunks(src Source, indices []int, opts ...BatchOption) ([]*Batch, error) {
	bd, err := newBuilder(src, opts)
	if err != nil {
		return nil, err
	}
	var whole Batch
	if err := bd.build(&whole, src, src.Len(), indices); err != nil {
		return nil, err
	}
	l := bd.cfg.seqLen
	nc := l.numChunks(whole.T)
	if nc == 1 {
		return []*Batch{&whole}, nil
	}
	out := make([]*Batch, nc)
	for k := range out {
		out[k] = new(Batch)
		whole.chunkInto(out[k], k, int(l))
	}
	return out, nil
}

// builder holds what filling a batch needs beyond the batch itself, so that
// a Batcher can reuse it for every batch of an epoch.
type builder struct {
	cfg    config
	schema Schema
	obs    []Observation
}

// newBuilder validates src and opts for MakeBatch and MakeChunks.
func newBuilder(src Source, opts []BatchOption) (builder, error) {
	if src == nil {
		return builder{}, errors.New("dataset: nil source")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return builder{}, err
	}
	schema := src.Schema()
	if err := cfg.checkSchema(schema); err != nil {
		return builder{}, err
	}
	return builder{cfg: cfg, schema: schema}, nil
}

// build fills dst with the observations of src at indices, reusing dst's
// storage, as one whole batch: padded to the longest sequence, or
// truncated to the shortest with SequenceLength Shortest. Splitting into
// chunks is chunkInto's job. n is src.Len(), passed in because the batcher
// already knows it.
func (bd *builder) build(dst *Batch, src Source, n int, indices []int) error {
	if len(indices) == 0 {
		return errors.New("dataset: empty batch")
	}
	minT, maxT, err := bd.fetch(src, n, indices)
	if err != nil {
		return err
	}
	t := maxT
	if bd.cfg.seqLen == Shortest {
		t = minT
	}
	bd.resizeBatch(dst, indices, t)
	for b, o := range bd.obs {
		bd.place(dst, b, o)
	}
	// Let a lazy source's sequences be collected as soon as the caller is
	// done with the batch.
	clear(bd.obs)
	return nil
}

// fetch reads and checks the observations of src at indices into bd.obs
// and returns the lengths of the shortest and the longest. Observations
// are fetched once and kept, because the common length is only known after
// seeing all of them and a lazy source may be slow.
func (bd *builder) fetch(src Source, n int, indices []int) (minT, maxT int, err error) {
	bd.obs = resize(bd.obs, len(indices))
	for p, i := range indices {
		if i < 0 || i >= n {
			return 0, 0, errors.Errorf("dataset: batch position %d: index %d out of range [0, %d)", p, i, n)
		}
		o, err := src.Observation(i)
		if err != nil {
			return 0, 0, errors.Wrapf(err, "dataset: observation %d", i)
		}
		if err := bd.schema.checkObservation(o); err != nil {
			return 0, 0, errors.Wrapf(err, "dataset: observation %d", i)
		}
		bd.obs[p] = o
		maxT = max(maxT, o.Seq.T)
		if p == 0 || o.Seq.T < minT {
			minT = o.Seq.T
		}
	}
	return minT, maxT, nil
}

// resizeBatch sets dst's sizes for a whole batch of the observations at
// indices, t timesteps long, and sizes its storage to them.
func (bd *builder) resizeBatch(dst *Batch, indices []int, t int) {
	s := bd.schema
	bsz, f, r := len(indices), s.NumFeatures, s.ResponseSize
	dst.B, dst.T, dst.F = bsz, t, f
	dst.Direction = bd.cfg.direction
	dst.ResponseSize = r
	dst.Frame = s.Frame
	dst.Chunk, dst.Chunks = 0, 1
	dst.X = resize(dst.X, bsz*t*f)
	dst.Mask = resize(dst.Mask, bsz*t)
	dst.Lengths = resize(dst.Lengths, bsz)
	dst.Ends = resize(dst.Ends, bsz)
	dst.Indices = resize(dst.Indices, bsz)
	copy(dst.Indices, indices)
	dst.Labels = resizeIf(dst.Labels, bsz, !s.PerStep && s.NumClasses > 0)
	dst.Responses = resizeIf(dst.Responses, bsz*r, !s.PerStep && r > 0)
	dst.StepLabels = resizeIf(dst.StepLabels, bsz*t, s.PerStep && s.NumClasses > 0)
	dst.StepResponses = resizeIf(dst.StepResponses, bsz*t*r, s.PerStep && r > 0)
}

// place writes observation o as sequence b of dst, sized by resizeBatch.
// Every element is written, padding included, because dst's storage still
// holds the previous batch.
func (bd *builder) place(dst *Batch, b int, o Observation) {
	t, f, r := dst.T, dst.F, dst.ResponseSize
	// Keep l steps of the sequence, skipping the first skip of them when
	// Shortest truncates on the left, and place them at start.
	l := min(o.Seq.T, t)
	skip, start := 0, 0
	if dst.Direction == PadLeft {
		skip, start = o.Seq.T-l, t-l
	}
	end := start + l
	pad := bd.cfg.padValue
	x := dst.X[b*t*f : (b+1)*t*f]
	fill(x[:start*f], pad)
	copy(x[start*f:end*f], o.Seq.Data[skip*f:(skip+l)*f])
	fill(x[end*f:], pad)
	if bd.cfg.norm != nil {
		bd.cfg.norm.apply(x[start*f : end*f])
	}
	m := dst.Mask[b*t : (b+1)*t]
	fill(m[:start], 0)
	fill(m[start:end], 1)
	fill(m[end:], 0)

	dst.Lengths[b] = l
	dst.Ends[b] = true
	if dst.Labels != nil {
		dst.Labels[b] = o.Label
	}
	if dst.Responses != nil {
		copy(dst.Responses[b*r:], o.Response)
	}
	if dst.StepLabels != nil {
		sl := dst.StepLabels[b*t : (b+1)*t]
		fill(sl[:start], -1)
		copy(sl[start:end], o.StepLabels[skip:skip+l])
		fill(sl[end:], -1)
	}
	if dst.StepResponses != nil {
		sr := dst.StepResponses[b*t*r : (b+1)*t*r]
		fill(sr[:start*r], 0)
		copy(sr[start*r:end*r], o.StepResponses[skip*r:(skip+l)*r])
		fill(sr[end*r:], 0)
	}
}

// chunkInto writes chunk k of bt, split every n timesteps, into dst,
// reusing dst's storage. bt must be a whole batch (Chunks 1).
func (bt *Batch) chunkInto(dst *Batch, k, n int) {
	lo := k * n
	hi := min(lo+n, bt.T)
	tc, f, r := hi-lo, bt.F, bt.ResponseSize
	dst.B, dst.T, dst.F = bt.B, tc, f
	dst.Direction = bt.Direction
	dst.ResponseSize = r
	dst.Frame = bt.Frame
	dst.Chunk, dst.Chunks = k, (bt.T+n-1)/n
	dst.X = resize(dst.X, bt.B*tc*f)
	dst.Mask = resize(dst.Mask, bt.B*tc)
	dst.Lengths = resize(dst.Lengths, bt.B)
	dst.Ends = resize(dst.Ends, bt.B)
	dst.Indices = append(dst.Indices[:0], bt.Indices...)
	dst.Labels = cloneInto(dst.Labels, bt.Labels)
	dst.Responses = cloneInto(dst.Responses, bt.Responses)
	dst.StepLabels = resizeIf(dst.StepLabels, bt.B*tc, bt.StepLabels != nil)
	dst.StepResponses = resizeIf(dst.StepResponses, bt.B*tc*r, bt.StepResponses != nil)
	for b := range bt.B {
		row := b*bt.T + lo
		copy(dst.X[b*tc*f:(b+1)*tc*f], bt.X[row*f:(row+tc)*f])
		copy(dst.Mask[b*tc:(b+1)*tc], bt.Mask[row:row+tc])
		if dst.StepLabels != nil {
			copy(dst.StepLabels[b*tc:(b+1)*tc], bt.StepLabels[row:row+tc])
		}
		if dst.StepResponses != nil {
			copy(dst.StepResponses[b*tc*r:(b+1)*tc*r], bt.StepResponses[row*r:(row+tc)*r])
		}
		start, end := bt.Span(b)
		dst.Lengths[b] = max(0, min(end, hi)-max(start, lo))
		dst.Ends[b] = lo < end && end <= hi
	}
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
	}
	if s.PerStep {
		switch {
		case s.NumClasses > 0 && len(o.StepLabels) != q.T:
			return errors.Errorf("%d step labels for %d timesteps, want one per timestep", len(o.StepLabels), q.T)
		case s.ResponseSize > 0 && len(o.StepResponses) != q.T*s.ResponseSize:
			return errors.Errorf("%d step response values, want T*ResponseSize = %d*%d = %d",
				len(o.StepResponses), q.T, s.ResponseSize, q.T*s.ResponseSize)
		}
		for t, l := range o.StepLabels {
			if s.NumClasses > 0 && (l < 0 || l >= s.NumClasses) {
				return errors.Errorf("timestep %d: label %d out of range [0, %d)", t, l, s.NumClasses)
			}
		}
		return nil
	}
	switch {
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

// resizeIf is resize when want holds, and nil otherwise, so that a batch
// carries only the targets its source has.
func resizeIf[T any](s []T, n int, want bool) []T {
	if !want {
		return nil
	}
	return resize(s, n)
}

// cloneInto copies src into dst's storage, keeping nil as nil.
func cloneInto[T any](dst, src []T) []T {
	if src == nil {
		return nil
	}
	return append(dst[:0], src...)
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
