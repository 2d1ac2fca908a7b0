#!/usr/bin/perl
# A check or an expectation that does not hold fails the scenario (exit 1):
# the suite's assertions are not vacuous.
use strict;
use warnings;
use Test::More;
require './tests/lib.pl';

for my $f (sort glob('tests/fail/*.vtlb')) {
    open(my $fh, '<', $f) or die;
    my $first = <$fh>;
    my ($want) = $first =~ /^# fails: (.*?)\s*$/;
    my ($st, $out, $err) = run_vtlb('run', $f);
    is($st, 1, "$f: exit 1");
    like($out, qr/\Q$want\E/, "$f: says '$want'") if defined $want;
}
done_testing;
