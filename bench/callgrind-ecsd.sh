#!/bin/sh
# Runs ecsd under callgrind, for profiling with the bench:
#   ECSD_BENCH_CALLGRIND=target/profile ecsd-bench --floor --quick --ecsd-bin bench/callgrind-ecsd.sh
# Each phase of the bench (setup, batches, reset, show, wrk-show) gets its own part file in
# $ECSD_BENCH_CALLGRIND (callgrind.<pid>.out.<n>); read one with
#   callgrind_annotate --inclusive=yes <file>
# Instruction counts are repeatable on a busy machine, where wall-clock figures are not.
set -e
dir="${ECSD_BENCH_CALLGRIND:?set ECSD_BENCH_CALLGRIND to the directory for the profiles}"
mkdir -p "$dir"
exec valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p.out" \
    "$(dirname "$0")/../target/release/ecsd" "$@"
