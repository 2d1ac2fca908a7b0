#!/usr/bin/perl
# The edges around the engine: files that are not scenarios, directory walks
# that meet bad entries, --emit's writes, options that would do nothing, the
# command line's number syntax, summaries that count what they skipped, and
# errors that carry their reason on stdout.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use POSIX qw(mkfifo);
require './tests/lib.pl';

our $VTLB;
our $TIMEOUT;
$TIMEOUT = 20;    # a blocked open would otherwise hang here
my $dir = tempdir(CLEANUP => 1);
chmod(0755, $dir);
my $script = 'scenarios/x86/vmx-migrate-flush.vtlb';
my $xpl = 'scenarios/explore/vmx-migrate-flush.vtlb';
my $fix = 'x86-vmx-migrate-flush';

# ---- non-regular files ----------------------------------------------------
SKIP: {
    skip('no mkfifo here', 6) unless mkfifo("$dir/fifo.vtlb", 0644);
    my ($st, $out, $err) = run_vtlb('run', "$dir/fifo.vtlb");
    is($st, 2, 'fifo: run on a FIFO exits 2 (and does not hang)');
    like($out, qr{^ERROR \Q$dir\E/fifo\.vtlb: not a regular file \(a FIFO\)}m, 'fifo: ERROR line names path and reason');
    ($st, $out) = run_vtlb('explore', "$dir/fifo.vtlb");
    is($st, 2, 'fifo: explore on a FIFO exits 2 (and does not hang)');

    mkdir("$dir/withfifo") or die;
    rename("$dir/fifo.vtlb", "$dir/withfifo/a-fifo.vtlb") or die;
    copy($script, "$dir/withfifo/b.vtlb") or die;
    ($st, $out) = run_vtlb('run', "$dir/withfifo");
    is($st, 2, 'fifo: a FIFO in a directory is an error');
    like($out, qr{^ERROR \Q$dir\E/withfifo/a-fifo\.vtlb: not a regular file}m, 'fifo: named in the walk');
    like($out, qr{^ok +\Q$dir\E/withfifo/b\.vtlb}m, 'fifo: the walk goes on after it');
}
{
    my ($st, $out) = run_vtlb('run', '/dev/null');
    is($st, 2, 'device: /dev/null is not a scenario');
    like($out, qr{^ERROR /dev/null: not a regular file \(a character device\)}m, 'device: says what it is');
}

# ---- directory walks ------------------------------------------------------
my $w = "$dir/walk";
mkdir($w) or die;
copy($script, "$w/a.vtlb") or die;
symlink('nowhere.vtlb', "$w/b-dangling.vtlb") or die;
symlink('c-loop2', "$w/c-loop1") or die;
symlink('c-loop1', "$w/c-loop2") or die;
symlink('.', "$w/d-self") or die;
mkdir("$w/e-sub") or die;
symlink('..', "$w/e-sub/up") or die;
copy($script, "$w/e-sub/f.vtlb") or die;
copy($script, "$w/g.vtlb") or die;
{
    my ($st, $out, $err) = run_vtlb('run', $w);
    is($st, 2, 'walk: bad entries make the run exit 2');
    like($out, qr{^ERROR \Q$w\E/b-dangling\.vtlb: dangling symbolic link}m, 'walk: dangling link named with its reason');
    like($out, qr{^ERROR \Q$w\E/c-loop1: .*Too many levels of symbolic links}m, 'walk: ELOOP named with its reason');
    like($out, qr{^ERROR \Q$w\E/d-self: directory cycle}m, 'walk: a link to . is a cycle, not re-walked');
    like($out, qr{^ERROR \Q$w\E/e-sub/up: directory cycle}m, 'walk: a link to .. is a cycle');
    my @ok = $out =~ /^ok +(\S+)/mg;
    is_deeply(\@ok, ["$w/a.vtlb", "$w/e-sub/f.vtlb", "$w/g.vtlb"],
              'walk: every scenario runs exactly once, including those sorted after the errors');
    like($out, qr/^8 scenarios: 3 passed, 0 failed, 5 errors, 0 skipped$/m, 'walk: summary counts each error');
    like($err, qr{^\Q$w\E/b-dangling\.vtlb: error: dangling}m, 'walk: the diagnostic is on stderr too');

    ($st, $out) = run_vtlb('run', '--json', $w);
    is($st, 2, 'walk.json exits 2');
    my $doc = eval { decode_json($out) };
    ok($doc, 'walk.json parses') or diag($@, $out);
    my %err = map { $_->{file} => $_->{error}{message} } grep { $_->{status} eq 'error' } @{ $doc->{results} };
    for my $bad (qw(b-dangling.vtlb c-loop1 c-loop2 d-self e-sub/up)) {
        ok($err{"$w/$bad"}, "walk.json: $bad is in results[] with its message");
    }
    is($doc->{summary}{errors}, 5, 'walk.json summary errors');
    is($doc->{summary}{total}, 8, 'walk.json summary total');
}

# An unreadable subdirectory: one error, and the walk goes on.  root reads
# every directory, so as root the run drops to nobody's uid.
SKIP: {
    my $u = "$dir/unread";
    mkdir($u) or die;
    mkdir("$u/b-locked") or die;
    copy($script, "$u/a.vtlb") or die;
    copy($script, "$u/b-locked/x.vtlb") or die;
    copy($script, "$u/c.vtlb") or die;
    chmod(0755, $u, "$u/a.vtlb", "$u/c.vtlb");
    chmod(0, "$u/b-locked");
    my ($st, $out);
    if ($> == 0) {
        my $bin = abs_path($VTLB);
        my @parts = split m{/}, $bin;
        my $reachable = 1;
        for my $i (1 .. $#parts) {
            my $p = join('/', @parts[0 .. $i]);
            $reachable = 0 unless (stat $p)[2] & 01;
        }
        skip('root, and the binary is not reachable for nobody', 3) unless $reachable;
        my $pid = open(my $fh, '-|') // die "fork: $!";
        if (!$pid) {
            open(STDERR, '>', '/dev/null');
            $) = "65534 65534";
            $( = 65534;
            $> = $< = 65534;
            exec($bin, 'run', $u) or exit 127;
        }
        local $/;
        $out = <$fh>;
        close $fh;
        $st = $? >> 8;
    } else {
        ($st, $out) = run_vtlb('run', $u);
    }
    chmod(0755, "$u/b-locked");
    is($st, 2, 'unreadable: exit 2');
    like($out, qr{^ERROR \Q$u\E/b-locked: cannot read directory: Permission denied}m, 'unreadable: named with its reason');
    like($out, qr{^ok +\Q$u\E/c\.vtlb}m, 'unreadable: the walk goes on after it');
}

# ---- --emit -----------------------------------------------------------------
SKIP: {
    skip('no /dev/full', 3) unless -c '/dev/full';
    my ($st, $out, $err) = run_vtlb('explore', '--revert', $fix, '--emit', '/dev/full', $xpl);
    is($st, 2, 'emit: /dev/full exits 2');
    like($out . $err, qr/cannot write \/dev\/full: No space left on device/, 'emit: /dev/full gives strerror');
    unlike($out, qr/^\s*wrote /m, 'emit: /dev/full does not say "wrote"');
}
{
    my ($st, $out, $err) = run_vtlb('explore', '--revert', $fix, '--emit', $dir, $xpl);
    is($st, 2, 'emit: a directory exits 2');
    like($err, qr/--emit \Q$dir\E: it is a directory/, 'emit: a directory gives the reason');
    unlike($out, qr/^FOUND/m, 'emit: a directory is refused before searching');

    ($st, $out, $err) = run_vtlb('explore', '--revert', $fix, '--emit', "$dir/no/such/dir/ce.vtlb", $xpl);
    is($st, 2, 'emit: a missing directory exits 2');
    like($err, qr/No such file or directory/, 'emit: a missing directory gives strerror');

    my $copy = "$dir/xpl.vtlb";
    copy($xpl, $copy) or die;
    ($st, $out, $err) = run_vtlb('explore', '--emit', $copy, $copy);
    is($st, 2, 'emit: the scenario itself is refused');
    ok(-s $copy, 'emit: the scenario is left alone');

    SKIP: {
        skip('no mkfifo here', 2) unless mkfifo("$dir/emit-fifo", 0644);
        ($st, $out) = run_vtlb('explore', '--revert', $fix, '--emit', "$dir/emit-fifo", $xpl);
        is($st, 2, 'emit: a FIFO nobody reads exits 2 (and does not hang)');
        like($out, qr/cannot write .*a FIFO nobody reads/, 'emit: a FIFO nobody reads gives the reason');
    }

    my $ce = "$dir/ce.vtlb";
    ($st, $out) = run_vtlb('explore', '--revert', $fix, '--emit', $ce, $xpl);
    is($st, 1, 'emit: a violation exits 1');
    like($out, qr/^  wrote \Q$ce\E/m, 'emit: says it wrote');
    ok(-s $ce, 'emit: the file is there');
    ($st, $out) = run_vtlb('explore', '--emit', $ce, $xpl);
    is($st, 0, 'emit: a clean search exits 0');
    like($out, qr/no counterexample, nothing written; removed the older \Q$ce\E/, 'emit: clean says nothing was written');
    ok(!-e $ce, 'emit: no older counterexample is left looking current');
    ($st, $out) = run_vtlb('explore', '--emit', $ce, $xpl);
    like($out, qr/no counterexample, nothing written to \Q$ce\E/, 'emit: clean with no older file');
    ($st, $out) = run_vtlb('explore', '--json', '--emit', $ce, $xpl);
    my $doc = decode_json($out);
    is($doc->{results}[0]{emit}{written}, JSON::PP::false, 'emit.json: written false when clean');
}

# ---- options that would do nothing -----------------------------------------
for my $t (['run', '--depth', '3'], ['run', '--strict'], ['run', '--emit', "$dir/x.vtlb"], ['run', '--jobs', '2'],
           ['run', '--random', '3'], ['run', '--max-memory', '1M'], ['run', '--time-limit', '5'], ['run', '--no-por'],
           ['run', '--no-symmetry'], ['run', '--no-shrink'], ['run', '--progress'], ['run', '--preemptions', '1'],
           ['run', '--migrations', '1'], ['explore', '--trace'], ['fixes', '--trace'], ['fixes', '-q'],
           ['fixes', '--revert', $fix], ['options', '--depth', '3'], ['options', '--trace']) {
    my ($cmd, @opt) = @$t;
    my @files = $cmd eq 'run' ? ($script) : $cmd eq 'explore' ? ($xpl) : ();
    my ($st, $out, $err) = run_vtlb($cmd, @opt, @files);
    is($st, 2, "noop: $cmd @opt exits 2");
    like($err, qr/\Q$opt[0]\E does nothing for '$cmd'/, "noop: $cmd @opt says why");
    is($out, '', "noop: $cmd @opt runs nothing");
}
{
    my ($st, $out, $err) = run_vtlb('run', '--revert', 'arm64-vmid-rollover-flush', $script);
    is($st, 2, 'revert: a fix of an architecture no scenario has exits 2');
    like($err, qr/--revert arm64-vmid-rollover-flush: it is a fix of arm64/, 'revert: says why');
    ($st) = run_vtlb('explore', '--revert', 'arm64-vmid-rollover-flush', $xpl);
    is($st, 2, 'revert: the same for explore');
    ($st) = run_vtlb('explore', '--revert', $fix, $script);
    is($st, 2, 'revert: explore counts only files with programs');
    ($st) = run_vtlb('run', '--revert', $fix, $script, 'scenarios/arm64/');
    is($st, 1, 'revert: fine when a scenario of its architecture runs');
}

# ---- one number syntax -------------------------------------------------------
{
    my ($st, $out) = run_vtlb('explore', '--depth', '010', $xpl);
    is($st, 0, 'number: --depth 010 is accepted');
    like($out, qr/exhaustive within depth 10,/, 'number: --depth 010 is ten, as in a scenario');
    ($st, $out) = run_vtlb('explore', '--depth', '0x0c', $xpl);
    like($out, qr/exhaustive within depth 12,/, 'number: --depth 0x0c is twelve');
    ($st, $out) = run_vtlb('explore', '--depth', '09', $xpl);
    like($out, qr/exhaustive within depth 9,/, 'number: --depth 09 is nine, not a bad octal');
    for my $bad ('+5', '-1', ' 5', '5x', '', '0x', '1e3', '99999999999999999999') {
        my ($s, $o, $e) = run_vtlb('explore', '--depth', $bad, $xpl);
        is($s, 2, "number: --depth '$bad' exits 2");
    }
    ($st, $out) = run_vtlb('explore', '--max-memory', '0x400K', $xpl);
    is($st, 0, 'number: --max-memory 0x400K');
    open(my $fh, '<', $xpl) or die;
    my $text = do { local $/; <$fh> };
    close $fh;
    $text =~ s/^bounds .*$//mg;
    $text .= "bounds depth 010\n";
    open(my $o, '>', "$dir/oct.vtlb") or die;
    print $o $text;
    close $o;
    ($st, $out) = run_vtlb('explore', "$dir/oct.vtlb");
    like($out, qr/exhaustive within depth 10,/, 'number: bounds depth 010 in a scenario is ten too');
}

# ---- summaries and skips ------------------------------------------------------
{
    my ($st, $out) = run_vtlb('explore', $script);
    is($st, 0, 'skip: explore on a script exits 0');
    like($out, qr/^skip +\Q$script\E +no programs to explore/m, 'skip: says there is nothing to explore');
    like($out, qr/^1 file: 0 clean \(exhaustive\), 0 with a violation, 0 incomplete, 0 errors, 1 skipped/m,
         'skip: counted in the summary');
    ($st, $out) = run_vtlb('explore', '-q', $script);
    like($out, qr/1 skipped/, 'skip: counted under -q too');
    ($st, $out) = run_vtlb('explore', '--json', $script);
    my $doc = decode_json($out);
    is($doc->{summary}{skipped}, 1, 'skip.json: counted');
    is($doc->{results}[0]{status}, 'skipped', 'skip.json: status');
    ($st, $out) = run_vtlb('run', $xpl);
    like($out, qr/^1 scenario: 0 passed, 0 failed, 0 errors, 1 skipped/m, 'skip: run counts a program-only file');
}

# ---- singular and plural -------------------------------------------------------
{
    open(my $o, '>', "$dir/one.vtlb") or die;
    print $o "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nrun g.0 on 0\nexpect clean\n";
    close $o;
    my ($st, $out) = run_vtlb('run', "$dir/one.vtlb");
    is($st, 0, 'plural: a one-step scenario passes');
    like($out, qr/clean as expected \(1 step\)/, 'plural: "1 step"');
    like($out, qr/^1 scenario: 1 passed, 0 failed, 0 errors, 0 skipped$/m, 'plural: "1 scenario", "0 errors"');
    ($st, $out) = run_vtlb('run', $script, $script);
    unlike($out, qr/\b1 (steps|scenarios|errors|states|files)\b/, 'plural: no "1 steps"');
}

# ---- the documented limits are the real ones ---------------------------------
{
    my $base = "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nrun g.0 on 0\nexpect clean\n";
    my $write = sub {
        my ($name, $text) = @_;
        open(my $o, '>', "$dir/$name") or die;
        print $o $text;
        close $o;
        return "$dir/$name";
    };
    my $line = '#' x 4096;
    my ($st, $out) = run_vtlb('run', $write->('line-ok.vtlb', "$base$line\n"));
    is($st, 0, 'limits: a line of 4,096 characters is read');
    ($st, $out) = run_vtlb('run', $write->('line-long.vtlb', "$base$line#\n"));
    is($st, 2, 'limits: a line of 4,097 characters is an error');
    like($out, qr/:6:4097: line longer than 4096 characters/, 'limits: says which line');
    my $pad = 1048576 - length($base);
    my $fill = join('', map { ('#' x 99) . "\n" } 1 .. int($pad / 100));
    $fill .= '#' x ($pad - length($fill) - 1) . "\n";
    ($st, $out) = run_vtlb('run', $write->('file-ok.vtlb', $base . $fill));
    is(-s "$dir/file-ok.vtlb", 1048576, 'limits: the test file is 1 MiB');
    is($st, 0, 'limits: a file of 1 MiB is read');
    ($st, $out) = run_vtlb('run', $write->('file-big.vtlb', "$base$fill#\n"));
    is($st, 2, 'limits: a file over 1 MiB is an error');
    like($out, qr/file larger than 1048576 bytes/, 'limits: says so');
    ($st, $out) = run_vtlb('--help');
    like($out, qr/default 2G, per file/, 'limits: --help documents the 2 GiB cap');
    like($out, qr/at most 1 MiB, lines of at most 4096 characters/, 'limits: --help documents the file limits');
    like($out, qr/stop each file's search after SEC seconds/, 'limits: --help says --time-limit is per file');
}

# ---- small things ----------------------------------------------------------------
{
    my $w = `perl -wc tests/07-fuzz.t 2>&1`;
    unlike($w, qr/used only once/, 'tests: 07-fuzz.t has no "used only once" warning');
    my @outside;
    my $root = abs_path('.');
    for my $md (sort glob('README.md docs/*.md docs/notes/*.md bench/README.md')) {
        open(my $fh, '<', $md) or die;
        (my $d = $md) =~ s{[^/]*$}{};
        while (my $l = <$fh>) {
            push @outside, "$md:$.: mentions ../shared" if $l =~ m{\.\./shared};
            for my $t ($l =~ /\]\(([^)#\s]+)/g) {
                next if $t =~ m{^[a-z]+:};
                my $p = abs_path("$d$t");
                push @outside, "$md:$.: $t" unless defined $p && index("$p/", "$root/") == 0;
            }
        }
        close $fh;
    }
    is_deeply(\@outside, [], 'docs: no links to files outside the repository');
}
done_testing;
