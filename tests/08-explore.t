#!/usr/bin/perl
# The explorer's contract:
#   - every bundled exploration scenario meets its expectation: 'expect clean'
#     (exhaustive within its bounds) or, in scenarios/explore/found/, 'expect
#     found' with one fix reverted (each a faithful copy of its clean file);
#   - a file whose expectation fails exits 1; one without keeps the old meaning;
#   - for every correctness fix (and every latent fix, whose partners its
#     scenario reverts), 'explore --revert NAME' finds a stale access on its
#     own, and the emitted scenario replays to the same STALE line;
#   - an incomplete search (random mode, memory cap) is never reported clean.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempdir);
require './tests/lib.pl';
our $VTLB;

my $dir = tempdir(CLEANUP => 1);
my ($st, $out, $err) = run_vtlb('explore', 'scenarios/explore/');
is($st, 0, 'explore.suite exits 0') or diag($out, $err);
my @lines = grep { /^(ok|clean|FOUND|FAIL|INCOMPLETE|ERROR) / } split /\n/, $out;
ok(@lines > 0, 'explore.suite explored something');
for (@lines) {
    if (m{^ok\s+scenarios/explore/found/}) {
        like($_, qr/^ok\s+\S+\s+found as expected \(line \d+\): counterexample in \d+ steps/, "explore.suite: $_");
    } else {
        like($_, qr/^ok\s+\S+\s+clean as expected, exhaustive within depth \d+/, "explore.suite: $_");
    }
}
my $nfiles = () = glob('scenarios/explore/*.vtlb scenarios/explore/found/*.vtlb');
like($out, qr/^$nfiles files: .*; $nfiles as expected, 0 not$/m, 'explore.suite: every file states its expectation and meets it');

# Must-find files: scenarios/explore/found/NAME.vtlb is scenarios/explore/X.vtlb
# (the file that names 'fix NAME') with 'revert NAME' and 'expect found'
# in place of 'expect clean'; nothing else may drift.
sub decls {
    my ($f) = @_;
    open(my $fh, '<', $f) or die "$f: $!";
    return [grep { !/^\s*(#|$)/ } map { s/\s+$//r } <$fh>];
}
my %found_for;
for my $f (sort glob('scenarios/explore/found/*.vtlb')) {
    my ($name) = $f =~ m{/([^/]+)\.vtlb$};
    open(my $fh, '<', $f) or die;
    my ($from) = <$fh> =~ /^# Must find: (\S+) with \Q$name\E reverted\.$/;
    ok($from && -f $from, "explore.found $name: names the file it copies") or next;
    $found_for{$name} = $f;
    my @want = map { $_ eq 'expect clean' ? ("revert $name", 'expect found') : $_ } @{ decls($from) };
    is_deeply(decls($f), \@want, "explore.found $name: is $from with $name reverted and 'expect found'");
}

# which exploration scenario shows which fix
my %scenario;
for my $f (sort glob('scenarios/explore/*.vtlb')) {
    open(my $fh, '<', $f) or die;
    while (<$fh>) { $scenario{$1} = $f if /^fix (\S+)$/ }
}

($st, $out) = run_vtlb('fixes', '--json');
my $fixes = decode_json($out);
my %dir_swept;
for my $f (@$fixes) {
    next unless $f->{modelled} && $f->{kind} ne 'cost';
    my $n = $f->{name};
    my $sc = $scenario{$n};
    ok($sc, "$n: has an exploration scenario") or next;
    ok($found_for{$n}, "$n: has a must-find file in scenarios/explore/found/");
    my $emit = "$dir/$n.vtlb";
    my ($s1, $o1, $e1) = run_vtlb('explore', '--revert', $n, '--emit', $emit, $sc);
    is($s1, 1, "$n: explore --revert finds a violation") or diag($o1, $e1);
    my ($found) = $o1 =~ /^((?:STALE|BREACH) .*)$/m;
    ok($found, "$n: prints the finding");
    ok(-s $emit, "$n: emits a scenario");
    my ($s2, $o2, $e2) = run_vtlb('run', '--trace', '--revert', $n, $emit);
    is($s2, 0, "$n: the emitted scenario replays as expected") or diag($o2, $e2);
    my ($again) = $o2 =~ /^((?:STALE|BREACH) .*)$/m;
    (my $a = $found // '') =~ s/ \(line \d+\)//;
    (my $b = $again // '') =~ s/ \(line \d+\)//;
    is($b, $a, "$n: the replay reaches the same finding");
    # Over the whole directory: a violation in the fix's own scenario (checked
    # above) already makes that run exit 1, so one fix per architecture stands
    # for the rest (each such run is ~13 s under the sanitizers);
    # bench/explore (make bench) reverts every exploration scenario's own fix.
    if ($f->{kind} eq 'correctness' && !$dir_swept{$f->{arch}}++) {
        my ($s3) = run_vtlb('explore', '--revert', $n, 'scenarios/explore/');
        is($s3, 1, "$n: explore --revert over scenarios/explore/ exits 1");
    }
}

my $one = 'scenarios/explore/vmx-migrate-flush.vtlb';
($st, $out) = run_vtlb('explore', '--random', '20', '--seed', '3', $one);
is($st, 0, 'explore.random exits 0 without a violation');
like($out, qr/^INCOMPLETE .*NOT exhaustive/m, 'explore.random says incomplete');
unlike($out, qr/^clean /m, 'explore.random never says clean');
like($out, qr/transitions \(random walks[,)]/, 'explore.random says how it searched');
($st, $out) = run_vtlb('explore', '--json', '--random', '20', '--seed', '3', $one);
is(eval { decode_json($out)->{results}[0]{order} }, 'random', 'explore.random --json order');
($st) = run_vtlb('explore', '--strict', '--random', '20', $one);
is($st, 3, 'explore.strict incomplete exits 3');
($st, $out) = run_vtlb('explore', '--max-memory', '1K', $one);
like($out, qr/^INCOMPLETE .*memory cap/m, 'explore.max-memory incomplete');
($st, $out) = run_vtlb('explore', '--jobs', '2', $one);
is($st, 0, 'explore.jobs2 exits 0');
like($out, qr/^ok\s+\S+\s+clean as expected/m, 'explore.jobs2 clean');
my ($states1) = (run_vtlb('explore', '--jobs', '1', $one))[1] =~ /: (\d+) states/;
my ($states2) = $out =~ /: (\d+) states/;
is($states2, $states1, 'explore.jobs2 stores the same states as one job');
($st, $out) = run_vtlb('explore', '--jobs', '2', '--revert', 'x86-vmx-migrate-flush', $one);
is($st, 1, 'explore.jobs2 finds the violation one job finds');
# pCPU symmetry's representative depends on the state alone, not on the
# order the search reached it: the same states breadth-first (the default)
# with one or two jobs, and depth-first with one or two jobs (two
# depth-first jobs used to store 135,424 states here, one job 135,391).
{
    my $sym = 'bench/scenarios/scale-svm-2vcpu.vtlb';
    my %n;
    for my $c (['bfs'], ['bfs', '--jobs', '2'], ['dfs'], ['dfs', '--jobs', '2']) {
        my ($order, @jobs) = @$c;
        my ($s, $o) = run_vtlb('explore', "--$order", @jobs, $sym);
        ($n{"@$c"}) = $o =~ /^(?:clean|ok) .*exhaustive.*: (\d+) states.*pCPU symmetry/m;
    }
    ok(defined $n{bfs}, 'explore.symmetry-canonical clean with symmetry');
    is($n{$_}, $n{bfs}, "explore.symmetry-canonical $_ stores the states one breadth-first job does")
        for ('bfs --jobs 2', 'dfs', 'dfs --jobs 2');
}

# Issue 8: one search, the same state count whichever way it runs: one
# process breadth-first (the default), --jobs 2, depth-first with one and
# two jobs, and MPI with 2 ranks (where mpirun and vtlb-mpi exist), with
# and without pCPU symmetry.
{
    my $mpi_bin = $ENV{VTLB_MPI} // 'build/vtlb-mpi';
    my ($mpirun) = grep { -x "$_/mpirun" } split /:/, $ENV{PATH};
    for my $f ('scenarios/explore/svm-cpu-new-asid.vtlb', 'scenarios/explore/hv-flush.vtlb') {
        for my $sym ([], ['--no-symmetry']) {
            my $t = "explore.same-count $f" . (@$sym ? " @$sym" : "");
            my %n;
            for my $c ([], ['--jobs', '2'], ['--dfs'], ['--dfs', '--jobs', '2']) {
                my ($s, $o) = run_vtlb('explore', @$sym, @$c, $f);
                ($n{"@$c"}) = $o =~ /^ok .*clean as expected, exhaustive.*: (\d+) states/m;
            }
            ok(defined $n{''}, "$t: one process, clean and exhaustive");
            is($n{$_}, $n{''}, "$t: '$_' stores the states one breadth-first process does")
                for ('--jobs 2', '--dfs', '--dfs --jobs 2');
          SKIP: {
                skip 'mpirun not found: install Open MPI (openmpi-bin libopenmpi-dev) to compare with MPI', 1 unless $mpirun;
                skip "$mpi_bin not built (the Makefile builds it where mpicc is found)", 1 unless -x $mpi_bin;
                local $ENV{ASAN_OPTIONS} = 'detect_leaks=0:abort_on_error=1'; # Open MPI's allocations outlive MPI_Finalize
                local $VTLB = "$mpirun/mpirun";
                my ($s, $o) = run_vtlb('--oversubscribe', ($> == 0 ? '--allow-run-as-root' : ()), '-np', '2', $mpi_bin,
                                       'explore', @$sym, $f);
                my ($m) = $o =~ /^ok .*clean as expected, exhaustive.*: (\d+) states.*; 2 ranks/m;
                is($m, $n{''}, "$t: MPI with 2 ranks stores the states one process does");
            }
        }
    }
}
($st) = run_vtlb('explore', '--swarm', '4', '--dfs', $one);
is($st, 2, 'explore.swarm with --dfs is a usage error (the swarm chooses its own order)');
($st) = run_vtlb('explore', '--swarm', '4', '--lossy', 'hc', $one);
is($st, 2, 'explore.swarm with --lossy is a usage error (it stores states exactly)');

# a lossy store never says clean or exhaustive unqualified, and gives its bound
for my $l ('hc', 'bitstate') {
    my ($s, $o) = run_vtlb('explore', '--lossy', $l, '--max-memory', '64M', $one);
    is($s, 0, "explore.lossy.$l exits 0 without a violation");
    like($o, qr/^INCOMPLETE .*NOT exhaustive \(lossy search.*P\(some state omitted by a \w+ collision\) <= [0-9.e+-]+/m,
        "explore.lossy.$l says incomplete, with its bound");
    my @res = grep { !/^\d+ files?: / } split /\n/, $o;
    ok(!grep({ /^clean |[^T] exhaustive/ } @res), "explore.lossy.$l never says clean or exhaustive");
    like($o, qr/^1 file: 0 clean \(exhaustive\), 0 with a violation, 1 incomplete/m, "explore.lossy.$l counted incomplete");
    ($s) = run_vtlb('explore', '--strict', '--lossy', $l, $one);
    is($s, 3, "explore.lossy.$l --strict exits 3");
    ($s, $o) = run_vtlb('explore', '--json', '--lossy', $l, '--max-memory', '64M', $one);
    my $d = decode_json($o);
    ok(!$d->{results}[0]{exhaustive} && $d->{results}[0]{lossy} && $d->{results}[0]{omission_bound} > 0,
        "explore.lossy.$l json: not exhaustive, lossy, with a bound");
    ($s, $o) = run_vtlb('explore', '--lossy', $l, '--revert', 'x86-vmx-migrate-flush', $one);
    is($s, 1, "explore.lossy.$l finds the violation");
}
($st) = run_vtlb('explore', '--lossy', 'hc', '--bfs', $one);
is($st, 2, 'explore.lossy with --bfs is a usage error');
($st) = run_vtlb('explore', '--lossy', 'zip', $one);
is($st, 2, 'explore.lossy needs hc or bitstate');
# breadth-first with pCPU symmetry: a load onto a pCPU interchangeable with
# a lower free one is skipped (its state has the lower load's representative);
# --no-por takes it.  The states stay; the steps skipped are the difference;
# a violation is found at the same place, with the same counterexample.
for my $f ($one, 'bench/scenarios/scale-svm-2vcpu.vtlb', 'scenarios/explore/arm64-s2-table-ttl.vtlb',
           'scenarios/explore/found/x86-entry-mode-mb.vtlb') {
    my $bad = $f =~ m{/found/};
    my @r;
    for my $opt ([], ['--no-por'], ['--jobs', '2']) {
        # --no-shrink: the counterexample as the search found it
        my ($s, $o) = run_vtlb('explore', '--json', '--no-shrink', @$opt, $f);
        is($s, 0, "explore.no-por bfs $f @$opt exits 0");
        push @r, decode_json($o)->{results}[0];
    }
    is($r[1]{states}, $r[0]{states}, "explore.no-por bfs $f: the same states");
    ok($r[0]{pruned} > 0 && $r[1]{pruned} == 0, "explore.no-por bfs $f: loads skipped only without it");
    is($r[0]{transitions} + $r[0]{pruned}, $r[1]{transitions}, "explore.no-por bfs $f: the skipped loads are the difference");
    # a search with a violation stops where its threads are: counts differ from run to run
    is_deeply([@{$r[2]}{qw(states transitions pruned)}], [@{$r[0]}{qw(states transitions pruned)}],
              "explore.no-por bfs $f: --jobs 2 skips the same loads") unless $bad;
    # depth-first: the same states; only sleep sets and skipped loads are counted as pruned
    unless ($bad) {
        my @d;
        for my $opt (['--dfs'], ['--dfs', '--no-por']) {
            my ($s, $o) = run_vtlb('explore', '--json', @$opt, $f);
            is($s, 0, "explore.no-por dfs $f @$opt exits 0");
            push @d, decode_json($o)->{results}[0];
        }
        ok($d[0]{states} == $r[0]{states} && $d[1]{states} == $r[0]{states}, "explore.no-por dfs $f: the same states");
        ok($d[0]{pruned} > 0 && $d[1]{pruned} == 0, "explore.no-por dfs $f: steps skipped only without it");
    }
    next unless $bad;
    ok($r[0]{status} eq 'violation' && $r[1]{status} eq 'violation', "explore.no-por bfs $f: a violation either way");
    is_deeply([@{$r[0]}{qw(steps_found counterexample verdict)}], [@{$r[1]}{qw(steps_found counterexample verdict)}],
              "explore.no-por bfs $f: the same counterexample");
}
# breadth-first with several jobs, a violation is reported as one job reports
# it (the least choices among the shortest paths), whatever order the
# workers stored the states in: the must-find files (but the largest),
# unshrunk, with 2 jobs (the order differs from run to run, so this is a
# sample: the code before it differed from one job's on about 2 of these
# 47 files a run)
{
    my %cx;
    my @files = grep { !m{/ppc-clear-after-flush\.vtlb$} } sort glob('scenarios/explore/found/*.vtlb');
    for my $opt ([], ['--jobs', '2']) {
        my ($s, $o) = run_vtlb('explore', '--json', '--no-shrink', @$opt, @files);
        is($s, 0, "explore.jobs-counterexample @$opt: found as expected");
        for my $r (@{ decode_json($o)->{results} }) {
            push @{ $cx{$r->{file}} }, JSON::PP->new->canonical->encode([@{$r}{qw(status steps_found counterexample verdict)}]);
        }
    }
    my @differ = grep { my $runs = $cx{$_}; grep { $_ ne $runs->[0] } @$runs } sort keys %cx;
    ok(keys %cx > 0 && !@differ, 'explore.jobs-counterexample: the same counterexample with 1 and 2 jobs')
        or diag("differ: @differ");
}
# a counterexample that can change from run to run says so; the search for
# one job's counterexample keeps to --max-memory, and says when it gave up
{
    my $f = 'scenarios/explore/found/x86-pv-flush-xchg.vtlb';
    my $res = sub { my ($s, $o) = run_vtlb('explore', '--json', @_, $f); (decode_json($o)->{results}[0], $s) };
    my ($r1) = $res->();
    my ($r2) = $res->('--jobs', '2');
    my ($rd) = $res->('--dfs', '--jobs', '2');
    ok($r1->{counterexample_stable} && $r2->{counterexample_stable} && !exists $r2->{counterexample_note},
       'explore.stable: breadth-first, one job or two') or diag(explain [$r1, $r2]);
    ok(!$rd->{counterexample_stable} && $rd->{counterexample_note} =~ /depth-first/,
       'explore.stable: depth-first with two jobs is not') or diag(explain $rd);
    # from just under what the search holds to well above what the least
    # search adds (debug builds also assert that it gives its share back)
    my $cx = sub { JSON::PP->new->canonical->encode([@{ $_[0] }{qw(steps_found counterexample verdict)}]) };
    my ($gave_up, $least, $wrong) = (0, 0, 0);
    for (my $cap = $r2->{memory} - 200_000; $cap < $r2->{memory} + 600_000; $cap += 50_000) {
        my ($r, $s) = $res->('--jobs', '2', '--max-memory', $cap);
        next if $r->{status} ne 'violation';
        if ($r->{counterexample_stable}) {
            $least++;
            $wrong++ if $cx->($r) ne $cx->($r1);
        }
        $gave_up++ if !$r->{counterexample_stable} && $r->{counterexample_note} =~ /no room/;
    }
    ok($gave_up > 0 && $least > 0 && !$wrong,
       'explore.stable: under a tight cap the least search gives up and says so; otherwise one job\'s')
        or diag("gave up $gave_up, least $least, not one job's $wrong");
}
# --max-memory covers what grows with the search besides the store: the
# depth-first frames (one per depth reached, about 10 KiB each) and queued
# work, counted while held (peak_memory) and given back at the end
{
    my $res = sub { my ($s, $o) = run_vtlb('explore', '--json', @_, $one); (decode_json($o)->{results}[0], $s) };
    my ($b) = $res->();
    ok($b->{peak_memory} >= $b->{memory}, 'explore.peak breadth-first: at least what is held at the end')
        or diag(explain $b);
    # the store's fixed part counts from the start, in every mode, even above a cap
    for my $args (['--random', '50'], ['--max-memory', '1K'], ['--dfs', '--max-memory', '1K'], ['--lossy', 'bitstate']) {
        my ($r) = $res->(@$args);
        ok($r->{peak_memory} >= $r->{memory} && $r->{memory} > 0, "explore.peak @$args: at least what is held")
            or diag(explain $r);
    }
    for my $jobs (1, 2) {
        my ($d) = $res->('--dfs', '--jobs', $jobs);
        ok($d->{peak_memory} - $d->{memory} >= 4096 * $d->{max_depth},
           "explore.peak depth-first, $jobs job(s): its frames were counted, and given back")
            or diag(explain $d);
        my ($over, $capped) = (0, 0);
        for (my $cap = $d->{memory} / 2; $cap < $d->{peak_memory} + 100_000; $cap += 50_000) {
            my ($r) = $res->('--dfs', '--jobs', $jobs, '--max-memory', $cap);
            $over++ if $r->{peak_memory} > $cap;
            $capped++ if $r->{status} eq 'incomplete' && $r->{why} =~ /memory cap/;
        }
        ok(!$over && $capped > 0, "explore.peak depth-first, $jobs job(s): never above the cap")
            or diag("over $over, capped $capped");
    }
    # between what the store needs and that with the frames: the frames stop it
    my ($d) = $res->('--dfs');
    my ($r) = $res->('--dfs', '--max-memory', $d->{memory} + 1000);
    ok($r->{status} eq 'incomplete' && $r->{why} =~ /memory cap/,
       'explore.peak depth-first: a cap the store alone fits in is not enough') or diag(explain $r);
}
($st) = run_vtlb('explore', '--no-por', '--no-symmetry', $one);
is($st, 2, 'explore.no-por does nothing breadth-first without symmetry: a usage error');
($st) = run_vtlb('explore', '--no-por', '--swarm', '3', $one);
is($st, 2, 'explore.no-por does nothing with --swarm: a usage error');
($st) = run_vtlb('explore', '--no-por', '--dfs', $one);
is($st, 0, 'explore.no-por with --dfs');

# breadth-first and depth-first: the same states, and a counterexample that
# replays; breadth-first finds a shortest one without shrinking
($st, $out) = run_vtlb('explore', '--dfs', $one);
my ($dfs_states) = $out =~ /: (\d+) states/;
is($dfs_states, $states1, 'explore.dfs stores the states breadth-first does');
($st, $out) = run_vtlb('explore', '--no-shrink', '--revert', 'x86-vmx-migrate-flush', $one);
like($out, qr/counterexample in 11 steps \(found at 11\)/, 'explore.bfs finds a shortest counterexample');
for my $order ('--bfs', '--dfs') {
    my $emit = "$dir/order$order.vtlb";
    ($st, $out) = run_vtlb('explore', $order, '--revert', 'x86-vmx-migrate-flush', '--emit', $emit, $one);
    is($st, 1, "explore$order finds the violation");
    ($st) = run_vtlb('run', '--revert', 'x86-vmx-migrate-flush', $emit);
    is($st, 0, "explore$order --emit replays as expected");
}
# stopping early must never hang a worker waiting for work
{
    no warnings "once";
    local $main::TIMEOUT = 20;
    my $hung = 0;
    for my $i (1 .. 25) {
        my ($s) = run_vtlb('explore', '--jobs', '2', '--max-memory', '1K', $one);
        $hung++ if $s != 0;
    }
    is($hung, 0, 'explore.jobs2 with a memory cap always ends (25 runs)');
}

($st, $out) = run_vtlb('explore', '--json', $one);
my $doc = eval { decode_json($out) };
ok($doc, 'explore.json parses') or diag($@);
is($doc->{results}[0]{status}, 'clean', 'explore.json status');
ok($doc->{results}[0]{exhaustive}, 'explore.json exhaustive');

($st, $out) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', '--json', $one);
is($st, 1, 'explore.json violation exits 1');
$doc = decode_json($out);
is($doc->{results}[0]{status}, 'violation', 'explore.json violation status');
ok(@{ $doc->{results}[0]{counterexample} } > 0, 'explore.json counterexample');

# Expectations: a mismatch fails (exit 1), a match says "ok" with its bounds;
# a file without an expectation keeps the old meaning (a finding fails).
{
    open(my $fh, '<', $one) or die;
    my $text = do { local $/; <$fh> };
    (my $none = $text) =~ s/^expect clean\n//m;
    my %variant = (none => $none, found => $text =~ s/^expect clean$/expect found/mr,
                   found_rev => $text =~ s/^expect clean$/revert x86-vmx-migrate-flush\nexpect found/mr);
    for my $k (keys %variant) {
        open(my $o, '>', "$dir/$k.vtlb") or die;
        print $o $variant{$k};
        close $o;
    }
    ($st, $out) = run_vtlb('explore', $one);
    is($st, 0, 'explore.expect clean met exits 0');
    like($out, qr/^ok\s+\S+\s+clean as expected, exhaustive within depth 16, 2 preemptions, 2 migrations: \d+ states/m,
         'explore.expect clean met: ok with the bounds');
    ($st, $out) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', $one);
    is($st, 1, 'explore.expect clean with a finding exits 1');
    like($out, qr/^FAIL\s+\S+\s+expected clean \(line \d+\): counterexample in \d+ steps/m, 'explore.expect clean: FAIL line');
    like($out, qr/^STALE /m, 'explore.expect clean: the finding is shown');
    like($out, qr/; 0 as expected, 1 not$/m, 'explore.expect clean: summary counts the mismatch');
    ($st, $out) = run_vtlb('explore', "$dir/found.vtlb");
    is($st, 1, 'explore.expect found but clean exits 1');
    like($out, qr/^FAIL\s+\S+\s+expected found \(line \d+\), but clean: exhaustive within depth 16/m, 'explore.expect found: FAIL line with bounds');
    ($st, $out) = run_vtlb('explore', "$dir/found_rev.vtlb");
    is($st, 0, 'explore.expect found with a revert line exits 0');
    like($out, qr/^ok\s+\S+\s+found as expected \(line \d+\): counterexample in \d+ steps/m, 'explore.expect found: ok line');
    like($out, qr/^  STALE /m, 'explore.expect found: names the finding');
    like($out, qr/^  searched: depth 16, 2 preemptions, 2 migrations; /m, 'explore.expect found: with the bounds');
    ($st, $out) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', "$dir/found.vtlb");
    is($st, 0, 'explore.expect found with --revert exits 0');
    ($st, $out) = run_vtlb('explore', '--random', '2', "$dir/found.vtlb");
    is($st, 1, 'explore.expect found, incomplete and nothing found: exits 1');
    like($out, qr/^FAIL .*NOT exhaustive/m, 'explore.expect found, incomplete: FAIL says not exhaustive');
    ($st, $out) = run_vtlb('explore', "$dir/none.vtlb");
    is($st, 0, 'explore.no expectation, clean: exits 0');
    like($out, qr/^clean\s+\S+\s+exhaustive within/m, 'explore.no expectation, clean: the bare result');
    unlike($out, qr/as expected/, 'explore.no expectation: no expectation counted');
    ($st, $out) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', "$dir/none.vtlb");
    is($st, 1, 'explore.no expectation, finding: exits 1 as before');
    like($out, qr/^FOUND /m, 'explore.no expectation, finding: FOUND line');
    ($st, $out) = run_vtlb('explore', '--json', "$dir/found_rev.vtlb", $one);
    $doc = eval { decode_json($out) };
    ok($doc, 'explore.expect json parses') or diag($@);
    is($doc->{results}[0]{expect}, 'found', 'explore.expect json: expect found');
    ok($doc->{results}[0]{as_expected}, 'explore.expect json: as_expected');
    is($doc->{results}[1]{expect}, 'clean', 'explore.expect json: expect clean');
    is($doc->{summary}{as_expected}, 2, 'explore.expect json: summary');
}

# Search coverage: which program operations and decisions the search took.
($st, $out) = run_vtlb('explore', $one);
like($out, qr/^  coverage: 4\/4 program operations reached; every load, enter, preempt and migrate the bounds allow was taken$/m,
     'explore.coverage full');
($st, $out) = run_vtlb('explore', '--depth', '5', $one);
like($out, qr/^  coverage: 3\/4 program operations reached \(never: g\.0 #4 'access 0x1000' \(line 19\)\)/m,
     'explore.coverage names the operation a shallow search never reached');
($st, $out) = run_vtlb('explore', '--preemptions', '0', $one);
like($out, qr/^  coverage: 4\/4 .*; never taken: g\.0 migrate$/m, 'explore.coverage names a decision never taken');
unlike($out, qr/never taken: .*preempt/, 'explore.coverage: no preempt expected under a zero bound');
($st, $out) = run_vtlb('explore', '--json', '--depth', '5', $one);
my $cov = eval { decode_json($out)->{results}[0]{coverage} };
ok($cov, 'explore.coverage json') or diag($@, $out);
is($cov->{reached}, 3, 'explore.coverage json reached');
is($cov->{operations}, 4, 'explore.coverage json operations');
my @ops = @{ $cov->{programs}[0]{ops} // [] };
is(join(',', map { $_->{reached} ? 1 : 0 } @ops), '1,1,1,0', 'explore.coverage json per operation');
is($ops[3]{op}, 'access 0x1000', 'explore.coverage json names the operation');
ok($cov->{decisions}[0]{load} > 0 && $cov->{decisions}[0]{enter} > 0, 'explore.coverage json decisions');
{
    # fine-grained phases: each entry and host phase is counted
    open(my $fh, '<', 'scenarios/explore/arm64-s2-unmap-order.vtlb') or die;
    my $t = do { local $/; <$fh> };
    $t =~ s/^expect clean$/expect clean\nphases fine/m;
    open(my $o, '>', "$dir/fine.vtlb") or die;
    print $o $t;
    close $o;
    ($st, $out) = run_vtlb('explore', '--json', "$dir/fine.vtlb");
    $cov = eval { decode_json($out)->{results}[0]{coverage} };
    ok($cov, 'explore.coverage fine json') or diag($out);
    my ($host) = grep { $_->{vcpu} eq 'host' } @{ $cov->{programs} };
    ok($host && $host->{ops}[0]{completed} > 0, 'explore.coverage fine: the host operation completed');
    ok($host && @{ $host->{ops}[0]{phases} } >= 2, 'explore.coverage fine: host phases counted');
    ok(@{ $cov->{decisions}[0]{enter_phases} } >= 1 && $cov->{decisions}[0]{enter} > 0, 'explore.coverage fine: entry phases counted');
    ($st, $out) = run_vtlb('explore', "$dir/fine.vtlb");
    like($out, qr/^  coverage: 2\/2 program operations reached, 1\/1 host operations completed; .*; phases taken: g\.0 enter \d[\d,]* host #1 0,1[\d,]*$/m,
         'explore.coverage fine: the text names the phases taken');
}
# the same operations and decisions are reached whatever the number of jobs
{
    my $reach = sub {
        my $c = decode_json($_[0])->{results}[0]{coverage};
        join(' ', (map { map { $_->{reached} ? 1 : 0 } @{ $_->{ops} } } @{ $c->{programs} }),
             map { my $d = $_; map { $d->{$_} ? 1 : 0 } qw(load migrate enter preempt) } @{ $c->{decisions} });
    };
    my $f = 'scenarios/explore/ppc-nested.vtlb';
    my (undef, $o1) = run_vtlb('explore', '--json', $f);
    my (undef, $o2) = run_vtlb('explore', '--json', '--jobs', '2', $f);
    is($reach->($o2), $reach->($o1), 'explore.coverage jobs2 reaches what one job reaches');
}

# --dot: the explored state graph parses, and has the states the search reports.
sub read_dot {
    my ($file) = @_;
    open(my $fh, '<', $file) or return;
    my (%node, @edges, %red, $digraph, $closed);
    while (<$fh>) {
        next if m{^//};
        $digraph = 1 if /^digraph vtlb \{$/;
        $closed = 1 if /^\}$/;
        if (/^  s(\d+) \[label="\1"(.*)\];$/) { my ($id, $attr) = ($1, $2); $node{$id} = 1; $red{$id} = 1 if $attr =~ /fillcolor=red/ }
        elsif (/^  s(\d+) -> s(\d+) \[label="((?:[^"\\]|\\.)+)"(?:, color=red)?(, penwidth=2)?\];$/) { push @edges, [$1, $2, $3, $4 ? 1 : 0] }
        elsif (!/^(digraph|\}|  node |  edge )/) { return { bad => $_ } }
    }
    return { node => \%node, edges => \@edges, red => \%red, whole => $digraph && $closed };
}
sub dot_reachable {
    my ($g) = @_;
    my %next;
    push @{ $next{$_->[0]} }, $_->[1] for @{ $g->{edges} };
    my %seen = (0 => 1);
    my @todo = (0);
    while (@todo) { for (@{ $next{ shift @todo } // [] }) { push @todo, $_ unless $seen{$_}++ } }
    return scalar keys %seen;
}
# breadth-first (the default) with one and two jobs, and depth-first
for my $jobs (1, 2, '1 --dfs') {
    my ($nj, @order) = split / /, $jobs;
    my $dot = "$dir/graph$nj@order.dot";
    ($st, $out) = run_vtlb('explore', '--json', '--jobs', $nj, @order, '--dot', $dot, $one);
    is($st, 0, "explore.dot jobs$jobs exits 0");
    my $res = decode_json($out)->{results}[0];
    my $g = read_dot($dot);
    ok($g && !$g->{bad} && $g->{whole}, "explore.dot jobs$jobs parses") or diag($g && $g->{bad});
    next unless $g && !$g->{bad};
    is(scalar keys %{ $g->{node} }, $res->{states}, "explore.dot jobs$jobs: one node per state reported");
    ok(@{ $g->{edges} } >= $res->{states} - 1 && @{ $g->{edges} } <= $res->{transitions},
       "explore.dot jobs$jobs: edges between states-1 and the transitions taken");
    # $one has a load onto an interchangeable pCPU, which a graph keeps
    is($res->{pruned}, 0, "explore.dot jobs$jobs: takes every load") unless @order;
    ok(!grep({ !$g->{node}{ $_->[0] } || !$g->{node}{ $_->[1] } } @{ $g->{edges} }), "explore.dot jobs$jobs: every edge joins declared nodes");
    is(dot_reachable($g), $res->{states}, "explore.dot jobs$jobs: every state is reached from the initial one");
    my %labels = map { ($_->[2] =~ /^(\w+)/)[0] => 1 } @{ $g->{edges} };
    ok($labels{load} && $labels{enter} && $labels{preempt}, "explore.dot jobs$jobs: edges are labelled by the choice");
    ok(!%{ $g->{red} }, "explore.dot jobs$jobs: a clean search has no violating state");
}
{
    my $dot = "$dir/bad.dot";
    ($st, $out) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', '--dot', $dot, $one);
    is($st, 1, 'explore.dot violation exits 1');
    my $g = read_dot($dot);
    ok($g && !$g->{bad}, 'explore.dot violation parses');
    is(scalar keys %{ $g->{red} // {} }, 1, 'explore.dot violation: the violating state is highlighted');
    for my $order ('--bfs', '--dfs') {
        ($st, $out) = run_vtlb('explore', '--json', '--jobs', '2', $order, '--revert', 'x86-vmx-migrate-flush', '--dot', $dot, $one);
        my $found = decode_json($out)->{results}[0]{steps_found};
        $g = read_dot($dot);
        my @bold = grep { $_->[3] } @{ $g->{edges} // [] };
        is(scalar @bold, $found, "explore.dot violation $order: the counterexample as found is drawn bold, one edge per step");
        my ($at, $ok) = (0, 1);
        my %from = map { $_->[0] => $_ } @bold;
        for (1 .. @bold) { my $e = $from{$at} or do { $ok = 0; last }; $at = $e->[1] }
        ok($ok && $g->{red}{$at}, "explore.dot violation $order: the bold edges lead from the initial state to the red one");
    }
    ($st, $out, $err) = run_vtlb('explore', '--dot', "$dir/big.dot", 'scenarios/explore/ppc-migrate-away.vtlb');
    is($st, 2, 'explore.dot over the state limit exits 2');
    like($err, qr/more than 10000 states; .* not written/, 'explore.dot over the limit says so');
    like($out, qr/^INCOMPLETE .*--dot state limit/m, 'explore.dot over the limit: the search is incomplete');
    ok(!-e "$dir/big.dot", 'explore.dot over the limit writes nothing');
    ($st, $out, $err) = run_vtlb('explore', '--dot', '/dev/full', $one);
    is($st, 2, 'explore.dot write error exits 2');
    like($err, qr{cannot write /dev/full: }, 'explore.dot write error names the reason');
    ($st) = run_vtlb('explore', '--dot', "$dir/x.dot", '--random', '5', $one);
    is($st, 2, 'explore.dot refuses --random');
    ($st) = run_vtlb('explore', '--dot', "$dir/x.dot", 'scenarios/explore/');
    is($st, 2, 'explore.dot needs exactly one scenario');
  SKIP: {
        my $have = system('dot -V >/dev/null 2>&1') == 0;
        skip 'Graphviz dot not installed', 1 unless $have;
        is(system('dot', '-Tsvg', '-o', "$dir/g.svg", "$dir/graph1.dot"), 0, 'explore.dot: Graphviz accepts the graph');
    }
}

# --progress: one line a second to a file or pipe; on a terminal one line
# rewritten in place (\r ... ESC[K) and cleared when the search ends.
my $slow = 'scenarios/explore/ppc-clear-after-flush.vtlb';   # a few seconds: cut at 2
($st, $out, $err) = run_vtlb('explore', '--progress', '--time-limit', '2', $slow);
my @prog = grep { /^vtlb explore / } split /\n/, $err;
ok(@prog >= 1, 'explore.progress to a file: at least one line') or diag($err);
# breadth-first (the default): the level being expanded, the states queued, and the share of the level done
like($_, qr/^vtlb explore \Q$slow\E: \d+ states \(\d+\/s\), \d+ transitions, level \d+, queue \d+, depth \d+, [\d.]+ MiB, [\d.]+ s, level ~[\d.]+%, time limit in \d+ s$/,
     'explore.progress line: file, states, rate, frontier, estimate') for @prog;
unlike($err, qr/\r|\e/, 'explore.progress to a file: no terminal control characters');
# depth-first: the stack and the share of the search tree done
($st, $out, $err) = run_vtlb('explore', '--dfs', '--progress', '--time-limit', '2', $slow);
@prog = grep { /^vtlb explore / } split /\n/, $err;
ok(@prog >= 1, 'explore.progress --dfs: at least one line') or diag($err);
like($_, qr/^vtlb explore \Q$slow\E: \d+ states \(\d+\/s\), \d+ transitions, stack \d+, queue \d+, depth \d+, [\d.]+ MiB, [\d.]+ s, tree ~[\d.]+%, time limit in \d+ s$/,
     'explore.progress --dfs line: file, states, rate, stack, tree estimate') for @prog;
($st, $out, $err) = run_vtlb('explore', '--progress', '--random', '100000000', '--time-limit', '2', $one);
like($err, qr/^vtlb explore \S+: walk \d+\/100000000, \d+ transitions, depth \d+, [\d.]+ s, ~\d+ s left, time limit in \d+ s$/m,
     'explore.progress random: walks done of all, and time left');
($st, $out, $err) = run_vtlb('explore', $one);
is($err, '', 'explore.progress off by default when stderr is not a terminal');
SKIP: {
    skip 'script(1) not available for a terminal test', 4 if system('script -qec true /dev/null >/dev/null 2>&1') != 0;
    my $cmd = "$VTLB explore --time-limit 2 $slow";
    my $tty = `script -qec '$cmd' /dev/null 2>&1`;
    like($tty, qr/\r(?:\e\[K)?ppc-clear-after-flush\.vtlb: \d+ states, \d+\/s, level \d+, queue \d+, level ~[\d.]+%, time limit in \d+ s, \d+ s\e\[K/,
         'explore.progress terminal: one line in place with the file, rate, frontier and estimate');
    unlike($tty, qr/^vtlb explore /m, 'explore.progress terminal: no scrolling lines');
    like($tty, qr/\r\e\[KINCOMPLETE /, 'explore.progress terminal: the line is cleared before the result');
    my @upd = $tty =~ /\r(?![\e\n])/g;
    ok(@upd >= 2, 'explore.progress terminal: updated more than once') or diag(scalar @upd);
}

($st, $out) = run_vtlb('explore', 'scenarios/x86/vmx-migrate-flush.vtlb');
is($st, 0, 'explore.script-only file is skipped');
like($out, qr/^skip /m, 'explore.skip line');
($st) = run_vtlb('explore', 'tests/bad/empty.vtlb');
is($st, 2, 'explore.bad input exits 2');
($st) = run_vtlb('explore', '--depth', '0', $one);
is($st, 2, 'explore.bad depth exits 2');
done_testing;
