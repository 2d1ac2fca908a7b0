#!/usr/bin/perl
# vtlb cost: side-by-side columns, the machine-readable forms, the SVG, the
# seed scenarios, and its usage errors (exit 2, one message).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
require './tests/lib.pl';

my $seed = 'scenarios/cost/seed002.vtlb';
my ($st, $out, $err) = run_vtlb('cost', '--help');
is($st, 0, 'cost.help exits 0');
like($out, qr/usage: vtlb cost/, 'cost.help prints usage');

# The issue's acceptance line: both columns and the over-flush difference.
($st, $out, $err) = run_vtlb('cost', '--steps', '3000', '--revert', 'x86-vmx-guest-flush-vpid', $seed);
is($st, 0, 'cost.seed002 exits 0 (a cost fix: no stale access either way)') or diag($err);
like($out, qr/all fixes\s+revert x86-vmx-guest-flush-vpid/, 'cost.seed002 prints both columns');
my ($a, $b) = $out =~ /over-flush: still mapped by the host\s+(\d+)\s+(\d+)/;
ok(defined $b && $b > $a, 'cost.seed002 reverted over-flushes more guest-physical entries') or diag($out);
my ($i1, $i2) = $out =~ /invept\.single\s+(\d+)\s+(\d+)/;
ok(defined $i2 && $i2 > $i1, 'cost.seed002 reverted executes more INVEPTs');

($st, $out) = run_vtlb('cost', '--json', '--steps', '2000', '--revert', 'x86-vmx-guest-flush-vpid', 'scenarios/cost/');
is($st, 0, 'cost.json exits 0');
my $doc = eval { decode_json($out) };
ok($doc, 'cost.json parses') or diag($@);
is(scalar @{ $doc->{results} }, 4, 'cost.json one result per cost scenario');
for my $r (@{ $doc->{results} }) {
    is(scalar @{ $r->{columns} }, 2, "cost.json $r->{file}: two columns");
    is($r->{columns}[0]{counters}{events}, 2000, "cost.json $r->{file}: --steps sets the length");
    is($r->{columns}[0]{counters}{stale_steps}, 0, "cost.json $r->{file}: clean with every fix");
    is($r->{columns}[0]{counters}{finite_stale}, 0, "cost.json $r->{file}: no stale finite hit");
}

($st, $out) = run_vtlb('cost', '--csv', '--steps', '500', $seed);
is($st, 0, 'cost.csv exits 0');
like($out, qr/^file,config,param,metric,value$/m, 'cost.csv header');
like($out, qr/^\Q$seed\E,all fixes,,overflush_gpa,\d+$/m, 'cost.csv row');

# Several named columns.
($st, $out) = run_vtlb('cost', '--steps', '500', '--config', 'old:revert=arm64-vmid-allocator',
                       '--config', 'revert=arm64-vcpu-multiplex', 'scenarios/cost/arm64-vmid-exhaustion.vtlb');
like($out, qr/all fixes\s+old\s+revert arm64-vcpu-multiplex/, 'cost.config named columns');
my ($k0, $k1) = $out =~ /kicks \(IPI to a vCPU in guest mode\)\s+(\d+)\s+(\d+)/;
ok(defined $k1 && $k0 == 0 && $k1 > 0, 'cost.arm64 the allocator before 417838392f2e kicks at rollover');

my $dir = tempdir(CLEANUP => 1);
($st) = run_vtlb('cost', '--steps', '500', '--revert', 'x86-vmx-guest-flush-vpid', '--plot', "$dir/b.svg", $seed);
is($st, 0, 'cost.plot exits 0');
open(my $fh, '<', "$dir/b.svg") or die;
my $svg = do { local $/; <$fh> };
close $fh;
like($svg, qr/^<\?xml.*\n<svg xmlns/s, 'cost.plot writes SVG');
like($svg, qr{</svg>\s*$}, 'cost.plot closes the document');
is(scalar(() = $svg =~ /<rect x=/g), 2 + 10, 'cost.plot 5 charts x 2 bars, plus 2 legend keys');
($st, $out) = run_vtlb('cost', '--steps', '300', '--sweep', 'vcpus=2..4', '--plot', "$dir/l.svg", $seed);
is($st, 0, 'cost.sweep exits 0');
is(scalar(() = $out =~ /^\[vcpus=\d\] /mg), 3, 'cost.sweep one table per value');
open($fh, '<', "$dir/l.svg") or die;
$svg = do { local $/; <$fh> };
like($svg, qr/<polyline/, 'cost.sweep plots a line');

# Usage errors.
for my $bad (['--config', 'revert=no-such-fix'], ['--sweep', 'vcpus=3'], ['--tlb', '0'], ['--tlb-policy', 'fifo'],
             ['--metric', 'bogus'], ['--bogus'], ['--costs', 'tests/no/such.costs']) {
    ($st, $out, $err) = run_vtlb('cost', @$bad, $seed);
    is($st, 2, "cost.usage @$bad exits 2");
    ok(length $err, "cost.usage @$bad says why");
}
($st, $out, $err) = run_vtlb('cost', '--set', 'vcpus=9', $seed);
is($st, 2, 'cost.set vcpus=9 exceeds the model: exit 2');
like($err, qr/^\Q$seed\E:\d+:\d+: error: /m, 'cost.set error names file:line:col');
($st, $out, $err) = run_vtlb('cost', '--set', 'nosuch=1', $seed);
is($st, 2, 'cost.set an unknown parameter exits 2');
like($err, qr/no parameter 'nosuch'/, 'cost.set an unknown parameter says so');
my $costs = "$dir/bad.costs";
open($fh, '>', $costs) or die;
print $fh "exit 1400 a source\nwalk.2d lots\n";
close $fh;
($st, $out, $err) = run_vtlb('cost', '--costs', $costs, $seed);
is($st, 2, 'cost.costs bad table exits 2');
like($err, qr/^\Q$costs\E:2:\d+: error: expected a number of cycles/m, 'cost.costs error names file:line:col');

# Scripts run too, and 'run'/'explore' leave workloads to 'cost'.
($st, $out) = run_vtlb('cost', 'scenarios/x86/vmx-guest-flush-vpid.vtlb');
is($st, 0, 'cost.script exits 0');
like($out, qr/; script;/, 'cost.script says it ran the script');
($st, $out) = run_vtlb('run', $seed);
like($out, qr/a workload, no script: use 'vtlb cost'/, 'cost.run skips a workload');
($st, $out) = run_vtlb('explore', $seed);
like($out, qr/a workload, nothing to explore: use 'vtlb cost'/, 'cost.explore skips a workload');

# a column for a kernel release: v5.5 predates e64419d991ea (seed 002, v5.8), so
# its guest flushes are INVEPTs, as with that fix reverted
($st, $out) = run_vtlb('cost', '--steps', '2000', '--kernel', 'v5.5', $seed);
is($st, 0, 'cost.kernel exits 0');
my ($all, $k55) = $out =~ /^\s+invept\.single\s+(\d+)\s+(\d+)$/m;
ok(defined $k55 && $k55 > $all, 'cost.kernel v5.5 runs more INVEPTs than every fix (' . ($all // '?') . ' vs ' . ($k55 // '?') . ')');
like($out, qr/kernel v5\.5/, 'cost.kernel labels the column with the release');
($st, $out, $err) = run_vtlb('cost', '--config', 'kernel=vX', $seed);
is($st, 2, 'cost.kernel a bad release exits 2');
like($err, qr/not a kernel release/, 'cost.kernel says why');
done_testing;
