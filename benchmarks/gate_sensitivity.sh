#!/usr/bin/env bash
# The perf gate's sensitivity in instruction-count mode, on this machine:
#   A/A: `gdbench perf --instructions` twice on the same build, gated against each other (must pass);
#   injected: each benchmark in turn doing 1.2x its work (GDBENCH_PERF_INJECT), gated against A
#   (must fail, naming that benchmark).
# Usage: benchmarks/gate_sensitivity.sh [OUT_DIR] [FACTOR]      (needs valgrind; ~10 min on 2 cores)
set -u
out=${1:-results/gate_sensitivity}
factor=${2:-1.2}
mkdir -p "$out"
gdbench perf --instructions --quiet -o "$out/a1.json"
gdbench perf --instructions --quiet -o "$out/a2.json"
echo "== A/A"
gdbench perf-gate --no-table "$out/a1.json" "$out/a2.json"; echo "exit $?"
for name in $(python -c "from gdbench.perf.perf_suite import names; print(' '.join(names(False)))"); do
    GDBENCH_PERF_INJECT="$name=$factor" gdbench perf --instructions --quiet --only "$name" -o "$out/inj_$name.json"
    echo "== $name doing ${factor}x its work"
    gdbench perf-gate --no-table "$out/a1.json" "$out/inj_$name.json"; echo "exit $?"
done
