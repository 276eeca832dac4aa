"""PyTorch twin of seqgraph's forecast demo (`go run ./cmd/demo forecast`).

MATLAB's "Time Series Forecasting Using Deep Learning" on the monthly
sunspots the Go demo standardized and exported (`demo forecast -export
FILE`): the first 2538 months for training, the last 282 held out. As the
Go demo: nn.LSTM(1, 200) whose every output -> Linear(200, 1), MATLAB's
initialization; the one training sequence x(1..n-1) with responses x(2..n);
MATLAB's per-step half squared error; Adam, learning rate 0.005 multiplied
by 0.2 after 125 epochs, L2 1e-4 on the weights, per-parameter gradient
clipping at norm 1; 250 epochs of one iteration each. Then, from the state
after the training months, the held-out months in open loop (each from the
true month before it) and in closed loop (each from the forecast before it),
scored as the Go demo by the RMSE of each, in sunspots.

    /usr/bin/python3 cmd/demo/twins/forecast.py --data forecast.json --seed 1
"""

import common  # first: it limits the BLAS to one thread before torch loads
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x, state=None):
        h, state = self.lstm(x, state)
        return self.fc(h), state


def main():
    args, d, epochs, start = common.start(__doc__, "forecast")
    period = int(d["DropPeriod"]) if not args.epochs else max(1, epochs // 2)

    train = torch.tensor(d["Train"], dtype=torch.float32).view(1, -1, 1)
    x, y = train[:, :-1], train[:, 1:]
    mask = torch.ones(1, x.shape[1])
    net = Net(d["Hidden"])
    common.matlab_init(net)
    opt = torch.optim.Adam(net.parameters(), lr=d["Learn"])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=period, gamma=d["DropFactor"])
    print(f"monthly sunspots (PyTorch): {train.shape[1]} training months, {len(d['Test'])} held out")
    for epoch in range(1, epochs + 1):
        out, _ = net(x)
        loss = common.step_regression_loss(out, y, mask)
        common.solver_step(net, opt, loss, threshold=1.0)
        sched.step()
        if epoch % 10 == 0 or epoch == epochs:
            r = torch.sqrt(((out - y) ** 2).mean()).item()
            common.epoch_line(epoch, epochs, epoch, start, loss.item(), f"RMSE {r:.4g}")

    test = d["Test"]
    with torch.no_grad():
        out, state = net(train)  # the history: its last output forecasts test[0]
        first = out[0, -1, 0].item()
        # Open loop: the true months, one at a time.
        step_out, _ = net(torch.tensor(test[:-1], dtype=torch.float32).view(1, -1, 1), state)
        open_loop = [first] + step_out[0, :, 0].tolist()
        # Closed loop: each forecast fed back.
        closed, s, v = [first], state, first
        for _ in range(len(test) - 1):
            o, s = net(torch.tensor([[[v]]]), s)
            v = o[0, 0, 0].item()
            closed.append(v)
    sun = lambda z: [v * d["Std"] + d["Mean"] for v in z]  # noqa: E731
    truth = sun(test)
    print(f"open-loop test RMSE (sunspots): {common.rmse(sun(open_loop), truth):.2f}")
    print(f"closed-loop test RMSE (sunspots): {common.rmse(sun(closed), truth):.2f}")


if __name__ == "__main__":
    main()
