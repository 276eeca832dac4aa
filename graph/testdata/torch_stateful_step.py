#!/usr/bin/python3
"""PyTorch twin of seqgraph's BenchmarkStatefulStep, printed in Go benchmark format.

Workload (the same as the Go benchmark): stateful one-step prediction with
the reference network, nn.LSTM(12, 100, batch_first=True) followed by
nn.Linear(100, 9) and a softmax, in eval mode under torch.no_grad(). One op
is one call of the network on a batch of 1 sequence of 1 timestep of 12
features, from the (h, c) the previous call returned, fed back:

    out, (h, c) = lstm(x_t, (h, c))       # x_t: [1, 1, 12]
    probs = softmax(fc(out[:, -1]), dim=-1)

The inputs cycle through RING=64 fixed random timesteps (fixed seed), as on
the Go side. Four benchmarks:

    BenchmarkStatefulStep/last/float32      BenchmarkStatefulStep/last/float64
    BenchmarkStatefulStep/sequence/float32  BenchmarkStatefulStep/sequence/float64

"last" (sequence-to-label, the output after the step: h_T through the
linear layer) and "sequence" (sequence-to-sequence, the output of every step)
are the same computation for a one-step call; both are listed so that each Go
benchmark has a twin.

The output is in Go benchmark format, from the harness in torchbench.py
(which says more about it and about the BLAS torch needs).

How to run it (from the repository root):

    /usr/bin/python3 graph/testdata/torch_stateful_step.py [--count N]
        [--benchtime SECONDS] [--filter REGEX] [--prefix NAME] [--threads N]

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3, and OpenBLAS
(`apt-get install -y libopenblas0-pthread`). graph/testdata/compare_torch.sh
--stateful runs it alternately with the Go benchmark and compares the two
with benchstat.
"""

import sys

import torchbench

F, H, CLASSES, BATCH = 12, 100, 9, 1
RING = 64  # distinct input timesteps cycled through (statefulRing in Go)
SEED = 1
MODES = ("last", "sequence")
DTYPES = ("float32", "float64")


def make_model(torch):
    class OneStep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(F, H, num_layers=1, bias=True, batch_first=True)
            self.fc = torch.nn.Linear(H, CLASSES)

        def forward(self, x, state):
            out, state = self.lstm(x, state)  # out: [1, 1, H]
            return torch.softmax(self.fc(out[:, -1]), dim=-1), state

    return OneStep()


def make_workload(torch, dname):
    dtype = getattr(torch, dname)
    torch.manual_seed(SEED)
    model = make_model(torch).to(dtype).eval()
    ring = [x.reshape(BATCH, 1, F) for x in torch.randn(RING, F, dtype=dtype)]
    state = [(torch.zeros(1, BATCH, H, dtype=dtype), torch.zeros(1, BATCH, H, dtype=dtype))]
    i = [0]

    def step():
        with torch.no_grad():
            probs, state[0] = model(ring[i[0] % RING], state[0])
        i[0] += 1
        return probs

    return step


if __name__ == "__main__":
    # "last" and "sequence" are the same computation for a one-step call.
    cases = [(f"{m}/{d}", lambda torch, d=d: make_workload(torch, d))
             for m in MODES for d in DTYPES]
    sys.exit(torchbench.main(__doc__, "BenchmarkStatefulStep", cases, warmup=100))
