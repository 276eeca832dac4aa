package main

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
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
