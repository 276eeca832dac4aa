package plot

import (
	"bytes"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// dpi is the resolution of PNG files: a 16 cm figure is then 945 pixels
// wide, sharp at full size on a screen and legible when printed.
const dpi = 150

// format is an output file format.
type format int

const (
	formatPNG format = iota + 1
	formatSVG
)

// formatOf returns the format that the extension of path asks for.
func formatOf(path string) (format, error) {
	if path == "" {
		return 0, errors.New("empty path")
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return formatPNG, nil
	case ".svg":
		return formatSVG, nil
	case "":
		return 0, errors.New("no file extension: want .png or .svg")
	default:
		return 0, errors.Errorf("unsupported file extension %q: want .png or .svg", ext)
	}
}

// save renders a w×h figure drawn by fig in format f and writes it to path
// atomically. The error is not prefixed with the figure's name: the
// caller adds it.
func save(path string, f format, w, h vg.Length, fig func(dc draw.Canvas) error) error {
	img, err := render(f, w, h, fig)
	if err != nil {
		return err
	}
	return writeAtomic(path, img)
}

// render draws fig onto a new canvas of format f and returns the encoded
// image.
func render(f format, w, h vg.Length, fig func(dc draw.Canvas) error) (img []byte, err error) {
	// gonum/plot reports many failures (an empty range, an unusable
	// palette, a bad size) by panicking; a figure is not worth crashing
	// a program for.
	defer func() {
		if r := recover(); r != nil {
			img = nil
			err = errors.Errorf("rendering failed: %v", r)
		}
	}()

	var c vg.CanvasWriterTo
	switch f {
	case formatPNG:
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}
	case formatSVG:
		// See the package documentation for why the font is
		// embedded.
		c = vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(true))
	default:
		return nil, errors.Errorf("unknown format %d", f)
	}
	dc := draw.New(c)
	// An SVG canvas is transparent where nothing is drawn, and the
	// plots leave a margin undrawn: paint it white as in a PNG so the
	// figure looks the same on a dark background.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	// Without a margin the title and the outer tick labels touch the
	// image edge and look clipped.
	const margin = 4 * vg.Millimeter
	if err := fig(draw.Crop(dc, margin, -margin, margin, -margin)); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, errors.Wrap(err, "encode")
	}
	return buf.Bytes(), nil
}

// writeAtomic writes img to a temporary file in the folder of path and
// renames it to path, removing the temporary file on failure.
func writeAtomic(path string, img []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return errors.Wrap(err, "create temporary file")
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()

	if _, err = f.Write(img); err != nil {
		return errors.Wrap(err, "write")
	}
	// Sync so that after a crash path holds either the old figure or
	// the new one, never a renamed but unwritten file.
	if err = f.Sync(); err != nil {
		return errors.Wrap(err, "sync")
	}
	if err = f.Close(); err != nil {
		return errors.Wrap(err, "close")
	}
	// CreateTemp makes the file private; a figure is meant to be shared.
	if err = os.Chmod(tmp, 0o644); err != nil {
		return errors.Wrap(err, "chmod")
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrap(err, "rename")
	}
	return nil
}

func isFinite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}
