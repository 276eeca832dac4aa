#!/usr/bin/python3
"""PyTorch twin of seqgraph's BenchmarkTrainStep, printed in Go benchmark format.

Workload (the same as the Go benchmark): sequence-to-label LSTM with
F=12 input features, H=100 hidden units, 9 classes, batch B=32, output mode
"last": the last hidden state h_T goes through nn.Linear(100, 9) and a
cross-entropy loss (mean over the batch). Optimiser Adam, lr 0.001. One
training step = zero_grad + forward + loss + backward + optimizer.step, on
one fixed random batch (fixed seed, random labels). Four benchmarks:

    BenchmarkTrainStep/T=30/float32    BenchmarkTrainStep/T=30/float64
    BenchmarkTrainStep/T=100/float32   BenchmarkTrainStep/T=100/float64

The output is in Go benchmark format, from the harness in torchbench.py
(which says more about it and about the BLAS torch needs).

How to run it (from the repository root):

    /usr/bin/python3 graph/testdata/torch_train_step.py [--count N]
        [--benchtime SECONDS] [--filter REGEX] [--prefix NAME] [--threads N]

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3, and OpenBLAS
(`apt-get install -y libopenblas0-pthread`). graph/testdata/compare_torch.sh
runs it alternately with the Go benchmark and compares the two with
benchstat.
"""

import sys

import torchbench

F, H, CLASSES, BATCH = 12, 100, 9, 32
LR = 0.001
SEED = 1
SEQ_LENS = (30, 100)
DTYPES = ("float32", "float64")


def make_model(torch):
    class SeqToLabel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(F, H, num_layers=1, bias=True, batch_first=True)
            self.fc = torch.nn.Linear(H, CLASSES)

        def forward(self, x):
            _, (hn, _) = self.lstm(x)  # OutputMode "last": h_T, [1, B, H]
            return self.fc(hn[0])

    return SeqToLabel()


def make_workload(torch, T, dname):
    dtype = getattr(torch, dname)
    torch.manual_seed(SEED)
    model = make_model(torch).to(dtype)
    x = torch.randn(BATCH, T, F, dtype=dtype)
    labels = torch.randint(0, CLASSES, (BATCH,))
    return torchbench.classification_step(torch, model, x, labels, LR)


if __name__ == "__main__":
    cases = [(f"T={T}/{d}", lambda torch, T=T, d=d: make_workload(torch, T, d))
             for T in SEQ_LENS for d in DTYPES]
    sys.exit(torchbench.main(__doc__, "BenchmarkTrainStep", cases, warmup=3))
