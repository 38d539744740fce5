#!/bin/sh
# bench/compare.sh: libhashmap (hm_bench) against the peers of bench/peers/
# (Rust's std HashMap, abseil flat_hash_map, boost::unordered_flat_map, GLib's
# GHashTable, uthash, khash) on the workloads of docs/BENCH.md, all hashing with
# SipHash-1-3.
#
# Builds a Release (-O2) tree if needed, then runs every map RUNS times per
# workload, each run its own process, the maps taken round-robin (and the
# first one rotated each round) so that a slow spell of the machine does not
# fall on one map alone. Medians over the runs go into a table of ns/op per
# phase and peak RSS, with every map's ratio to libhashmap, and the sweep
# into a chart of ns/op against N (gnuplot). Before and after each process
# core_probe reads how much of its core the process gets (bench/core_probe.c),
# and results.md names the processes that shared theirs with a busy thread.
# libhashmap runs twice per round: as itself, one call per key, and as
# libhashmap-batched (hm_bench --batched: every phase but iterate through
# hm_insert_many, hm_get_many and hm_remove_many; seed's inserts through
# hm_insert_many).
#
# Needs: cmake, a C compiler, POSIX sh and awk; g++ and the peers' packages
# for the peers (bench/peers/install-deps.sh installs them on Debian), rustc
# for rust-std, gnuplot for the chart. Peers that are not built are left out.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)

usage() {
    cat <<EOF
usage: bench/compare.sh [options] [OUTDIR]
  -r RUNS   processes per map and workload; the table shows medians (default 5;
            use 3 or more for numbers you quote)
  -w LIST   workloads, comma-separated, from seed, flat, u64, sweep
            (default: seed,flat,u64,sweep)
  -n N      items for every workload, for sweep its largest N (1e3, 1e4, ... up
            to N); default: each workload's own (seed 1e7, flat and u64 1e6,
            sweep up to 1e7). A quick run: -n 100000 -r 3
  -m LIST   only these peers, comma-separated, named as in bench/peers/ (rust-std,
            absl-flat, boost-flat, glib, uthash, khash; the -pair builds
            absl-flat-pair, boost-flat-pair, khash-pair), each built in the
            build directory, or none; libhashmap and libhashmap-batched
            always run
  -R COUNT  runs of the workload per process (its --repeat, 1 to 100, default 1;
            made one after another in the process), which reports their
            median. For small N, where one run of a phase lasts microseconds:
            -R 30. Not for seed, which always runs once a process: hm_bench
            makes each seed run in a child process of its own, while the
            peers would reuse a heap that held the last run's strings
  -p CPUS   pin every process to these CPUs (taskset -c CPUS), so that the maps
            do not move between cores of different speed or load
  -P LIST   pin each process to one CPU of LIST (comma-separated), the one
            whose core probe reads lowest just before it (see
            bench/core_probe.c): the other hardware thread of a vCPU's core
            may be busy for minutes, and then on one vCPU and not another.
            Instead of -p
  -q SECS   before each process, wait up to SECS seconds (checking every 5)
            for the core probe to read 1.2 or less: a quiet core; the process
            then runs whatever it reads. Default 0: no wait
  -b DIR    build directory (default: \${TMPDIR:-/tmp}/libhashmap-bench-build);
            configured as Release with -O2, sanitizers off
  -B        do not configure or build: use the binaries in the build directory
  OUTDIR    where the results go (default: ./bench-results-<date>-<time>):
            raw.jsonl (every JSON line), summary.tsv (the medians),
            results.md (the tables), sweep.png and sweep-<map>.dat (the sweep's
            chart and data), log.txt (the runs' stderr), probes.tsv (the
            core probe's readings before and after each process)
EOF
}

runs=5
repeat=1
pin=
pick=
quiet_wait=0
workloads=seed,flat,u64,sweep
items=
only=
build=${TMPDIR:-/tmp}/libhashmap-bench-build
do_build=1
while getopts r:R:p:P:q:w:n:m:b:Bh opt; do
    case $opt in
    r) runs=$OPTARG ;;
    R) repeat=$OPTARG ;;
    p) pin=$OPTARG ;;
    P) pick=$OPTARG ;;
    q) quiet_wait=$OPTARG ;;
    w) workloads=$OPTARG ;;
    n) items=$OPTARG ;;
    m) only=$OPTARG ;;
    b) build=$OPTARG ;;
    B) do_build=0 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -gt 1 ]; then
    usage >&2
    exit 2
fi
out=${1:-bench-results-$(date +%Y%m%d-%H%M%S)}

die() {
    echo "compare.sh: $*" >&2
    exit 2
}

case $runs in
'' | *[!0-9]*) die "-r wants a positive count, not '$runs'" ;;
esac
[ "$runs" -ge 1 ] || die "-r wants a positive count"
[ "$runs" -ge 3 ] || echo "compare.sh: note: $runs run(s) per map; use 3 or more for numbers you quote" >&2
case $repeat in
'' | *[!0-9]*) die "-R wants a count from 1 to 100, not '$repeat'" ;;
esac
if [ "$repeat" -lt 1 ] || [ "$repeat" -gt 100 ]; then
    die "-R wants a count from 1 to 100, not '$repeat'"
fi
case $quiet_wait in
'' | *[!0-9]*) die "-q wants seconds, not '$quiet_wait'" ;;
esac
[ -z "$pin" ] || [ -z "$pick" ] || die "-p and -P do not go together"
if [ -n "$pick" ]; then
    command -v taskset >/dev/null || die "-P needs taskset (Debian: util-linux)"
    for c in $(echo "$pick" | tr ',' ' '); do
        case $c in
        '' | *[!0-9]*) die "-P wants CPU numbers separated by commas, not '$pick'" ;;
        esac
        taskset -c "$c" true 2>/dev/null || die "-P: taskset cannot pin to CPU $c"
    done
fi
if [ -n "$pin" ]; then
    command -v taskset >/dev/null || die "-p needs taskset (Debian: util-linux)"
    taskset -c "$pin" true 2>/dev/null || die "-p: taskset cannot pin to CPUs '$pin'"
fi
for w in $(echo "$workloads" | tr ',' ' '); do
    case $w in
    seed | flat | u64 | sweep) ;;
    *) die "unknown workload '$w' (seed, flat, u64, sweep)" ;;
    esac
done
if [ -n "$items" ]; then
    # Checked here rather than by every binary in turn; 1e5 and 100_000 pass too.
    echo "$items" | grep -Eq '^[0-9_]+(\.[0-9]+)?([eE][0-9]+)?$' || die "-n wants a count, not '$items'"
fi

if [ "$do_build" = 1 ]; then
    echo "== building in $build (Release, -O2)" >&2
    fresh=
    [ -f "$build/CMakeCache.txt" ] || fresh=-DHASHMAP_BUILD_TESTS=OFF
    # shellcheck disable=SC2086  # $fresh is one word or none
    cmake -S "$repo" -B "$build" $fresh \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
        -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
        -DHASHMAP_BUILD_BENCH=ON -DHASHMAP_SANITIZE=OFF >/dev/null
    targets="hm_bench core_probe"
    if [ -f "$build/bench/peers/peers.txt" ]; then
        targets="hm_bench core_probe peers"
    fi
    # shellcheck disable=SC2086  # two target names
    cmake --build "$build" -j2 --target $targets >/dev/null
fi

hm_bench=$build/bench/hm_bench
[ -x "$hm_bench" ] || die "no $hm_bench: build first (or drop -B)"

# Every name of -m must be a peer of this build (or -m none, no peer at all):
# a misspelt one (boost for boost-flat), or one whose package was missing at
# configure, would otherwise leave that peer out without a word.
if [ -n "$only" ] && [ "$only" != none ]; then
    known=$(cut -d' ' -f1 "$build/bench/peers/peers.txt" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
    for name in $(echo "$only" | tr ',' ' '); do
        case " $known " in
        *" $name "*) ;;
        *) die "-m: no peer named '$name' in $build (its peers: ${known:-none}; or -m none alone)" ;;
        esac
    done
fi
mkdir -p "$out"
maps=$out/maps.txt
raw=$out/raw.jsonl
log=$out/log.txt
: >"$raw"
: >"$log"
probes=$out/probes.tsv
printf 'workload\trun\tmap\tbefore\tafter\tcpus\n' >"$probes"
# core_probe on CPUs $1 (none: unpinned), as the map runs: about 1.0 on a core
# of the process's own, 1.4 or more when the core's other hardware thread is
# busy (core_probe.c); - if it is not built. Read before and after each
# process, into probes.tsv.
core_probe=$build/bench/core_probe
probe() {
    reading=
    if [ -x "$core_probe" ]; then
        reading=$(${1:+taskset -c "$1"} "$core_probe" 2>/dev/null | cut -d' ' -f1)
    fi
    echo "${reading:--}"
}

# Sets cpus to where the next process runs and before to the probe's reading
# there: -p's CPUs, or with -P the CPU of the list that reads lowest.
choose_cpus() {
    cpus=$pin
    before=
    if [ -z "$pick" ]; then
        before=$(probe "$cpus")
        return
    fi
    for c in $(echo "$pick" | tr ',' ' '); do
        v=$(probe "$c")
        if [ -z "$before" ] || { [ "$v" != - ] &&
            awk -v a="$v" -v b="$before" 'BEGIN { exit !(a < b) }'; }; then
            cpus=$c
            before=$v
        fi
    done
}
printf 'libhashmap %s\n' "$hm_bench" >"$maps"
if [ -f "$build/bench/peers/peers.txt" ]; then
    while IFS= read -r line; do
        name=${line%% *}
        if [ -z "$only" ] || echo ",$only," | grep -q ",$name,"; then
            if [ -x "${line#* }" ]; then
                printf '%s\n' "$line" >>"$maps"
            elif [ -n "$only" ]; then
                echo "compare.sh: $name was configured but not built: left out" >&2
            fi
        fi
    done <"$build/bench/peers/peers.txt"
else
    echo "compare.sh: no peers were configured (bench/peers/ missing?): libhashmap alone" >&2
fi
# The same binary with --batched (hm_insert_many, hm_get_many and
# hm_remove_many; for seed hm_insert_many) runs as a map of its own, placed
# halfway round the list: a process finds the host's memory as its
# predecessor left it (on this project's machines the guest hands free 2 MiB
# blocks back to the host about 2 s after they are freed; until then, huge
# pages a libhashmap process freed are cheap for the next one to fault in
# again, and fresh memory is not), so neither libhashmap run follows the
# other.
half=$((($(wc -l <"$maps") + 1) / 2))
awk -v k="$half" -v line="libhashmap-batched $hm_bench" '{ print } NR == k { print line }' \
    "$maps" >"$maps.new" && mv "$maps.new" "$maps"
nmaps=$(wc -l <"$maps")
map_names=$(cut -d' ' -f1 "$maps" | tr '\n' ' ')
# the tables show the two libhashmap runs first
table_names="libhashmap libhashmap-batched $(echo "$map_names" | tr ' ' '\n' |
    grep -v '^libhashmap' | tr '\n' ' ')"
echo "== maps: $map_names" >&2

# One process: workload $1, map line $2 ("name path"); its JSON lines go to raw.
run_one() {
    name=${2%% *}
    exe=${2#* }
    workload=$1
    tmp=$out/.run.jsonl
    t0=$(date +%s)
    reps=$repeat
    [ "$1" = seed ] && reps=1 # see -R in usage
    choose_cpus
    waited=0
    while [ "$waited" -lt "$quiet_wait" ] && [ "$before" != - ] &&
        awk -v r="$before" 'BEGIN { exit !(r > 1.2) }'; do
        sleep 5
        waited=$((waited + 5))
        choose_cpus
    done
    echo "== $name --workload $1 ${items:+--items $items} --repeat $reps${cpus:+ (pinned to $cpus)}" >>"$log"
    [ "$waited" -gt 0 ] && echo "   waited ${waited}s for a quiet core" >>"$log"
    if [ -n "$items" ]; then
        set -- "$exe" --workload "$1" --repeat "$reps" --items "$items"
    else
        set -- "$exe" --workload "$1" --repeat "$reps"
    fi
    [ "$name" = libhashmap-batched ] && set -- "$@" --batched
    [ -n "$cpus" ] && set -- taskset -c "$cpus" "$@"
    if "$@" >"$tmp" 2>>"$log"; then
        cat "$tmp" >>"$raw"
        status=ok
    else
        status="FAILED (exit $?; see $log)"
        failed=$((failed + 1))
    fi
    rm -f "$tmp"
    after=$(probe "$cpus")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$workload" "$r" "$name" "$before" "$after" "${cpus:--}" >>"$probes"
    echo "   core probe before and after: $before $after" >>"$log"
    printf '  %-11s %4ss  %s  (core probe %s, %s%s)\n' "$name" $(($(date +%s) - t0)) "$status" \
        "$before" "$after" "${cpus:+ on CPU $cpus}" >&2
}

failed=0
for w in $(echo "$workloads" | tr ',' ' '); do
    r=1
    while [ "$r" -le "$runs" ]; do
        echo "== $w: run $r of $runs" >&2
        i=0
        while [ "$i" -lt "$nmaps" ]; do
            run_one "$w" "$(sed -n "$(((i + r - 1) % nmaps + 1))p" "$maps")"
            i=$((i + 1))
        done
        r=$((r + 1))
    done
done

# awk's median of a space-separated list of numbers, for the programs below.
awk_median='
    function median(list,    a, n, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) {
            t = a[i] + 0
            for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
                a[j + 1] = a[j]
            a[j + 1] = t
        }
        return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    '

# Reads the JSON lines (any key order; resize lines skipped) and writes the
# medians to summary.tsv, the sweep's medians to sweep-<map>.dat and the
# markdown tables to stdout. Columns: the maps in $order, then any other.
summarize() {
    awk -v order="$table_names floor floor-serial strings" -v dir="$out" "$awk_median"'
    function str(key) {
        if (!match($0, "\"" key "\":\"[^\"]*\""))
            return ""
        return substr($0, RSTART + length(key) + 4, RLENGTH - length(key) - 5)
    }
    function num(key) {
        if (!match($0, "\"" key "\":-?[0-9][0-9.eE+-]*"))
            return ""
        return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) + 0
    }
    function ns(x) {
        return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x)
    }
    function ratio(x, base) {
        return base > 0 ? sprintf(" (%.2fx)", x / base) : ""
    }
    function commas(n,    s) {
        s = sprintf("%d", n)
        while (s ~ /[0-9][0-9][0-9][0-9]/)
            sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
        return s
    }
    BEGIN {
        n = split(order, want, " ")
        for (i = 1; i <= n; i++)
            if (!(want[i] in inorder)) {
                inorder[want[i]] = 1
                norder++
                ordered[norder] = want[i]
            }
        split("insert get_hit get_miss remove reinsert iterate", chartph, " ")
    }
    {
        map = str("map"); w = str("workload"); ph = str("phase"); items = num("items")
        if (map == "" || w == "" || ph == "" || items == "" || ph == "resize")
            next
        g = w SUBSEP items
        if (!(g in gseen)) {
            gseen[g] = 1
            ng++
            groups[ng] = g; gw[ng] = w; gn[ng] = items
        }
        if (!((g, ph) in pseen)) {
            pseen[g, ph] = 1
            gph[g] = gph[g] " " ph
        }
        if (!(map in mseen)) {
            mseen[map] = 1
            nseen++
            seen[nseen] = map
        }
        k = g SUBSEP ph SUBSEP map
        nsl[k] = nsl[k] " " num("ns_per_op")
        rssl[k] = rssl[k] " " num("peak_rss_bytes")
        cnt[k]++
    }
    END {
        for (i = 1; i <= norder; i++)
            if (ordered[i] in mseen)
                col[++ncol] = ordered[i]
        for (i = 1; i <= nseen; i++)
            if (!(seen[i] in inorder))
                col[++ncol] = seen[i]
        tsv = dir "/summary.tsv"
        print "workload\titems\tphase\tmap\truns\tns_per_op\tpeak_rss_bytes" > tsv
        for (q = 1; q <= ng; q++) {
            g = groups[q]
            printf "\n### %s, N = %s\n\n| phase |", gw[q], commas(gn[q])
            for (c = 1; c <= ncol; c++)
                printf " %s |", col[c]
            printf "\n|:--|"
            for (c = 1; c <= ncol; c++)
                printf "--:|"
            printf "\n"
            np = split(gph[g], phs, " ")
            for (c = 1; c <= ncol; c++)
                peak[c] = 0
            for (p = 1; p <= np; p++) {
                bk = g SUBSEP phs[p] SUBSEP "libhashmap"
                base = bk in cnt ? median(nsl[bk]) : 0
                printf "| %s |", phs[p]
                for (c = 1; c <= ncol; c++) {
                    k = g SUBSEP phs[p] SUBSEP col[c]
                    if (!(k in cnt)) {
                        printf " - |"
                        continue
                    }
                    v = median(nsl[k]); r = median(rssl[k])
                    med[k] = v
                    if (r > peak[c])
                        peak[c] = r
                    printf " %s%s |", ns(v), col[c] == "libhashmap" ? "" : ratio(v, base)
                    printf "%s\t%d\t%s\t%s\t%d\t%.3f\t%.0f\n", gw[q], gn[q], phs[p], col[c], cnt[k], v, r > tsv
                }
                printf "\n"
            }
            base = 0
            for (c = 1; c <= ncol; c++)
                if (col[c] == "libhashmap")
                    base = peak[c]
            printf "| peak RSS, MiB |"
            for (c = 1; c <= ncol; c++)
                if (peak[c] > 0)
                    printf " %.1f%s |", peak[c] / 1048576, col[c] == "libhashmap" ? "" : ratio(peak[c], base)
                else
                    printf " - |"
            printf "\n"

            if (gw[q] == "sweep")
                for (c = 1; c <= ncol; c++) {
                    if (col[c] == "libhashmap-batched")
                        continue # phases of its own: not in the chart
                    line = gn[q]
                    any = 0
                    for (p = 1; p <= 6; p++) {
                        k = g SUBSEP chartph[p] SUBSEP col[c]
                        if (k in med) {
                            line = line "\t" med[k]
                            any = 1
                        } else
                            line = line "\tNaN"
                    }
                    if (any)
                        print line > (dir "/sweep-" col[c] ".dat")
                }
        }
    }' "$raw"
}

# One line for results.md: the core probe's readings (probes.tsv), and which
# processes had one over 1.2 before or after them: their figures may be slow.
probe_summary() {
    awk -F'\t' "$awk_median"'
    NR > 1 {
        procs++
        hi = 0
        for (f = 4; f <= 5; f++)
            if ($f != "-") {
                n++
                readings = readings " " $f
                if ($f + 0 > hi)
                    hi = $f + 0
            }
        if (hi > highest)
            highest = hi
        if (hi > 1.2) {
            busy++
            if (busy <= 12)
                list = list (busy > 1 ? ", " : "") sprintf("%s %s run %s (%.2f)", $3, $1, $2, hi)
        }
    }
    END {
        if (!n) {
            print "- core probe: not built (bench/core_probe.c)"
            exit
        }
        printf "- core probe before and after each process (bench/core_probe.c: about 1.0 on a core of\n"
        printf "  its own, 1.4 or more beside a busy hardware thread, where phases in the cache can\n"
        printf "  take up to 1.8x the time): median %.2f, highest %.2f; ", median(readings), highest
        if (busy)
            printf "over 1.2 around %d of %d\n  processes: %s%s\n", busy, procs, list, (busy > 12 ? ", ..." : "")
        else
            printf "none over 1.2 around\n  the %d processes\n", procs
    }' "$probes"
}

rm -f "$out"/sweep-*.dat "$out/sweep.png"
summarize >"$out/tables.md"

commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
{
    echo "# libhashmap against its peers"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: ${cpu:-unknown CPU}, $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs, $(uname -sr)"
    echo "- commit: $commit"
    echo "- compilers: $(cc --version 2>/dev/null | head -n 1), $(rustc --version 2>/dev/null || echo 'no rustc')"
    echo "- command: \`bench/compare.sh -r $runs${pin:+ -p $pin}${pick:+ -P $pick}$([ "$repeat" = 1 ] || echo " -R $repeat")$([ "$quiet_wait" = 0 ] || echo " -q $quiet_wait") -w $workloads${items:+ -n $items}${only:+ -m $only}\`"
    [ "$repeat" = 1 ] || echo "- each process ran the workload $repeat times (seed once) and reported the median of its runs"
    probe_summary
    echo "- each cell: the median over $runs processes of ns per operation; in brackets the"
    echo "  map's time over libhashmap's (above 1: libhashmap is faster). peak RSS: VmHWM of"
    echo "  the run, the largest over its phases; it includes the process itself (libc, and"
    echo "  libstdc++ or GLib for the C++ and GLib peers: a few MiB), so compare it at large N."
    echo "  floor: SipHash-1-3 of the same keys plus one random cache-line read per key in a"
    echo "  buffer of the table's size, keys made 32 at a time, each in its own buffer, and"
    echo "  hashed before their reads (hm_bench): no lookup that reads a slot can beat it."
    echo "  The floors hash as libhashmap does: where the processor has AVX-512VL or AVX2,"
    echo "  one key in a register pair (src/siphash_impl.h), else the scalar inline code. The"
    echo "  C and C++ peers hash with libhashmap's scalar inline SipHash; <name>-pair is the"
    echo "  same peer hashing in the register pair, inlined (built for AVX-512VL's pair where"
    echo "  it runs, else for AVX2's; cmake -DHASHMAP_PEER_PAIR=avx512|avx2|off to choose)."
    echo "  floor-serial: the same one key at a time (hash, read, next key), the way"
    echo "  one-key calls such as get and insert are made."
    echo "  strings (seed): the seed's strings made and freed with no map, their handles in"
    echo "  an array allocated up front: the part of a seed insert that is the workload's own."
    echo "  libhashmap-batched: the same keys 32 a call through hm_insert_many, hm_get_many"
    echo "  and hm_remove_many (seed: its inserts through hm_insert_many), which no peer has."
    echo
    cat "$out/tables.md"
} >"$out/results.md"
rm -f "$out/tables.md"

if [ -f "$out/sweep-libhashmap.dat" ]; then
    if command -v gnuplot >/dev/null 2>&1; then
        chart_maps=
        for m in $map_names floor; do
            if [ -f "$out/sweep-$m.dat" ]; then
                chart_maps="$chart_maps $m"
            fi
        done
        gnuplot -e "datadir='$out'; maps='$chart_maps'; outfile='$out/sweep.png'" \
            "$repo/bench/compare.gp" && printf '\n![sweep](sweep.png)\n' >>"$out/results.md"
    else
        echo "compare.sh: gnuplot not found: no chart (Debian: gnuplot-nox)" >&2
    fi
fi

cat "$out/results.md"
echo "== results in $out" >&2
if [ "$failed" -gt 0 ]; then
    echo "compare.sh: $failed run(s) failed; see $log" >&2
    exit 1
fi
