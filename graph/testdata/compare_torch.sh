#!/usr/bin/env bash
# compare_torch.sh: a seqgraph benchmark against its PyTorch twin.
#
# Usage, from the repository root:
#
#     bash graph/testdata/compare_torch.sh [--stateful|--video] [count]  (count defaults to 5)
#     bash graph/testdata/compare_torch.sh --report DIR  (only the report, from
#                                                        DIR/torch.txt, DIR/go.txt)
#
# The workloads:
#   (default)   a training step: BenchmarkTrainStep against
#               graph/testdata/torch_train_step.py.
#   --stateful  stateful one-step inference: batch 1, 12 features, LSTM of
#               100 hidden units, FullyConnected(9) and softmax, one timestep
#               per call with the recurrent state carried
#               (Network.PredictAndUpdateState against nn.LSTM called step by
#               step with (h, c) fed back, eval mode, no_grad), in OutputMode
#               last and sequence, float32 and float64: BenchmarkStatefulStep
#               against graph/testdata/torch_stateful_step.py.
#   --video     a training step of the video network (sequence folding, 3x3
#               convolution of 8 filters, batch normalization, ReLU,
#               unfolding, LSTM of 32 hidden units, 5 classes; 16 sequences
#               of 16 frames of 3x32x32), float32 and float64:
#               BenchmarkVideoTrainStep against
#               graph/testdata/torch_video_step.py.
#
# It compiles the graph package's test binary once, then, ALTERNATELY for
# i = 1..count, runs one repetition of the Go benchmark
#     graph.test -test.run '^$' -test.bench '^BenchmarkTrainStep$' -test.count 1 -test.benchtime 1s
# (or '^BenchmarkStatefulStep$', '^BenchmarkVideoTrainStep$')
# (from the graph folder, appending to go.txt) and one repetition of its
# PyTorch twin (appending to torch.txt), so that slow drifts of the
# machine's load hit both sides alike. It then prints
#     benchstat -ignore pkg,cpu,/gomaxprocs torch.txt go.txt
# (PyTorch is the base column, so the delta column reads as seqgraph vs
# PyTorch; -ignore lets the two files, whose pkg lines and -N name suffixes
# differ, share one table) and a table of seqgraph/PyTorch ratios of the
# median ns/op of each benchmark (> 1 means seqgraph is slower).
#
# Threads: PyTorch runs single-threaded (torch.set_num_threads(1) in the
# script, plus OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1).
# Go runs with its default GOMAXPROCS: a training step or a prediction runs
# on the calling goroutine, so it is single-threaded too apart from the Go runtime's own
# work (GC), which is part of its cost.
#
# Environment:
#   OPENBLAS_CORETYPE  passed through to the PyTorch run (e.g. Cooperlake, so
#                      that an OpenBLAS that does not know this CPU uses a
#                      better kernel set). It only matters when torch's
#                      libblas.so.3 is OpenBLAS (Debian's libopenblas0-pthread
#                      or -openmp); Debian's python3-torch alone brings the
#                      reference BLAS (libblas3), on which it has no effect.
#                      The torch script prints (stderr) the BLAS library torch
#                      loaded, and warns if it is the reference BLAS: then run
#                      apt-get install -y libopenblas0-pthread first.
#   BENCHTIME          seconds per measurement on both sides (default 1).
#   PYTHON             interpreter with torch (default /usr/bin/python3, i.e.
#                      Debian's: apt-get install -y python3-torch).
#   OUT                folder for go.txt and torch.txt (default: a new temp
#                      folder; it is kept and its path printed).
#
# Needs: Go, benchstat (installed here if missing, at the version below, into
# $(go env GOPATH)/bin), Debian's python3-torch.
set -euo pipefail

BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da # of golang.org/x/perf

usage() {
	echo "usage: bash graph/testdata/compare_torch.sh [--stateful|--video] [count]" >&2
	echo "       bash graph/testdata/compare_torch.sh --report DIR" >&2
	exit 2
}

find_benchstat() {
	benchstat=$(command -v benchstat || true)
	if [[ -z $benchstat ]]; then
		benchstat=$(go env GOPATH)/bin/benchstat
		if [[ ! -x $benchstat ]]; then
			echo "installing benchstat ($BENCHSTAT_VERSION)..." >&2
			go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION"
		fi
	fi
}

# medians FILE: one line "name median_ns_per_op runs" per benchmark, in order
# of first appearance; the name loses its -N (GOMAXPROCS/threads) suffix.
medians() {
	awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i++) if ($(i + 1) == "ns/op") {
			if (!(name in n)) order[++names] = name
			v[name, ++n[name]] = $i + 0
		}
	}
	END {
		for (k = 1; k <= names; k++) {
			name = order[k]; m = n[name]
			for (i = 1; i <= m; i++) s[i] = v[name, i]
			for (i = 2; i <= m; i++) {  # insertion sort
				x = s[i]
				for (j = i - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]
				s[j + 1] = x
			}
			med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
			printf "%s %.0f %d\n", name, med, m
		}
	}' "$1"
}

# report DIR: benchstat and the ratio table from DIR/torch.txt and DIR/go.txt.
report() {
	local out=$1
	echo
	echo "# benchstat torch.txt go.txt (base: PyTorch; files in $out)"
	(cd "$out" && "$benchstat" -ignore pkg,cpu,/gomaxprocs torch.txt go.txt)
	echo
	echo "# seqgraph/PyTorch, ratio of median ns/op (> 1: seqgraph slower)"
	awk '
	FILENAME == ARGV[1] { t[$1] = $2; tn[$1] = $3; order[++names] = $1; next }
	FILENAME == ARGV[2] { g[$1] = $2; gn[$1] = $3; if (!($1 in t)) order[++names] = $1 }
	END {
		printf "%-40s %11s %3s %12s %3s %7s\n", "benchmark", "pytorch ms", "n", "seqgraph ms", "n", "ratio"
		for (k = 1; k <= names; k++) {
			b = order[k]
			tm = (b in t) ? sprintf("%.4g", t[b] / 1e6) : "-"
			gm = (b in g) ? sprintf("%.4g", g[b] / 1e6) : "-"
			r = ((b in t) && (b in g) && t[b] > 0) ? sprintf("%.2f", g[b] / t[b]) : "-"
			printf "%-40s %11s %3s %12s %3s %7s\n", b, tm, (b in t) ? tn[b] : "-", gm, (b in g) ? gn[b] : "-", r
		}
	}' <(medians "$out/torch.txt") <(medians "$out/go.txt")
}

if [[ ${1:-} == --report ]]; then
	[[ $# -eq 2 && -f $2/torch.txt && -f $2/go.txt ]] || usage
	find_benchstat
	report "$2"
	exit 0
fi

bench=BenchmarkTrainStep
twin=torch_train_step.py
case ${1:-} in
--stateful)
	bench=BenchmarkStatefulStep
	twin=torch_stateful_step.py
	shift
	;;
--video)
	bench=BenchmarkVideoTrainStep
	twin=torch_video_step.py
	shift
	;;
esac
[[ $# -le 1 ]] || usage
count=${1:-5}
[[ $count =~ ^[1-9][0-9]*$ ]] || usage
benchtime=${BENCHTIME:-1}
benchtime=${benchtime%s}
python=${PYTHON:-/usr/bin/python3}

if ! grep -q '^module github.com/seqgraph/seqgraph$' go.mod 2>/dev/null; then
	echo "compare_torch.sh: run it from the seqgraph repository root" >&2
	exit 2
fi
torch_script=$(pwd)/graph/testdata/$twin

find_benchstat

if ! "$python" -c 'import torch' 2>/dev/null; then
	echo "compare_torch.sh: $python cannot import torch; install Debian's python3-torch:" >&2
	echo "    apt-get update && apt-get install -y python3-torch" >&2
	exit 1
fi

out=${OUT:-$(mktemp -d /tmp/compare_torch.XXXXXX)}
mkdir -p "$out"
: >"$out/go.txt"
: >"$out/torch.txt"

echo "compiling the graph test binary..." >&2
go test -c -o "$out/graph.test" ./graph

torch_env=(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1)
if [[ -n ${OPENBLAS_CORETYPE:-} ]]; then
	torch_env+=("OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE")
fi

echo "$bench; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>}; count=$count benchtime=${benchtime}s" >&2

for ((i = 1; i <= count; i++)); do
	echo "run $i/$count: seqgraph" >&2
	(cd graph && "$out/graph.test" -test.run '^$' -test.bench "^$bench\$" \
		-test.count 1 -test.benchtime "${benchtime}s") >>"$out/go.txt"
	echo "run $i/$count: pytorch" >&2
	env "${torch_env[@]}" "$python" "$torch_script" --count 1 --benchtime "$benchtime" >>"$out/torch.txt"
done

report "$out"
