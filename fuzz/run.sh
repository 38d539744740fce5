#!/usr/bin/env bash
# Builds fuzz_map.c with libFuzzer, ASan and UBSan (clang) and fuzzes it for a
# bounded time: half on the SSE2 group code, half on the portable one.
#
#   fuzz/run.sh [seconds] [output dir]
#
# seconds: total fuzzing time (default 60). output dir: default build-fuzz/.
# New inputs go to <output dir>/corpus-<target>/, never into fuzz/corpus/. A
# failure (a check, a sanitizer report, a leak, an input running over 10 s)
# stops the script with libFuzzer's report and leaves the input as
# <output dir>/<target>-crash-<sha1> (or -leak-, -timeout-): copy it into
# fuzz/corpus/ so that ctest replays it from then on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-60}
out=${2:-$root/build-fuzz}
cc=${CC:-clang}
mkdir -p "$out"

flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -fno-omit-frame-pointer -I"$root/include" -I"$root/src")
sources=("$root/src/hashmap.c" "$root/src/siphash.c" "$root/src/version.c" "$root/fuzz/fuzz_map.c")
"$cc" "${flags[@]}" "${sources[@]}" -o "$out/fuzz_map"
"$cc" "${flags[@]}" -DHM_PORTABLE=1 "${sources[@]}" -o "$out/fuzz_map_portable"

first=$(( total - total / 2 ))
for run in "fuzz_map:$first" "fuzz_map_portable:$(( total / 2 ))"; do
  target=${run%%:*}
  seconds=${run##*:}
  [ "$seconds" -gt 0 ] || continue
  mkdir -p "$out/corpus-$target"
  echo "== fuzzing $target for $seconds s"
  # libFuzzer reports every new input; its log goes to a file and only the
  # final statistics (or, on a failure, the report) to the terminal.
  log="$out/$target.log"
  if ! "$out/$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$out/$target-" "$out/corpus-$target" "$root/fuzz/corpus" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz/run.sh: $target failed; its input is in $out/$target-*." >&2
    echo "Replay it with: $out/$target <input>; keep it as a test: cp <input> fuzz/corpus/" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
done
