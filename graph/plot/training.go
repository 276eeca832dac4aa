package plot

import (
	"fmt"
	"image/color"
	"strings"

	"github.com/pkg/errors"
	"github.com/seqgraph/seqgraph/graph"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of the training-progress figure: two panels of about the height of
// a line plot each.
const (
	progressWidth  = 16 * vg.Centimeter
	progressHeight = 15 * vg.Centimeter
)

// maxEpochLines is the most epoch boundaries drawn; more would grey out
// the plot rather than help to read it.
const maxEpochLines = 50

// TrainingProgress writes MATLAB's training-progress figure of the run h
// to path: two panels against the iteration, the top one the mini-batch
// accuracy (percent) of a classifier or the mini-batch RMSE of a
// regression network, the bottom one the mini-batch loss.
//
// Each panel shows the per-iteration values as a faint line with a
// smoothed line over it: a centred moving average whose window grows with
// the number of iterations (up to 101), so that the trend is readable
// without lagging behind it. Runs of fewer than 10 iterations are not
// smoothed. The validation values, where h has any, are a black dashed
// line with a dot per validation. Light grey lines mark the epoch
// boundaries (when there are at most 50), and a dashed line marks the
// best iteration when early stopping chose one before the last.
//
// TrainingProgress returns an error if path does not end in .png or .svg,
// if h is nil or has no iterations, if its iteration numbers do not
// increase, if a plotted value (loss, and accuracy or RMSE as h.Classifier
// says) is NaN or infinite, or if the file cannot be written.
func TrainingProgress(path string, h *graph.History) error {
	if err := trainingProgress(path, h); err != nil {
		return errors.Wrapf(err, "plot: training progress %q", path)
	}
	return nil
}

// progressMetric is what the top panel of the figure shows.
type progressMetric struct {
	name  string // in errors
	label string // on the axis
	it    func(graph.IterationRecord) float64
	val   func(graph.ValidationRecord) float64
}

func metricOf(h *graph.History) progressMetric {
	if h.Classifier {
		return progressMetric{
			name:  "accuracy",
			label: "Accuracy (%)",
			it:    func(r graph.IterationRecord) float64 { return r.Accuracy },
			val:   func(r graph.ValidationRecord) float64 { return r.Accuracy },
		}
	}
	return progressMetric{
		name:  "RMSE",
		label: "RMSE",
		it:    func(r graph.IterationRecord) float64 { return r.RMSE },
		val:   func(r graph.ValidationRecord) float64 { return r.RMSE },
	}
}

var lossMetric = progressMetric{
	name:  "loss",
	label: "Loss",
	it:    func(r graph.IterationRecord) float64 { return r.Loss },
	val:   func(r graph.ValidationRecord) float64 { return r.Loss },
}

func trainingProgress(path string, h *graph.History) error {
	f, err := formatOf(path)
	if err != nil {
		return err
	}
	if h == nil {
		return errors.New("nil history")
	}
	if len(h.Iterations) == 0 {
		return errors.New("history has no iterations")
	}
	metrics := []progressMetric{metricOf(h), lossMetric}
	for i, r := range h.Iterations {
		if i > 0 && r.Iteration <= h.Iterations[i-1].Iteration {
			return errors.Errorf("iteration record %d: iteration %d does not follow iteration %d", i, r.Iteration, h.Iterations[i-1].Iteration)
		}
		for _, m := range metrics {
			if v := m.it(r); !isFinite(v) {
				return errors.Errorf("iteration %d: %s is %v", r.Iteration, m.name, v)
			}
		}
	}
	for i, r := range h.Validations {
		for _, m := range metrics {
			if v := m.val(r); !isFinite(v) {
				return errors.Errorf("validation record %d (iteration %d): %s is %v", i, r.Iteration, m.name, v)
			}
		}
	}
	return save(path, f, progressWidth, progressHeight, func(dc draw.Canvas) error {
		return drawProgress(dc, h, metrics)
	})
}

// drawProgress draws the validated history h onto dc, a panel per metric.
func drawProgress(dc draw.Canvas, h *graph.History, metrics []progressMetric) error {
	// Both panels share one iteration range so that their x axes line
	// up; MATLAB may validate before the first iteration.
	first, last := h.Iterations[0].Iteration, h.Iterations[len(h.Iterations)-1].Iteration
	xmin, xmax := float64(first), float64(last)
	for _, v := range h.Validations {
		xmin = min(xmin, float64(v.Iteration))
		xmax = max(xmax, float64(v.Iteration))
	}

	epochs := vLines{style: draw.LineStyle{Color: color.Gray{Y: 0xb0}, Width: vg.Points(0.75)}}
	for i := 1; i < len(h.Iterations); i++ {
		a, b := h.Iterations[i-1], h.Iterations[i]
		if a.Epoch != b.Epoch {
			epochs.xs = append(epochs.xs, float64(a.Iteration+b.Iteration)/2)
		}
	}
	if len(epochs.xs) > maxEpochLines {
		epochs.xs = nil
	}
	best := vLines{style: draw.LineStyle{
		Color:  black,
		Width:  vg.Points(0.75),
		Dashes: []vg.Length{vg.Points(2), vg.Points(2)},
	}}
	if h.BestIteration > 0 && h.BestIteration != last {
		best.xs = []float64{float64(h.BestIteration)}
	}

	colors := []color.Color{blue, vermillion}
	plots := make([][]*gplot.Plot, len(metrics))
	legends := make([]gplot.Legend, len(metrics))
	for i, m := range metrics {
		p, leg, err := progressPanel(h, m, colors[i%len(colors)], epochs, best)
		if err != nil {
			return errors.Wrap(err, m.name)
		}
		p.X.Min, p.X.Max = xmin, xmax
		plots[i] = []*gplot.Plot{p}
		legends[i] = leg
	}
	plots[len(plots)-1][0].X.Label.Text = "Iteration"

	dc = drawTitle(dc, "Training progress", progressFacts(h))
	strip := legendWidth(dc, legends...)
	area := draw.Crop(dc, 0, -strip, 0, 0)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(12)}
	canvases := gplot.Align(plots, tiles, area)
	for i, row := range plots {
		p, c := row[0], canvases[i][0]
		p.Draw(c)
		drawLegend(dc, legends[i], strip, p.DataCanvas(c).Max.Y)
	}
	return nil
}

// progressFacts sums up the run h as MATLAB's training-progress side
// panel does, for the figure's title.
func progressFacts(h *graph.History) []string {
	lastRec := h.Iterations[len(h.Iterations)-1]
	facts := []string{
		plural(lastRec.Epoch, "epoch"),
		plural(len(h.Iterations), "iteration"),
	}
	if h.Stop != "" {
		facts = append(facts, "stopped: "+h.Stop)
	}
	if h.BestIteration > 0 {
		facts = append(facts, fmt.Sprintf("best iteration %d", h.BestIteration))
	}
	return facts
}

// drawTitle draws head and below it the facts, as many to a line as fit,
// centred across the top of dc, and returns the canvas below them. The
// title spans the whole figure, legend strip included, so that a long
// one is not clipped.
func drawTitle(dc draw.Canvas, head string, facts []string) draw.Canvas {
	sty := gplot.New().Title.TextStyle
	lines := []string{head}
	var line string
	for _, f := range facts {
		switch {
		case line == "":
			line = f
		case sty.Width(line+", "+f) <= dc.Size().X:
			line += ", " + f
		default:
			lines = append(lines, line+",")
			line = f
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	title := strings.Join(lines, "\n")
	dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y + sty.FontExtents().Descent}, title)
	return draw.Crop(dc, 0, 0, 0, -sty.Rectangle(title).Size().Y-vg.Points(6))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// progressPanel returns the plot of one metric of h and its legend.
func progressPanel(h *graph.History, m progressMetric, col color.Color, epochs, best vLines) (*gplot.Plot, gplot.Legend, error) {
	p := gplot.New()
	p.Y.Label.Text = m.label
	// Horizontal grid lines only: vertical ones would be mistaken
	// for the epoch boundaries.
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	leg := newLegend()

	// Drawn first so that the data lies over them.
	p.Add(epochs, best)

	train := make(plotter.XYs, len(h.Iterations))
	y := make([]float64, len(h.Iterations))
	for i, r := range h.Iterations {
		y[i] = m.it(r)
		train[i] = plotter.XY{X: float64(r.Iteration), Y: y[i]}
	}
	ymin, ymax := minMax(y)

	raw, err := plotter.NewLine(train)
	if err != nil {
		return nil, leg, err
	}
	raw.LineStyle.Width = vg.Points(1)
	smoothed := smooth(y)
	if smoothed == nil {
		// Too few points for a trend: the values themselves are
		// the line, with a dot each so that a single one shows.
		raw.LineStyle.Color = col
		raw.LineStyle.Width = vg.Points(1.5)
		dots, err := plotter.NewScatter(train)
		if err != nil {
			return nil, leg, err
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(raw, dots)
		leg.Add("Training", raw, dots)
	} else {
		// A mix rather than transparency keeps the colour the same
		// in every format.
		raw.LineStyle.Color = mix(col, color.White, 0.6)
		sxy := make(plotter.XYs, len(train))
		for i := range train {
			sxy[i] = plotter.XY{X: train[i].X, Y: smoothed[i]}
		}
		sl, err := plotter.NewLine(sxy)
		if err != nil {
			return nil, leg, err
		}
		sl.LineStyle.Color = col
		sl.LineStyle.Width = vg.Points(1.75)
		p.Add(raw, sl)
		leg.Add("Training", raw)
		leg.Add("Smoothed", sl)
	}

	if len(h.Validations) > 0 {
		val := make(plotter.XYs, len(h.Validations))
		for i, r := range h.Validations {
			v := m.val(r)
			val[i] = plotter.XY{X: float64(r.Iteration), Y: v}
			ymin, ymax = min(ymin, v), max(ymax, v)
		}
		l, err := plotter.NewLine(val)
		if err != nil {
			return nil, leg, err
		}
		l.LineStyle = draw.LineStyle{Color: black, Width: vg.Points(1.25), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
		dots, err := plotter.NewScatter(val)
		if err != nil {
			return nil, leg, err
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: black, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(l, dots)
		leg.Add("Validation", l, dots)
	}
	if len(epochs.xs) > 0 {
		leg.Add("Epoch boundary", epochs)
	}
	if len(best.xs) > 0 {
		leg.Add("Best iteration", best)
	}

	// Losses, RMSEs and accuracies are never negative: starting the
	// axis at 0 shows how far from perfect they are, as MATLAB does.
	if ymin >= 0 {
		p.Y.Min = 0
	}
	if m.name == "accuracy" && ymin >= 0 && ymax <= 100 {
		p.Y.Max = 100
	}
	return p, leg, nil
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// smooth returns a centred moving average of y, or nil if y is too short
// to be worth smoothing. The window is 2·len(y)/30+1 points wide, between
// 3 and 101. Near the ends it is cut off rather than shrunk around the
// point: a shrinking window ends on a single raw value, and one noisy
// last iteration would then look like a sudden change of the trend.
func smooth(y []float64) []float64 {
	const minPoints = 10
	if len(y) < minPoints {
		return nil
	}
	half := min(max(len(y)/30, 1), 50)
	// Prefix sums make every window O(1).
	sum := make([]float64, len(y)+1)
	for i, v := range y {
		sum[i+1] = sum[i] + v
	}
	s := make([]float64, len(y))
	for i := range y {
		lo, hi := max(i-half, 0), min(i+half, len(y)-1)
		s[i] = (sum[hi+1] - sum[lo]) / float64(hi-lo+1)
	}
	return s
}

// vLines is a plotter of vertical lines across the whole data area at the
// x values xs. It has no data range, so that it never widens the axes.
type vLines struct {
	xs    []float64
	style draw.LineStyle
}

// Plot implements gonum/plot's Plotter.
func (v vLines) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, x := range v.xs {
		if x < p.X.Min || x > p.X.Max {
			continue
		}
		X := trX(x)
		c.StrokeLine2(v.style, X, c.Min.Y, X, c.Max.Y)
	}
}

// Thumbnail implements gonum/plot's Thumbnailer, for the legend.
func (v vLines) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
}
