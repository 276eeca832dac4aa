package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/graph"
	"github.com/seqgraph/seqgraph/graph/metrics"
	"github.com/seqgraph/seqgraph/graph/plot"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// The video demo classifies short videos with the layer array of MATLAB's
// "Classify Videos Using Deep Learning": convolution, batch normalization
// and ReLU applied to every frame (the frames folded into the batch), then
// an LSTM over the frames whose last output is classified. MATLAB's example
// starts from a pretrained GoogLeNet on HMDB51 videos; this one learns its
// one convolution from scratch on videos generated with a fixed seed: a
// glyph (square, plus or cross) on a noisy 12×12 frame, starting near the
// centre and moving right, left,
// up or down, or turning clockwise or anticlockwise on a circle, for 6 to 12
// frames, so that mini-batches hold padding frames. Training follows
// MATLAB's options (adam, mini-batches of 16, gradient threshold 2, shuffled
// every epoch) with a learning rate of 0.001 instead of its 1e-4 for
// fine-tuning.
const (
	videoSize              = 12
	videoMinFrames         = 6
	videoMaxFrames         = 12
	videoTrain, videoTest  = 1200, 300
	videoDataSeed          = 11
	videoBatch             = 16
	videoLearn             = 0.001
	videoFilters           = 8
	videoNoise             = 0.15
	videoRadius, videoTurn = 3.0, math.Pi / 4
	videoJitter            = 2.0 // how far from the centre a clip starts, in pixels
)

var videoClasses = []string{"right", "left", "up", "down", "clockwise", "anticlockwise"}

// videoGlyphs are the shapes that move, as offsets from their centre.
var videoGlyphs = [][][2]int{
	{{-1, -1}, {-1, 0}, {-1, 1}, {0, -1}, {0, 0}, {0, 1}, {1, -1}, {1, 0}, {1, 1}}, // square
	{{-1, 0}, {0, -1}, {0, 0}, {0, 1}, {1, 0}},                                     // plus
	{{-1, -1}, {-1, 1}, {0, 0}, {1, -1}, {1, 1}},                                   // cross
}

// videoClip generates one video of class k: its frames, one channel of
// videoSize² pixels each, the glyph wrapping around the edges.
func videoClip(rng *rand.Rand, k int) dataset.Sequence {
	frames := videoMinFrames + rng.IntN(videoMaxFrames-videoMinFrames+1)
	glyph := videoGlyphs[rng.IntN(len(videoGlyphs))]
	x, y := videoSize/2+videoJitter*(2*rng.Float64()-1), videoSize/2+videoJitter*(2*rng.Float64()-1)
	angle := rng.Float64() * 2 * math.Pi
	px := videoSize * videoSize
	data := make([]float64, frames*px)
	for t := range frames {
		cx, cy := x, y
		switch videoClasses[k] {
		case "right":
			cx += float64(t)
		case "left":
			cx -= float64(t)
		case "up":
			cy -= float64(t)
		case "down":
			cy += float64(t)
		case "clockwise":
			cx, cy = x+videoRadius*math.Cos(angle+videoTurn*float64(t)), y+videoRadius*math.Sin(angle+videoTurn*float64(t))
		case "anticlockwise":
			cx, cy = x+videoRadius*math.Cos(angle-videoTurn*float64(t)), y+videoRadius*math.Sin(angle-videoTurn*float64(t))
		}
		frame := data[t*px : (t+1)*px]
		for i := range frame {
			frame[i] = videoNoise * rng.NormFloat64()
		}
		for _, o := range glyph {
			r := wrap(int(math.Round(cy))+o[0], videoSize)
			c := wrap(int(math.Round(cx))+o[1], videoSize)
			frame[r*videoSize+c] += 1
		}
	}
	return dataset.Sequence{Data: data, T: frames, F: px}
}

func wrap(i, n int) int { return ((i % n) + n) % n }

// videoSets generates the training and test videos, classes in turn.
func videoSets() (train, test *dataset.InMemory, err error) {
	rng := rand.New(rand.NewPCG(videoDataSeed, 0x71de0))
	make1 := func(n int) (*dataset.InMemory, error) {
		seqs, labels := make([]dataset.Sequence, n), make([]int, n)
		for i := range seqs {
			labels[i] = i % len(videoClasses)
			seqs[i] = videoClip(rng, labels[i])
		}
		return dataset.NewClassification(seqs, labels, len(videoClasses),
			dataset.WithFrame(dataset.FrameShape{C: 1, H: videoSize, W: videoSize}))
	}
	if train, err = make1(videoTrain); err != nil {
		return nil, nil, err
	}
	test, err = make1(videoTest)
	return train, test, err
}

// videoExport is what the PyTorch twin reads: every video's frames, flat.
type videoExport struct {
	TrainX, TestX                [][][]float64
	TrainLabels, TestLabels      []int
	Classes                      []string
	Size, Filters, Hidden, Batch int
	Epochs, Seed                 int
	Learn                        float64
}

func exportVideo(path string, train, test *dataset.InMemory, epochs, hidden int, seed uint64) error {
	return exportJSON(path, videoExport{TrainX: setRows(train), TestX: setRows(test),
		TrainLabels: collect(train.Len(), train.Label), TestLabels: collect(test.Len(), test.Label),
		Classes: videoClasses, Size: videoSize, Filters: videoFilters, Hidden: hidden, Batch: videoBatch,
		Epochs: epochs, Seed: int(seed), Learn: videoLearn})
}

func runVideo(args []string, w io.Writer) error {
	fl := newCatalogFlags("video", w, 15, "training epochs", 32)
	dir, train, test, err := fl.generated(args, videoSets, exportVideo)
	if err != nil {
		return err
	}
	epochs, hidden, seed := fl.epochs, fl.hidden, fl.seed
	fmt.Fprintf(w, "videos: %d training and %d test clips of %d to %d frames of %dx%d, classes %v\n",
		train.Len(), test.Len(), videoMinFrames, videoMaxFrames, videoSize, videoSize, videoClasses)

	// The model: declare, train, predict, score.
	net, err := graph.NewNetwork([]graph.Layer{
		graph.ImageSequenceInput(videoSize, videoSize, 1),
		graph.SequenceFolding(),
		graph.Convolution2D(3, 3, videoFilters, graph.WithPadding(1, 1), graph.WithStride(2, 2)),
		graph.BatchNormalization(),
		graph.ReLU(),
		graph.SequenceUnfolding(),
		graph.Flatten(),
		graph.LSTM(*hidden, graph.WithOutputMode(rnn.Last)),
		graph.FullyConnected(len(videoClasses)),
		graph.Softmax(),
		graph.ClassificationOutput(),
	}, graph.WithSeed(*seed), graph.WithClassNames(videoClasses))
	if err != nil {
		return err
	}
	fmt.Fprint(w, net)
	net, history, err := graph.Train(context.Background(), net, train, graph.WithSolver("adam"), graph.WithMaxEpochs(*epochs),
		graph.WithMiniBatchSize(videoBatch), graph.WithInitialLearnRate(videoLearn), graph.WithGradientThreshold(optim.L2Norm, 2),
		graph.WithShuffle(dataset.ShuffleEveryEpoch), graph.WithTrainSeed(*seed), graph.WithProgressOutput(w))
	if err != nil {
		return err
	}
	_, scores, err := net.Classify(test, videoBatch)
	if err != nil {
		return err
	}
	pred, truth := metrics.ArgMax(scores), collect(test.Len(), test.Label)
	acc, err := metrics.Accuracy(pred, truth)
	if err != nil {
		return err
	}

	if err := videoPlots(w, dir, history, test, pred, truth); err != nil {
		return err
	}
	fmt.Fprintf(w, "test accuracy (%%): %.2f\n", 100*acc)
	return nil
}

// videoPlots writes the training progress, the confusion chart and the
// frames of the first test clip side by side.
func videoPlots(w io.Writer, dir string, history *graph.History, test *dataset.InMemory, pred, truth []int) error {
	progress, confusion, err := classifierPlots(dir, "video", history, pred, truth, videoClasses)
	if err != nil {
		return err
	}
	// The frames of the first test clip in a row, as one heat map.
	s := test.Sequence(0)
	rows := make([][]float64, videoSize)
	for r := range rows {
		for t := range s.T {
			rows[r] = append(rows[r], s.Data[t*s.F+r*videoSize:t*s.F+(r+1)*videoSize]...)
		}
	}
	frames := filepath.Join(dir, "video_frames.png")
	title := fmt.Sprintf("Test clip 1 (%s): %d frames", videoClasses[truth[0]], s.T)
	if err := plot.Heatmap(frames, title, rows, "column (frame after frame)", "row"); err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s, %s\n", progress, confusion, frames)
	return nil
}
