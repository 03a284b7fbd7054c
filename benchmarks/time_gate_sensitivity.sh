#!/usr/bin/env bash
# The wall-time and CPU-time perf gates on this machine: A/A (the same build twice, interleaved
# with the other clock) and every benchmark doing 1.2x its work (GDBENCH_PERF_INJECT), each judged
# by `gdbench perf-gate`'s rule at several thresholds (benchmarks/gate_table.py).
# Usage: benchmarks/time_gate_sensitivity.sh [OUT_DIR] [FACTOR]      (~30 min on 2 cores)
set -eu
out=${1:-results/time_gate_sensitivity}
factor=${2:-1.2}
mkdir -p "$out"
inject="driver_step=$factor,fused=$factor,sgd=$factor,minibatch=$factor,sweep=$factor"
for round in 1 2; do
    for clock in wall cpu; do
        gdbench perf --clock "$clock" --quiet -o "$out/a$round-$clock.json"
    done
done
for clock in wall cpu; do
    GDBENCH_PERF_INJECT="$inject" gdbench perf --clock "$clock" --quiet -o "$out/inj-$clock.json"
done
python "$(dirname "$0")/gate_table.py" "$out"
