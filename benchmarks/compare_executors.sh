#!/bin/bash
# Wall time of one suite with each executor (warm kernel cache; figures off).
#   benchmarks/compare_executors.sh [SUITE] [WORKERS] [OUTDIR]     e.g. benchmarks/compare_executors.sh standard 2
# The first, untimed run fills the kernel cache, so the three timed runs compare executors, not
# compilation. Set GDBENCH_CACHE_DIR to a private folder if other checkouts change the kernels meanwhile.
set -euo pipefail
suite=${1:-standard}; workers=${2:-2}; out=${3:-$(mktemp -d)}
py=${PYTHON:-python}
for ex in warmup local processes dask; do
  case $ex in
    warmup|local) args=(--executor local) ;;
    *) args=(--executor "$ex" --workers "$workers") ;;
  esac
  t0=$(date +%s.%N)
  "$py" -m gdbench run "$suite" --out "$out/$ex" "${args[@]}" --no-figures --quiet > "$out/$ex.log" 2>&1
  t1=$(date +%s.%N)
  printf '%-10s total %7.1f s   (load %s)\n' "$ex" "$(echo "$t1 - $t0" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "results and logs in $out"
