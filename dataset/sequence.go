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

// NewVideoSequence copies frames, one image per timestep, into a
// contiguous Sequence of F = shape.Size() features. Each frame holds its
// C*H*W values in channel, row, column order: value (c, h, w) is at
// frame[(c*H+h)*W+w], as in PyTorch's [C, H, W] images. A video stored
// T×C×H×W row-major is therefore already a Sequence's Data as it is; one
// stored T×H×W×C (MATLAB's H-by-W-by-C-by-T arrays read frame by frame,
// or most image decoders) must be reordered, which FromHWC does.
func NewVideoSequence(frames [][]float64, shape FrameShape) (Sequence, error) {
	if shape.C <= 0 || shape.H <= 0 || shape.W <= 0 {
		return Sequence{}, errors.Errorf("dataset: frame shape %v, want positive channels, height and width", shape)
	}
	if len(frames) == 0 {
		return Sequence{}, errors.New("dataset: empty sequence: no frames")
	}
	f := shape.Size()
	data := make([]float64, 0, len(frames)*f)
	for t, fr := range frames {
		if len(fr) != f {
			return Sequence{}, errors.Errorf("dataset: frame %d has %d values, want %d for %v", t, len(fr), f, shape)
		}
		data = append(data, fr...)
	}
	s := Sequence{Data: data, T: len(frames), F: f}
	if err := s.check(); err != nil {
		return Sequence{}, errors.Wrap(err, "dataset")
	}
	return s, nil
}

// FromHWC converts a video of t frames stored as a t×h×w×c row-major array,
// channels last, into a Sequence whose timesteps hold each frame in
// channel, row, column order, the layout of WithFrame(FrameShape{c, h, w}).
// The data is copied; values must be finite.
//
// A MATLAB video X of size h-by-w-by-c-by-t, read in MATLAB's column-major
// order, is t×c×w×h row-major, with rows and columns swapped. Read
// permute(X, [2 1 3 4]) instead, which is t×c×h×w row-major: that is a
// Sequence's Data as it is, without FromHWC.
func FromHWC(t, h, w, c int, data []float64) (Sequence, error) {
	if t <= 0 || h <= 0 || w <= 0 || c <= 0 {
		return Sequence{}, errors.Errorf("dataset: video of %d frames of %d×%d×%d (H×W×C), want positive sizes", t, h, w, c)
	}
	f := h * w * c
	if len(data) != t*f {
		return Sequence{}, errors.Errorf("dataset: video has %d values, want t*h*w*c = %d*%d*%d*%d = %d", len(data), t, h, w, c, t*f)
	}
	out := make([]float64, len(data))
	for tt := range t {
		src := data[tt*f : (tt+1)*f]
		dst := out[tt*f : (tt+1)*f]
		for y := range h {
			for x := range w {
				p := (y*w + x) * c
				for ch := range c {
					dst[(ch*h+y)*w+x] = src[p+ch]
				}
			}
		}
	}
	s := Sequence{Data: out, T: t, F: f}
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
