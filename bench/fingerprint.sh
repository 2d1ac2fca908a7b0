#!/bin/sh
# The behaviour of a vtlb build, for checking that a speed change changed
# nothing else: `explore --json` over every bundled exploration and the
# bench searches (breadth-first and depth-first), one counterexample, and
# `vtlb run scenarios/`, with times, rates and memory figures removed.
# Two builds that behave the same give byte-identical files.
#
#   bench/fingerprint.sh [VTLB] [OUTFILE]      (from the top of the tree)
#   cmp before.txt after.txt
V=${1:-build/rel/vtlb}
OUT=${2:-/dev/stdout}
{
	$V explore --json scenarios/explore/ bench/scenarios/*.vtlb
	$V explore --json --dfs scenarios/explore/ bench/scenarios/*.vtlb
	$V explore --json --revert ppc-clear-after-flush scenarios/explore/ppc-clear-after-flush.vtlb
	$V run scenarios/
} 2>&1 | perl -pe 's/"(seconds|memory|peak_memory|stored_bytes|rate|states_per_s|elapsed)":[0-9.e+-]+,?//g;
	s/[0-9.]+ MiB \([0-9]+ B\/state\), [0-9.]+ s//g; s/[0-9.]+ s\b//g' >"$OUT"
