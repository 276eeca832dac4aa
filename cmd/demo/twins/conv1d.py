"""PyTorch twin of seqgraph's conv1d demo (`go run ./cmd/demo conv1d`).

MATLAB's "Sequence Classification Using 1-D Convolutions" (its Japanese
Vowels version) on the utterances the Go demo exported (`demo conv1d -export
FILE`). As the Go demo: two blocks of a causal Conv1d (filters of 3 steps,
12 -> 32, then 32 -> 64 channels; PyTorch has no causal padding, so each
block's input is padded on the left with filterSize-1 zeros), ReLU and
nn.LayerNorm over the channels of each timestep (MATLAB's
layerNormalizationLayer on sequences); the mean of the last block's output
over each utterance's real timesteps (globalAveragePooling1dLayer) ->
Linear(64, 9); MATLAB's initialization (Glorot uniform convolution and
Linear weights, zero biases; LayerNorm's scale 1 and offset 0);
cross-entropy; Adam at MATLAB's default learning rate 0.001, L2 1e-4 on the
weights and on layer normalization's scale and offset (MATLAB's factors),
no gradient clipping (MATLAB's default); 15 epochs of mini-batches of 27
utterances, shuffled once (MATLAB's default). Mini-batches are padded on the
right and masked: the convolutions are causal, so no real step reads a
padded one, and the pooling averages real steps only, which gives every
utterance what it gets alone, as seqgraph does (where the padding side
changes nothing; the Go demo pads on the left, as MATLAB's options say).
Scored as the Go demo: the test accuracy.

Differences: the one shuffle is drawn by torch's generator, not seqgraph's.

    /usr/bin/python3 cmd/demo/twins/conv1d.py --data conv1d.json --seed 1
"""

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn
from torch.nn import functional as F


class Net(nn.Module):
    def __init__(self, features, filter_size, filters, classes):
        super().__init__()
        self.pad = filter_size - 1  # causal: (filterSize-1)·dilation zeros before the first step
        self.conv1 = nn.Conv1d(features, filters, filter_size)
        self.norm1 = nn.LayerNorm(filters)
        self.conv2 = nn.Conv1d(filters, 2 * filters, filter_size)
        self.norm2 = nn.LayerNorm(2 * filters)
        self.fc = nn.Linear(2 * filters, classes)

    def block(self, h, conv, norm):
        """h: [B, T, C] -> conv, relu, layer norm -> [B, T, K]."""
        h = conv(F.pad(h.transpose(1, 2), (self.pad, 0))).transpose(1, 2)
        return norm(torch.relu(h))

    def forward(self, x, mask):
        """x: [B, T, F] right-padded; mask: [B, T], 1 on real steps."""
        h = self.block(x, self.conv1, self.norm1)
        h = self.block(h, self.conv2, self.norm2)
        pooled = (h * mask.unsqueeze(2)).sum(1) / mask.sum(1, keepdim=True)
        return self.fc(pooled)


def regularized(name):
    return common.is_weight(name) or name.startswith("norm")


def main():
    _, d, epochs, start = common.start(__doc__, "conv1d")
    batch = d["Batch"]

    xs = [torch.tensor(x, dtype=torch.float32) for x in d["TrainX"]]
    ys = torch.tensor(d["TrainLabels"])
    net = Net(xs[0].shape[1], d["FilterSize"], d["Filters"], len(d["Classes"]))
    common.matlab_init(net)
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    print(f"Japanese vowels (PyTorch): {len(xs)} training and {len(d['TestX'])} test utterances, {len(d['Classes'])} speakers")
    common.train_classifier(net, opt, ys, batch, epochs, start, lambda idx: net(*common.pad([xs[i] for i in idx])[:2]),
                            every_epoch=False, regularized=regularized)

    net.eval()
    with torch.no_grad():
        x, mask, _ = common.pad([torch.tensor(x, dtype=torch.float32) for x in d["TestX"]])
        common.print_test_accuracy(net(x, mask), d["TestLabels"])


if __name__ == "__main__":
    main()
