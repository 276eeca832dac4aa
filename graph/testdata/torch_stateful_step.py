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

Each measurement warms up a few steps, then runs as many steps as fit in
--benchtime seconds and reports the mean time per step as one line like

    BenchmarkStatefulStep/last/float32-1   	   20000	     50000 ns/op

preceded by goos/goarch/pkg/cpu header lines as `go test -bench` prints
them, so benchstat reads it side by side with Go's output. The "-1" suffix is
the number of torch threads (--threads, default 1). As the pkg lines and the
-N suffixes differ from Go's, compare with

    benchstat -ignore pkg,cpu,/gomaxprocs torch.txt go.txt

The torch version and the BLAS library torch loaded go to stderr.

How to run it (from the repository root):

    /usr/bin/python3 graph/testdata/torch_stateful_step.py [--count N]
        [--benchtime SECONDS] [--filter REGEX] [--prefix NAME] [--threads N]

It needs PyTorch from Debian (`apt-get install -y python3-torch`), run with
Debian's own interpreter /usr/bin/python3; install OpenBLAS
(`apt-get install -y libopenblas0-pthread`) rather than the reference BLAS
that python3-torch alone brings (the script warns when it finds it).
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS default to
--threads. graph/testdata/compare_stateful.sh runs it alternately with the Go
benchmark and compares the two with benchstat.
"""

import argparse
import os
import platform
import re
import sys
import time

F, H, CLASSES, BATCH = 12, 100, 9, 1
RING = 64  # distinct input timesteps cycled through (statefulRing in Go)
SEED = 1
MODES = ("last", "sequence")
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
    class OneStep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(F, H, num_layers=1, bias=True, batch_first=True)
            self.fc = torch.nn.Linear(H, CLASSES)

        def forward(self, x, state):
            out, state = self.lstm(x, state)  # out: [1, 1, H]
            return torch.softmax(self.fc(out[:, -1]), dim=-1), state

    return OneStep()


def make_workload(dname):
    dtype = getattr(torch, dname)
    torch.manual_seed(SEED)
    model = make_model().to(dtype).eval()
    ring = [x.reshape(BATCH, 1, F) for x in torch.randn(RING, F, dtype=dtype)]
    state = [(torch.zeros(1, BATCH, H, dtype=dtype), torch.zeros(1, BATCH, H, dtype=dtype))]
    i = [0]

    def step():
        with torch.no_grad():
            probs, state[0] = model(ring[i[0] % RING], state[0])
        i[0] += 1
        return probs

    return step


def measure(step, benchtime, warmup):
    for _ in range(warmup):
        step()
    n = 0
    start = time.perf_counter_ns()
    deadline = start + int(benchtime * 1e9)
    # Steps take tens of microseconds: read the clock every `batch` steps,
    # growing it so that the clock costs nothing but the time stays close.
    batch = 1
    while True:
        for _ in range(batch):
            step()
        n += batch
        now = time.perf_counter_ns()
        if now >= deadline:
            break
        per = (now - start) / n
        batch = max(1, min(1000, int((deadline - now) / per / 10)))
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
    ap.add_argument("--prefix", default="BenchmarkStatefulStep",
                    help="benchmark name prefix (default BenchmarkStatefulStep)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads; also the -N name suffix (default 1)")
    ap.add_argument("--warmup", type=int, default=100,
                    help="untimed steps before each measurement (default 100)")
    args = ap.parse_args()

    filt = re.compile(args.filter)
    benches = []
    for mode in MODES:
        for dname in DTYPES:
            name = f"{args.prefix}/{mode}/{dname}"
            if filt.search(name):
                benches.append((name, dname))
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
    for name, dname in benches:
        step = make_workload(dname)
        for _ in range(args.count):
            n, ns = measure(step, args.benchtime, args.warmup)
            print(f"{name}-{args.threads}   \t{n:8d}\t{ns:10.0f} ns/op", flush=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
