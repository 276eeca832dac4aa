package graph

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/tensor"

	"github.com/seqgraph/seqgraph/dataset"
	"github.com/seqgraph/seqgraph/dataset/japanesevowels"
	"github.com/seqgraph/seqgraph/internal/gemm"
	"github.com/seqgraph/seqgraph/optim"
	"github.com/seqgraph/seqgraph/rnn"
)

// referenceBatch returns the benchmarks' batch of 32 sequences of 12
// features and the given length, with labels of 9 classes.
func referenceBatch(b *testing.B, steps int) *dataset.Batch {
	const f, k, batch = 12, 9, 32
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := randomSequences(b, rng, batch, f, steps, steps)
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(k)
	}
	src, err := dataset.NewClassification(seqs, labels, k)
	if err != nil {
		b.Fatal(err)
	}
	idx := make([]int, batch)
	for i := range idx {
		idx[i] = i
	}
	bt, err := dataset.MakeBatch(src, idx)
	if err != nil {
		b.Fatal(err)
	}
	return bt
}

// benchmarkTrainStep times TrainStep of the network of the given layers on
// the reference batch of the given length.
func benchmarkTrainStep(b *testing.B, layers []Layer, dt tensor.Dtype, steps int, opts ...Option) {
	net, err := NewNetwork(layers, append([]Option{WithDtype(dt)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	timeTrainStep(b, net, referenceBatch(b, steps))
}

// timeTrainStep times net's TrainStep on bt with Adam after a first,
// compiling, step.
func timeTrainStep(b *testing.B, net *Network, bt *dataset.Batch) {
	solver, err := optim.NewAdam()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := net.TrainStep(bt, solver); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if _, err := net.TrainStep(bt, solver); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// cpuClock measures the process's CPU time over a benchmark's loop. On a
// shared machine the CPU time of a step varies less than its wall time,
// which counts the time other processes held the core.
type cpuClock struct{ start float64 }

// startCPU starts a cpuClock.
func startCPU(b *testing.B) cpuClock { return cpuClock{processCPU(b)} }

// report reports the CPU time per iteration since startCPU as cpu-ns/op,
// where the system gives it.
func (c cpuClock) report(b *testing.B) {
	if haveCPUTime && b.N > 0 {
		b.ReportMetric((processCPU(b)-c.start)*1e9/float64(b.N), "cpu-ns/op")
	}
}

// benchCell is a recurrent layer BenchmarkCellTrainStep times.
type benchCell struct {
	name  string
	layer Layer
}

// benchCells are the recurrent layers BenchmarkCellTrainStep times: the
// fused LSTM, GRU and BiLSTM layers, then every cell on its gate nodes
// (testCells), and the peephole LSTM bidirectional.
func benchCells() []benchCell {
	last := WithOutputMode(rnn.Last)
	cells := []benchCell{
		{"lstm", LSTM(100, last)},
		{"gru", GRU(100, last)},
		{"gru-before", GRU(100, last, WithResetGateMode(rnn.BeforeMultiplication))},
		{"bilstm", BiLSTM(100, last)},
	}
	for _, c := range testCells() {
		cells = append(cells, benchCell{c.name, Recurrent(100, c.cell, last)})
	}
	return append(cells, benchCell{"bi-peephole-lstm", Bidirectional(100, testCells()[1].cell, last)})
}

// BenchmarkCellTrainStep times one training step of the reference network
// (12 features, 100 hidden units, 9 classes, batch 32, float32) with each
// recurrent layer in turn, at T=30 and T=100; plain= runs the gate-node
// cells with the graph optimizer off.
func BenchmarkCellTrainStep(b *testing.B) {
	for _, steps := range []int{30, 100} {
		for _, c := range benchCells() {
			b.Run(fmt.Sprintf("T=%d/%s", steps, c.name), func(b *testing.B) {
				benchmarkTrainStep(b, []Layer{SequenceInput(12), c.layer, FullyConnected(9), Softmax(), ClassificationOutput()}, tensor.Float32, steps)
			})
		}
		for _, c := range benchCells()[4:] {
			b.Run(fmt.Sprintf("T=%d/plain=%s", steps, c.name), func(b *testing.B) {
				benchmarkTrainStep(b, []Layer{SequenceInput(12), c.layer, FullyConnected(9), Softmax(), ClassificationOutput()}, tensor.Float32, steps,
					WithGraphOptimizer(false))
			})
		}
	}
}

// BenchmarkTrainStep times one training iteration (forward, loss, backward,
// Adam update) of the reference sequence-to-label network: 12 features, an
// LSTM of 100 hidden units with OutputMode last, 9 classes, batches of 32.
// graph/testdata/torch_train_step.py is its PyTorch twin, with the same
// names, and graph/testdata/compare_torch.sh runs both in turn.
func BenchmarkTrainStep(b *testing.B) {
	for _, steps := range []int{30, 100} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			b.Run(fmt.Sprintf("T=%d/%v", steps, dt), func(b *testing.B) {
				benchmarkTrainStep(b, []Layer{
					SequenceInput(12),
					LSTM(100, WithOutputMode(rnn.Last)),
					FullyConnected(9),
					Softmax(),
					ClassificationOutput(),
				}, dt, steps)
			})
		}
	}
}

// BenchmarkTrainStepParallel times one training step of the reference
// network on a batch of 64 sequences of 30 steps, float32, on one worker and
// split between two.
func BenchmarkTrainStepParallel(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			net, err := NewNetwork([]Layer{SequenceInput(12), LSTM(100, WithOutputMode(rnn.Last)), FullyConnected(9), Softmax(), ClassificationOutput()})
			if err != nil {
				b.Fatal(err)
			}
			const f, k, batch, steps = 12, 9, 64, 30
			rng := rand.New(rand.NewPCG(1, 1))
			seqs := randomSequences(b, rng, batch, f, steps, steps)
			labels := make([]int, batch)
			idx := make([]int, batch)
			for i := range labels {
				labels[i], idx[i] = rng.IntN(k), i
			}
			src, _ := dataset.NewClassification(seqs, labels, k)
			bt, _ := dataset.MakeBatch(src, idx)
			solver, _ := optim.NewAdam()
			if _, err := net.TrainStepParallel(bt, solver, workers); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := net.TrainStepParallel(bt, solver, workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVowelsEpoch trains MATLAB's Japanese Vowels network (BiLSTM of
// 100 units, mini-batches of 27, sorted by length) for one epoch from a new
// network, so that every batch shape compiles, and reports the share of the
// epoch spent compiling graphs.
func BenchmarkVowelsEpoch(b *testing.B) {
	train, err := japanesevowels.Train()
	if err != nil {
		b.Fatal(err)
	}
	var compiling, total time.Duration
	for i := 0; i < b.N; i++ {
		net, err := NewNetwork([]Layer{SequenceInput(12), BiLSTM(100, WithOutputMode(rnn.Last)), FullyConnected(9), Softmax(), ClassificationOutput()})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, _, err := Train(context.Background(), net, train, WithSolver("adam"), WithMaxEpochs(1), WithMiniBatchSize(27),
			WithSortByLength(), WithVerbose(false)); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		compiling += net.CompileTime()
	}
	b.ReportMetric(100*compiling.Seconds()/total.Seconds(), "%compiling")
}

// BenchmarkCompile builds, differentiates and orders the training graph of
// the reference network for sequences of T steps, with the fused LSTM
// (lstm) and with the peephole LSTM on its gate nodes, on the graph
// optimizer (peephole-lstm) and off it (plain=peephole-lstm, up to T=300:
// its cost grows faster than T), and reports the time per compilation
// (Network.CompileTime) and per timestep, which stays flat when the cost
// is linear in T. Step buckets are off, so that the graph has exactly T
// steps.
func BenchmarkCompile(b *testing.B) {
	peephole := testCells()[1].cell
	for _, c := range []struct {
		name  string
		layer Layer
		plain bool
		max   int
	}{
		{"lstm", LSTM(100, WithOutputMode(rnn.Last)), false, 1000},
		{"peephole-lstm", Recurrent(100, peephole, WithOutputMode(rnn.Last)), false, 1000},
		{"plain=peephole-lstm", Recurrent(100, peephole, WithOutputMode(rnn.Last)), true, 300},
	} {
		for _, steps := range []int{30, 100, 300, 1000} {
			if steps > c.max {
				continue
			}
			b.Run(fmt.Sprintf("%s/T=%d", c.name, steps), func(b *testing.B) {
				bt := referenceBatch(b, steps)
				var compiling time.Duration
				for range b.N {
					net, err := NewNetwork([]Layer{SequenceInput(12), c.layer, FullyConnected(9), Softmax(), ClassificationOutput()},
						WithStepBuckets(false), WithGraphOptimizer(!c.plain))
					if err != nil {
						b.Fatal(err)
					}
					solver, err := optim.NewAdam()
					if err != nil {
						b.Fatal(err)
					}
					if _, err := net.TrainStep(bt, solver); err != nil {
						b.Fatal(err)
					}
					compiling += net.CompileTime()
				}
				ms := compiling.Seconds() * 1e3 / float64(b.N)
				b.ReportMetric(ms, "ms/compile")
				b.ReportMetric(ms*1e3/float64(steps), "µs/timestep")
			})
		}
	}
}

// BenchmarkActivations times Network.Activations of the reference network
// with the peephole LSTM (every gate of every step read back) and
// PredictBatch on the same batch, after a first, compiling, call, on the
// graph optimizer and off it (plain=), and reports that first call's
// compile time.
func BenchmarkActivations(b *testing.B) {
	peephole := testCells()[1].cell
	for _, steps := range []int{30, 100} {
		for _, plain := range []bool{false, true} {
			for _, what := range []string{"activations", "predict"} {
				name := fmt.Sprintf("T=%d/%s", steps, what)
				if plain {
					name = fmt.Sprintf("T=%d/plain=%s", steps, what)
				}
				b.Run(name, func(b *testing.B) {
					net, err := NewNetwork([]Layer{SequenceInput(12), Recurrent(100, peephole, WithOutputMode(rnn.Last)),
						FullyConnected(9), Softmax(), ClassificationOutput()}, WithGraphOptimizer(!plain))
					if err != nil {
						b.Fatal(err)
					}
					bt := referenceBatch(b, steps)
					call := func() error { _, err := net.PredictBatch(bt); return err }
					if what == "activations" {
						call = func() error { _, err := net.Activations(bt, "rnn1/t0/forget"); return err }
					}
					if err := call(); err != nil {
						b.Fatal(err)
					}
					compiling := net.CompileTime()
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						if err := call(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(compiling.Seconds()*1e3, "ms/compile")
				})
			}
		}
	}
}

// BenchmarkConv1DTrainStep times one training step of a network of 1-D
// convolutions, MATLAB's "Sequence Classification Using 1-D Convolutions"
// at the reference shapes (12 features, batch 32, 9 classes, float32): two
// blocks of a causal convolution of 32 filters of 3 steps, ReLU and layer
// normalization, the second dilated by 2, then global average pooling.
func BenchmarkConv1DTrainStep(b *testing.B) {
	for _, steps := range []int{30, 100} {
		b.Run(fmt.Sprintf("T=%d", steps), func(b *testing.B) {
			benchmarkTrainStep(b, []Layer{
				SequenceInput(12),
				Convolution1D(3, 32, WithCausalPadding()), ReLU(), LayerNormalization(),
				Convolution1D(3, 32, WithCausalPadding(), WithDilation(2)), ReLU(), LayerNormalization(),
				GlobalAveragePooling1D(),
				FullyConnected(9), Softmax(), ClassificationOutput(),
			}, tensor.Float32, steps)
		})
	}
}

// The video benchmark's workload: MATLAB's video classification network
// scaled down to a batch of videoBatch sequences of videoSteps frames of
// videoFrame, a 3×3 convolution of videoFilters filters with same padding,
// batch normalization, ReLU, and an LSTM of videoHidden units whose last
// output goes to videoClasses classes.
const (
	videoBatch, videoSteps, videoFilters, videoHidden, videoClasses = 16, 16, 8, 32, 5
)

var videoFrame = dataset.FrameShape{C: 3, H: 32, W: 32}

// videoBenchLayers is the layer array of BenchmarkVideoTrainStep.
func videoBenchLayers() []Layer {
	return []Layer{
		ImageSequenceInput(videoFrame.H, videoFrame.W, videoFrame.C),
		SequenceFolding(),
		Convolution2D(3, 3, videoFilters, WithSamePadding()),
		BatchNormalization(),
		ReLU(),
		SequenceUnfolding(),
		Flatten(),
		LSTM(videoHidden, WithOutputMode(rnn.Last)),
		FullyConnected(videoClasses),
		Softmax(),
		ClassificationOutput(),
	}
}

// videoBatchOf returns the video benchmark's batch: random frames and
// labels, every sequence videoSteps frames long.
func videoBatchOf(b *testing.B) *dataset.Batch {
	rng := rand.New(rand.NewPCG(1, 1))
	seqs := randomSequences(b, rng, videoBatch, videoFrame.Size(), videoSteps, videoSteps)
	labels := make([]int, videoBatch)
	idx := make([]int, videoBatch)
	for i := range labels {
		labels[i], idx[i] = rng.IntN(videoClasses), i
	}
	src, err := dataset.NewClassification(seqs, labels, videoClasses, dataset.WithFrame(videoFrame))
	if err != nil {
		b.Fatal(err)
	}
	bt, err := dataset.MakeBatch(src, idx)
	if err != nil {
		b.Fatal(err)
	}
	return bt
}

// BenchmarkVideoTrainStep times one training step (forward, loss, backward,
// Adam update) of the video network of videoBenchLayers: sequence folding,
// 2-D convolution, batch normalization, ReLU, unfolding, flatten, LSTM,
// fully connected, softmax and classification loss, 16 sequences of 16
// frames of 3×32×32. graph/testdata/torch_video_step.py is its PyTorch twin,
// with the same names, and graph/testdata/compare_torch.sh --video runs both
// in turn.
func BenchmarkVideoTrainStep(b *testing.B) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		b.Run(dt.String(), func(b *testing.B) {
			net, err := NewNetwork(videoBenchLayers(), WithDtype(dt))
			if err != nil {
				b.Fatal(err)
			}
			timeTrainStep(b, net, videoBatchOf(b))
		})
	}
}

// BenchmarkTrainStepFloor times the matrix products one training step of
// BenchmarkTrainStep's network must do, at its exact shapes, back to back on
// seqgraph's gemm with nothing else: the floor a step's time is measured
// against (its sub-benchmarks are named as BenchmarkTrainStep's). With
// B=32, F=12, H=100, K=9, C[m×n] = op(A)·op(B) over an inner size k:
//
//	forward
//	  X·Wᵀ       T·B×4H, k=F     the input projection of every step at once
//	  h·Rᵀ       B×4H,   k=H     T times, added to the step's projection (β=1)
//	  h_T·Vᵀ     B×K,    k=H     the fully connected layer on the last output
//	backward
//	  dYᵀ·h_T    K×H,    k=B     the fully connected layer's weight gradient
//	  dY·V       B×H,    k=K     the gradient of the last output
//	  dz·R       B×H,    k=4H    T times, the hidden state's gradient (β=1)
//	  Xᵀ·dZ      F×4H,   k=T·B   dWᵀ
//	  dZᵀ·H      4H×H,   k=T·B   dR, H the states before each step
//
// where W (4H×F), R (4H×H) and V (K×H) are the LSTM's input and recurrent
// weights and the fully connected layer's. Left out: the biases' gradients
// (column sums, not products), and dZ·W, the gradient of the inputs, which
// are data, so a step need not (and does not) compute it.
func BenchmarkTrainStepFloor(b *testing.B) {
	for _, steps := range []int{30, 100} {
		b.Run(fmt.Sprintf("T=%d/%v", steps, tensor.Float32), func(b *testing.B) {
			benchmarkFloor(b, gemm.Implementation{}.Sgemm, steps)
		})
		b.Run(fmt.Sprintf("T=%d/%v", steps, tensor.Float64), func(b *testing.B) {
			benchmarkFloor(b, gemm.Implementation{}.Dgemm, steps)
		})
	}
}

// benchmarkFloor runs BenchmarkTrainStepFloor's products for T=steps on
// the gemm of one element type, in buffers of the sizes a step uses.
func benchmarkFloor[T float32 | float64](b *testing.B, gemm func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int), steps int) {
	const f, h, k, batch = 12, 100, 9, 32
	const g4, bh = 4 * h, batch * h
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(rng.Float64() - 0.5)
		}
		return v
	}
	rows := steps * batch
	x, wt, r, rt, v := random(rows*f), random(f*g4), random(g4*h), random(h*g4), random(k*h)
	z, hs, y, dy := random(rows*g4), random((steps+1)*bh), random(batch*k), random(batch*k)
	dv, dh, dhp, dwt, dr := random(k*h), random(bh), random(bh), random(f*g4), random(g4*h)
	const n, t = blas.NoTrans, blas.Trans
	cpu := startCPU(b)
	for b.Loop() {
		gemm(n, n, rows, g4, f, 1, x, f, wt, g4, 1, z, g4)
		for s := range steps {
			gemm(n, n, batch, g4, h, 1, hs[s*bh:], h, rt, g4, 1, z[s*batch*g4:], g4)
		}
		last := hs[steps*bh:]
		gemm(n, t, batch, k, h, 1, last, h, v, h, 0, y, k)
		gemm(t, n, k, h, batch, 1, dy, k, last, h, 0, dv, h)
		gemm(n, n, batch, h, k, 1, dy, k, v, h, 0, dh, h)
		for s := steps - 1; s >= 0; s-- {
			gemm(n, n, batch, h, g4, 1, z[s*batch*g4:], g4, r, h, 1, dhp, h)
			dh, dhp = dhp, dh
		}
		gemm(t, n, f, g4, rows, 1, x, f, z, g4, 0, dwt, g4)
		gemm(t, n, g4, h, rows, 1, z, g4, hs, h, 0, dr, h)
	}
	cpu.report(b)
}
