#!/usr/bin/env bash
# Runs seqgraph's demos and their PyTorch twins on the same machine, seed by
# seed, alternately (Go seed 1, PyTorch seed 1, Go seed 2, ...), and prints
# per demo a table of each run's metrics and wall time, and their medians.
#
#   bash cmd/demo/twins/compare.sh [demo ...]    # default: turbofan forecast activity video stacked text conv1d
#   SEEDS="1 2 3" bash cmd/demo/twins/compare.sh video
#
# It builds the demo binary once (so that no Go compilation is timed), has
# the demo export its prepared or generated data once (`-export`), which the
# twin reads, and runs each demo and twin with the demo's default settings. The wall time of
# a Go run is the whole process (data loading, graph compilation, training,
# prediction, figures); that of a twin is the whole Python process (import
# of torch, data loading, training, prediction). A run's metrics are the
# lines `<name> (<unit>): <number>` it prints; the last is the demo's
# headline metric.
#
# Needs Go and Debian's PyTorch with OpenBLAS (apt-get install -y
# python3-torch libopenblas0-pthread; without OpenBLAS PyTorch runs on the
# reference BLAS and is several times slower). Run from anywhere inside the
# repository. Raw outputs are kept in $OUT (default: a new temporary folder).
set -euo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
twins="$root/cmd/demo/twins"
demos=("$@")
[ ${#demos[@]} -gt 0 ] || demos=(turbofan forecast activity video stacked text conv1d)
seeds=(${SEEDS:-1 2 3})
out=${OUT:-$(mktemp -d /tmp/seqgraph-compare-XXXXXX)}
mkdir -p "$out"
py=/usr/bin/python3

(cd "$root" && go build -o "$out/demo" ./cmd/demo)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "go: $(go version | cut -d' ' -f3); torch: $($py -c 'import torch; print(torch.__version__)')"
echo "raw outputs: $out"

# metrics prints a run's metric lines as "name=value" joined by "; ".
metrics() {
	grep -E '^[A-Za-z][^:]*\([^)]*\): [-0-9.eE+]+$' "$1" | sed 's/: /=/' | paste -sd';' - | sed 's/;/; /g'
}

# timed runs a command, its output into $1, and prints its wall time in seconds.
timed() {
	local log=$1
	shift
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$log" 2>&1 || { echo "failed: $* (see $log)" >&2; exit 1; }
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}

for demo in "${demos[@]}"; do
	data="$out/$demo.json"
	# The data, exported by a one-epoch run; the twin is told the demo's
	# default number of epochs, which the demo's -h prints.
	"$out/demo" "$demo" -epochs 1 -out "$out/$demo-export" -export "$data" >"$out/$demo-export.log" 2>&1
	epochs=$("$out/demo" "$demo" -h 2>&1 | grep -A1 -- '-epochs' | grep -o 'default [0-9]*' | cut -d' ' -f2 || true)
	rows=()
	for s in "${seeds[@]}"; do
		gt=$(timed "$out/$demo-go-$s.log" "$out/demo" "$demo" -seed "$s" -out "$out/$demo-go-$s")
		pt=$(cd "$twins" && timed "$out/$demo-torch-$s.log" "$py" "$demo.py" --data "$data" --seed "$s" --epochs "$epochs")
		rows+=("$s|$(metrics "$out/$demo-go-$s.log")|$gt|$(metrics "$out/$demo-torch-$s.log")|$pt")
	done
	echo
	echo "## $demo"
	echo
	echo "| seed | seqgraph | time (s) | PyTorch | time (s) |"
	echo "|---|---|---|---|---|"
	for r in "${rows[@]}"; do
		IFS='|' read -r s gm gt pm pt <<<"$r"
		printf '| %s | %s | %.1f | %s | %.1f |\n' "$s" "$gm" "$gt" "$pm" "$pt"
	done
	printf '%s\n' "${rows[@]}" | $py -c '
import statistics, sys
rows = [l.rstrip("\n").split("|") for l in sys.stdin if l.strip()]
def med(col):
    out = []
    names = [kv.split("=")[0] for kv in rows[0][col].split("; ")]
    for k, name in enumerate(names):
        vals = [float(r[col].split("; ")[k].split("=")[1]) for r in rows]
        out.append(f"{name}={statistics.median(vals):g}")
    return "; ".join(out)
gt = statistics.median(float(r[2]) for r in rows)
pt = statistics.median(float(r[4]) for r in rows)
print(f"| median | {med(1)} | {gt:.1f} | {med(3)} | {pt:.1f} |")
'
done
