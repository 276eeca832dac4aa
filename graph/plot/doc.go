// Package plot draws the figures of a training run and its results, after
// MATLAB's: the training-progress plot, a confusion chart, predictions
// against the truth, and a heat map of activations.
//
//	if err := plot.TrainingProgress("progress.png", history); err != nil {
//		return err
//	}
//	cm, _ := metrics.ConfusionMatrix(pred, truth, len(names))
//	if err := plot.ConfusionMatrix("confusion.svg", cm, names); err != nil {
//		return err
//	}
//
// Every function writes one file, whose format the extension of its path
// chooses: ".png" for a 150 dpi raster image, ".svg" for a vector image
// (either case). Any other extension is an error, so that a typo is not
// silently written in another format.
//
// An SVG file embeds its font (Liberation Serif, about half a megabyte),
// because the layout is measured with that font's metrics: a browser
// substituting another font would run labels into the data. Renderers
// that ignore embedded fonts (librsvg, Inkscape) need the Liberation fonts
// installed for the same reason. Everything is drawn as vectors, with no
// embedded bitmaps, so a heat map of many cells makes a large SVG; PNG
// suits those better.
//
// Files are written atomically: the image is rendered in memory, written
// to a temporary file in the destination's folder and renamed into place,
// so that a reader never sees a partial image and a failed call leaves an
// earlier file of the same name intact.
//
// The functions check their data before drawing and name what is wrong:
// empty data, mismatched lengths, or the index of a NaN or infinite value.
// They never panic: a panic in the plotting library is recovered and
// returned as an error, so that a bad figure cannot crash a program after
// hours of training.
//
// The functions keep no state and may be called concurrently.
package plot
