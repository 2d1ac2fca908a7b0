#!/usr/bin/perl
# The C unit tests (tests/unit/*.c), each a TAP program; every line becomes a check here.
use strict;
use warnings;
use Test::More;

my $dir = $ENV{VTLB_TESTS} // 'build/san/tests';
opendir(my $d, $dir) or plan skip_all => "no unit test binaries in $dir";
my @bins = sort grep { -f "$dir/$_" && -x "$dir/$_" } readdir $d;
closedir $d;
plan skip_all => "no unit test binaries in $dir" unless @bins;
for my $b (@bins) {
    subtest $b => sub {
        my @out = `$dir/$b 2>&1`;
        my $rc = $? >> 8;
        my $n = 0;
        for (@out) {
            next unless /^(not )?ok \d+ - (.*)$/;
            ok(!defined $1, "$b: $2");
            $n++;
        }
        ok($n > 0, "$b: ran checks");
        is($rc, 0, "$b: exit status");
        diag(join '', grep { !/^(not )?ok |^1\.\.\d+$/ } @out) if $rc;
    };
}
done_testing;
