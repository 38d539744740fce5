#!/bin/sh
# Checks hm_bench's output for consistency; never looks at a time.
#
#   check_bench.sh BENCH smoke WORKLOAD N MAX_LOAD|default REPEAT
#       runs the workload with --text and checks the JSON lines (every expected
#       map, workload, N and phase exactly once, nothing else; the resize chain:
#       doublings, the item that triggered each, the count) and the text blocks.
#   check_bench.sh BENCH batched
#       --batched on u64, sweep and seed: the lines of map libhashmap-batched,
#       phases insert, get_hit, get_miss, remove and reinsert once each per
#       workload and N (seed: insert and free), no floor, no resize line but
#       seed's, whose table grows from 16 buckets to 64, then doubles until it
#       holds N.
#   check_bench.sh BENCH resize-points
#       seed at max_load 0.7: the doubling of 1048576 buckets comes at item 734004.
#   check_bench.sh BENCH bad-args
#       bad options exit with status 2, a message and no output.
#   check_bench.sh BENCH ab AB_SH BUILD
#       bench/ab.sh with BUILD on both sides, one round, one copy: a header and
#       one line per u64 phase, each with two times and a ratio.
#   check_bench.sh BENCH compare COMPARE_SH BUILD
#       bench/compare.sh -B on BUILD, u64 at 2,000 entries, one run, -P with the
#       first CPU this process may use: its tables and the core probe's
#       readings (results.md's probe line; probes.tsv, a line per process with
#       two readings and the CPU). Before that, -m with a peer it does not know
#       ends it with a message and no results.
#   check_bench.sh BENCH strace N STRACE
#       docs/BENCH.md's rule under strace -f -e trace=memory: each resize of a table
#       past glibc's mmap threshold (128 KiB) makes exactly one mmap or mremap
#       and at most one munmap; no other resize and nothing else in the insert
#       phase maps or unmaps memory. Exits 77 (skipped) where strace cannot trace.
set -u

bench=$1
mode=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# check_json FILE WORKLOAD N MAX_LOAD FLOOR(1|0)
check_json() {
    awk -v W="$2" -v N="$3" -v ML="$4" -v FLOOR="$5" -v OUT="$tmp/resizes" '
    function fail(msg) { print "FAIL: line " NR ": " msg > "/dev/stderr"; bad = 1; exit 1 }
    function field(key,    re) {
        re = "\"" key "\":(\"[^\"]*\"|[0-9][0-9.]*)"
        if (!match($0, re)) fail("no " key)
        v = substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
        gsub(/"/, "", v)
        return v
    }
    function num(key,   v) {
        v = field(key)
        if (v !~ /^[0-9]+(\.[0-9]+)?$/) fail(key " is not a number: " v)
        return v + 0
    }
    function ispow2(x) { if (x < 1) return 0; while (x % 2 == 0) x /= 2; return x == 1 }
    function expect(w, n, phases,    k, np, p) {
        nb++; bw[nb] = w; bn[nb] = n
        np = split(phases, p, " ")
        for (k = 1; k <= np; k++) {
            want["libhashmap", w, n, p[k]] = 1
            if (FLOOR) want["floor", w, n, p[k]] = 1
            if (FLOOR && p[k] !~ /^(get_many|iterate|free)$/) want["floor-serial", w, n, p[k]] = 1
            if (FLOOR && w == "seed") want["strings", w, n, p[k]] = 1
        }
    }
    BEGIN {
        fixed = "insert get_hit get_many get_miss remove reinsert iterate"
        if (W == "seed" || W == "all") expect("seed", N, "insert free")
        if (W == "flat" || W == "all") expect("flat", N, fixed)
        if (W == "u64" || W == "all") expect("u64", N, fixed)
        if (W == "sweep" || W == "all") {
            ran = 0
            for (n = 1000; n <= 10000000 && n <= N; n *= 10) { expect("sweep", n, fixed); ran++ }
            if (!ran) expect("sweep", N, fixed)
        }
    }
    {
        if ($0 !~ /^\{"map":"[a-z-]+","workload":"[a-z0-9]+","items":[0-9]+,"phase":"[a-z_]+",.*\}$/)
            fail("not a JSON line of the expected shape: " $0)
        map = field("map"); w = field("workload"); n = num("items"); ph = field("phase")
        if (ph == "resize") {
            b = w SUBSEP n
            if (map != "libhashmap") fail("resize of map " map)
            k = num("index")
            if (k != nres[b] + 0) fail("resize index " k " after " nres[b] + 0 " resizes")
            old = num("old_buckets"); new = num("new_buckets"); es = num("entry_size")
            at = num("at_item"); during = field("during")
            if (num("new_bytes") < new * es) fail("new_bytes below new_buckets * entry_size")
            num("len"); num("ns")
            # Under 1 MiB the bench reads no /proc for a resize (hm_bench.c,
            # PROC_READ_MIN_TABLE): scope none and 0 there, figures elsewhere.
            if (num("new_bytes") < 1048576) {
                if (field("peak_scope") != "none") fail("peak_scope of a table under 1 MiB")
                if (num("peak_rss_bytes") != 0 || num("rss_bytes") != 0) fail("RSS figure not read")
            } else {
                if (num("peak_rss_bytes") <= 0 || num("rss_bytes") <= 0) fail("no RSS figure")
                if (field("peak_scope") !~ /^(resize|process)$/) fail("bad peak_scope")
            }
            if (!ispow2(new)) fail("new_buckets " new " is not a power of two")
            if (k > 0 && old != rnew[b, k - 1]) fail("old_buckets " old " != previous new_buckets")
            if (old > 0 && new != 2 * old) fail("not a doubling: " old " -> " new)
            # Removing N/2 keys and putting them back never passes N entries:
            # a table that grows then has grown with room to spare.
            if (during != "insert") fail("a resize during " during)
            if (at != int(old * ML) + 1)
                fail("resize " old " -> " new " at item " at ", expected " int(old * ML) + 1)
            if (at > n) fail("resize at item " at " of " n)
            want_es = (w == "u64") ? 16 : 48
            if (es != want_es) fail("entry_size " es ", expected " want_es)
            rold[b, k] = old; rnew[b, k] = new; nres[b]++
            resizes++
            next
        }
        num("ns_per_op")
        if (num("peak_rss_bytes") <= 0) fail("peak_rss_bytes not positive")
        key = map SUBSEP w SUBSEP n SUBSEP ph
        if (!(key in want)) fail("unexpected line: " $0)
        if (key in seen) fail("duplicate line: " $0)
        seen[key] = 1
    }
    END {
        if (bad) exit 1
        for (key in want)
            if (!(key in seen)) {
                split(key, p, SUBSEP)
                print "FAIL: missing " p[1] " " p[2] " N=" p[3] " phase " p[4] > "/dev/stderr"
                exit 1
            }
        for (i = 1; i <= nb; i++) {
            b = bw[i] SUBSEP bn[i]; c = nres[b] + 0
            if (c == 0 && bw[i] != "seed") {
                # A map created empty reports its first table as a resize from 0.
                print "FAIL: " bw[i] " N=" bn[i] ": no resize" > "/dev/stderr"; exit 1
            }
            last = c ? rnew[b, c - 1] : 16
            if (int(last * ML) < bn[i]) {
                print "FAIL: " bw[i] ": final table of " last " buckets cannot hold " bn[i] > "/dev/stderr"
                exit 1
            }
            if (bw[i] == "seed") {
                # The seed map starts at 16 buckets and doubles only when full.
                B = 16; d = 0
                while (int(B * ML) < bn[i]) { B *= 2; d++ }
                if ((c && rold[b, 0] != 16) || c != d) {
                    print "FAIL: seed N=" bn[i] ": " c " resizes from " rold[b, 0] \
                          ", expected " d " from 16" > "/dev/stderr"
                    exit 1
                }
            }
        }
        print resizes + 0 > OUT
    }' "$1"
}

run_smoke() {
    w=$1 n=$2 ml=$3 r=$4
    if [ "$ml" = default ]; then
        set -- --workload "$w" --items "$n" --repeat "$r" --text
        ml=0.875
    else
        set -- --workload "$w" --items "$n" --repeat "$r" --max-load "$ml" --text
    fi
    "$bench" "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; fail "hm_bench $* exited $?"; }
    check_json "$tmp/out" "$w" "$n" "$ml" 1 || fail "JSON output of hm_bench $*"
    blocks=$(grep -c '^Resize Stats:$' "$tmp/err")
    [ "$blocks" = "$(cat "$tmp/resizes")" ] ||
        fail "$blocks Resize Stats blocks for $(cat "$tmp/resizes") resize lines"
    grep -q '^Summary:' "$tmp/err" || fail "no summary on stderr"
    echo "ok: $(wc -l <"$tmp/out") lines, $blocks resizes"
}

case $mode in
batched)
    "$bench" --batched --workload u64 --items 3000 >"$tmp/out" 2>"$tmp/err" &&
        "$bench" --batched --workload sweep --items 10000 >>"$tmp/out" 2>>"$tmp/err" &&
        "$bench" --batched --workload seed --items 3000 >>"$tmp/out" 2>>"$tmp/err" ||
        { cat "$tmp/err" >&2; fail "hm_bench --batched exited $?"; }
    awk 'BEGIN { want["u64", 3000] = 1; want["sweep", 1000] = 1; want["sweep", 10000] = 1
                 want["seed", 3000] = 1; buckets = 16 }
         function fail(msg) { print "FAIL: " msg > "/dev/stderr"; bad = 1; exit 1 }
         function num(key,   v) {
             if (!match($0, "\"" key "\":[0-9]+")) fail("no " key ": " $0)
             return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) + 0
         }
         /^\{"map":"libhashmap-batched","workload":"seed","items":3000,"phase":"resize",/ {
             # The first call needs room for a whole batch: 16 buckets become 64.
             if (num("index") != resizes++) fail("resize out of order: " $0)
             if (num("old_buckets") != buckets) fail("old_buckets: " $0)
             buckets = num("new_buckets")
             if (buckets != (resizes == 1 ? 64 : 2 * num("old_buckets")))
                 fail("new_buckets: " $0)
             next
         }
         { if ($0 !~ /^\{"map":"libhashmap-batched","workload":"[a-z0-9]+","items":[0-9]+,"phase":"(insert|get_hit|get_miss|remove|reinsert|free)","ns_per_op":[0-9.]+,"peak_rss_bytes":[0-9]+\}$/)
               fail("unexpected line: " $0)
           split($0, f, "\""); w = f[8]; split($0, g, "\"items\":"); n = g[2] + 0
           split($0, h, "\"phase\":\""); split(h[2], ph, "\"")
           if (!((w, n) in want)) fail("workload " w " N " n)
           if (w == "seed" ? ph[1] !~ /^(insert|free)$/ : ph[1] == "free")
               fail("phase " ph[1] " of " w)
           if (seen[w, n, ph[1]]++) fail("twice: " $0)
           lines++ }
         END { if (bad) exit 1
               if (lines != 17) fail(lines + 0 " lines, not 17")
               if (int(buckets * 0.875) < 3000)
                   fail("seed: " buckets " buckets cannot hold 3000") }' \
        "$tmp/out" || fail "--batched output"
    echo "ok: $(wc -l <"$tmp/out") lines"
    ;;
smoke)
    [ $# -eq 4 ] || fail "usage: smoke WORKLOAD N MAX_LOAD REPEAT"
    run_smoke "$@"
    ;;
resize-points)
    "$bench" --workload seed --items 800000 --max-load 0.7 --no-floor --text \
        --seed 000102030405060708090a0b0c0d0e0f >"$tmp/out" 2>"$tmp/err" || fail "hm_bench exited $?"
    check_json "$tmp/out" seed 800000 0.7 0 || fail "JSON output"
    awk 'BEGIN { want[1] = "Resize Stats:"
                 want[2] = "  Old capacity: 1048576, New capacity: 2097152"
                 want[3] = "  Entry size: 48 bytes"
                 want[4] = "  New vec size: 100663296 bytes"
                 want[5] = "  Current size (items): 734004" }
         { if ($0 == want[k + 1]) { if (++k == 5) found = 1 } else k = ($0 == want[1]) }
         END { exit !found }' "$tmp/err" || { cat "$tmp/err" >&2; fail "no resize block at item 734004"; }
    grep -q '"old_buckets":1048576,"new_buckets":2097152' "$tmp/out" &&
        grep -q '"at_item":734004' "$tmp/out" || fail "no JSON resize record at item 734004"
    echo "ok: 1048576 -> 2097152 at item 734004"
    ;;
bad-args)
    bad=0
    while IFS= read -r args; do
        # shellcheck disable=SC2086 # word splitting of the argument list is wanted
        "$bench" $args >"$tmp/out" 2>"$tmp/err"
        rc=$?
        if [ $rc -ne 2 ] || [ -s "$tmp/out" ] || ! grep -q '^hm_bench: ' "$tmp/err"; then
            echo "FAIL: hm_bench $args: status $rc, stdout $(wc -c <"$tmp/out") bytes" >&2
            bad=1
        fi
    done <<'EOF'
--workload nope
--workload
--items 0
--items abc
--items -5
--items 1e20
--items 12x
--repeat 0
--repeat 101
--max-load 1
--max-load 0
--max-load -0.5
--max-load abc
--max-load nan
--seed 0123
--seed zz0102030405060708090a0b0c0d0e0f
--text=1
--bogus
extra
EOF
    "$bench" --help >"$tmp/out" 2>"$tmp/err" && grep -q '^usage: hm_bench' "$tmp/out" ||
        { echo "FAIL: --help" >&2; bad=1; }
    [ $bad -eq 0 ] || exit 1
    echo "ok: bad arguments refused"
    ;;
ab)
    [ $# -eq 2 ] || fail "usage: ab AB_SH BUILD"
    sh "$1" -k 1 -c 1 -p 0 "$2" "$2" -- --workload u64 --items 1000 >"$tmp/out" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; fail "ab.sh exited $?"; }
    awk 'BEGIN { split("insert get_hit get_many get_miss remove reinsert iterate", want, " ") }
         NR == 1 { bad = $1 != "workload" || $NF != "B/A"; next }
         $1 != "u64" || $2 != 1000 || $3 != want[NR - 1] || $4 <= 0 || $5 <= 0 ||
             $6 !~ /^[0-9.]+x$/ { bad = 1 }
         END { exit bad || NR != 8 }' "$tmp/out" || { cat "$tmp/out" >&2; fail "ab.sh output"; }
    echo "ok: ab.sh prints 7 phases with ratios"
    ;;
compare)
    [ $# -eq 2 ] || fail "usage: compare COMPARE_SH BUILD"
    command -v taskset >/dev/null || { echo "SKIP: no taskset"; exit 77; }
    cpu=$(taskset -cp $$ | sed 's/.*: //; s/[,-].*//')
    if sh "$1" -B -b "$2" -r 1 -m no-such-peer -w u64 -n 2000 "$tmp/bad" >"$tmp/out" 2>"$tmp/err"; then
        fail "compare.sh ran with -m no-such-peer"
    fi
    grep -q "^compare.sh: -m: no peer named 'no-such-peer'" "$tmp/err" ||
        { cat "$tmp/err" >&2; fail "compare.sh: no message for -m no-such-peer"; }
    [ ! -e "$tmp/bad" ] || fail "compare.sh wrote results for -m no-such-peer"
    sh "$1" -B -b "$2" -r 1 -R 2 -P "$cpu" -q 0 -m none -w u64 -n 2000 "$tmp/res" >"$tmp/out" 2>"$tmp/err" ||
        { rc=$?; cat "$tmp/err" >&2; fail "compare.sh exited $rc"; }
    grep -q '^### u64, N = 2,000$' "$tmp/res/results.md" || fail "no u64 table in results.md"
    grep -q '^- core probe before and after each process' "$tmp/res/results.md" ||
        fail "no core probe line in results.md"
    awk -F'\t' -v cpu="$cpu" '
        NR == 1 { bad = $0 != "workload\trun\tmap\tbefore\tafter\tcpus"; next }
        { seen[$3]++
          if (NF != 6 || $1 != "u64" || $2 != 1 || $4 !~ /^[0-9]+\.[0-9][0-9]$/ ||
              $5 !~ /^[0-9]+\.[0-9][0-9]$/ || $4 <= 0 || $5 <= 0 || $6 != cpu) bad = 1 }
        END { exit bad || NR != 3 || seen["libhashmap"] != 1 || seen["libhashmap-batched"] != 1 }' \
        "$tmp/res/probes.tsv" || { cat "$tmp/res/probes.tsv" >&2; fail "probes.tsv"; }
    echo "ok: compare.sh refuses an unknown peer, writes its tables and two probe readings per process"
    ;;
strace)
    [ $# -eq 2 ] || fail "usage: strace N STRACE"
    n=$1 strace=$2
    if ! "$strace" -o /dev/null true 2>/dev/null; then
        echo "SKIP: $strace cannot trace here (ptrace refused?)"
        exit 77
    fi
    "$strace" -f -e trace=memory -o "$tmp/trace" "$bench" --workload seed --items "$n" \
        --repeat 1 --no-floor --strace-marks >"$tmp/out" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; fail "strace hm_bench exited $?"; }
    check_json "$tmp/out" seed "$n" 0.875 0 || fail "JSON output"
    grep '"phase":"resize"' "$tmp/out" |
        sed 's/.*"new_bytes":\([0-9]*\).*/\1/' >"$tmp/bytes"
    # Windows between marks: mark 0 starts the insert phase, mark k+1 is resize
    # k's callback (after the resize), the last mark ends the phase.
    # Past glibc's mmap threshold (T) a resize makes one mapping call and at
    # most one munmap; a table of 64 MiB or more (BIG) grows in place, so
    # none of its resizes may unmap anything.
    awk -v T=131072 -v BIG=67108864 -v BYTES="$tmp/bytes" '
        BEGIN { while ((getline b < BYTES) > 0) nbytes[nr++] = b }
        { sub(/^(\[pid +[0-9]+\] +|[0-9]+ +)/, "") }
        /^madvise\(NULL, 0, MADV_NORMAL\)/ { marks++; next }
        marks == 0 { next }
        /^(mmap|mmap2|mremap)\(/ { maps[marks - 1]++ }
        /^munmap\(/ { unmaps[marks - 1]++ }
        END {
            if (marks != nr + 2) {
                print "FAIL: " marks " marks for " nr " resizes" > "/dev/stderr"; exit 1
            }
            big = 0
            for (k = 0; k <= nr; k++) {
                m = maps[k] + 0; u = unmaps[k] + 0
                past = k < nr && nbytes[k] + 0 >= T
                big += past
                what = k < nr ? "resize " k " (" nbytes[k] " bytes)" : "after the last resize"
                huge = k < nr && nbytes[k] + 0 >= BIG
                if (past ? (m != 1 || u > (huge ? 0 : 1)) : (m != 0 || u != 0)) {
                    print "FAIL: " what ": " m " mapping calls, " u " munmaps" > "/dev/stderr"
                    exit 1
                }
            }
            if (big == 0) { print "FAIL: no table past the mmap threshold" > "/dev/stderr"; exit 1 }
            print "ok: " big " of " nr " resizes past the mmap threshold, one mapping call each, no munmap for tables of 64 MiB or more"
        }' "$tmp/trace" || { grep -E 'mmap|mremap|munmap|madvise' "$tmp/trace" | tail -n 60 >&2; exit 1; }
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
