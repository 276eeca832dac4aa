package plot

import (
	"image/color"
	"math"
	"strconv"

	"github.com/pkg/errors"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of the heat map figure.
const (
	heatmapWidth  = 16 * vg.Centimeter
	heatmapHeight = 10 * vg.Centimeter
)

// Colour bar geometry: the bar's own width, and the gap between it and
// the heat map's data area (which holds the bar's tick labels).
const (
	colorBarWidth = 4 * vg.Millimeter
	colorBarGap   = 4 * vg.Millimeter
)

// heatmapColors is the number of colours a heat map is drawn with: more
// than the eye tells apart, so the map looks continuous.
const heatmapColors = 256

// Heatmap writes a heat map of values to path: values[r][c] is the colour
// of the cell in row r and column c, such as hidden unit r at timestep c
// as in MATLAB's "Visualize Activations of LSTM Network". Row 0 is at the
// top, as in a printed matrix; rows and columns are numbered from 0 on the
// axes. A colour bar at the right gives the value of each colour.
//
// Values of both signs use a diverging blue–white–red scale centred on 0,
// so that the sign of an activation can be read at a glance; values of one
// sign use a viridis-like scale from dark to light. Equal values are drawn
// in the middle of a scale around them.
//
// Heatmap returns an error if path does not end in .png or .svg, if values
// has no rows or no columns, if its rows differ in length, if a value is
// NaN or infinite, or if the file cannot be written.
func Heatmap(path, title string, values [][]float64, xLabel, yLabel string) error {
	if err := heatmap(path, title, values, xLabel, yLabel); err != nil {
		return errors.Wrapf(err, "plot: heatmap %q", path)
	}
	return nil
}

func heatmap(path, title string, values [][]float64, xLabel, yLabel string) error {
	f, err := formatOf(path)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		return errors.New("no rows")
	}
	cols := len(values[0])
	if cols == 0 {
		return errors.New("no columns")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, row := range values {
		if len(row) != cols {
			return errors.Errorf("row %d has %d values, row 0 has %d", r, len(row), cols)
		}
		for c, v := range row {
			if !isFinite(v) {
				return errors.Errorf("values[%d][%d] is %v", r, c, v)
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return save(path, f, heatmapWidth, heatmapHeight, func(dc draw.Canvas) error {
		return drawHeatmap(dc, title, values, xLabel, yLabel, lo, hi)
	})
}

// colorMapFor returns the colour map for values in [lo, hi], with its
// range set.
func colorMapFor(lo, hi float64) (palette.ColorMap, error) {
	if lo == hi {
		// A colour bar needs a range; centre the value in one.
		d := max(math.Abs(lo), 1) / 2
		lo, hi = lo-d, hi+d
	}
	if lo < 0 && hi > 0 {
		m := max(-lo, hi)
		cm := moreland.SmoothBlueRed()
		cm.SetMin(-m)
		cm.SetMax(m)
		return cm, nil
	}
	// Viridis's control points: perceptually uniform, increasing in
	// lightness, and legible to colour-blind readers.
	cm, err := moreland.NewLuminance([]color.Color{
		color.NRGBA{R: 0x44, G: 0x01, B: 0x54, A: 0xff},
		color.NRGBA{R: 0x3b, G: 0x52, B: 0x8b, A: 0xff},
		color.NRGBA{R: 0x21, G: 0x91, B: 0x8c, A: 0xff},
		color.NRGBA{R: 0x5e, G: 0xc9, B: 0x62, A: 0xff},
		color.NRGBA{R: 0xfd, G: 0xe7, B: 0x25, A: 0xff},
	})
	if err != nil {
		return nil, err
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	return cm, nil
}

func drawHeatmap(dc draw.Canvas, title string, values [][]float64, xLabel, yLabel string, lo, hi float64) error {
	cmap, err := colorMapFor(lo, hi)
	if err != nil {
		return errors.Wrap(err, "colour map")
	}
	rows, cols := len(values), len(values[0])

	p := gplot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(heatCells{values: values, colors: cmap.Palette(heatmapColors).Colors(), min: cmap.Min(), max: cmap.Max()})
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Marker = indexTicks{n: cols}
	p.Y.Tick.Marker = indexTicks{n: rows, flip: true}

	bar := gplot.New()
	bar.Add(colorBar{cmap: cmap})
	bar.HideX()
	bar.X.Padding, bar.Y.Padding = 0, 0

	// The bar is sized from its data area: find how much its tick
	// labels and axis add beside and below it, then give the heat map
	// the rest of the width.
	probe := bar.DataCanvas(dc)
	left := probe.Min.X - dc.Min.X
	below, above := probe.Min.Y-dc.Min.Y, dc.Max.Y-probe.Max.Y
	strip := colorBarGap + left + colorBarWidth

	pc := draw.Crop(dc, 0, -strip, 0, 0)
	p.Draw(pc)

	// Level the bar with the heat map's data area.
	da := p.DataCanvas(pc)
	bc := dc
	bc.Min = vg.Point{X: dc.Max.X - left - colorBarWidth, Y: da.Min.Y - below}
	bc.Max.Y = da.Max.Y + above
	bar.Draw(bc)
	return nil
}

// heatCells is a gonum/plot Plotter of values as a rectangle per cell,
// row 0 at the top.
//
// It stands in for plotter.HeatMap, which draws either a rectangle per
// cell, leaving light anti-aliasing seams between cells, or an embedded
// image, which gonum's SVG canvas labels with the wrong media type so that
// strict SVG renderers drop it. heatCells overlaps neighbouring cells by a
// hairline instead, and merges runs of cells of one colour in a row into
// one rectangle, which keeps large SVG files smaller.
type heatCells struct {
	values   [][]float64
	colors   []color.Color
	min, max float64
}

// Plot implements gonum/plot's Plotter.
func (h heatCells) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	rows := len(h.values)
	scale := float64(len(h.colors)-1) / (h.max - h.min)
	index := func(v float64) int {
		return min(max(int((v-h.min)*scale+0.5), 0), len(h.colors)-1)
	}
	const overlap = vg.Length(0.5) // points
	for r, row := range h.values {
		y := float64(rows - 1 - r)
		y0, y1 := trY(y-0.5), trY(y+0.5)
		// Overlap the row above, except at the top edge.
		if r > 0 {
			y1 += overlap
		}
		for start := 0; start < len(row); {
			i := index(row[start])
			end := start + 1
			for end < len(row) && index(row[end]) == i {
				end++
			}
			x0, x1 := trX(float64(start)-0.5), trX(float64(end)-0.5)
			if end < len(row) {
				x1 += overlap
			}
			c.FillPolygon(h.colors[i], []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			start = end
		}
	}
}

// colorBar is a gonum/plot Plotter of a vertical colour bar of cmap over
// its range, drawn as stacked rectangles rather than as plotter.ColorBar's
// embedded image, for the reason given at heatCells.
type colorBar struct {
	cmap palette.ColorMap
}

// Plot implements gonum/plot's Plotter.
func (b colorBar) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	lo, hi := b.cmap.Min(), b.cmap.Max()
	x0, x1 := trX(0), trX(1)
	const overlap = vg.Length(0.5) // points
	for i := range heatmapColors {
		v0 := lo + (hi-lo)*float64(i)/heatmapColors
		v1 := lo + (hi-lo)*float64(i+1)/heatmapColors
		col, err := b.cmap.At((v0 + v1) / 2)
		if err != nil {
			panic(err) // recovered by render
		}
		y0, y1 := trY(v0), trY(v1)
		if i < heatmapColors-1 {
			y1 += overlap
		}
		c.FillPolygon(col, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	}
}

// DataRange implements gonum/plot's DataRanger.
func (b colorBar) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, 1, b.cmap.Min(), b.cmap.Max()
}

// indexTicks labels an axis of n cell indices with whole numbers, as
// there are no cells in between: every step'th index, the step being 1,
// 2 or 5 times a power of ten that leaves at most 10 labels. With flip
// the axis runs from index n-1 at the bottom to index 0 at the top.
type indexTicks struct {
	n    int
	flip bool
}

// Ticks implements gonum/plot's Ticker.
func (t indexTicks) Ticks(lo, hi float64) []gplot.Tick {
	const maxLabels = 10
	step := 1
	for mag := 1; (t.n-1)/step+1 > maxLabels; mag *= 10 {
		for _, m := range []int{1, 2, 5} {
			if step = m * mag; (t.n-1)/step+1 <= maxLabels {
				break
			}
		}
	}
	// Unlabelled minor ticks between the labels help to count cells,
	// as long as they are not so many that they blur into a bar.
	const maxTicks = 30
	minor := step
	for _, m := range []int{1, step / 5, step / 2} {
		if m > 0 && step%m == 0 && (t.n-1)/m+1 <= maxTicks {
			minor = m
			break
		}
	}
	var ticks []gplot.Tick
	for i := 0; i < t.n; i += minor {
		tk := gplot.Tick{Value: float64(i)}
		if i%step == 0 {
			tk.Label = strconv.Itoa(i)
		}
		if t.flip {
			tk.Value = float64(t.n - 1 - i)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}
