package plot

import (
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Okabe–Ito colours, distinguishable by colour-blind readers.
var (
	blue       = color.RGBA{R: 0x00, G: 0x72, B: 0xb2, A: 0xff}
	vermillion = color.RGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff}
	green      = color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff}
	orange     = color.RGBA{R: 0xe6, G: 0x9f, B: 0x00, A: 0xff}
	purple     = color.RGBA{R: 0xcc, G: 0x79, B: 0xa7, A: 0xff}
	skyBlue    = color.RGBA{R: 0x56, G: 0xb4, B: 0xe9, A: 0xff}
	black      = color.RGBA{A: 0xff}
	lightGrey  = color.RGBA{R: 0xd9, G: 0xd9, B: 0xd9, A: 0xff}
)

// seriesColor returns the colour of the i'th series of a line plot. The
// first two (usually truth and prediction) contrast strongly; yellow is
// left out as it is hard to see on white.
func seriesColor(i int) color.Color {
	colors := [...]color.Color{blue, vermillion, green, orange, purple, skyBlue, black}
	return colors[i%len(colors)]
}

// mix returns the colour a fraction t of the way from a to b.
func mix(a, b color.Color, t float64) color.RGBA {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	f := func(x, y uint32) uint8 {
		return uint8((float64(x)*(1-t) + float64(y)*t) / 0x101)
	}
	return color.RGBA{R: f(ar, br), G: f(ag, bg), B: f(ab, bb), A: 0xff}
}

// isDark reports whether c is dark enough that text on it should be white.
func isDark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	// Rec. 709 luma of the 16-bit channels.
	return 0.2126*float64(r)+0.7152*float64(g)+0.0722*float64(b) < 0.5*0xffff
}

// legendGap separates a legend from the plot beside it and from the
// canvas edge.
const legendGap = vg.Length(8) // points

// newLegend returns an empty legend that draws at the top left of the
// canvas it is given.
func newLegend() gplot.Legend {
	leg := gplot.NewLegend()
	leg.Top = true
	leg.Left = true
	leg.Padding = vg.Points(2)
	return leg
}

// legendWidth returns the width of the strip needed beside a plot to hold
// the widest of the legends, or 0 if they are all empty.
func legendWidth(dc draw.Canvas, legs ...gplot.Legend) vg.Length {
	var w vg.Length
	for _, leg := range legs {
		if lw := leg.Rectangle(dc).Size().X; lw > 0 {
			w = max(w, lw+2*legendGap)
		}
	}
	return w
}

// drawLegend draws leg in the strip of width w at the right of dc, with
// its top level with top, the top of the data area of the plot beside it.
// Drawing the legend outside the plot means it never hides any data.
func drawLegend(dc draw.Canvas, leg gplot.Legend, w, top vg.Length) {
	if w == 0 {
		return
	}
	leg.Draw(draw.Crop(dc, dc.Size().X-w+legendGap, 0, 0, top-dc.Max.Y))
}
