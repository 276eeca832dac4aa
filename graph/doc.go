// Package graph turns a MATLAB-style layer array into a trainable network
// of Gorgonia graphs.
//
//	net, err := graph.NewNetwork([]graph.Layer{
//		graph.SequenceInput(12),
//		graph.LSTM(100, graph.WithOutputMode(rnn.Last)),
//		graph.Dropout(0.2),
//		graph.FullyConnected(9),
//		graph.Softmax(),
//		graph.ClassificationOutput(),
//	})
//
// A Network owns its learnables by name ("lstm1/InputWeights",
// "fc1/Bias"), created and seeded when the network is. For each batch shape
// (batch size, sequence length, training or inference, padded or not) it
// builds and differentiates a graph once and caches it, so that later
// batches of that shape only copy their data in and run. Graphs of gate
// nodes (custom cells, and every graph built for Activations) run on the
// graph optimizer (WithGraphOptimizer; docs/performance.md), which derives
// the gradients itself into buffers planned once per graph; the others
// call each op in dependency order on the calling goroutine. Graphs of
// every shape share the learnables' tensors, so training in one is
// training in all.
//
// TrainStep runs the forward pass, the loss, the backward pass and a solver
// step on one mini-batch; PredictBatch and Predict run inference graphs,
// without gradients or dropout. Padded batches run with their masks, so
// padding changes neither predictions nor gradients.
//
// Recurrent layers: LSTM, GRU, BiLSTM, and Recurrent and Bidirectional,
// which make a layer of any rnn.Cell, custom cells included; Dropout between
// them stacks them as the seeds' two-layer LSTM does. Activations returns any
// gate of any timestep, or any layer's output, by name.
//
// Train runs a whole training as MATLAB's trainNetwork with trainingOptions
// (solvers, learning rate schedules, L2 regularization, gradient clipping,
// shuffling, sequence options, validation with early stopping, checkpoints)
// and returns the history; a progress bar shows it on a terminal. Classify,
// Predict, PredictAndUpdateState, ClassifyAndUpdateState and Forecast are
// MATLAB's inference functions. Save and Load keep a network in a
// safetensors checkpoint (docs/checkpoints.md). Packages graph/metrics and
// graph/plot compute and draw the results.
//
// One seed (WithSeed, and the batcher's) gives a bit-identical training run.
package graph
