#!/usr/bin/perl
# vtlb probe: bad input, the exit status without a back-end, and (where QEMU
# or /dev/kvm is available) the probe suite run against them.  The runs need
# qemu-system-x86_64 or a usable /dev/kvm; each part skips without it.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use File::Temp qw(tempfile);
require './tests/lib.pl';

sub scenario {
    my ($text) = @_;
    my ($fh, $name) = tempfile(SUFFIX => '.vtlb', UNLINK => 1);
    print $fh $text;
    close $fh;
    return $name;
}

# Bad input: one message with file:line:col, exit 2.
my $unaligned = scenario(<<'EOS');
arch x86 vmx ept
machine pcpus 1
vm g vcpus 1
space A pcid 0
map A 0x1000 -> 0x5000
vcpu g.0 long cr3 A
run g.0 on 0
g.0: access 0x1800
expect clean
EOS
my ($st, $out, $err) = run_vtlb('probe', $unaligned);
is($st, 2, 'probe.bad-input exits 2');
like($err, qr/\Q$unaligned\E:8:1: error: .*page-aligned/, 'probe.bad-input names file:line:col');
my $notrun = scenario(<<'EOS');
arch x86 vmx ept
machine pcpus 1
vm g vcpus 1
space A pcid 0
map A 0x1000 -> 0x5000
vcpu g.0 long cr3 A
load g.0 on 0
g.0: access 0x1000
expect clean
EOS
($st, $out, $err) = run_vtlb('probe', $notrun);
is($st, 2, 'probe.script-that-cannot-run exits 2');
like($err, qr/\Q$notrun\E:8:1: error: .*not running/, 'probe.script-that-cannot-run names file:line:col');
($st, $out, $err) = run_vtlb('probe', 'scenarios/arm64');
is($st, 2, 'probe.arm64 exits 2');
like($err, qr/x86 scenarios only/, 'probe.arm64 message');
($st, $out, $err) = run_vtlb('probe', '--backend', 'vmware', 'scenarios/probe');
is($st, 2, 'probe.unknown-backend exits 2');
($st, $out, $err) = run_vtlb('probe', '--repeat', '0', 'scenarios/probe');
is($st, 2, 'probe.repeat-zero exits 2');

# No back-end: exit 77 and say so.
{
    local $ENV{VTLB_QEMU} = '/nonexistent/qemu-system-x86_64';
    ($st, $out, $err) = run_vtlb('probe', '--backend', 'tcg', 'scenarios/probe/invlpg.vtlb');
    is($st, 77, 'probe.no-backend exits 77');
    like($out, qr/skip  tcg .*not found/, 'probe.no-backend says why');
}

# Every probe is also a model scenario that `vtlb run` checks.
($st, $out) = run_vtlb('run', 'scenarios/probe');
is($st, 0, 'probe.suite passes vtlb run');

my $have_qemu = grep { -x "$_/qemu-system-x86_64" } split /:/, ($ENV{PATH} // '');
SKIP: {
    skip 'qemu-system-x86_64 not installed (apt-get install qemu-system-x86)', 8 unless $have_qemu;
    ($st, $out, $err) = run_vtlb('probe', '--backend', 'tcg', '--repeat', '2', 'scenarios/probe');
    is($st, 0, 'probe.tcg suite conformant') or diag($out, $err);
    unlike($out, qr/^FAIL/m, 'probe.tcg no failure');
    like($out, qr/^ok    tcg  scenarios\/probe\/invlpg\.vtlb +4 accesses, 1 stale observed, 0 conformance failures; deterministic over 2 runs/m,
         'probe.tcg invlpg: TCG shows the stale translation before INVLPG');
    like($out, qr/^skip  tcg  scenarios\/probe\/invpcid-types\.vtlb +needs PCID/m, 'probe.tcg skips PCID probes');
    ($st, $out, $err) = run_vtlb('probe', '--json', '--backend', 'tcg', 'scenarios/probe/invlpg.vtlb');
    is($st, 0, 'probe.tcg json exits 0');
    my $j = eval { decode_json($out) };
    ok($j, 'probe.tcg json parses') or diag($@);
    my $r = $j ? $j->{results}[0] : {};
    is($r->{status}, 'conformant', 'probe.tcg json status');
    ok(($r->{observations}[1]{stale} // JSON::PP::false) && $r->{observations}[1]{seen} eq '0x5000',
       'probe.tcg json: the second access saw the stale 0x5000');
}

my $have_kvm = -r '/dev/kvm' && -w '/dev/kvm';
SKIP: {
    skip 'no usable /dev/kvm', 3 unless $have_kvm;
    ($st, $out, $err) = run_vtlb('probe', '--backend', 'kvm', 'scenarios/probe');
    ok($st == 0 || $st == 77, 'probe.kvm suite: conformant or nothing could run') or diag($out, $err);
    unlike($out, qr/^FAIL/m, 'probe.kvm no failure');
    like($out, qr/^(ok   |skip |REFUS) kvm  scenarios\/probe\/invlpg\.vtlb/m, 'probe.kvm runs or says why not');
}

done_testing;
