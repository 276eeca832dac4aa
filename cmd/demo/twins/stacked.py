"""PyTorch twin of seqgraph's stacked demo (`go run ./cmd/demo stacked`).

The Keras tutorials' LSTM(50, activation='relu') -> Dense(1) and its stacked
variant LSTM(50, relu, return_sequences=True) -> LSTM(50, relu) -> Dense(1),
on the windows of 3 steps of the series the Go demo generated and split at
random (`demo stacked -export FILE`). nn.LSTM has no activation option, so
the cell is written out: PyTorch's gate order, sigmoid gates, relu where
nn.LSTM has tanh (the candidate and the cell's output), as Keras's and
seqgraph's WithStateActivation(nodes.ReLU). As the Go demo: MATLAB's (and
Keras's) initialization; seqgraph's half mean squared error (Keras's mean
squared error halved, which Adam's steps do not see but through epsilon);
Adam, learning rate 0.001, no L2, no clipping; 200 epochs of mini-batches of
32 windows shuffled every epoch, the last short one dropped. Scored as the
Go demo: the test mean squared error of each model.

Differences: shuffling uses torch's generator, not seqgraph's.

    /usr/bin/python3 cmd/demo/twins/stacked.py --data stacked.json --seed 1
"""

import math

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn


class ReluLSTM(nn.Module):
    """One LSTM layer with relu as its state activation; its weights have
    nn.LSTM's names and layout so that common.matlab_init treats them alike."""

    def __init__(self, features, hidden):
        super().__init__()
        self.hidden_size = hidden
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * hidden, features))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * hidden, hidden))
        self.bias_ih_l0 = nn.Parameter(torch.zeros(4 * hidden))

    def init(self):
        h = self.hidden_size
        common.glorot_(self.weight_ih_l0, self.weight_ih_l0.shape[1], 4 * h)
        nn.init.orthogonal_(self.weight_hh_l0)
        with torch.no_grad():
            self.bias_ih_l0.zero_()
            self.bias_ih_l0[h : 2 * h] = 1.0

    def forward(self, x):
        b, t, _ = x.shape
        h = x.new_zeros(b, self.hidden_size)
        c = x.new_zeros(b, self.hidden_size)
        outs = []
        for k in range(t):
            z = x[:, k] @ self.weight_ih_l0.T + h @ self.weight_hh_l0.T + self.bias_ih_l0
            i, f, g, o = z.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.relu(g)
            h = torch.sigmoid(o) * torch.relu(c)
            outs.append(h)
        return torch.stack(outs, dim=1)


class Net(nn.Module):
    def __init__(self, hidden, stacked):
        super().__init__()
        layers = [ReluLSTM(1, hidden)] + ([ReluLSTM(hidden, hidden)] if stacked else [])
        self.lstms = nn.ModuleList(layers)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        for lstm in self.lstms:
            x = lstm(x)
        return self.fc(x[:, -1])


def main():
    _, d, epochs, start = common.start(__doc__, "stacked")
    n, batch = d["Steps"], d["Batch"]
    series = torch.tensor(d["Series"], dtype=torch.float32)

    def windows(starts):
        idx = torch.tensor(starts).unsqueeze(1) + torch.arange(n).unsqueeze(0)
        return series[idx].unsqueeze(2), series[torch.tensor(starts) + n].unsqueeze(1)

    train_x, train_y = windows(d["Train"])
    test_x, test_y = windows(d["Test"])
    print(f"series of {len(series)} values (PyTorch): {len(train_x)} training and {len(test_x)} test windows of {n} steps")
    mse = {}
    for name, stacked in (("single LSTM", False), ("stacked LSTM", True)):
        net = Net(d["Hidden"], stacked)
        common.matlab_init(net)
        for lstm in net.lstms:
            lstm.init()
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
        it = 0
        for epoch in range(1, epochs + 1):
            perm = torch.randperm(len(train_x))
            for b in range(len(perm) // batch):
                idx = perm[b * batch : (b + 1) * batch]
                loss = 0.5 * ((net(train_x[idx]) - train_y[idx]) ** 2).mean()
                common.solver_step(net, opt, loss, l2=0)
                it += 1
            if epoch % max(1, epochs // 10) == 0:
                common.epoch_line(epoch, epochs, it, start, loss.item(), f"RMSE {math.sqrt(2 * loss.item()):.4g}")
        with torch.no_grad():
            mse[name] = ((net(test_x) - test_y) ** 2).mean().item()
    print(f"test MSE (single LSTM): {mse['single LSTM']:.3g}")
    print(f"test MSE (stacked LSTM): {mse['stacked LSTM']:.3g}")


if __name__ == "__main__":
    main()
