#!/usr/bin/perl
# The command contract: help, version, usage errors and their exit codes.
use strict;
use warnings;
use Test::More;
require './tests/lib.pl';

my ($st, $out, $err) = run_vtlb('--help');
is($st, 0, 'cli.help exits 0');
like($out, qr/usage: vtlb/, 'cli.help prints usage');
like($out, qr/--revert NAME/, 'cli.help documents --revert');

($st, $out) = run_vtlb('--version');
is($st, 0, 'cli.version exits 0');
like($out, qr/^vtlb \d+\.\d+\.\d+$/m, 'cli.version format');

($st, $out, $err) = run_vtlb();
is($st, 2, 'cli.no-command exits 2');

($st, $out, $err) = run_vtlb('frobnicate');
is($st, 2, 'cli.unknown-command exits 2');
like($err, qr/unknown command 'frobnicate'/, 'cli.unknown-command message');

($st, $out, $err) = run_vtlb('run', '--bogus', 'scenarios');
is($st, 2, 'cli.unknown-option exits 2');

($st, $out, $err) = run_vtlb('run', '--revert', 'no-such-fix', 'scenarios');
is($st, 2, 'cli.unknown-fix exits 2');
like($err, qr/unknown fix 'no-such-fix'/, 'cli.unknown-fix message');

($st, $out, $err) = run_vtlb('run', '--revert');
is($st, 2, 'cli.revert-needs-name exits 2');

($st, $out, $err) = run_vtlb('run');
is($st, 2, 'cli.run-needs-files exits 2');

($st, $out, $err) = run_vtlb('run', 'tests/no/such/file.vtlb');
is($st, 2, 'cli.missing-file exits 2');
like($err, qr{tests/no/such/file\.vtlb: error: cannot open}, 'cli.missing-file message');

($st, $out) = run_vtlb('fixes');
is($st, 0, 'cli.fixes exits 0');
for my $line (grep { length } split /\n/, $out) {
    like($line, qr/^\S+\s+(x86|arm64|ppc)\s+(correctness|cost|latent)\s+\S/, "cli.fixes line: " . (split ' ', $line)[0]);
}

($st, $out) = run_vtlb('options');
is($st, 0, 'cli.options exits 0');
like($out, qr/^vpid\s/m, 'cli.options lists vpid');
done_testing;
