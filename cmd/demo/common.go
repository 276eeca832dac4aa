package main

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
	"github.com/seqgraph/seqgraph/graph/plot"
)

// data holds the data sets the demos ship with, each beside its README, so
// that `go run ./cmd/demo NAME` works from any folder.
//
//go:embed data
var data embed.FS

// embeddedFile writes the embedded file name (under data/), decompressed if
// it ends in .gz, into dir and returns the path of the copy: the dataset
// readers take paths.
func embeddedFile(dir, name string) (string, error) {
	raw, err := data.ReadFile("data/" + name)
	if err != nil {
		return "", errors.Wrapf(err, "embedded data %s", name)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return "", errors.Wrapf(err, "embedded data %s", name)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return "", errors.Wrapf(err, "embedded data %s", name)
		}
		name = strings.TrimSuffix(name, ".gz")
	}
	path := filepath.Join(dir, filepath.Base(name))
	return path, os.WriteFile(path, raw, 0o644)
}

// exportJSON writes v as JSON to path, for a demo's PyTorch twin to train
// on the same data; an empty path writes nothing.
func exportJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrap(err, "export")
	}
	if err := json.NewEncoder(f).Encode(v); err != nil {
		f.Close()
		return errors.Wrapf(err, "export %s", path)
	}
	return errors.Wrapf(f.Close(), "export %s", path)
}

// rowsOf returns a sequence's data as one row per timestep, the layout the
// twins read.
func rowsOf(data []float64, t, f int) [][]float64 {
	rows := make([][]float64, t)
	for i := range rows {
		rows[i] = data[i*f : (i+1)*f]
	}
	return rows
}

// scratch is a temporary folder for the copies of embedded files.
type scratch struct{ path string }

func tempDir() (scratch, error) {
	p, err := os.MkdirTemp("", "seqgraph-data-")
	return scratch{p}, errors.Wrap(err, "temporary folder")
}

func (s scratch) remove() { os.RemoveAll(s.path) }

// indexAxis returns 1, 2, ..., n, the x values of a plot against an index.
func indexAxis(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i + 1)
	}
	return x
}

// catalogFlags are the flags of the demos of MATLAB's catalog and the
// Keras tutorials: -epochs, -hidden (for demos that size their LSTM by
// it), -seed, -out and -export.
type catalogFlags struct {
	*flag.FlagSet
	name           string
	epochs, hidden *int
	seed           *uint64
	out, export    *string
}

// newCatalogFlags declares the flags with the demo's defaults; hidden 0
// means that the demo takes no -hidden flag.
func newCatalogFlags(name string, w io.Writer, epochs int, epochsUsage string, hidden int) *catalogFlags {
	fs := newFlags(name, w)
	c := &catalogFlags{FlagSet: fs, name: name, hidden: new(int)}
	c.epochs = fs.Int("epochs", epochs, epochsUsage)
	*c.hidden = 1
	if hidden > 0 {
		c.hidden = fs.Int("hidden", hidden, "LSTM hidden units")
	}
	c.seed = fs.Uint64("seed", 1, "seed of the initial weights, the dropout masks and the shuffling")
	c.out = fs.String("out", "", "folder for the plots (default: a new temporary folder)")
	c.export = fs.String("export", "", "write the demo's data to this JSON file for its PyTorch twin (cmd/demo/twins)")
	return c
}

// parse parses and checks args and returns the folder for the plots.
func (c *catalogFlags) parse(args []string) (string, error) {
	if err := c.Parse(args); err != nil {
		return "", err
	}
	if c.NArg() > 0 {
		return "", errors.Errorf("%s: unexpected arguments %q", c.name, c.Args())
	}
	if *c.epochs < 1 || *c.hidden < 1 {
		return "", errors.Errorf("%s: need epochs >= 1 and hidden >= 1", c.name)
	}
	dir, err := outDir(*c.out)
	return dir, errors.Wrapf(err, "%s: output folder", c.name)
}

// setRows returns the sequences of set as one row per timestep each, the
// layout the twins read.
func setRows(set *dataset.InMemory) [][][]float64 {
	out := make([][][]float64, set.Len())
	for i := range out {
		s := set.Sequence(i)
		out[i] = rowsOf(s.Data, s.T, s.F)
	}
	return out
}

// classifierPlots writes a classifier's training progress and the
// confusion chart of its test predictions as prefix_training.png and
// prefix_confusion.png in dir, and returns their paths.
func classifierPlots(dir, prefix string, history *graph.History, pred, truth []int, classes []string) (progress, confusion string, err error) {
	progress = filepath.Join(dir, prefix+"_training.png")
	if err := plot.TrainingProgress(progress, history); err != nil {
		return "", "", err
	}
	cm, err := metrics.ConfusionMatrix(pred, truth, len(classes))
	if err != nil {
		return "", "", err
	}
	confusion = filepath.Join(dir, prefix+"_confusion.png")
	return progress, confusion, plot.ConfusionMatrix(confusion, cm, classes)
}

// collect returns f(0), f(1), ..., f(n-1): the labels of a set, say.
func collect[T any](n int, f func(int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// generated parses the flags of a demo on generated data, generates its
// training and test sets with gen and, with -export, writes them with
// export. It returns the folder for the plots and the sets.
func (c *catalogFlags) generated(args []string, gen func() (train, test *dataset.InMemory, err error),
	export func(path string, train, test *dataset.InMemory, epochs, hidden int, seed uint64) error) (string, *dataset.InMemory, *dataset.InMemory, error) {
	dir, err := c.parse(args)
	if err != nil {
		return "", nil, nil, err
	}
	train, test, err := gen()
	if err != nil {
		return "", nil, nil, err
	}
	if *c.export != "" {
		if err := export(*c.export, train, test, *c.epochs, *c.hidden, *c.seed); err != nil {
			return "", nil, nil, err
		}
	}
	return dir, train, test, nil
}

// shippedSet is the prepared data of a demo on data shipped with it, which
// -export writes for the demo's PyTorch twin.
type shippedSet interface {
	export(path string, epochs, hidden int, seed uint64) error
}

// shipped parses the flags of a demo on shipped data, loads the data with
// load from a temporary folder that holds the copies of the embedded files
// it reads and, with -export, writes it. It returns the folder for the
// plots and the data.
func shipped[S shippedSet](c *catalogFlags, args []string, load func(dir string) (S, error)) (string, S, error) {
	var none S
	dir, err := c.parse(args)
	if err != nil {
		return "", none, err
	}
	tmp, err := tempDir()
	if err != nil {
		return "", none, err
	}
	defer tmp.remove()
	set, err := load(tmp.path)
	if err != nil {
		return "", none, err
	}
	return dir, set, set.export(*c.export, *c.epochs, *c.hidden, *c.seed)
}
