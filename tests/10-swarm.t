#!/usr/bin/perl
# Swarm mode in one process: never reported exhaustive, reproducible from its
# seed, finds a planted bug and emits a counterexample that replays; its
# options are checked like every other.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
require './tests/lib.pl';

my $dir = tempdir(CLEANUP => 1);
my $one = 'scenarios/explore/ppc-smt8.vtlb';
my @sw = ('explore', '--swarm', '5', '--swarm-states', '80');

my ($st, $out, $err) = run_vtlb(@sw, '--seed', '3', $one);
is($st, 0, 'swarm exits 0 without a violation') or diag($out, $err);
like($out, qr/^INCOMPLETE .*NOT exhaustive .*swarm of 5 searches \(0 found a violation\)/m, 'swarm says incomplete');
unlike($out, qr/^(?:clean |ok\s+\S+\s+clean as expected)|exhaustive within/m, 'swarm never says clean');
my ($n1) = $out =~ /: (\d+) states/;
ok($n1 > 80 && $n1 <= 5 * 80, "swarm counts distinct states over its searches ($n1)");
my ($st2, $out2) = run_vtlb(@sw, '--seed', '3', $one);
my ($n2) = $out2 =~ /: (\d+) states/;
is($n2, $n1, 'swarm is reproducible from its seed');
my ($t1) = $out =~ /(\d+) transitions/;
my ($t2) = $out2 =~ /(\d+) transitions/;
is($t2, $t1, 'swarm takes the same steps from the same seed');
my (undef, $out3) = run_vtlb(@sw, '--seed', '4', $one);
my ($t3) = $out3 =~ /(\d+) transitions/;
isnt($t3, $t1, 'swarm with another seed searches differently');

($st, $out) = run_vtlb(@sw, '--json', $one);
my $doc = eval { decode_json($out) };
ok($doc, 'swarm json parses');
is($doc->{results}[0]{status}, 'incomplete', 'swarm json status incomplete');
ok(!$doc->{results}[0]{exhaustive}, 'swarm json not exhaustive');
is($doc->{results}[0]{swarm}, 5, 'swarm json counts its searches');
is($doc->{results}[0]{order}, 'dfs', 'swarm json: its searches are depth-first');

my $f = 'scenarios/explore/vmx-migrate-flush.vtlb';
my $emit = "$dir/ce.vtlb";
($st, $out, $err) = run_vtlb(@sw, '--revert', 'x86-vmx-migrate-flush', '--emit', $emit, $f);
is($st, 1, 'swarm finds the planted bug') or diag($out, $err);
like($out, qr/^(?:FOUND|FAIL) .*\n(?:STALE|BREACH) /m, 'swarm prints the finding');
($st, $out, $err) = run_vtlb('run', '--revert', 'x86-vmx-migrate-flush', $emit);
is($st, 0, 'swarm counterexample replays') or diag($out, $err);

for my $bad (['--swarm', '0', $f], ['--swarm-states', '5', $f], ['--swarm', '2', '--random', '2', $f],
             ['--swarm', '2', '--jobs', '2', $f], ['--mpi', $f], ['--swarm', 'x', $f]) {
    my ($s, undef, $e) = run_vtlb('explore', @$bad);
    is($s, 2, "swarm.usage: @$bad exits 2");
    like($e, qr/^vtlb: /, "swarm.usage: @$bad says why");
}
done_testing;
