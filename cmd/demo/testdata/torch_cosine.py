"""PyTorch twin of seqgraph's cosine forecasting demo (`demo cosine`).

From the 10 previous samples of cos(x), sampled every 0.01, predict the next
one, with the same data, model, loss, optimizer and batching as the Go demo in
cmd/demo/cosine.go, so that its learning curve and final test RMSE can be
compared with seqgraph's:

- Training: samples s_k = cos(0.01*k), k = 0..10009; 10000 windows
  i = 0..9999 with input s_i..s_{i+9} (10 timesteps, 1 feature) and target
  s_{i+10}. Test: samples cos(100.1 + 0.01*k), k = 0..1009; 1000 windows built
  the same way.
- Model: nn.LSTM(1, 30, batch_first=True), output of the last timestep,
  nn.Linear(30, 1); float32.
- Loss nn.MSELoss (mean); optimizer torch.optim.Adagrad(lr=0.1).
- Batch size 32; every epoch a fresh seeded permutation of the 10000 windows
  cut into 312 full batches (the last partial batch is dropped); epochs go on
  until --steps steps are done.

It prints the test RMSE before training, the mean training loss every 100
steps, and ends with the line `test RMSE after training: <x.xxxx>`.

Flags: --seed (seeds torch.manual_seed and the permutation generator),
--steps (default 1000), --init {torch,matlab}. With --init matlab the weights
are re-initialized the way MATLAB does: LSTM input weights Glorot uniform
(bound sqrt(6/(F+4H))), recurrent weights orthogonal, biases zero except the
forget-gate input bias = 1; Linear weights Glorot uniform, bias zero.

Run it with Debian's Python (which has PyTorch) from the repository root:

    /usr/bin/python3 cmd/demo/testdata/torch_cosine.py --seed 1 --steps 1000
"""

import argparse
import math
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402 (after the thread settings)
from torch import nn  # noqa: E402

GAP = 0.01
WINDOW = 10
TRAIN_SIZE = 10000
TEST_SIZE = 1000
TEST_START = 100.1
HIDDEN = 30
BATCH = 32
LR = 0.1


def windows(x0, n):
    """n windows of cos sampled from x0 on: inputs (n, 10, 1), targets (n, 1)."""
    samples = torch.tensor(
        [math.cos(x0 + GAP * k) for k in range(n + WINDOW)], dtype=torch.float64
    )
    idx = torch.arange(n).unsqueeze(1) + torch.arange(WINDOW).unsqueeze(0)
    x = samples[idx].unsqueeze(2).float()
    y = samples[WINDOW : WINDOW + n].unsqueeze(1).float()
    return x, y


class Net(nn.Module):
    def __init__(self, hidden=HIDDEN):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])

    def matlab_init(self):
        """Re-initialize the weights like MATLAB's lstmLayer/fullyConnectedLayer."""
        h = self.lstm.hidden_size
        f = self.lstm.input_size
        with torch.no_grad():
            b = math.sqrt(6.0 / (f + 4 * h))
            self.lstm.weight_ih_l0.uniform_(-b, b)
            nn.init.orthogonal_(self.lstm.weight_hh_l0)
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_ih_l0[h : 2 * h] = 1.0
            self.lstm.bias_hh_l0.zero_()
            b = math.sqrt(6.0 / (self.fc.in_features + self.fc.out_features))
            self.fc.weight.uniform_(-b, b)
            self.fc.bias.zero_()


def rmse(net, x, y):
    with torch.no_grad():
        return math.sqrt(torch.mean((net(x) - y) ** 2).item())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1, help="seed of the weights and of the batch order")
    p.add_argument("--steps", type=int, default=1000, help="training steps (mini-batches)")
    p.add_argument("--init", choices=["torch", "matlab"], default="torch", help="weight initialization")
    args = p.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    perm_gen = torch.Generator().manual_seed(args.seed)

    train_x, train_y = windows(0.0, TRAIN_SIZE)
    test_x, test_y = windows(TEST_START, TEST_SIZE)

    net = Net()
    if args.init == "matlab":
        net.matlab_init()
    loss_fn = nn.MSELoss()
    opt = torch.optim.Adagrad(net.parameters(), lr=LR)

    print(f"cosine forecasting: {TRAIN_SIZE} training and {TEST_SIZE} test windows of {WINDOW} samples")
    print(f"init {args.init}, seed {args.seed}, steps {args.steps}")
    print(f"test RMSE before training: {rmse(net, test_x, test_y):.4f}")

    start = time.time()
    step, total, epoch = 0, 0.0, 0
    per_epoch = TRAIN_SIZE // BATCH  # 312 full batches
    while step < args.steps:
        perm = torch.randperm(TRAIN_SIZE, generator=perm_gen)
        for b in range(per_epoch):
            if step == args.steps:
                break
            idx = perm[b * BATCH : (b + 1) * BATCH]
            opt.zero_grad()
            loss = loss_fn(net(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
            step += 1
            total += loss.item()
            if step % 100 == 0:
                print(f"step {step:5d}/{args.steps}  epoch {epoch + 1}  mean loss {total / 100:.6f}  {time.time() - start:.1f}s")
                total = 0.0
        epoch += 1

    print(f"training time: {time.time() - start:.1f}s")
    print(f"test RMSE after training: {rmse(net, test_x, test_y):.4f}")


if __name__ == "__main__":
    main()
