"""PyTorch twin of seqgraph's video demo (`go run ./cmd/demo video`).

The layer array of MATLAB's "Classify Videos Using Deep Learning" on the
clips the Go demo generated and exported (`demo video -export FILE`). As
the Go demo: every real frame (12x12, one channel) through Conv2d(1, 8, 3,
stride 2, padding 1) -> BatchNorm2d(8) -> ReLU, flattened (8x6x6); the frames
of each clip through nn.LSTM(288, 32), whose output at the clip's last real
frame -> Linear(32, 6); MATLAB's initialization; cross-entropy; Adam, learning
rate 0.001, L2 1e-4 on the weights and on batch normalization's scale and
offset (MATLAB's factors), per-parameter gradient clipping at norm 2; 15
epochs of mini-batches of 16 clips, shuffled every epoch, the last short
mini-batch dropped. Batch normalization's statistics leave the padding
frames out, as seqgraph's do: only real frames are folded into the batch.
Scored as the Go demo: the test accuracy.

Differences: shuffling uses torch's generator, not seqgraph's.

    /usr/bin/python3 cmd/demo/twins/video.py --data video.json --seed 1
"""

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, size, filters, hidden, classes):
        super().__init__()
        self.size = size
        self.conv = nn.Conv2d(1, filters, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(filters)
        out = (size + 2 - 3) // 2 + 1
        self.lstm = nn.LSTM(filters * out * out, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, clips):
        """clips: a list of [T_i, size*size] tensors."""
        lengths = [c.shape[0] for c in clips]
        frames = torch.cat(clips).view(-1, 1, self.size, self.size)  # real frames only: folding
        f = torch.relu(self.bn(self.conv(frames))).flatten(1)
        seqs = list(torch.split(f, lengths))  # unfolding
        packed = nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: the state after each clip's last real frame
        return self.fc(h[0])


def regularized(name):
    return common.is_weight(name) or name.startswith("bn.")


def main():
    _, d, epochs, start = common.start(__doc__, "video")
    batch = d["Batch"]

    xs = [torch.tensor(x, dtype=torch.float32) for x in d["TrainX"]]
    ys = torch.tensor(d["TrainLabels"])
    net = Net(d["Size"], d["Filters"], d["Hidden"], len(d["Classes"]))
    common.matlab_init(net)
    opt = torch.optim.Adam(net.parameters(), lr=d["Learn"])
    print(f"videos (PyTorch): {len(xs)} training and {len(d['TestX'])} test clips, classes {d['Classes']}")
    common.train_classifier(net, opt, ys, batch, epochs, start, lambda idx: net([xs[i] for i in idx]),
                            threshold=2.0, regularized=regularized)

    net.eval()
    with torch.no_grad():
        common.print_test_accuracy(net([torch.tensor(x, dtype=torch.float32) for x in d["TestX"]]), d["TestLabels"])


if __name__ == "__main__":
    main()
