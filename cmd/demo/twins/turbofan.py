"""PyTorch twin of seqgraph's turbofan demo (`go run ./cmd/demo turbofan`).

MATLAB's "Sequence-to-Sequence Regression Using Deep Learning" on the
engines the Go demo prepared and exported (`demo turbofan -export FILE`):
the same 80 training and 20 test engines, the same kept features, the RUL of
every cycle clipped at 150. As the Go demo: inputs z-scored with the mean
and (population) standard deviation of every training cycle; nn.LSTM(F, 200)
-> Linear(200, 50) -> Dropout(0.5) -> Linear(50, 1) at every step, MATLAB's
initialization; MATLAB's per-step half squared error; Adam, learning rate
0.01, L2 1e-4 on the weights, per-parameter gradient clipping at norm 1;
60 epochs of mini-batches of 20 engines sorted by length, shortest first,
never shuffled, right-padded and masked. Scored as the Go demo: the RMSE of
the prediction at the last cycle of each test engine.

Differences: PyTorch's dropout draws its masks from its own generator, so no
run is bit-identical to seqgraph's; batches are padded to their longest
engine (seqgraph pads training batches further, to a power of two, masked,
which changes nothing but time).

    /usr/bin/python3 cmd/demo/twins/turbofan.py --data turbofan.json --seed 1
"""

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.fc1 = nn.Linear(hidden, 50)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(50, 1)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.fc2(self.drop(self.fc1(h)))


def main():
    _, d, epochs, start = common.start(__doc__, "turbofan")

    train_x = [torch.tensor(x) for x in d["TrainX"]]
    train_y = [torch.tensor(y).unsqueeze(1) for y in d["TrainRUL"]]
    cat = torch.cat(train_x)
    mu, sd = cat.mean(0), cat.std(0, unbiased=False)
    norm = lambda x: ((x - mu) / sd).float()  # noqa: E731
    order = sorted(range(len(train_x)), key=lambda i: train_x[i].shape[0])  # stable: shortest first
    batch = int(d["Batch"])
    batches = []
    for b in range(len(order) // batch):  # a last short batch is dropped, as MATLAB does
        idx = order[b * batch : (b + 1) * batch]
        x, mask, _ = common.pad([norm(train_x[i]) for i in idx])
        y, _, _ = common.pad([train_y[i].float() for i in idx])
        batches.append((x, y, mask))

    net = Net(len(d["Features"]), d["Hidden"])
    common.matlab_init(net)
    opt = torch.optim.Adam(net.parameters(), lr=d["Learn"])
    print(f"turbofan FD003 (PyTorch): {len(train_x)} training and {len(d['TestX'])} test engines, {len(d['Features'])} features")
    it = 0
    for epoch in range(1, epochs + 1):
        net.train()
        for x, y, mask in batches:
            out = net(x)
            loss = common.step_regression_loss(out, y, mask)
            common.solver_step(net, opt, loss, threshold=1.0)
            it += 1
        with torch.no_grad():
            r = torch.sqrt((((out - y) ** 2).squeeze(2) * mask).sum() / mask.sum()).item()
        common.epoch_line(epoch, epochs, it, start, loss.item(), f"RMSE {r:.4g}")

    net.eval()
    last, truth = [], []
    with torch.no_grad():
        for x, y in zip(d["TestX"], d["TestRUL"]):
            out = net(norm(torch.tensor(x)).unsqueeze(0))
            last.append(out[0, -1, 0].item())
            truth.append(y[-1])
    print(f"test RMSE (cycles): {common.rmse(last, truth):.2f}")


if __name__ == "__main__":
    main()
