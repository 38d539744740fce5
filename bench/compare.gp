# The sweep's chart for bench/compare.sh: ns per operation against N, one
# panel a phase, one line a map. compare.sh sets:
#   datadir  the directory of sweep-<map>.dat (columns: N, then the medians of
#            insert get_hit get_miss remove reinsert iterate; NaN: not run)
#   maps     the maps to draw, space-separated
#   outfile  the PNG to write

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1500,900 font "sans,10"
} else {
    set terminal png size 1500,900
}
set output outfile

phases = "insert get_hit get_miss remove reinsert iterate"
file(m) = sprintf("%s/sweep-%s.dat", datadir, m)
# One colour a map, whatever subset is drawn; libhashmap stands out and the
# floor is the dashed line under everyone.
color(m) = m eq "libhashmap" ? "#9400d3" : m eq "rust-std" ? "#d95f02" : \
           m eq "absl-flat" ? "#1b9e77" : m eq "boost-flat" ? "#3b6fd4" : \
           m eq "glib" ? "#e7298a" : m eq "uthash" ? "#66a61e" : \
           m eq "khash" ? "#a6761d" : m eq "floor" ? "#000000" : "#808080"
width(m) = m eq "libhashmap" ? 3 : 1.5
dash(m) = m eq "floor" ? 2 : 1

set datafile missing "NaN"
set logscale x 10
set format x "10^{%L}"
set autoscale xfix
set offsets graph 0.04, graph 0.04, 0, 0
set logscale y 2
set grid xtics ytics
set xlabel "N (entries)"
set ylabel "ns per operation"

set multiplot title "flat workload (16-byte key, 32-byte value), SipHash-1-3: median ns per operation against N" noenhanced
unset key
do for [p = 1:6] {
    set origin ((p - 1) % 3) / 3.0, (p <= 3 ? 0.45 : 0.0)
    set size 1 / 3.0, 0.45
    set title word(phases, p) noenhanced
    plot for [m in maps] file(m) using 1:(column(p + 1)) with linespoints \
         lc rgb color(m) lw width(m) dt dash(m) pt 7 ps 0.6 notitle
}
# One key for the six panels, in a row under the title: a plot of nothing
# across the whole width.
set origin 0, 0.9
set size 1, 0.06
unset title
unset xlabel
unset ylabel
unset tics
unset border
unset grid
unset logscale
set xrange [0:1]
set yrange [0:1]
set key center center horizontal maxrows 1 noenhanced
plot for [m in maps] NaN with linespoints lc rgb color(m) lw width(m) dt dash(m) pt 7 ps 0.6 title m
unset multiplot
