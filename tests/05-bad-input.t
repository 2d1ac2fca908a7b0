#!/usr/bin/perl
# The bad-input corpus: every file in tests/bad/ gives exit 2 and exactly one
# error line "FILE:LINE:COL: error: MESSAGE" at the place its first line names,
# and its stdout line "ERROR FILE:LINE:COL: MESSAGE" says the same.
use strict;
use warnings;
use Test::More;
require './tests/lib.pl';

my @files = sort glob('tests/bad/*.vtlb');
ok(@files >= 30, 'bad.corpus has at least 30 files');
for my $f (@files) {
    open(my $fh, '<:raw', $f) or die;
    my $first = <$fh>;
    close $fh;
    my ($line, $col, $msg) = $first =~ /^# expect: (\d+):(\d+) (.*?)\s*$/;
    ok(defined $msg, "$f: has an expect line") or next;
    my ($st, $out, $err) = run_vtlb('run', $f);
    is($st, 2, "$f: exit 2");
    my @lines = grep { length } split /\n/, $err;
    is(scalar @lines, 1, "$f: exactly one error line") or diag($err);
    like($lines[0] // '', qr/^\Q$f\E:$line:$col: error: .*\Q$msg\E/, "$f: error at $line:$col");
    # stdout alone says it too: the ERROR line carries the place and the reason
    like($out, qr/^ERROR \Q$f\E:$line:$col: .*\Q$msg\E/m, "$f: ERROR line with the reason");
    unlike($err, qr/Sanitizer|runtime error/, "$f: no sanitizer report");
}
done_testing;
