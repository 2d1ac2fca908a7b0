#!/bin/sh
# SPIN beside vtlb on the same two searches (bench/spin/README.md):
#   small  scenarios/explore/vmx-migrate-flush.vtlb   vmx_migrate.pml
#   scale  bench/scenarios/scale-vmx-3vcpu.vtlb       vmx_migrate.pml -DSCALE
# For each: states stored, seconds, states/s, CPU seconds (user + system,
# from /usr/bin/time: on a loaded machine the wall clock measures the load)
# and states per CPU second, bytes per state, for SPIN (full state vectors,
# then -DCOLLAPSE) and for vtlb (one job, pCPU symmetry off, as the Promela
# model has none).  Skips, saying why, without spin or gcc.
#
# usage: bench/spin/run.sh [VTLB]     (default build/rel/vtlb)
set -eu
cd "$(dirname "$0")/../.."
VTLB=${1:-build/rel/vtlb}
if ! command -v spin >/dev/null 2>&1; then
	echo "spin: not installed (Debian: apt-get install spin); SPIN comparison skipped"
	exit 0
fi
CC=${SPIN_CC:-cc}
work=$(mktemp -d)
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=
cpu() { # the CPU seconds /usr/bin/time wrote to $1, or -
	[ -s "$1" ] && awk '{ printf "%.2f", $1 + $2 }' "$1" || printf -- -
}
trap 'rm -rf "$work"' EXIT INT TERM

# -o2: keep every variable in the state vector, including the two that
# nothing reads (key, root), so that SPIN stores the states vtlb stores.
# 2^26 hash slots; SAFETY: no cycle detection; NOREDUCE: no partial-order
# reduction (one process: it would change nothing).
pan() { # name pan-flags spin-defines...
	name=$1; flags=$2; shift 2
	mkdir -p "$work/$name"
	cp bench/spin/vmx_migrate.pml "$work/$name/"
	(cd "$work/$name" && spin -o2 -a "$@" vmx_migrate.pml >/dev/null &&
		$CC -O2 -w -DSAFETY -DNOREDUCE -DMEMLIM=8192 $flags -o pan pan.c &&
		${TIME:+$TIME -f "%U %S" -o cpu} ./pan -w26 >out 2>&1) || true
	c=$(cpu "$work/$name/cpu")
	out="$work/$name/out"
	st=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$out")
	t=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$out")
	mem=$(sed -n 's/^ *\([0-9.]*\)[[:space:]]*actual memory usage for states.*/\1/p' "$out")
	tot=$(sed -n 's/^ *\([0-9.]*\)[[:space:]]*total actual memory usage.*/\1/p' "$out")
	err=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out")
	awk -v n="$name" -v s="${st:-0}" -v t="${t:-0}" -v c="$c" -v m="${mem:-0}" -v tot="${tot:-0}" -v e="${err:-?}" 'BEGIN {
		r = t > 0 ? s / t : 0
		printf "%-22s %9d %8.2f %10.0f %7s %9s %8.1f %9.1f %6s\n", n, s, t, r, c,
		       (c > 0 ? sprintf("%.0f", s / c) : "-"), (s ? m * 1048576 / s : 0), (s ? tot * 1048576 / s : 0), e
	}'
}

vtlb() { # name file
	out=$(${TIME:+$TIME -f "%U %S" -o $work/vtlb.cpu} "$VTLB" explore --json --no-symmetry "$2" || true)
	c=$(cpu "$work/vtlb.cpu")
	echo "$out" | NAME=$1 CPU=$c perl -MJSON::PP -0ne '
		my $r = decode_json($_)->{results}[0];
		my $c = $ENV{CPU};
		printf "%-22s %9d %8.2f %10.0f %7s %9s %8.1f %9s %6s\n", $ENV{NAME}, $r->{states}, $r->{seconds},
		       $r->{seconds} > 0 ? $r->{states} / $r->{seconds} : 0, $c, $c > 0 ? sprintf("%.0f", $r->{states} / $c) : "-",
		       $r->{memory} / $r->{states}, "-", $r->{status} eq "clean" ? 0 : 1;
	'
}

echo "SPIN $(spin -V | sed -n 's/^Spin Version \([^ ]*\).*/\1/p') beside vtlb, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-22s %9s %8s %10s %7s %9s %8s %9s %6s\n" "search" "states" "time s" "states/s" "CPU s" "st/CPU s" "B/state" \
	"RSS/state" "errors"
pan spin-small ""
pan spin-small-collapse -DCOLLAPSE
vtlb vtlb-small scenarios/explore/vmx-migrate-flush.vtlb
pan spin-scale "" -DSCALE
pan spin-scale-collapse -DCOLLAPSE -DSCALE
vtlb vtlb-scale bench/scenarios/scale-vmx-3vcpu.vtlb
# the fix reverted: SPIN must find the stale access (errors: 1)
pan spin-small-FIX=0 "" -DFIX=0
echo "(SPIN counts one state more: its initial state before the model's initialising step.)"
