#!/usr/bin/perl
# The distributed explorer under a real MPI job (build/san/vtlb-mpi under
# mpirun, 2 ranks, and 4 on one search): the same states and verdicts as
# one process, a counterexample that replays with 'vtlb run', and a swarm
# whose results do not depend on the number of ranks.  Skipped, saying why,
# where Open MPI is not installed (.ci/run installs it: openmpi-bin,
# libopenmpi-dev).  The algorithm itself is also tested without MPI, on
# thread ranks, by tests/unit/dist.c.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP qw(decode_json);
require './tests/lib.pl';

my $bin = $ENV{VTLB_MPI} // 'build/vtlb-mpi';
my ($mpirun) = grep { -x "$_/mpirun" } split /:/, $ENV{PATH};
plan skip_all => 'mpirun not found: install Open MPI (openmpi-bin libopenmpi-dev) to test vtlb-mpi' unless $mpirun;
plan skip_all => "$bin not built (the Makefile builds it where mpicc is found)" unless -x $bin;

# Open MPI's own allocations outlive MPI_Finalize: leak checking stays on
# for the library through tests/unit/dist.c.
$ENV{ASAN_OPTIONS} = 'detect_leaks=0:abort_on_error=1';
my @mpi = ("$mpirun/mpirun", '--oversubscribe', ($> == 0 ? '--allow-run-as-root' : ()));
our $VTLB;

sub mpi {
    my ($np, @args) = @_;
    local $VTLB = $mpi[0];
    return run_vtlb(@mpi[1 .. $#mpi], '-np', $np, $bin, @args);
}

sub states { my ($out) = @_; my ($n) = $out =~ /: (\d+) states/; return $n // -1 }

my $dir = tempdir(CLEANUP => 1);
my $one = 'scenarios/explore/vmx-migrate-flush.vtlb';
my $ppc = 'scenarios/explore/ppc-smt8.vtlb';

for my $f ($one, 'scenarios/explore/svm-cpu-new-asid.vtlb', $ppc) {
    my ($s1, $o1) = run_vtlb('explore', '--no-symmetry', $f);
    my ($s2, $o2, $e2) = mpi(2, 'explore', '--no-symmetry', $f);
    is($s2, 0, "mpi.r2.$f exits 0") or diag($o2, $e2);
    like($o2, qr/^ok\s+\S+\s+clean as expected, exhaustive within depth \d+.*; 2 ranks/m, "mpi.r2.$f clean, over 2 ranks");
    is(states($o2), states($o1), "mpi.r2.$f stores the states one process stores");
}
{
    my ($s1, $o1) = run_vtlb('explore', '--no-symmetry', $ppc);
    my ($s4, $o4, $e4) = mpi(4, 'explore', '--no-symmetry', $ppc);
    is($s4, 0, 'mpi.r4 exits 0') or diag($o4, $e4);
    is(states($o4), states($o1), 'mpi.r4 stores the states one process stores');
}

# with pCPU symmetry: the same states, steps and skipped loads as one process
{
    my $f = 'bench/scenarios/scale-svm-2vcpu.vtlb';
    my ($s1, $o1) = run_vtlb('explore', '--json', $f);
    is($s1, 0, 'mpi.symmetry one process exits 0');
    my ($s2, $o2, $e2) = mpi(2, 'explore', '--json', $f);
    is($s2, 0, 'mpi.symmetry exits 0') or diag($o2, $e2);
    my ($r1, $r2) = map { decode_json($_)->{results}[0] } $o1, $o2;
    ok($r1->{symmetry} && $r1->{pruned} > 0, 'mpi.symmetry one process skips loads onto interchangeable pCPUs');
    is_deeply([@{$r2}{qw(states transitions pruned)}], [@{$r1}{qw(states transitions pruned)}],
              'mpi.symmetry 2 ranks: the same states, steps and skipped loads');
    # memory: the ranks' peaks summed; peak_memory: the largest (--max-memory is per rank)
    ok($r2->{peak_memory} > 0 && $r2->{peak_memory} <= $r2->{memory} && 2 * $r2->{peak_memory} >= $r2->{memory},
       'mpi.peak_memory is the most one of the 2 ranks held') or diag(explain $r2);
    my ($s3, $o3, $e3) = mpi(2, 'explore', '--json', '--no-por', $f);
    is($s3, 0, 'mpi.symmetry --no-por exits 0') or diag($o3, $e3);
    my $r3 = decode_json($o3)->{results}[0];
    is_deeply([@{$r3}{qw(states transitions pruned)}], [$r1->{states}, $r1->{transitions} + $r1->{pruned}, 0],
              'mpi.symmetry --no-por 2 ranks: the same states, every load taken');
}

# a cap too small to begin with: incomplete, as one process says, not an error
for my $cap ('1K', '32K') {
    my ($s, $o, $e) = mpi(2, 'explore', '--max-memory', $cap, $one);
    is($s, 0, "mpi.cap $cap exits 0") or diag($o, $e);
    like($o, qr/^INCOMPLETE .*memory cap reached/m, "mpi.cap $cap: incomplete, the memory cap");
}

# a violation found on some rank: traced back, shrunk, emitted, replayed
my $emit = "$dir/ce.vtlb";
my ($s, $o, $e) = mpi(2, 'explore', '--revert', 'x86-vmx-migrate-flush', '--emit', $emit, $one);
is($s, 1, 'mpi.violation exits 1') or diag($o, $e);
my ($found) = $o =~ /^((?:STALE|BREACH) .*)$/m;
ok($found, 'mpi.violation prints the finding');
ok(-s $emit, 'mpi.violation emits a scenario');
my ($s3, $o3, $e3) = run_vtlb('run', '--revert', 'x86-vmx-migrate-flush', $emit);
is($s3, 0, 'mpi.violation the emitted scenario replays as expected') or diag($o3, $e3);
($s, $o) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', $one);
my ($n1) = $o =~ /counterexample in (\d+) steps/;
($s, $o) = mpi(2, 'explore', '--revert', 'x86-vmx-migrate-flush', $one);
my ($n2) = $o =~ /counterexample in (\d+) steps/;
is($n2, $n1, 'mpi.violation shrinks to the length one process reports');

# the counterexample as found: the least choices among the shortest paths,
# the same on 1, 2 and 3 ranks whichever rank found a violation first, and
# (without pCPU symmetry, where both expand the same states) the one
# process's
for my $f ($one, 'scenarios/explore/found/x86-entry-mode-mb.vtlb') {
    my @args = ('explore', '--json', '--no-shrink', '--no-symmetry', $f =~ m{/found/} ? () : ('--revert', 'x86-vmx-migrate-flush'), $f);
    my $cx = sub { JSON::PP->new->canonical->encode(decode_json($_[0])->{results}[0]{counterexample} // []) };
    my ($s1, $o1) = run_vtlb(@args);
    for my $np (1, 2, 3) {
        my ($sn, $on, $en) = mpi($np, @args);
        # a must-find file meets its expectation: exit 0
        is($sn, $f =~ m{/found/} ? 0 : 1, "mpi.counterexample $f r$np: a violation") or diag($en);
        is($cx->($on), $cx->($o1), "mpi.counterexample $f r$np: the one the one-process search reports");
    }
}

# swarm: the same searches whatever the number of ranks, never exhaustive
my @sw = ('explore', '--swarm', '6', '--swarm-states', '60', '--seed', '4', $ppc);
my ($t1, $w1) = run_vtlb(@sw);
my ($t2, $w2, $we) = mpi(2, @sw);
is($t2, 0, 'mpi.swarm exits 0') or diag($w2, $we);
like($w2, qr/^INCOMPLETE .*NOT exhaustive.*swarm of 6 searches/m, 'mpi.swarm says incomplete');
unlike($w2, qr/^(?:clean |ok\s+\S+\s+clean as expected)|exhaustive within/m, 'mpi.swarm never says clean');
is(states($w2), states($w1), 'mpi.swarm counts the states one process counts');

# the core binary says where --mpi lives
($s, $o, $e) = run_vtlb('explore', '--mpi', $one);
is($s, 2, 'mpi.core-binary --mpi is a usage error');
like($e, qr/vtlb-mpi/, 'mpi.core-binary names vtlb-mpi');
done_testing;
