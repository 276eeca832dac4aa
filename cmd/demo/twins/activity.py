"""PyTorch twin of seqgraph's activity demo (`go run ./cmd/demo activity`).

MATLAB's "Sequence-to-Sequence Classification Using Deep Learning" on the
recordings the Go demo generated and exported (`demo activity -export FILE`).
As the Go demo: nn.LSTM(3, 200) whose every output -> Linear(200, 5), MATLAB's
initialization; MATLAB's per-step cross-entropy (each recording's mean over
its steps, then the batch mean); Adam at the learning rate of the Go demo (0.005), L2
1e-4 on the weights, per-parameter gradient clipping at norm 2; 60 epochs of
mini-batches of 8 recordings, shuffled once (MATLAB's default Shuffle
"once"), right-padded and masked; the last short mini-batch dropped. Scored as
the Go demo: the accuracy over every step of the test recordings.

Differences: the one shuffle is drawn by torch's generator, not seqgraph's,
so the mini-batches hold other recordings than in the Go run of the same seed.

    /usr/bin/python3 cmd/demo/twins/activity.py --data activity.json --seed 1
"""

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, hidden, classes):
        super().__init__()
        self.lstm = nn.LSTM(3, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.fc(h)


def main():
    _, d, epochs, start = common.start(__doc__, "activity")
    batch = d["Batch"]

    xs = [torch.tensor(x, dtype=torch.float32) for x in d["TrainX"]]
    ys = [torch.tensor(y) for y in d["TrainLabels"]]
    order = torch.randperm(len(xs)).tolist()  # shuffled once
    batches = []
    for b in range(len(order) // batch):
        idx = order[b * batch : (b + 1) * batch]
        x, mask, _ = common.pad([xs[i] for i in idx])
        y, _, _ = common.pad([ys[i] for i in idx], value=-1)
        batches.append((x, y, mask))

    net = Net(d["Hidden"], len(d["Classes"]))
    common.matlab_init(net)
    opt = torch.optim.Adam(net.parameters(), lr=d["Learn"])
    print(f"activity recognition (PyTorch): {len(xs)} training and {len(d['TestX'])} test recordings, classes {d['Classes']}")
    it = 0
    for epoch in range(1, epochs + 1):
        for x, y, mask in batches:
            logits = net(x)
            loss = common.step_classification_loss(logits, y, mask)
            common.solver_step(net, opt, loss, threshold=2.0)
            it += 1
        acc = ((logits.argmax(2) == y).float() * mask).sum() / mask.sum()
        common.epoch_line(epoch, epochs, it, start, loss.item(), f"accuracy {100 * acc.item():5.1f}%")

    right = total = 0
    with torch.no_grad():
        for x, y in zip(d["TestX"], d["TestLabels"]):
            pred = net(torch.tensor(x, dtype=torch.float32).unsqueeze(0)).argmax(2)[0]
            right += (pred == torch.tensor(y)).sum().item()
            total += len(y)
    print(f"per-step test accuracy (%): {100 * right / total:.2f}")


if __name__ == "__main__":
    main()
