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

Each measurement warms up a few steps, then runs as many steps as fit in
--benchtime seconds and reports the mean time per step as one line like

    BenchmarkTrainStep/T=30/float32-1   	      50	  15000000 ns/op

preceded by goos/goarch/pkg/cpu header lines as `go test -bench` prints
them, so benchstat reads it side by side with Go's output. The "-1" suffix is
the number of torch threads (--threads, default 1). As the pkg lines and the
-N suffixes differ from Go's, compare with

    benchstat -ignore pkg,cpu,/gomaxprocs torch.txt go.txt

(otherwise benchstat puts the two files in separate tables). The torch
version and the BLAS library torch loaded go to stderr.

How to run it (from the repository root):

    /usr/bin/python3 graph/testdata/torch_train_step.py [--count N]
        [--benchtime SECONDS] [--filter REGEX] [--prefix NAME] [--threads N]

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3. Debian's torch does its matrix
products through libblas.so.3, which python3-torch alone resolves to the
reference BLAS (libblas3), about 10x slower here; install OpenBLAS
(`apt-get install -y libopenblas0-pthread`) for a fair comparison: the script
warns when it finds the reference BLAS. OMP_NUM_THREADS, OPENBLAS_NUM_THREADS
and MKL_NUM_THREADS default to --threads (torch.set_num_threads does not reach
an OpenBLAS behind libblas.so.3). graph/testdata/compare_torch.sh runs it
alternately with the Go benchmark and compares the two with benchstat.
"""

import argparse
import os
import platform
import re
import sys
import time

F, H, CLASSES, BATCH = 12, 100, 9, 32
LR = 0.001
SEED = 1
SEQ_LENS = (30, 100)
DTYPES = ("float32", "float64")

torch = None  # imported by import_torch, after the thread variables are set


def import_torch(threads):
    """Import torch with its BLAS and OpenMP pools limited to `threads`.

    Debian's torch does not tell an OpenBLAS it is linked with (through
    libblas.so.3) how many threads to use, so OPENBLAS_NUM_THREADS must be
    set before the library loads; a value already in the environment wins.
    """
    global torch
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    import torch as t
    torch = t
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # can only be set once, before any inter-op work


def blas_libraries():
    """Real paths of the BLAS libraries this process has loaded."""
    torch.zeros(2, 2) @ torch.zeros(2, 2)
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if any(k in os.path.basename(path) for k in ("blas", "blis", "mkl")):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def make_model():
    class SeqToLabel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(F, H, num_layers=1, bias=True, batch_first=True)
            self.fc = torch.nn.Linear(H, CLASSES)

        def forward(self, x):
            _, (hn, _) = self.lstm(x)  # OutputMode "last": h_T, [1, B, H]
            return self.fc(hn[0])

    return SeqToLabel()


def make_workload(T, dname):
    dtype = getattr(torch, dname)
    torch.manual_seed(SEED)
    model = make_model().to(dtype)
    x = torch.randn(BATCH, T, F, dtype=dtype)
    labels = torch.randint(0, CLASSES, (BATCH,))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()  # mean over the batch

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    return step


def measure(step, benchtime, warmup):
    for _ in range(warmup):
        step()
    n = 0
    start = time.perf_counter_ns()
    deadline = start + int(benchtime * 1e9)
    while True:
        step()
        n += 1
        now = time.perf_counter_ns()
        if now >= deadline:
            break
    return n, (now - start) / n


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def goarch():
    m = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def parse_seconds(s):
    s = s.strip()
    if s.endswith("s"):
        s = s[:-1]
    v = float(s)
    if v <= 0:
        raise argparse.ArgumentTypeError("benchtime must be > 0")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1,
                    help="run each benchmark N times, one line per run (like go test -count)")
    ap.add_argument("--benchtime", type=parse_seconds, default=1.0,
                    help="target seconds per measurement, e.g. 1 or 0.5s (default 1)")
    ap.add_argument("--filter", default=".",
                    help="regex; run only the benchmarks whose full name matches (re.search)")
    ap.add_argument("--prefix", default="BenchmarkTrainStep",
                    help="benchmark name prefix (default BenchmarkTrainStep)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads; also the -N name suffix (default 1)")
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed steps before each measurement (default 3)")
    args = ap.parse_args()

    filt = re.compile(args.filter)
    benches = []
    for T in SEQ_LENS:
        for dname in DTYPES:
            name = f"{args.prefix}/T={T}/{dname}"
            if filt.search(name):
                benches.append((name, T, dname))
    if not benches:
        print(f"no benchmark matches --filter {args.filter!r}", file=sys.stderr)
        return 1

    import_torch(args.threads)
    libs = blas_libraries()
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), BLAS: "
          f"{' '.join(libs) or 'none found'}"
          + (f", OPENBLAS_CORETYPE={coretype}" if coretype else ""), file=sys.stderr)
    if any("/blas/libblas.so" in lib for lib in libs):
        print("warning: torch uses the reference BLAS (Debian's libblas3), about 10x slower "
              "than OpenBLAS here; for a fair comparison: apt-get install -y libopenblas0-pthread",
              file=sys.stderr)

    print(f"goos: {platform.system().lower()}")
    print(f"goarch: {goarch()}")
    print("pkg: torch")
    print(f"cpu: {cpu_name()}")
    sys.stdout.flush()

    # Like go test -count: each benchmark's N runs in a row, then the next.
    for name, T, dname in benches:
        step = make_workload(T, dname)
        for _ in range(args.count):
            n, ns = measure(step, args.benchtime, args.warmup)
            print(f"{name}-{args.threads}   \t{n:8d}\t{ns:10.0f} ns/op", flush=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
