package main

import (
	"image/color"
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot geometry. 16 cm x 8 cm leaves room for a legend beside the data
// while keeping the default 10-12 pt text readable; 150 dpi gives a
// 945 x 472 pixel image that stays sharp when viewed at full size.
const (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 8 * vg.Centimeter
	plotDPI    = 150
)

// seriesColors is the Okabe–Ito palette without yellow, ordered so
// that the first two series (usually truth and prediction) contrast
// strongly, and remain distinguishable to colour-blind readers.
var seriesColors = []color.Color{
	color.RGBA{R: 0x00, G: 0x72, B: 0xb2, A: 0xff}, // blue
	color.RGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff}, // vermillion
	color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff}, // bluish green
	color.RGBA{R: 0xe6, G: 0x9f, B: 0x00, A: 0xff}, // orange
	color.RGBA{R: 0xcc, G: 0x79, B: 0xa7, A: 0xff}, // reddish purple
	color.RGBA{R: 0x56, G: 0xb4, B: 0xe9, A: 0xff}, // sky blue
	color.RGBA{R: 0x00, G: 0x00, B: 0x00, A: 0xff}, // black
}

// series is one named line of a plot.
type series struct {
	name string
	x, y []float64

	// dashed draws the line dashed, so that overlapping
	// lines (a good prediction over its truth) can
	// still be told apart where their colours merge.
	dashed bool
}

// writeLinePlot writes a PNG line plot of the series to path, with the
// given title and axis labels and a legend of the named series placed
// to the right of the data so that it never hides any of it.
//
// The file is written to a temporary file in the folder of path and
// renamed into place, so that a reader never sees a partial image and
// a failed write leaves any earlier plot intact.
//
// writeLinePlot returns an error if no series is given, if a series is
// empty, if the x and y lengths of a series differ, if a value is NaN
// or infinite, or if the file cannot be written.
func writeLinePlot(path, title, xLabel, yLabel string, ss ...series) error {
	if path == "" {
		return errors.New("demo: plot: empty path")
	}
	if len(ss) == 0 {
		return errors.Errorf("demo: plot %q: no series", path)
	}
	for _, s := range ss {
		if len(s.x) != len(s.y) {
			return errors.Errorf("demo: plot %q: series %q: x has %d values, y has %d", path, s.name, len(s.x), len(s.y))
		}
		if len(s.x) == 0 {
			return errors.Errorf("demo: plot %q: series %q: no values", path, s.name)
		}
		// Checked here rather than left to plotter.NewLine so that
		// the error says which series and point is bad.
		for i := range s.x {
			if !isFinite(s.x[i]) {
				return errors.Errorf("demo: plot %q: series %q: x[%d] is %v", path, s.name, i, s.x[i])
			}
			if !isFinite(s.y[i]) {
				return errors.Errorf("demo: plot %q: series %q: y[%d] is %v", path, s.name, i, s.y[i])
			}
		}
	}

	img, err := renderLinePlot(title, xLabel, yLabel, ss)
	if err != nil {
		return errors.Wrapf(err, "demo: plot %q", path)
	}
	return writeAtomic(path, img)
}

func isFinite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// renderLinePlot draws the plot onto a new image canvas.
// The series must already have been validated.
func renderLinePlot(title, xLabel, yLabel string, ss []series) (img *vgimg.Canvas, err error) {
	// plot and its rasteriser report some failures by panicking;
	// the demo should report a bad plot, not crash after training.
	defer func() {
		if r := recover(); r != nil {
			img = nil
			err = errors.Errorf("rendering failed: %v", r)
		}
	}()

	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())

	leg := plot.NewLegend()
	leg.Top = true
	leg.Left = true
	leg.Padding = vg.Points(2)
	for i, s := range ss {
		xys := make(plotter.XYs, len(s.x))
		for j := range s.x {
			xys[j] = plotter.XY{X: s.x[j], Y: s.y[j]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, errors.Wrapf(err, "series %q", s.name)
		}
		l.LineStyle.Color = seriesColors[i%len(seriesColors)]
		l.LineStyle.Width = vg.Points(1.5)
		if s.dashed {
			l.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(l)
		if s.name != "" {
			leg.Add(s.name, l)
		}
	}

	img = vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(plotDPI))
	// Without a margin the title and the outer tick labels touch the
	// image edge and look clipped.
	const margin = vg.Length(4) // points
	dc := draw.Crop(draw.New(img), margin, -margin, margin, -margin)

	// The legend is drawn in its own strip rather than by p.Draw,
	// which would put it over the data area.
	var strip vg.Length
	const gap = vg.Length(8) // points
	if legW := leg.Rectangle(dc).Size().X; legW > 0 {
		strip = legW + 2*gap
	}
	p.Draw(draw.Crop(dc, 0, -strip, 0, 0))
	if strip > 0 {
		// Line the legend up with the top of the data area,
		// which p.Draw puts below the title.
		var top vg.Length
		if title != "" {
			top = p.Title.TextStyle.Rectangle(title).Size().Y + p.Title.Padding
		}
		leg.Draw(draw.Crop(dc, dc.Size().X-strip+gap, -gap, 0, -top))
	}
	return img, nil
}

// writeAtomic writes img as a PNG to a temporary file in the folder of
// path and renames it to path, removing the temporary file on failure.
func writeAtomic(path string, img *vgimg.Canvas) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return errors.Wrapf(err, "demo: plot %q: create temporary file", path)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()

	if _, err = (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		return errors.Wrapf(err, "demo: plot %q: write", path)
	}
	// Sync so that after a crash path holds either the old plot or
	// the new one, never a renamed but unwritten file.
	if err = f.Sync(); err != nil {
		return errors.Wrapf(err, "demo: plot %q: sync", path)
	}
	if err = f.Close(); err != nil {
		return errors.Wrapf(err, "demo: plot %q: close", path)
	}
	// CreateTemp makes the file private; a plot is meant to be shared.
	if err = os.Chmod(tmp, 0o644); err != nil {
		return errors.Wrapf(err, "demo: plot %q: chmod", path)
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrapf(err, "demo: plot %q: rename", path)
	}
	return nil
}
