#!/usr/bin/perl
# The command contract: help, version, usage errors and their exit codes.
use strict;
use warnings;
use Test::More;
use JSON::PP;
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

($st, $out, $err) = run_vtlb('run', '--revert', 'ppc-secondary-threads', 'scenarios/ppc/');
is($st, 2, 'cli.revert-not-modelled exits 2');
like($err, qr/not modelled/, 'cli.revert-not-modelled says why');

($st, $out) = run_vtlb('options');
is($st, 0, 'cli.options exits 0');
like($out, qr/^vpid\s/m, 'cli.options lists vpid');
($st, $out) = run_vtlb('options', '--json');
is($st, 0, 'cli.options-json exits 0');
my $opts = eval { decode_json($out) };
ok(ref $opts eq 'ARRAY' && @$opts, 'cli.options-json is a JSON array') or diag($@, $out);
my ($vpid) = grep { $_->{name} eq 'vpid' } @{ $opts // [] };
ok($vpid && @{ $vpid->{archs} } && defined $vpid->{default} && $vpid->{help}, 'cli.options-json: vpid has archs, default, help');

# The README's exit-status table, command by command.
my $pass = 'scenarios/x86/vmx-migrate-flush.vtlb';
my $failing = (sort glob('tests/fail/*.vtlb'))[0];
my $bad = 'tests/bad/empty.vtlb';
my $xpl = 'scenarios/explore/vmx-migrate-flush.vtlb';
my @table = (
    [0, 'run: every expectation held', 'run', $pass],
    [1, 'run: an expectation failed', 'run', $failing],
    [2, 'run: bad input', 'run', $bad],
    [2, 'run: bad input wins over a failure', 'run', $failing, $bad],
    [0, 'run: only skipped files', 'run', $xpl],
    [0, 'explore: clean', 'explore', $xpl],
    [1, 'explore: a violation', 'explore', '--revert', 'x86-vmx-migrate-flush', $xpl],
    [0, 'explore: incomplete', 'explore', '--random', '5', $xpl],
    [3, 'explore --strict: incomplete', 'explore', '--strict', '--random', '5', $xpl],
    [2, 'explore: bad input', 'explore', $bad],
    [2, 'explore: bad input wins over a violation', 'explore', '--revert', 'x86-vmx-migrate-flush', $xpl, $bad],
    [0, 'explore: only skipped files', 'explore', $pass],
    [0, 'fixes', 'fixes'],
    [0, 'fixes --json', 'fixes', '--json'],
    [0, 'options', 'options'],
    [2, 'usage: no command', ],
    [2, 'usage: option of another command', 'run', '--depth', '3', $pass],
);
for my $t (@table) {
    my ($want, $what, @args) = @$t;
    my ($s, $o, $e) = run_vtlb(@args);
    is($s, $want, "cli.exit $want: $what") or diag($o, $e);
}
done_testing;
