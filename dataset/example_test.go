package dataset_test

import (
	"fmt"
	"log"

	"github.com/seqgraph/seqgraph/dataset"
)

// This example pads two sequences of lengths 3 and 2, with one feature each,
// to the right (the default) and to the left.
func Example_padding() {
	a, err := dataset.NewSequence([][]float64{{1}, {2}, {3}})
	if err != nil {
		log.Fatal(err)
	}
	b, err := dataset.NewSequence([][]float64{{4}, {5}})
	if err != nil {
		log.Fatal(err)
	}
	src, err := dataset.NewClassification([]dataset.Sequence{a, b}, []int{0, 1}, 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		bt, err := dataset.MakeBatch(src, []int{0, 1}, dataset.WithPaddingDirection(dir))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: B=%d T=%d F=%d lengths=%v\n", dir, bt.B, bt.T, bt.F, bt.Lengths)
		for i := range bt.B {
			fmt.Printf("  X%v  Mask%v\n", bt.X[i*bt.T*bt.F:(i+1)*bt.T*bt.F], bt.Mask[i*bt.T:(i+1)*bt.T])
		}
	}
	// Output:
	// right: B=2 T=3 F=1 lengths=[3 2]
	//   X[1 2 3]  Mask[1 1 1]
	//   X[4 5 0]  Mask[1 1 0]
	// left: B=2 T=3 F=1 lengths=[3 2]
	//   X[1 2 3]  Mask[1 1 1]
	//   X[0 4 5]  Mask[0 1 1]
}

func ExampleBatcher_Epoch() {
	var seqs []dataset.Sequence
	var labels []int
	for i := range 5 {
		rows := make([][]float64, i+1)
		for t := range rows {
			rows[t] = []float64{float64(i)}
		}
		s, err := dataset.NewSequence(rows)
		if err != nil {
			log.Fatal(err)
		}
		seqs = append(seqs, s)
		labels = append(labels, i%2)
	}
	src, err := dataset.NewClassification(seqs, labels, 2)
	if err != nil {
		log.Fatal(err)
	}
	br, err := dataset.NewBatcher(src, 2,
		dataset.WithPaddingDirection(dataset.PadLeft),
		dataset.WithPaddingValue(-1),
	)
	if err != nil {
		log.Fatal(err)
	}
	for bt, err := range br.Epoch(0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("indices=%v labels=%v T=%d X=%v\n", bt.Indices, bt.Labels, bt.T, bt.X)
	}
	// Output:
	// indices=[0 1] labels=[0 1] T=2 X=[-1 0 1 1]
	// indices=[2 3] labels=[0 1] T=4 X=[-1 2 2 2 3 3 3 3]
	// indices=[4] labels=[0] T=5 X=[4 4 4 4 4]
}

// Shuffled epochs depend only on the seed and the epoch number, so any epoch
// can be reproduced on its own, for example when resuming training.
func ExampleWithShuffle() {
	seqs := make([]dataset.Sequence, 6)
	for i := range seqs {
		seqs[i] = dataset.Sequence{Data: []float64{float64(i)}, T: 1, F: 1}
	}
	src, err := dataset.NewUnlabeled(seqs)
	if err != nil {
		log.Fatal(err)
	}
	br, err := dataset.NewBatcher(src, 4, dataset.WithShuffle(1), dataset.WithDropLast(true))
	if err != nil {
		log.Fatal(err)
	}
	for _, epoch := range []int{0, 1, 0} {
		for bt, err := range br.Epoch(epoch) {
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("epoch %d: %v\n", epoch, bt.Indices)
		}
	}
	// Output:
	// epoch 0: [3 1 2 0]
	// epoch 1: [3 5 0 2]
	// epoch 0: [3 1 2 0]
}

func ExampleBatch_TimeMajor() {
	a := dataset.Sequence{Data: []float64{1, 10, 2, 20, 3, 30}, T: 3, F: 2}
	b := dataset.Sequence{Data: []float64{4, 40}, T: 1, F: 2}
	src, err := dataset.NewUnlabeled([]dataset.Sequence{a, b})
	if err != nil {
		log.Fatal(err)
	}
	bt, err := dataset.MakeBatch(src, []int{0, 1})
	if err != nil {
		log.Fatal(err)
	}
	// A recurrent step takes one [B, F] block per timestep.
	var x, mask []float64
	x = bt.TimeMajor(x)
	for t := range bt.T {
		mask = bt.MaskAt(t, mask)
		fmt.Printf("t=%d x=%v mask=%v\n", t, x[t*bt.B*bt.F:(t+1)*bt.B*bt.F], mask)
	}
	// Output:
	// t=0 x=[1 10 4 40] mask=[1 1]
	// t=1 x=[2 20 0 0] mask=[1 0]
	// t=2 x=[3 30 0 0] mask=[1 0]
}

func ExampleNewSequence() {
	_, err := dataset.NewSequence([][]float64{{1, 2}, {3, 4}, {5}})
	fmt.Println(err)
	// Output:
	// dataset: row 2 has 1 features, want 2
}

func ExampleParsePaddingDirection() {
	d, err := dataset.ParsePaddingDirection("left")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d == dataset.PadLeft, d)
	// Output:
	// true left
}

// A fixed SequenceLength splits each padded batch into chunks for
// truncated back-propagation through time. Here sequences of lengths 5 and
// 2 are split every 2 timesteps: the last chunk is shorter, the second
// sequence is all padding after its first chunk, and Ends marks the chunk
// where each sequence's last real step falls.
func ExampleMakeChunks() {
	a := dataset.Sequence{Data: []float64{1, 2, 3, 4, 5}, T: 5, F: 1}
	b := dataset.Sequence{Data: []float64{6, 7}, T: 2, F: 1}
	src, err := dataset.NewClassification([]dataset.Sequence{a, b}, []int{0, 1}, 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, dir := range []dataset.PaddingDirection{dataset.PadRight, dataset.PadLeft} {
		chunks, err := dataset.MakeChunks(src, []int{0, 1},
			dataset.WithSequenceLength(2), dataset.WithPaddingDirection(dir))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(dir)
		for _, c := range chunks {
			fmt.Printf("  chunk %d/%d T=%d X=%v lengths=%v ends=%v\n", c.Chunk, c.Chunks, c.T, c.X, c.Lengths, c.Ends)
		}
	}
	// Output:
	// right
	//   chunk 0/3 T=2 X=[1 2 6 7] lengths=[2 2] ends=[false true]
	//   chunk 1/3 T=2 X=[3 4 0 0] lengths=[2 0] ends=[false false]
	//   chunk 2/3 T=1 X=[5 0] lengths=[1 0] ends=[true false]
	// left
	//   chunk 0/3 T=2 X=[1 2 0 0] lengths=[2 0] ends=[false false]
	//   chunk 1/3 T=2 X=[3 4 0 6] lengths=[2 1] ends=[false false]
	//   chunk 2/3 T=1 X=[5 7] lengths=[1 1] ends=[true true]
}

// Normalization statistics are fitted on the training set and then applied
// to every batch, as MATLAB's sequenceInputLayer does. The second feature
// is constant in training, so it maps to the bottom of the range, -1,
// rather than to 0/0. Padding keeps its value.
func ExampleFitNormalization() {
	a := dataset.Sequence{Data: []float64{1, 10, 3, 10}, T: 2, F: 2}
	b := dataset.Sequence{Data: []float64{5, 10}, T: 1, F: 2}
	train, err := dataset.NewUnlabeled([]dataset.Sequence{a, b})
	if err != nil {
		log.Fatal(err)
	}
	mode, err := dataset.ParseNormalization("rescale-symmetric")
	if err != nil {
		log.Fatal(err)
	}
	stats, err := dataset.FitNormalization(train, mode)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v: mean=%v std=%.3f min=%v max=%v\n", stats.Mode, stats.Mean, stats.Std, stats.Min, stats.Max)
	bt, err := dataset.MakeBatch(train, []int{0, 1},
		dataset.WithNormalization(stats), dataset.WithPaddingValue(-9))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("X:", bt.X)
	// Output:
	// rescale-symmetric: mean=[3 10] std=[1.633 0.000] min=[1 10] max=[5 10]
	// X: [-1 -1 0 -1 1 -1 -9 -9]
}
