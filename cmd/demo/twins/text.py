"""PyTorch twin of seqgraph's text demo (`go run ./cmd/demo text`).

MATLAB's "Classify Text Data Using Deep Learning" on the factory reports the
Go demo prepared and exported (`demo text -export FILE`): the same 432
training and 48 test reports, each as the word indices of the vocabulary of
the training reports (0 padding, 1 an unknown word). As the Go demo:
nn.Embedding(V, 50, padding_idx=0), initialized from a normal distribution
of standard deviation 0.01 (MATLAB's "narrow-normal") -> nn.LSTM(50, 80),
whose state after each report's last real word -> Linear(80, 4); MATLAB's
initialization of the LSTM and Linear; cross-entropy; Adam at MATLAB's
default learning rate 0.001, L2 1e-4 on the weights (the embedding's
included, as MATLAB's WeightL2Factor 1), per-parameter gradient clipping at
norm 2; 10 epochs of mini-batches of 16 reports, shuffled every epoch, each
padded to its longest report, the last short mini-batch dropped. Scored as
the Go demo: the test accuracy.

Differences: shuffling uses torch's generator, not seqgraph's.

    /usr/bin/python3 cmd/demo/twins/text.py --data text.json --seed 1
"""

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, vocabulary, embedding, hidden, classes):
        super().__init__()
        self.emb = nn.Embedding(vocabulary, embedding, padding_idx=0)
        self.lstm = nn.LSTM(embedding, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, docs):
        """docs: a list of [T_i] tensors of word indices."""
        packed = nn.utils.rnn.pack_sequence([self.emb(d) for d in docs], enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: the state after each report's last real word
        return self.fc(h[0])


def main():
    _, d, epochs, start = common.start(__doc__, "text")
    batch = d["Batch"]

    xs = [torch.tensor(x) for x in d["TrainX"]]
    ys = torch.tensor(d["TrainLabels"])
    net = Net(d["VocabularySize"], d["Embedding"], d["Hidden"], len(d["Classes"]))
    common.matlab_init(net)
    with torch.no_grad():
        net.emb.weight.normal_(0, 0.01)
    opt = torch.optim.Adam(net.parameters(), lr=0.001)
    print(f"factory reports (PyTorch): {len(xs)} training and {len(d['TestX'])} test reports, classes {d['Classes']}")
    common.train_classifier(net, opt, ys, batch, epochs, start, lambda idx: net([xs[i] for i in idx]),
                            threshold=d["Threshold"])

    net.eval()
    with torch.no_grad():
        common.print_test_accuracy(net([torch.tensor(x) for x in d["TestX"]]), d["TestLabels"])


if __name__ == "__main__":
    main()
