#!/bin/sh
# The distributed explorer's speedup and per-rank memory on this machine:
# one search (default bench/scenarios/scale-vmx-3vcpu.vtlb, pCPU symmetry off
# so that every run stores the same states) by the explorer in one process
# (row "one": one job, breadth-first) and by build/rel/vtlb-mpi on 1, 2 and
# 4 ranks.  Prints states, wall
# seconds, states/s, speedup over one rank, the explorer's own peak bytes
# per rank (visited set and queues, the figure --max-memory caps), each
# rank's peak resident set (GNU time's %M) and the CPU seconds of all ranks
# together (user + system): on a loaded machine the wall clock measures the
# load, the CPU time the work.  Skips, saying why, without
# mpirun or vtlb-mpi.  Ranks beyond the cores share them (--oversubscribe).
#
# usage: bench/mpi.sh [SCENARIO [explore options...]]
set -eu
cd "$(dirname "$0")/.."
file=${1:-bench/scenarios/scale-vmx-3vcpu.vtlb}
[ $# -gt 0 ] && shift
VTLB=build/rel/vtlb
MPI=build/rel/vtlb-mpi
if ! command -v mpirun >/dev/null 2>&1 || [ ! -x "$MPI" ]; then
	echo "mpi: no mpirun or $MPI (Debian: apt-get install openmpi-bin libopenmpi-dev); MPI speedup skipped"
	exit 0
fi
export TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=
root=
[ "$(id -u)" = 0 ] && root=--allow-run-as-root
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

row() { # name ranks json rss-files...
	name=$1; ranks=$2; json=$3; shift 3
	rss=$(cat "$@" 2>/dev/null | awk '{ printf "%s%.0f", (NR > 1 ? "/" : ""), $1 / 1024 }')
	cpu=$(cat "$@" 2>/dev/null | awk '{ c += $2 + $3 } END { printf "%.1f", c }')
	echo "$json" | NAME=$name RANKS=$ranks RSS=${rss:--} CPU=${cpu:--} BASE=${base:-0} perl -MJSON::PP -0ne '
		my $r = decode_json($_)->{results}[0];
		my $t = $r->{seconds};
		my $per = $r->{rank_memory} // $r->{memory};
		printf "%-6s %5s %9d %-6s %7.1f %9.0f %7s %7s %9s %8.0f  %s\n", $ENV{NAME}, $ENV{RANKS}, $r->{states},
		       $r->{status}, $t, $t > 0 ? $r->{states} / $t : 0,
		       $ENV{BASE} > 0 && $t > 0 ? sprintf("%.2f", $ENV{BASE} / $t) : "-", $ENV{CPU},
		       $ENV{CPU} > 0 ? sprintf("%.0f", $r->{states} / $ENV{CPU}) : "-", $per / 1048576, $ENV{RSS};
	'
}

echo "MPI speedup on $file $*, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-6s %5s %9s %-6s %7s %9s %7s %7s %9s %8s  %s\n" "search" "ranks" "states" "status" "time s" "states/s" \
	"speedup" "CPU s" "st/CPU s" "MiB/rank" "peak RSS MiB per rank"
json=$(${TIME:+$TIME -f "%M %U %S" -o $work/one.rss} "$VTLB" explore --json --no-symmetry "$@" "$file" || true)
row one 1 "$json" "$work/one.rss"
base=
for n in 1 2 4; do
	json=$(mpirun $root --oversubscribe -np "$n" sh -c \
		'exec ${TIME:+$TIME -f "%M %U %S" -o '"$work"'/r$OMPI_COMM_WORLD_RANK.rss} "$@"' sh \
		"$MPI" explore --json --no-symmetry "$@" "$file" 2>/dev/null || true)
	row mpi "$n" "$json" $(i=0; while [ $i -lt "$n" ]; do echo "$work/r$i.rss"; i=$((i + 1)); done)
	[ -n "$base" ] || base=$(echo "$json" | perl -MJSON::PP -0ne 'print decode_json($_)->{results}[0]{seconds}')
	rm -f "$work"/r*.rss
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
