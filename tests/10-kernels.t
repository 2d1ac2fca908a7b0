#!/usr/bin/perl
# Kernels by version (`--kernel VERSION`, the `kernel` scenario line):
#   - every release the catalogue names parses, and the catalogue is ordered
#     (since < until, hole <= since);
#   - for every modelled correctness or latent fix with an exploration
#     scenario, the releases that had the bug (from its hole, if any, to the
#     release before the fix) find a violation in that scenario, and the
#     releases around that window are clean;
#   - bad releases are usage errors (exit 2), and the scenario keyword adds
#     the same reverts as the option.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
require './tests/lib.pl';

# Mainline numbering: v2.6.39 -> v3.0, v3.19 -> v4.0, v4.20 -> v5.0, v5.19 -> v6.0.
my %last_minor = (3 => 19, 4 => 20, 5 => 19, 6 => 19);
sub key { my ($v) = @_; my @n = $v =~ /^v(\d+)\.(\d+)(?:\.(\d+))?$/ or return; return $n[0] * 1e6 + $n[1] * 1e3 + ($n[2] // 0) }
sub prev {
    my ($v) = @_;
    return 'v2.6.' . ($1 - 1) if $v =~ /^v2\.6\.(\d+)$/ && $1 > 0;
    my ($a, $b) = $v =~ /^v(\d+)\.(\d+)$/ or die "cannot step back from $v";
    return $b > 0 ? "v$a." . ($b - 1) : $a == 3 ? 'v2.6.39' : 'v' . ($a - 1) . '.' . $last_minor{ $a - 1 };
}

my $dir = tempdir(CLEANUP => 1);
my ($st, $out) = run_vtlb('fixes', '--json');
is($st, 0, 'kernels.fixes exits 0');
my $fixes = decode_json($out);

my %scenario;
for my $f (sort glob('scenarios/explore/*.vtlb')) {
    open(my $fh, '<', $f) or die;
    while (<$fh>) { $scenario{$1} = $f if /^fix (\S+)$/ }
}

# A fix whose exploration scenario reaches the bug only through a path that
# came later than the fix: the releases before it are clean in the model.
my %later_path = (
    # its scenario reaches kvm_vcpu_flush_tlb_guest through INVPCID (all
    # contexts), which only requests a guest flush since v5.14
    # (x86-invpcid-all-flush-guest); before, the bug was reachable through the
    # paravirtual TLB flush, which this scenario does not use
    'x86-guest-flush-sync' => 1,
);
my $windows = 0;
for my $f (@$fixes) {
    my $n = $f->{name};
    for my $k (qw(since hole until)) {
        ok(key($f->{$k}), "$n: $k $f->{$k} is a mainline release") if defined $f->{$k};
    }
    ok(key($f->{since}) < key($f->{until}), "$n: since before until") if defined $f->{since} && defined $f->{until};
    ok(defined $f->{since} && key($f->{hole}) <= key($f->{since}), "$n: the bug came before the fix")
        if defined $f->{hole};
    next unless $f->{modelled} && $f->{kind} ne 'cost' && defined $f->{since};
    my $sc = $scenario{$n} or next;
    my (@found, @clean);
    if (!defined $f->{hole}) {
        @found = (prev($f->{since}));
        @clean = ($f->{since});
    } elsif ($f->{hole} ne $f->{since}) {
        @found = ($f->{hole}, prev($f->{since}));
        @clean = (prev($f->{hole}), $f->{since});
        $windows++;
    } else {
        @clean = (prev($f->{since}), $f->{since});    # no release had the bug
    }
    if ($later_path{$n}) {
        push @clean, @found;
        @found = ();
    }
    for my $v (@found) {
        my ($s, $o, $e) = run_vtlb('explore', '--kernel', $v, $sc);
        is($s, 1, "$n: $v lacks it and explore finds its bug in $sc") or diag($o, $e);
        like($o, qr/^  reverted: .*\b\Q$n\E\b/m, "$n: ${v}'s counterexample runs without it");
    }
    for my $v (@clean) {
        my ($s, $o, $e) = run_vtlb('explore', '--kernel', $v, $sc);
        is($s, 0, "$n: $v has no such bug and $sc is clean") or diag($o, $e);
        like($o, qr/^ok\s+\S+\s+clean as expected, exhaustive within/m, "$n: $v: clean and exhaustive");
    }
}
ok($windows >= 2, 'kernels: the windows between a bug and its fix are tested');

# 'fixes --kernel' marks what a release lacked, the same set the option reverts
($st, $out) = run_vtlb('fixes', '--json', '--kernel', 'v5.13');
is($st, 0, 'kernels.fixes --kernel exits 0');
my %in = map { $_->{name} => $_->{in_kernel} } @{ decode_json($out) };
ok(!$in{'x86-pcide-unload'}, 'kernels.fixes: v5.13 lacks x86-pcide-unload');
ok($in{'x86-guest-flush-sync'}, 'kernels.fixes: v5.13 has x86-guest-flush-sync');
ok($in{'x86-invlpg-prev-roots'}, 'kernels.fixes: v5.13 has x86-invlpg-prev-roots');
($st, $out) = run_vtlb('fixes', '--kernel', 'v4.9');
like($out, qr/^x86-pcide-unload .*\[since v5\.14, bug from v4\.19\]/m, 'kernels.fixes: no release lacked it before its bug');
like($out, qr/^arm64-vmid-lockless .*absent in v4\.9/m, 'kernels.fixes: v4.9 lacks arm64-vmid-lockless');

# the option: releases that are not mainline ones, twice, missing
for my $bad ('5.15', 'v5', 'v5.15.2', 'v5.15-rc1', 'v2.4.1', 'v2.6', 'linux') {
    ($st, undef, my $err) = run_vtlb('explore', '--kernel', $bad, 'scenarios/explore/pcide-unload.vtlb');
    is($st, 2, "kernels.bad '$bad' exits 2");
    like($err, qr/not a mainline release/, "kernels.bad '$bad' says why");
}
($st) = run_vtlb('run', '--kernel', 'v5.15', '--kernel', 'v5.16', 'scenarios/x86/pcide-unload.vtlb');
is($st, 2, 'kernels.twice exits 2');
($st) = run_vtlb('run', '--kernel');
is($st, 2, 'kernels.missing exits 2');
($st) = run_vtlb('run', '--kernel=v5.13', 'scenarios/x86/pcide-unload.vtlb');
is($st, 1, 'kernels.v5.13 (--kernel=) lacks x86-pcide-unload');
($st, $out) = run_vtlb('run', '--kernel', 'v2.6.32', 'scenarios/x86/pcide-unload.vtlb');
is($st, 0, 'kernels.v2.6.32 had no cached roots, so not that bug') or diag($out);

# the scenario keyword reverts the same fixes, and an emitted counterexample replays
my $src = 'scenarios/explore/pcide-unload.vtlb';
open(my $in, '<', $src) or die;
my $text = do { local $/; <$in> };
close $in;
my $kfile = "$dir/kernel.vtlb";
open(my $o, '>', $kfile) or die;
print $o $text, "kernel v5.13\n";
close $o;
my ($s1, $o1) = run_vtlb('explore', '--kernel', 'v5.13', $src);
my ($s2, $o2) = run_vtlb('explore', '--emit', "$dir/ce.vtlb", $kfile);
is($s2, 1, 'kernels.keyword: kernel v5.13 in the file finds the bug');
my ($f1) = $o1 =~ /^((?:STALE|BREACH) .*)$/m;
my ($f2) = $o2 =~ /^((?:STALE|BREACH) .*)$/m;
is($f2, $f1, 'kernels.keyword: the same finding as --kernel v5.13');
my ($s3, $o3) = run_vtlb('run', "$dir/ce.vtlb");
is($s3, 0, 'kernels.keyword: the emitted counterexample replays as expected') or diag($o3);
($st, $out) = run_vtlb('explore', '--kernel', 'v5.13', '--emit', "$dir/ce2.vtlb", $src);
($st, $out) = run_vtlb('run', "$dir/ce2.vtlb");
is($st, 0, 'kernels.emit: a --kernel counterexample replays without the option') or diag($out);
done_testing;
