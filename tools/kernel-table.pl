#!/usr/bin/perl
# Prints the docs/fixes.md table "what each release lacked": for every
# mainline release the catalogue names, runs
#     vtlb explore --json --kernel V scenarios/explore/
# and lists the correctness fixes V lacks, with whether the explorer finds
# the bug in the fix's exploration scenario.  Usage (from the top directory):
#     perl tools/kernel-table.pl [path/to/vtlb]
use strict;
use warnings;
use JSON::PP;

my $vtlb = shift // 'build/vtlb';
sub key { my ($v) = @_; my @n = $v =~ /^v(\d+)\.(\d+)(?:\.(\d+))?$/ or die "bad release $v"; $n[0] * 1e6 + $n[1] * 1e3 + ($n[2] // 0) }
sub present {
    my ($f, $k) = @_;
    return 0 if defined $f->{since} && $k < key($f->{since}) && (!defined $f->{hole} || $k >= key($f->{hole}));
    return 0 if defined $f->{until} && $k >= key($f->{until});
    return 1;
}
my $fixes = decode_json(scalar `$vtlb fixes --json`);
my %rel;
for my $f (@$fixes) { $rel{$_} = 1 for grep { defined } @{$f}{qw(since hole until)} }
my %pins;    # exploration scenario -> fixes it names
for my $sc (sort glob('scenarios/explore/*.vtlb')) {
    open(my $fh, '<', $sc) or die;
    while (<$fh>) { push @{ $pins{$sc} }, $1 if /^fix (\S+)$/ }
}
my %scenario_of;
for my $sc (keys %pins) { $scenario_of{$_} = $sc for @{ $pins{$sc} } }

print "| release | correctness fixes it lacked: found by the explorer | lacked, not found (why) |\n";
print "|---|---|---|\n";
for my $v (sort { key($a) <=> key($b) } keys %rel) {
    my $doc = decode_json(scalar `$vtlb explore --json -q --kernel $v scenarios/explore/`);
    my %viol = map { $_->{file} => 1 } grep { $_->{status} eq 'violation' } @{ $doc->{results} };
    my %bad = map { $_->{file} => $_->{status} } grep { $_->{status} =~ /incomplete|error/ } @{ $doc->{results} };
    die "$v: @{[ %bad ]}\n" if %bad;
    my (@found, @missed);
    for my $f (@$fixes) {
        next if $f->{kind} ne 'correctness' || present($f, key($v));
        my $n = $f->{name};
        my $sc = $scenario_of{$n};
        if (!$f->{modelled}) { push @missed, "$n (not modelled)" }
        elsif (!$sc) { push @missed, "$n (no exploration scenario)" }
        elsif ($viol{$sc}) { push @found, $n }
        else { push @missed, "$n (its scenario stays clean)" }
    }
    # a violation in a scenario whose fixes this release all has comes from the
    # scenario's own 'revert' lines (the partners of a latent fix)
    my @own = grep { my $sc = $_; !grep { my $n = $_; grep { $_->{name} eq $n && !present($_, key($v)) } @$fixes } @{ $pins{$sc} } } sort keys %viol;
    my $found = join(', ', map { "`$_`" } @found) || '—';
    my $missed = join(', ', map { s/^(\S+)/`$1`/r } @missed) || '—';
    print "| $v | $found | $missed |\n";
    print STDERR "$v: violation only through the scenario's own reverts: @own\n" if @own;
}
