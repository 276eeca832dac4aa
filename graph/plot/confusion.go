package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/pkg/errors"
	"github.com/seqgraph/seqgraph/graph/metrics"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of the confusion chart; the grid itself is kept square within it.
const (
	confusionWidth  = 16 * vg.Centimeter
	confusionHeight = 15 * vg.Centimeter
)

// Layout of the confusion chart in data coordinates, where each cell is
// 1×1: the summary column and row are set off from the grid by a gap.
const (
	summaryGap    = 0.3
	summaryOffset = 0.5 + summaryGap + 0.5 // grid edge cell centre to summary centre
)

// ConfusionMatrix writes a confusion chart of cm to path, as MATLAB's
// confusionchart: a grid of cells with a row per true class and a column
// per predicted class, cm[t][p] being the count of class t predicted as p
// (as metrics.ConfusionMatrix returns it). The first class is at the top
// left.
//
// Each cell shows its count, zero counts left blank. Its colour deepens
// with the count: blue on the diagonal (correct) and vermillion off it
// (wrong), on one scale for both so that they can be compared. A column
// at the right shows each true class's recall (the row-normalized
// diagonal), a row at the bottom each predicted class's precision (the
// column-normalized diagonal), and the corner cell the overall accuracy;
// one that is undefined (0/0) shows a dash.
//
// classNames labels the classes in order; if it is nil the classes are
// numbered from 0.
//
// ConfusionMatrix returns an error if path does not end in .png or .svg,
// if cm is empty or not square, if a count is negative, if classNames is
// not nil and does not name every class, or if the file cannot be
// written.
func ConfusionMatrix(path string, cm [][]int, classNames []string) error {
	if err := confusionMatrix(path, cm, classNames); err != nil {
		return errors.Wrapf(err, "plot: confusion matrix %q", path)
	}
	return nil
}

func confusionMatrix(path string, cm [][]int, classNames []string) error {
	f, err := formatOf(path)
	if err != nil {
		return err
	}
	n := len(cm)
	if n == 0 {
		return errors.New("empty confusion matrix")
	}
	var total, correct, most int
	for t, row := range cm {
		if len(row) != n {
			return errors.Errorf("row %d has %d columns, want %d for a square matrix", t, len(row), n)
		}
		for p, v := range row {
			if v < 0 {
				return errors.Errorf("cell [%d][%d] is %d, want a count >= 0", t, p, v)
			}
			total += v
			most = max(most, v)
		}
		correct += row[t]
	}
	if classNames == nil {
		classNames = make([]string, n)
		for i := range classNames {
			classNames[i] = strconv.Itoa(i)
		}
	}
	if len(classNames) != n {
		return errors.Errorf("%d class names for %d classes", len(classNames), n)
	}

	precision, recall := metrics.PrecisionRecall(cm)
	chart := confusionChart{
		cm:        cm,
		precision: precision,
		recall:    recall,
		accuracy:  math.NaN(),
		most:      most,
	}
	if total > 0 {
		chart.accuracy = float64(correct) / float64(total)
	}
	title := fmt.Sprintf("Confusion matrix (%s)", plural(total, "observation"))
	return save(path, f, confusionWidth, confusionHeight, func(dc draw.Canvas) error {
		return drawConfusion(dc, title, chart, classNames)
	})
}

func drawConfusion(dc draw.Canvas, title string, chart confusionChart, names []string) error {
	n := len(chart.cm)
	p := gplot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = "Predicted class"
	p.Y.Label.Text = "True class"
	p.Add(chart)

	// Class t's row is at y = n-1-t, so that the first class is at the
	// top as in a printed matrix, and the summary row below at y < 0.
	xticks := make([]gplot.Tick, 0, n+1)
	yticks := make([]gplot.Tick, 0, n+1)
	for i, name := range names {
		xticks = append(xticks, gplot.Tick{Value: float64(i), Label: name})
		yticks = append(yticks, gplot.Tick{Value: float64(n - 1 - i), Label: name})
	}
	xticks = append(xticks, gplot.Tick{Value: float64(n-1) + summaryOffset, Label: "Recall"})
	yticks = append(yticks, gplot.Tick{Value: -summaryOffset, Label: "Precision"})
	for _, ax := range []*gplot.Axis{&p.X, &p.Y} {
		ax.Width = 0
		ax.Padding = 0
		ax.Tick.Length = 0
		ax.Tick.Width = 0
	}
	p.X.Tick.Marker = gplot.ConstantTicks(xticks)
	p.Y.Tick.Marker = gplot.ConstantTicks(yticks)
	p.X.Min, p.X.Max = -0.5, float64(n-1)+summaryOffset+0.5
	p.Y.Min, p.Y.Max = -summaryOffset-0.5, float64(n)-0.5

	// Long class names would run into each other under narrow columns:
	// slant them instead.
	cell := dc.Size().X / vg.Length(float64(n)+summaryOffset+1)
	var widest vg.Length
	for _, name := range names {
		widest = max(widest, p.X.Tick.Label.Width(name))
	}
	if widest > 0.9*cell {
		p.X.Tick.Label.Rotation = math.Pi / 4
		// Hang each label from its tick by its end, clear of the
		// cells above.
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
	}

	// Square cells: trim whichever side of the data area is longer,
	// keeping the figure centred.
	da := p.DataCanvas(dc)
	if extra := da.Size().X - da.Size().Y; extra > 0 {
		dc = draw.Crop(dc, extra/2, -extra/2, 0, 0)
	} else {
		dc = draw.Crop(dc, 0, 0, -extra/2, extra/2)
	}
	p.Draw(dc)
	return nil
}

// confusionChart is a gonum/plot Plotter of a confusion matrix and its
// summaries, drawn in data coordinates where a cell is 1×1.
type confusionChart struct {
	cm                [][]int
	precision, recall []float64
	accuracy          float64
	most              int // the largest count, for the colour scale
}

// cellLabel is a cell's fill colour and text.
type cellLabel struct {
	x, y float64
	fill color.Color
	text string
}

// Plot implements gonum/plot's Plotter.
func (ch confusionChart) Plot(c draw.Canvas, p *gplot.Plot) {
	n := len(ch.cm)
	var cells []cellLabel
	for t, row := range ch.cm {
		for q, v := range row {
			hue := vermillion
			if t == q {
				hue = blue
			}
			cell := cellLabel{x: float64(q), y: float64(n - 1 - t), fill: color.White}
			if v > 0 {
				// The floor keeps a single error visible
				// next to a diagonal of thousands.
				frac := 0.12 + 0.88*float64(v)/float64(ch.most)
				cell.fill = mix(color.White, hue, frac)
				cell.text = strconv.Itoa(v)
			}
			cells = append(cells, cell)
		}
	}
	summary := func(x, y, v float64, name string) cellLabel {
		cl := cellLabel{x: x, y: y, fill: lightGrey, text: "–"}
		if !math.IsNaN(v) {
			cl.fill = mix(color.White, blue, v)
			cl.text = fmt.Sprintf("%.1f%%", 100*v)
		}
		if name != "" {
			cl.text = name + "\n" + cl.text
		}
		return cl
	}
	sx, sy := float64(n-1)+summaryOffset, -summaryOffset
	for k := range n {
		cells = append(cells,
			summary(sx, float64(n-1-k), ch.recall[k], ""),
			summary(float64(k), sy, ch.precision[k], ""))
	}
	// The corner has no tick label of its own to say what it is.
	cells = append(cells, summary(sx, sy, ch.accuracy, "Accuracy"))

	trX, trY := p.Transforms(&c)
	border := draw.LineStyle{Color: color.Gray{Y: 0xbf}, Width: vg.Points(0.5)}
	for _, cl := range cells {
		x0, x1 := trX(cl.x-0.5), trX(cl.x+0.5)
		y0, y1 := trY(cl.y-0.5), trY(cl.y+0.5)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(cl.fill, pts)
		c.StrokeLines(border, append(pts, pts[0]))
	}

	w, h := trX(1)-trX(0), trY(1)-trY(0)
	sty := cellTextStyle(p.X.Tick.Label, w, h, "100.0%", strconv.Itoa(ch.most))
	// The corner's label is longer than any number; fitting every cell
	// to it would shrink all the text for the sake of one cell.
	cornerSty := cellTextStyle(p.X.Tick.Label, w, h, "Accuracy")
	for i, cl := range cells {
		sty := sty
		if i == len(cells)-1 {
			sty = cornerSty
		}
		// Text too small to read is better left out.
		if cl.text == "" || sty.Font.Size < vg.Points(5) {
			continue
		}
		sty.Color = color.Black
		if isDark(cl.fill) {
			sty.Color = color.White
		}
		c.FillText(sty, vg.Point{X: trX(cl.x), Y: trY(cl.y)}, cl.text)
	}
}

// cellTextStyle returns the style of the text in cells of size w×h, from
// base, so that the widest of texts fits.
func cellTextStyle(base text.Style, w, h vg.Length, texts ...string) text.Style {
	sty := base
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YCenter
	sty.Rotation = 0
	sty.Font.Size = min(vg.Points(12), 0.3*min(w, h))
	var widest vg.Length
	for _, t := range texts {
		widest = max(widest, sty.Width(t))
	}
	if limit := 0.85 * w; widest > limit {
		sty.Font.Size *= limit / widest
	}
	return sty
}
