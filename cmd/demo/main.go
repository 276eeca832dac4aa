// Command demo runs seqgraph's demonstrations on built-in data.
//
//	go run ./cmd/demo            # the cosine forecasting demo
//	go run ./cmd/demo cosine -steps 5000 -out plots
//	go run ./cmd/demo vowels     # MATLAB's Japanese Vowels classification
//	go run ./cmd/demo turbofan   # MATLAB's sequence-to-sequence regression (engine RUL)
//	go run ./cmd/demo forecast   # MATLAB's time series forecasting (sunspots)
//	go run ./cmd/demo activity   # MATLAB's sequence-to-sequence classification
//	go run ./cmd/demo video      # MATLAB's video classification layers
//	go run ./cmd/demo stacked    # the Keras stacked and relu LSTM tutorials
//	go run ./cmd/demo text       # MATLAB's text classification (factory reports)
//	go run ./cmd/demo conv1d     # MATLAB's 1-D convolution sequence classification
//
// Each demo parses its own flags (-h lists them), prints its progress,
// writes its plots into the folder given by -out (by default a new
// temporary folder, whose path it prints) and, but for cosine and vowels,
// ends with its metric line, `<metric name> (<unit>): <number>`. The data
// ships inside the binary (the data folder, each set beside its README) or
// is generated with a fixed seed; -export writes it as JSON for the demo's
// PyTorch twin in twins/, and twins/compare.sh runs both (docs/examples.md).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// demos maps each demo's name to its runner, which parses its own flags.
var demos = map[string]func(args []string, w io.Writer) error{
	"cosine":   runCosine,
	"vowels":   runVowels,
	"turbofan": runTurbofan,
	"forecast": runForecast,
	"activity": runActivity,
	"video":    runVideo,
	"stacked":  runStacked,
	"text":     runText,
	"conv1d":   runConv1D,
}

const defaultDemo = "cosine"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	name := defaultDemo
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	demo, ok := demos[name]
	if !ok {
		names := make([]string, 0, len(demos))
		for n := range demos {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown demo %q (have %s)", name, strings.Join(names, ", "))
	}
	return demo(args, w)
}

// outDir returns the folder to write plots into: dir, created if needed, or
// a new temporary folder when dir is empty.
func outDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "seqgraph-demo-")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// newFlags returns a flag set that reports errors instead of exiting, so
// that run stays testable.
func newFlags(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
}
