#!/usr/bin/perl
# Both directions for every named fix:
#   correctness: the bundled suite is clean with it, and reverting it makes
#                `vtlb run --revert NAME scenarios/` exit 1 with a STALE line;
#   cost:        reverting it fails the scenario's invalidation counts, with
#                no stale access;
#   latent:      reverting it alone leaves its scenario clean; reverting it
#                with its partners gives a STALE (or BREACH) line.
use strict;
use warnings;
use Test::More;
use JSON::PP;
require './tests/lib.pl';

my ($st, $out) = run_vtlb('fixes', '--json');
is($st, 0, 'fixes.json exits 0');
my $fixes = decode_json($out);
my %known = map { $_->{name} => 1 } @$fixes;
for my $f (@$fixes) {
    next unless $f->{modelled};
    my $n = $f->{name};
    my $sc = $f->{scenario};
    ok($sc && -f $sc, "$n: its scenario exists") or next;
    open(my $fh, '<', $sc) or die;
    my $text = do { local $/; <$fh> };
    like($text, qr/^fix \Q$n\E$/m, "$n: its scenario names it");
    ($st) = run_vtlb('run', $sc);
    is($st, 0, "$n: $sc passes with the fix");
    if ($f->{kind} eq 'correctness') {
        my ($s1, $o1) = run_vtlb('run', '--revert', $n, 'scenarios/');
        is($s1, 1, "$n: revert over scenarios/ exits 1");
        like($o1, qr/^(?:STALE|BREACH) /m, "$n: revert over scenarios/ prints STALE (or BREACH)");
        my ($s2, $o2) = run_vtlb('run', '--revert', $n, $sc);
        is($s2, 1, "$n: revert of its own scenario exits 1");
        like($o2, qr/^(?:STALE|BREACH) /m, "$n: its own scenario shows STALE (or BREACH)");
    } elsif ($f->{kind} eq 'cost') {
        my ($s1, $o1) = run_vtlb('run', '--revert', $n, $sc);
        is($s1, 1, "$n: revert changes the invalidations");
        like($o1, qr/check failed/, "$n: a count check names the difference");
        unlike($o1, qr/^STALE /m, "$n: and no stale access");
    } elsif ($f->{kind} eq 'latent') {
        my ($s1, $o1) = run_vtlb('run', '--revert', $n, $sc);
        is($s1, 0, "$n: revert alone is harmless") or diag($o1);
        my @partners = grep { $known{$_} } split /[\s,()]+/, ($f->{partners} // '');
        ok(@partners, "$n: names its partners");
        my @args = map { ('--revert', $_) } ($n, @partners);
        my ($s2, $o2) = run_vtlb('run', @args, $sc);
        is($s2, 1, "$n: revert with its partners exits 1");
        like($o2, qr/^(?:STALE|BREACH) /m, "$n: revert with its partners shows STALE (or BREACH)");
    } else {
        fail("$n: unknown kind $f->{kind}");
    }
}
done_testing;
