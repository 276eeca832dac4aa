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
// nodes (custom cells, and the graphs built for Activations) run on the
// graph optimizer (WithGraphOptimizer; docs/performance.md), which derives
// the gradients itself into buffers planned once per graph, unless they
// hold an op it does not compute (the fused LSTM and GRU layers, the
// layers over time, word embeddings, layer normalization, the video
// layers); the others call each op in dependency order on the calling
// goroutine or, built for Activations, run on a tape machine. Graphs of
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
// them stacks them as PyTorch's two-layer nn.LSTM with dropout does.
// Layers over time: Convolution1D, MaxPooling1D, AveragePooling1D,
// GlobalMaxPooling1D, GlobalAveragePooling1D; WordEmbedding for token
// indices; LayerNormalization; the video layers (SequenceFolding,
// Convolution2D, BatchNormalization, ReLU, SequenceUnfolding, Flatten).
// Activations returns any gate of any timestep, or any layer's output, by
// name.
//
// Layer is an open interface: a type of your own with its three methods
// (Spec, Output, Build) is a layer like the built-in ones, each of which is
// one file of this package; Load declares it again from a checkpoint with
// the decoder WithLayerKind gives (docs/custom-layers.md). CheckGradients
// checks any network's gradients against finite differences.
//
// Train runs a whole training as MATLAB's trainNetwork with trainingOptions
// (solvers, learning rate schedules, L2 regularization, gradient clipping,
// shuffling, sequence options, validation with early stopping, checkpoints)
// and returns the history; a progress bar shows it on a terminal, and
// lines go to any output that asks for them. Classify,
// Predict, PredictAndUpdateState, ClassifyAndUpdateState and Forecast are
// MATLAB's inference functions, with PredictSteps and ClassifySteps for
// networks with an output per timestep. Save and Load keep a network in a
// safetensors checkpoint, checksummed (docs/checkpoints.md); LoadStateDict
// and SaveStateDict read and write a PyTorch model's state_dict by
// PyTorch's names (WithTorchModules). Packages
// graph/metrics and graph/plot compute and draw the results.
//
// One seed (WithSeed, and the batcher's) gives a bit-identical training run.
package graph
