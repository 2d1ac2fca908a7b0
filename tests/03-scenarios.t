#!/usr/bin/perl
# The bundled scenario suite: every expectation holds with every fix in place.
use strict;
use warnings;
use Test::More;
use JSON::PP;
require './tests/lib.pl';

my ($st, $out, $err) = run_vtlb('run', 'scenarios/');
is($st, 0, 'scenarios.all pass with every fix in place') or diag($out, $err);
like($out, qr/^\d+ scenarios?: \d+ passed, 0 failed, 0 errors$/m, 'scenarios.summary line');

($st, $out) = run_vtlb('run', '--json', 'scenarios/');
is($st, 0, 'scenarios.json exits 0');
my $doc = eval { decode_json($out) };
ok($doc, 'scenarios.json parses') or diag($@);
for my $r (@{ $doc->{results} // [] }) {
    next if $r->{status} eq 'skipped';
    is($r->{status}, 'pass', "scenarios.json $r->{file}");
}
is($doc->{summary}{failed}, 0, 'scenarios.json summary');
done_testing;
