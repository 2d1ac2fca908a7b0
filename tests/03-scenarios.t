#!/usr/bin/perl
# The bundled scenario suite: every expectation holds with every fix in place.
use strict;
use warnings;
use Test::More;
use JSON::PP;
require './tests/lib.pl';

my ($st, $out, $err) = run_vtlb('run', 'scenarios/');
is($st, 0, 'scenarios.all pass with every fix in place') or diag($out, $err);
# the summary counts every bundled file: the scripts it ran and the
# exploration scenarios it skipped (and says who runs those)
my @files = grep { -f } split /\n/, `find scenarios -name '*.vtlb' | sort`;
my ($total, $passed, $skipped) = $out =~ /^(\d+) scenarios?: (\d+) passed, 0 failed, 0 errors, (\d+) skipped/m;
is($total, scalar @files, 'scenarios.summary counts every bundled file');
is($passed + $skipped, $total, 'scenarios.summary: passed + skipped = total');
my @skips = $out =~ /^skip /mg;
is(scalar @skips, $skipped, 'scenarios.summary: one skip line per skipped file');
like($out, qr/skipped \(programs: 'vtlb explore' runs them; workloads: 'vtlb cost'\)$/m, 'scenarios.summary says who runs the skipped ones')
    if $skipped;

($st, $out) = run_vtlb('run', '--json', 'scenarios/');
is($st, 0, 'scenarios.json exits 0');
my $doc = eval { decode_json($out) };
ok($doc, 'scenarios.json parses') or diag($@);
for my $r (@{ $doc->{results} // [] }) {
    next if $r->{status} eq 'skipped';
    is($r->{status}, 'pass', "scenarios.json $r->{file}");
}
is($doc->{summary}{failed}, 0, 'scenarios.json summary');
is($doc->{summary}{total}, scalar @files, 'scenarios.json summary total counts every file');
is($doc->{summary}{skipped}, $skipped, 'scenarios.json summary skipped');
is(scalar @{ $doc->{results} }, scalar @files, 'scenarios.json one result per file');
done_testing;
