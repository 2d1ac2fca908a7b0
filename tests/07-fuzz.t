#!/usr/bin/perl
# A short fuzz smoke run: seeded random mutations of the bundled scenarios
# (scripts through 'run', exploration scenarios through a short 'explore')
# must give exit 0, 1 or 2, never a crash, a hang or a sanitizer report.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
require './tests/lib.pl';

my $seed = $ENV{VTLB_FUZZ_SEED} // 20261122;
my $rounds = $ENV{VTLB_FUZZ_ROUNDS} // 150;
srand($seed);
note("seed $seed, $rounds rounds");
my @src = sort glob('scenarios/*/*.vtlb');
our $TIMEOUT;    # the run timeout, from lib.pl
$TIMEOUT = 30;
my $dir = tempdir(CLEANUP => 1);
my @words = qw(run preempt migrate map unmap access mov cr3 cr4 cr0 +pge -pcide invlpg invpcid
               init fep noflush host remap unmap check permits hits expect clean stale vm space
               vcpu machine pcpus 0 1 2 7 0x1000 0xffffffffffffffff -> : g.0 g.9 A B);
push @words, ',';
my $bad = 0;
for my $i (1 .. $rounds) {
    my $f = $src[int rand @src];
    open(my $fh, '<', $f) or die;
    my @lines = <$fh>;
    close $fh;
    my $k = int rand 6;
    my $l = int rand @lines;
    if ($k == 0) { splice(@lines, $l, 1) }
    elsif ($k == 1) { splice(@lines, $l, 0, $lines[int rand @lines]) }
    elsif ($k == 2) { $lines[$l] =~ s/\S+/$words[int rand @words]/ }
    elsif ($k == 3) { substr($lines[$l], int(rand(length $lines[$l])), 0) = chr(int rand 256) }
    elsif ($k == 4) { @lines = @lines[0 .. $l] }
    else { $lines[$l] = join(' ', map { $words[int rand @words] } 1 .. 1 + int rand 8) . "\n" }
    my $t = "$dir/m$i.vtlb";
    open(my $o, '>', $t) or die;
    print $o @lines;
    close $o;
    # scripts are run; exploration scenarios are explored, briefly
    my $explore = grep { /^program / } @lines;
    my ($st, $out, $err) = $explore
        ? run_vtlb('explore', '--depth', '8', '--time-limit', '5', $t)
        : run_vtlb('run', $t);
    if ($st > 2 || $err =~ /Sanitizer|runtime error/) {
        $bad++;
        diag("mutation $i of $f: exit $st\n$err");
        system('cp', $t, "fuzz-crash-$seed-$i.vtlb");
    }
}
is($bad, 0, "fuzz: $rounds mutations, none crashed (seed $seed)");
done_testing;
