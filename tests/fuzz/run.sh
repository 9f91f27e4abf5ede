#!/usr/bin/env bash
# Runs every fuzz target for MINUTES each (libFuzzer, ASan + UBSan), from its kept corpus.
# Usage: tests/fuzz/run.sh MINUTES [TARGET...]      (targets: parse smtp imap config templates)
# Env:   FUZZ_BUILD (default build-fuzz), FUZZ_PARALLEL (targets at once, default 1).
# New inputs go to $FUZZ_BUILD/corpus/TARGET (seeded from the kept corpus; copy the useful ones
# back into tests/fuzz/corpus/). A crash leaves its input in $FUZZ_BUILD/crashes/ and makes the
# script exit 1. Each run appends "target runs seconds cov ft crashes" to $FUZZ_BUILD/totals.tsv,
# and the script prints the totals per target across runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes="${1:?usage: tests/fuzz/run.sh MINUTES [TARGET...]}"
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse smtp imap config templates)
build="${FUZZ_BUILD:-build-fuzz}"
parallel="${FUZZ_PARALLEL:-1}"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCASEMAIL_FUZZ=ON -DCASEMAIL_SANITIZE=ON >/dev/null
fi
cmake --build "$build" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

seeds() {
  case "$1" in
    parse) echo tests/mime/corpus tests/mime/regress ;;
    *) echo "tests/fuzz/corpus/$1" ;;
  esac
}
max_len() {
  case "$1" in
    parse) echo 20000 ;;
    templates) echo 1024 ;;  # a template file and one value: longer inputs only slow it down
    *) echo 4096 ;;
  esac
}

# The report of a crash: from its first "==PID==", "runtime error" or broken invariant line.
crash_report() {
  awk '/^==[0-9]+==|runtime error|^fuzz invariant broken|ERROR: libFuzzer/ { on = 1 } on' "$1" | grep -v '^#[0-9]*\t' | head -80 || true
}

run_one() {
  local t="$1" work="$build/corpus/$1" log="$build/logs/$1.log"
  mkdir -p "$work" "$build/crashes" "$build/logs"
  local status=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$build/tests/fuzz_$t" "$work" $(seeds "$t") -max_total_time=$((minutes * 60)) -max_len="$(max_len "$t")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" >"$log" 2>&1 || status=$?
  local runs secs cov ft
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local crashed=0
  [ "$status" -eq 0 ] || crashed=1
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${runs:-0}" "${secs:-0}" "${cov:-0}" "${ft:-0}" "$crashed" >>"$build/totals.tsv"
  printf '%-10s %12s runs in %5ss  cov %6s  ft %7s  %s\n' "$t" "${runs:-0}" "${secs:-0}" "${cov:-0}" "${ft:-0}" \
    "$([ "$crashed" -eq 0 ] && echo ok || echo "CRASH: see $log")"
  # The build directory may be gone with the machine (CI): the report and the input's Base64 go to the output.
  [ "$crashed" -eq 0 ] || { echo "---- $log, from the first error ----"; crash_report "$log"; echo "----"; }
  return "$status"
}

failed=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done

echo "totals across runs ($build/totals.tsv):"
awk -F'\t' '{ runs[$1] += $2; secs[$1] += $3; crashes[$1] += $6; cov[$1] = $4 }
  END { for (t in runs) printf "  %-10s %12d runs %7d s  last cov %6s  crashes %d\n", t, runs[t], secs[t], cov[t], crashes[t] }' \
  "$build/totals.tsv" | sort
exit "$failed"
