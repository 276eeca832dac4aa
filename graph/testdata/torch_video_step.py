#!/usr/bin/python3
"""PyTorch twin of seqgraph's BenchmarkVideoTrainStep, printed in Go benchmark format.

Workload (the same as the Go benchmark, graph/bench_test.go): MATLAB's video
classification network scaled down. A batch of B=16 sequences of T=16
frames of 3x32x32 (C x H x W) is folded into 256 frames; a 3x3 convolution
of 8 filters with padding 1 (MATLAB's 'same'), BatchNorm2d in training mode
(eps 1e-5, momentum 0.1), ReLU; unfolded into 16 steps of 8*32*32 = 8192
features (channel, row, column order, as seqgraph's Flatten); an LSTM of 32
hidden units whose last hidden state h_T goes through nn.Linear(32, 5) and a
cross-entropy loss (mean over the batch). Optimiser Adam, lr 0.001. One
training step = zero_grad + forward + loss + backward + optimizer.step, on
one fixed random batch (fixed seed, random labels). Two benchmarks:

    BenchmarkVideoTrainStep/float32    BenchmarkVideoTrainStep/float64

Folding puts the frames of a batch in PyTorch's batch-major order rather
than seqgraph's time-major one, which changes no cost.

The output is in Go benchmark format, from the harness in torchbench.py
(which says more about it and about the BLAS torch needs).

How to run it (from the repository root):

    /usr/bin/python3 graph/testdata/torch_video_step.py [--count N]
        [--benchtime SECONDS] [--filter REGEX] [--prefix NAME] [--threads N]

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3, and OpenBLAS
(`apt-get install -y libopenblas0-pthread`). `bash graph/testdata/compare_torch.sh
--video` runs it alternately with the Go benchmark and compares the two
with benchstat.
"""

import sys

import torchbench

BATCH, STEPS, C, H, W = 16, 16, 3, 32, 32
FILTERS, HIDDEN, CLASSES = 8, 32, 5
LR = 0.001
SEED = 1
DTYPES = ("float32", "float64")


def make_model(torch):
    class Video(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(C, FILTERS, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(FILTERS, eps=1e-5, momentum=0.1)
            self.lstm = torch.nn.LSTM(FILTERS * H * W, HIDDEN, batch_first=True)
            self.fc = torch.nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            b, t = x.shape[:2]
            y = x.reshape(b * t, C, H, W)  # sequence folding
            y = torch.relu(self.bn(self.conv(y)))
            y = y.reshape(b, t, -1)  # unfolding and flatten
            _, (hn, _) = self.lstm(y)  # OutputMode "last": h_T, [1, B, H]
            return self.fc(hn[0])

    return Video()


def make_workload(torch, dname):
    dtype = getattr(torch, dname)
    torch.manual_seed(SEED)
    model = make_model(torch).to(dtype).train()
    x = torch.randn(BATCH, STEPS, C, H, W, dtype=dtype)
    labels = torch.randint(0, CLASSES, (BATCH,))
    return torchbench.classification_step(torch, model, x, labels, LR)


if __name__ == "__main__":
    cases = [(d, lambda torch, d=d: make_workload(torch, d)) for d in DTYPES]
    sys.exit(torchbench.main(__doc__, "BenchmarkVideoTrainStep", cases, warmup=3))
