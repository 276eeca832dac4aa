package plot

import (
	"github.com/pkg/errors"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of line plots. 16 cm × 8 cm leaves room for a legend beside the
// data while keeping the default 10–12 pt text readable.
const (
	linesWidth  = 16 * vg.Centimeter
	linesHeight = 8 * vg.Centimeter
)

// Series is one line of a line plot.
type Series struct {
	// Name labels the series in the legend; a series without a name
	// is left out of the legend.
	Name string
	// X and Y are the coordinates of the points, in drawing order.
	X, Y []float64
	// Dashed draws the line dashed, so that overlapping lines (a good
	// prediction over its truth) can still be told apart where their
	// colours merge.
	Dashed bool
}

// Lines writes a line plot of the series to path, with the given title
// and axis labels, and a legend of the named series to the right of the
// data so that it never hides any of it. Series take the colours of a
// colour-blind-safe palette in order. A series of a single point is drawn
// as a dot, as it has no line.
//
// Lines returns an error if path does not end in .png or .svg, if no
// series is given, if a series is empty, if its X and Y lengths differ,
// if a value is NaN or infinite, or if the file cannot be written.
func Lines(path, title, xLabel, yLabel string, series ...Series) error {
	if err := lines(path, title, xLabel, yLabel, series); err != nil {
		return errors.Wrapf(err, "plot: lines %q", path)
	}
	return nil
}

func lines(path, title, xLabel, yLabel string, series []Series) error {
	f, err := formatOf(path)
	if err != nil {
		return err
	}
	if len(series) == 0 {
		return errors.New("no series")
	}
	for i, s := range series {
		if err := checkSeries(s); err != nil {
			return errors.Wrapf(err, "series %d %q", i, s.Name)
		}
	}
	return save(path, f, linesWidth, linesHeight, func(dc draw.Canvas) error {
		return drawLines(dc, title, xLabel, yLabel, series)
	})
}

// checkSeries returns an error unless s holds as many X as Y values, at
// least one, all finite. Checked here rather than left to plotter.NewLine
// so that the error says which point is bad.
func checkSeries(s Series) error {
	if len(s.X) != len(s.Y) {
		return errors.Errorf("X has %d values, Y has %d", len(s.X), len(s.Y))
	}
	if len(s.X) == 0 {
		return errors.New("no values")
	}
	if err := checkFinite("X", s.X); err != nil {
		return err
	}
	return checkFinite("Y", s.Y)
}

// checkFinite returns an error naming the first NaN or infinite value of
// v, which name describes.
func checkFinite(name string, v []float64) error {
	for i, x := range v {
		if !isFinite(x) {
			return errors.Errorf("%s[%d] is %v", name, i, x)
		}
	}
	return nil
}

// drawLines draws a line plot of validated series onto dc.
func drawLines(dc draw.Canvas, title, xLabel, yLabel string, series []Series) error {
	p := gplot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())

	leg := newLegend()
	for i, s := range series {
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xys[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		var thumb gplot.Thumbnailer
		if len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return errors.Wrapf(err, "series %d %q", i, s.Name)
			}
			sc.GlyphStyle.Color = seriesColor(i)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(3)
			p.Add(sc)
			thumb = sc
		} else {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return errors.Wrapf(err, "series %d %q", i, s.Name)
			}
			l.LineStyle.Color = seriesColor(i)
			l.LineStyle.Width = vg.Points(1.5)
			if s.Dashed {
				l.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			p.Add(l)
			thumb = l
		}
		if s.Name != "" {
			leg.Add(s.Name, thumb)
		}
	}

	strip := legendWidth(dc, leg)
	pc := draw.Crop(dc, 0, -strip, 0, 0)
	p.Draw(pc)
	drawLegend(dc, leg, strip, p.DataCanvas(pc).Max.Y)
	return nil
}

// PredictionVsTruth writes a plot of a prediction against the truth to
// path: the truth as a solid line, the prediction dashed over it, both
// against x. It is Lines with two series named "Truth" and "Prediction".
//
// PredictionVsTruth returns an error if path does not end in .png or .svg,
// if x, truth and pred differ in length or are empty, if a value is NaN or
// infinite, or if the file cannot be written.
func PredictionVsTruth(path, title, xLabel, yLabel string, x, truth, pred []float64) error {
	if err := predictionVsTruth(path, title, xLabel, yLabel, x, truth, pred); err != nil {
		return errors.Wrapf(err, "plot: prediction vs truth %q", path)
	}
	return nil
}

func predictionVsTruth(path, title, xLabel, yLabel string, x, truth, pred []float64) error {
	if _, err := formatOf(path); err != nil {
		return err
	}
	// Checked here, not left to Lines, so that the error names the
	// argument rather than a series' X or Y.
	if len(truth) != len(x) || len(pred) != len(x) {
		return errors.Errorf("x has %d values, truth %d, pred %d", len(x), len(truth), len(pred))
	}
	if len(x) == 0 {
		return errors.New("no values")
	}
	for _, v := range []struct {
		name string
		v    []float64
	}{{"x", x}, {"truth", truth}, {"pred", pred}} {
		if err := checkFinite(v.name, v.v); err != nil {
			return err
		}
	}
	return lines(path, title, xLabel, yLabel, []Series{
		{Name: "Truth", X: x, Y: truth},
		{Name: "Prediction", X: x, Y: pred, Dashed: true},
	})
}
