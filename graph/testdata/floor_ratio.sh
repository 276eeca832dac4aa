#!/usr/bin/env bash
# floor_ratio.sh: the reference training step against its sgemm floor.
#
# Usage, from the repository root:
#
#     bash graph/testdata/floor_ratio.sh [runs]   (runs defaults to 12)
#
# It compiles the graph package's test binary once, then runs it `runs`
# times,
#     graph.test -test.run '^$' -test.bench '^BenchmarkTrainStep(Floor)?$' \
#         -test.count 1 -test.benchtime 30x
# each run timing BenchmarkTrainStep and then BenchmarkTrainStepFloor (the
# step's matrix products alone on seqgraph's gemm; see docs/performance.md,
# "The sgemm floor") at T=30 and T=100 in float32 and float64, and appends
# the results to runs.txt. It then prints benchstat of runs.txt and, for
# each shape, the median of the run-by-run ratios step/floor, of wall time
# (ns/op) and of CPU time (cpu-ns/op), with their ranges: a ratio taken
# within one run is steadier on a shared machine than a ratio of medians.
#
# Environment:
#   BENCH      a -test.bench pattern instead of the default, e.g.
#              '^BenchmarkTrainStep(Floor)?$/T=.*/float32'
#   BENCHSTAT  the benchstat command (default: benchstat on PATH, else
#              ~/go/bin/benchstat)
#   OUT        folder for runs.txt (default: a new temp folder, kept)
set -euo pipefail

runs=${1:-12}
bench=${BENCH:-'^BenchmarkTrainStep(Floor)?$'}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
benchstat=${BENCHSTAT:-$(command -v benchstat || echo ~/go/bin/benchstat)}

go test -c -o "$out/graph.test" ./graph
: >"$out/runs.txt"
for ((i = 1; i <= runs; i++)); do
	(cd graph && "$out/graph.test" -test.run '^$' -test.bench "$bench" \
		-test.count 1 -test.benchtime 30x) | grep '^Benchmark' >>"$out/runs.txt"
done
echo "results in $out/runs.txt"
"$benchstat" "$out/runs.txt"

# Run-by-run ratios: a run's lines of BenchmarkTrainStep/<shape> and
# BenchmarkTrainStepFloor/<shape> are paired in the order they come.
awk '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
/^BenchmarkTrainStep(Floor)?\// {
	split($1, parts, "/"); kind = parts[1]; shape = parts[2] "/" parts[3]; sub(/-[0-9]+$/, "", shape)
	ns = ""; cpu = ""
	for (i = 3; i < NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "cpu-ns/op") cpu = $i }
	if (kind == "BenchmarkTrainStep") { stepNs[shape] = ns; stepCPU[shape] = cpu; next }
	if (!(shape in stepNs)) next
	n = ++count[shape]; shapes[shape] = 1
	wall[shape, n] = stepNs[shape] / ns
	if (cpu != "" && stepCPU[shape] != "") cpur[shape, n] = stepCPU[shape] / cpu
	delete stepNs[shape]; delete stepCPU[shape]
}
END {
	for (s in shapes) {
		n = count[s]; delete w; delete c; nc = 0
		for (i = 1; i <= n; i++) { w[i] = wall[s, i]; if ((s, i) in cpur) c[++nc] = cpur[s, i] }
		line = sprintf("%-14s %2d runs: step/floor wall %.2f", s, n, median(w, n))
		line = line sprintf(" (%.2f-%.2f)", w[1], w[n])
		if (nc > 0) line = line sprintf(", cpu %.2f (%.2f-%.2f)", median(c, nc), c[1], c[nc])
		print line
	}
}' "$out/runs.txt" | sort
