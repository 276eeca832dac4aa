package metrics_test

import (
	"fmt"
	"log"

	"github.com/seqgraph/seqgraph/graph/metrics"
)

func Example() {
	// Softmax outputs of a three-class classifier for six sequences.
	scores := [][]float64{
		{0.8, 0.1, 0.1},
		{0.2, 0.7, 0.1},
		{0.1, 0.6, 0.3},
		{0.3, 0.3, 0.4},
		{0.1, 0.2, 0.7},
		{0.5, 0.5, 0.0}, // a tie goes to the lower class
	}
	truth := []int{0, 0, 1, 1, 2, 0}

	pred := metrics.ArgMax(scores)
	acc, err := metrics.Accuracy(pred, truth)
	if err != nil {
		log.Fatal(err)
	}
	cm, err := metrics.ConfusionMatrix(pred, truth, 3)
	if err != nil {
		log.Fatal(err)
	}
	precision, recall := metrics.PrecisionRecall(cm)
	f1 := metrics.F1(cm)

	fmt.Println("predicted:", pred)
	fmt.Printf("accuracy: %.3f\n", acc)
	fmt.Println("confusion matrix (rows true, columns predicted):")
	for _, row := range cm {
		fmt.Println(row)
	}
	for k := range cm {
		fmt.Printf("class %d: precision %.3f recall %.3f F1 %.3f\n", k, precision[k], recall[k], f1[k])
	}

	rmse, err := metrics.RMSE([]float64{1, 2, 3}, []float64{1, 2, 5})
	if err != nil {
		log.Fatal(err)
	}
	mae, err := metrics.MAE([]float64{1, 2, 3}, []float64{1, 2, 5})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("RMSE %.4f MAE %.4f\n", rmse, mae)

	// Output:
	// predicted: [0 1 1 2 2 0]
	// accuracy: 0.667
	// confusion matrix (rows true, columns predicted):
	// [2 1 0]
	// [0 1 1]
	// [0 0 1]
	// class 0: precision 1.000 recall 0.667 F1 0.800
	// class 1: precision 0.500 recall 0.500 F1 0.500
	// class 2: precision 0.500 recall 1.000 F1 0.667
	// RMSE 1.1547 MAE 0.6667
}
