"""Shared harness of seqgraph's PyTorch twins (torch_train_step.py,
torch_stateful_step.py, torch_video_step.py): thread limits, the BLAS check,
timing, and output in Go benchmark format.

A twin calls main(doc, prefix, cases, warmup), where cases is a list of
(name suffix, factory) and factory(torch) returns the step to time
(classification_step makes the training step of a classifier). Each
measurement warms up, then runs as many steps as fit in --benchtime
seconds and reports the mean time per step as one line like

    BenchmarkTrainStep/T=30/float32-1   	      50	  15000000 ns/op

preceded by goos/goarch/pkg/cpu header lines as `go test -bench` prints
them, so benchstat reads it side by side with Go's output. The "-1" suffix
is the number of torch threads (--threads, default 1). As the pkg lines and
the -N suffixes differ from Go's, compare with

    benchstat -ignore pkg,cpu,/gomaxprocs torch.txt go.txt

(otherwise benchstat puts the two files in separate tables). The torch
version and the BLAS library torch loaded go to stderr.

Debian's torch (apt-get install -y python3-torch, run with Debian's own
/usr/bin/python3) does its matrix products through libblas.so.3, which
python3-torch alone resolves to the reference BLAS (libblas3), about 10x
slower here; install OpenBLAS (apt-get install -y libopenblas0-pthread) for a
fair comparison: the harness warns when it finds the reference BLAS.
OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS default to
--threads (torch.set_num_threads does not reach an OpenBLAS behind
libblas.so.3).
"""

import argparse
import os
import platform
import re
import sys
import time


def import_torch(threads):
    """Import torch with its BLAS and OpenMP pools limited to `threads`.

    Debian's torch does not tell an OpenBLAS it is linked with (through
    libblas.so.3) how many threads to use, so OPENBLAS_NUM_THREADS must be
    set before the library loads; a value already in the environment wins.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # can only be set once, before any inter-op work
    return torch


def blas_libraries(torch):
    """Real paths of the BLAS libraries this process has loaded."""
    torch.zeros(2, 2) @ torch.zeros(2, 2)
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if any(k in os.path.basename(path) for k in ("blas", "blis", "mkl")):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def measure(step, benchtime, warmup):
    for _ in range(warmup):
        step()
    n = 0
    start = time.perf_counter_ns()
    deadline = start + int(benchtime * 1e9)
    # Steps may take tens of microseconds: read the clock every `batch`
    # steps, growing it so that the clock costs nothing but the time stays
    # close.
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


def classification_step(torch, model, x, labels, lr):
    """The training step of the classification twins: zero_grad, forward,
    cross-entropy loss (mean over the batch), backward and an Adam step of
    learning rate lr, on the fixed batch x with the given labels."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    return step


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


def main(doc, prefix, cases, warmup):
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--count", type=int, default=1,
                    help="run each benchmark N times, one line per run (like go test -count)")
    ap.add_argument("--benchtime", type=parse_seconds, default=1.0,
                    help="target seconds per measurement, e.g. 1 or 0.5s (default 1)")
    ap.add_argument("--filter", default=".",
                    help="regex; run only the benchmarks whose full name matches (re.search)")
    ap.add_argument("--prefix", default=prefix,
                    help=f"benchmark name prefix (default {prefix})")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads; also the -N name suffix (default 1)")
    ap.add_argument("--warmup", type=int, default=warmup,
                    help=f"untimed steps before each measurement (default {warmup})")
    args = ap.parse_args()

    filt = re.compile(args.filter)
    benches = [(f"{args.prefix}/{suffix}", factory) for suffix, factory in cases
               if filt.search(f"{args.prefix}/{suffix}")]
    if not benches:
        print(f"no benchmark matches --filter {args.filter!r}", file=sys.stderr)
        return 1

    torch = import_torch(args.threads)
    libs = blas_libraries(torch)
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
    for name, factory in benches:
        step = factory(torch)
        for _ in range(args.count):
            n, ns = measure(step, args.benchtime, args.warmup)
            print(f"{name}-{args.threads}   \t{n:8d}\t{ns:10.0f} ns/op", flush=True)
    print("PASS")
    return 0
