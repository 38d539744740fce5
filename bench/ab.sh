#!/bin/sh
# bench/ab.sh: two builds of libhashmap, A and B, compared through one hm_bench,
# for changes too small for bench/compare.sh to tell from the machine's noise.
#
# The same hm_bench (A's) runs against each build's libhashmap.so, loaded with
# LD_LIBRARY_PATH, pinned to one CPU, the two sides alternated and the first
# side swapped every round. The hm_bench and each library are copied COPIES
# times and the copies taken in turn: a file's pages sit at some physical
# addresses, the caches index by physical address, and one copy of a binary
# can run a phase 15% slower than another copy of the same bytes
# (docs/benchmarks.md). Prints, for each workload, N and phase of map
# libhashmap (with --batched, libhashmap-batched, its phases named
# batched:<phase>), A's and B's median ns per operation over every run and B's
# time over A's. Where A's tree has bench/core_probe, it reads the core before
# and after every process, and a line on stderr says how many processes read
# over 1.2, beside a busy hardware thread (bench/core_probe.c): a run with
# many such is one to repeat, on a CPU that reads about 1.0.
#
# Needs: POSIX sh, awk, sort, taskset; two build trees of this project
# (cmake -DCMAKE_BUILD_TYPE=Release), A's with bench/hm_bench.
set -eu

usage() {
    cat <<EOF
usage: bench/ab.sh [options] BUILD_A BUILD_B [-- HM_BENCH_ARGS...]
  -k ROUNDS  rounds (default 3); each runs every copy of hm_bench once per side
  -c COPIES  copies of hm_bench and of each library (default 3)
  -p CPU     the CPU to pin every process to (default 1)
  BUILD_A, BUILD_B
             build trees: libhashmap.so in each, bench/hm_bench in A's
  HM_BENCH_ARGS
             hm_bench's options (default: --workload u64 --items 1000
             --repeat 20); --no-floor is added
Example, a change at 100,000 entries:
  bench/ab.sh -k 4 build-old build-new -- --workload flat --items 100000 --repeat 20
EOF
}

rounds=3
copies=3
cpu=1
while getopts k:c:p:h opt; do
    case $opt in
    k) rounds=$OPTARG ;;
    c) copies=$OPTARG ;;
    p) cpu=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { usage >&2; exit 2; }
a=$1
b=$2
shift 2
[ $# -gt 0 ] && [ "$1" = -- ] && shift
[ $# -gt 0 ] || set -- --workload u64 --items 1000 --repeat 20
for n in "$rounds" "$copies"; do
    case $n in '' | *[!0-9]* | 0) echo "bench/ab.sh: -k and -c take a count from 1" >&2; exit 2 ;; esac
done
for f in "$a/bench/hm_bench" "$a/libhashmap.so" "$b/libhashmap.so"; do
    [ -f "$f" ] || { echo "bench/ab.sh: no $f" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ab.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
c=0
while [ "$c" -lt "$copies" ]; do
    cp "$a/bench/hm_bench" "$tmp/hm_bench.$c"
    for side in A B; do
        mkdir "$tmp/$side.$c"
        if [ $side = A ]; then src=$a; else src=$b; fi
        cp -P "$src"/libhashmap.so* "$tmp/$side.$c/" # the file and its links
    done
    c=$((c + 1))
done

# core_probe on the pinned CPU (see the top); - where A's tree has none.
probe() {
    reading=
    if [ -x "$a/bench/core_probe" ]; then
        reading=$(taskset -c "$cpu" "$a/bench/core_probe" 2>/dev/null | cut -d' ' -f1)
    fi
    echo "${reading:--}"
}

# Each JSON line of map libhashmap becomes "side workload items phase ns"; of
# libhashmap-batched (hm_bench --batched), its phase is "batched:<phase>".
run() { # run SIDE COPY LIBCOPY HM_BENCH_ARGS...
    side=$1 copy=$2 lib=$3
    shift 3
    before=$(probe)
    LD_LIBRARY_PATH="$tmp/$side.$lib" taskset -c "$cpu" "$tmp/hm_bench.$copy" "$@" --no-floor \
        >"$tmp/out" 2>>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
    echo "$side $before $(probe)" >>"$tmp/probes"
    awk -v side="$side" '
    function field(key,    re) {
        re = "\"" key "\":(\"[^\"]*\"|[0-9][0-9.]*)"
        if (!match($0, re)) return ""
        s = substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
        gsub(/"/, "", s)
        return s
    }
    field("map") ~ /^libhashmap(-batched)?$/ && field("ns_per_op") != "" {
        phase = (field("map") == "libhashmap" ? "" : "batched:") field("phase")
        print side, field("workload"), field("items"), phase, field("ns_per_op")
    }' "$tmp/out" >>"$tmp/times"
}
r=0
while [ "$r" -lt "$rounds" ]; do
    c=0
    while [ "$c" -lt "$copies" ]; do
        lib=$(((c + r) % copies))
        if [ $(((r + c) % 2)) -eq 0 ]; then order="A B"; else order="B A"; fi
        for s in $order; do
            run "$s" "$c" "$lib" "$@"
        done
        c=$((c + 1))
    done
    r=$((r + 1))
done

# Medians per side and phase, in the order hm_bench printed the phases.
awk '{ key = $2 " " $3 " " $4; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
     END { for (i = 1; i <= n; i++) print i, order[i] }' "$tmp/times" >"$tmp/order"
sort -k1,1 -k2,2 -k3,3n -k4,4 -k5,5g "$tmp/times" |
awk 'function flush() { if (cnt) med[prev] = cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2 }
     FNR == NR { k = $1 " " $2 " " $3 " " $4
                 if (k != prev) { flush(); prev = k; cnt = 0 }
                 v[++cnt] = $5; next }
     FNR == 1 { flush(); printf "%-30s %10s %10s %8s\n", "workload items phase", "A ns/op", "B ns/op", "B/A" }
     { key = $2 " " $3 " " $4; ma = med["A " key]; mb = med["B " key]
       if (ma > 0) printf "%-30s %10.2f %10.2f %7.3fx\n", key, ma, mb, mb / ma }' \
    - "$tmp/order"
awk '{ procs++; hi = 0
       for (f = 2; f <= 3; f++) if ($f != "-") { read++; if ($f + 0 > hi) hi = $f + 0 }
       if (hi > 1.2) busy[$1]++ }
     END { if (read) printf "bench/ab.sh: core probe over 1.2 around %d of %d processes (A %d, B %d)\n",
                            busy["A"] + busy["B"], procs, busy["A"], busy["B"] > "/dev/stderr" }' \
    "$tmp/probes"
