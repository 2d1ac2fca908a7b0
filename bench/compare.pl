#!/usr/bin/perl
# Side-by-side exploration benchmark: the same searches with two vtlb
# binaries (an older build and this one), one after the other, one job.
#
#   perl bench/compare.pl [--max-memory 8G] [--time-limit SEC] BEFORE AFTER FILE...
#
# For each scenario and binary: states, transitions, wall seconds, states/s,
# the visited set's allocated bytes per state (what --max-memory counts),
# the stored bytes per state where the binary reports them, and the peak
# resident set per state (from /usr/bin/time, when it is installed), the
# CPU seconds (user + system) and states per CPU second, and the 1-minute
# load average when the run started: on a loaded machine the wall clock
# measures the load, the CPU time the work.  A search that does not finish
# is shown with its status, never as clean.
use strict;
use warnings;
use JSON::PP;
use File::Temp qw(tempfile);

my ($maxmem, $tlimit) = ('8G', 290);
while (@ARGV && $ARGV[0] =~ /^--/) {
    my $o = shift;
    if ($o eq '--max-memory') { $maxmem = shift }
    elsif ($o eq '--time-limit') { $tlimit = shift }
    else { die "unknown option $o\n" }
}
die "usage: $0 [--max-memory SIZE] [--time-limit SEC] BEFORE AFTER FILE...\n" unless @ARGV >= 3;
my ($before, $after, @files) = @ARGV;
my $gnutime = -x '/usr/bin/time' ? '/usr/bin/time' : undef;

sub run1 {
    my ($bin, $file) = @_;
    my ($tfh, $tfile) = tempfile(UNLINK => 1);
    my @cmd = ($bin, 'explore', '--json', '--max-memory', $maxmem, '--time-limit', $tlimit, $file);
    unshift @cmd, $gnutime, '-o', $tfile, '-f', '%M %e %U %S' if $gnutime;
    my $load = '-';
    if (open(my $la, '<', '/proc/loadavg')) { ($load) = split ' ', <$la>; close $la }
    open(my $p, '-|', @cmd) or die "$bin: $!\n";
    local $/;
    my $out = <$p>;
    close $p;
    my $doc = eval { decode_json($out) } or return { status => 'no output' };
    my $r = $doc->{results}[0];
    if ($gnutime) {
        open(my $t, '<', $tfile) or die;
        my $l = <$t> // '';
        ($r->{rss_kb}, $r->{wall}, $r->{user}, $r->{sys}) = $l =~ /(\d+) ([\d.]+) ([\d.]+) ([\d.]+)\s*$/m;
        $r->{cpu} = $r->{user} + $r->{sys} if defined $r->{sys};
    }
    $r->{load} = $load;
    return $r;
}

printf "%-28s %-6s %10s %11s %8s %9s %7s %9s %8s %8s %8s %5s  %s\n", 'scenario', 'build', 'states', 'transitions',
    'time s', 'states/s', 'CPU s', 'st/CPU s', 'alloc B', 'store B', 'RSS B', 'load', 'status';
for my $f (@files) {
    (my $name = $f) =~ s{.*/}{};
    for my $b ([before => $before], [after => $after]) {
        my $r = run1($b->[1], $f);
        my $n = $r->{states} || 0;
        my $t = $r->{seconds} || 0;
        my $status = $r->{status} // '?';
        $status .= " ($r->{why})" if $r->{why};
        $status .= ', ' . $r->{order} if $r->{order};
        my $cpu = $r->{cpu};
        printf "%-28s %-6s %10s %11s %8.2f %9.0f %7s %9s %8s %8s %8s %5s  %s\n", $name, $b->[0], $n,
            $r->{transitions} // '-', $t, $t > 0 ? $n / $t : 0, defined $cpu ? sprintf('%.2f', $cpu) : '-',
            $cpu ? sprintf('%.0f', $n / $cpu) : '-', $n ? sprintf('%.0f', $r->{memory} / $n) : '-',
            $n && $r->{stored_bytes} ? sprintf('%.0f', $r->{stored_bytes} / $n) : '-',
            $n && $r->{rss_kb} ? sprintf('%.0f', $r->{rss_kb} * 1024 / $n) : '-', $r->{load}, $status;
    }
}
