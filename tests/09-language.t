#!/usr/bin/perl
# The language says what it checks: warnings, faults a script did not mean,
# checks and accesses in the trace, and a document that names every keyword
# and every instruction the backends define.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
require './tests/lib.pl';

my $dir = tempdir(CLEANUP => 1);
sub scenario {
    my ($name, $text) = @_;
    my $f = "$dir/$name";
    open(my $fh, '>', $f) or die "$f: $!";
    print $fh $text;
    close $fh;
    return $f;
}

open(my $dfh, '<', 'docs/scenarios.md') or die;
my $doc = do { local $/; <$dfh> };
close $dfh;
sub documented { my ($w) = @_; return $doc =~ /(?<![\w.\-])\Q$w\E(?![\w\-])/ }

# ---- warnings ---------------------------------------------------------------

my $warn = scenario('warn.vtlb', <<'EOT');
arch x86 vmx ept
option asids 4
machine pcpus 1
vm g vcpus 1
space A pcid 0
map A 0x1001 -> 0x5000
vcpu g.0 long cr3 A
run g.0 on 0
g.0: access 0x1001
expect clean
EOT
my ($st, $out, $err) = run_vtlb('run', $warn);
is($st, 0, 'lang.warn: a warning does not change the exit status');
like($out, qr/1 passed/, 'lang.warn: the scenario runs');
like($err, qr/^\Q$warn\E:2:8: warning: option 'asids' has no effect on 'x86 vmx ept'/m,
     'lang.warn.option: an option of another backend, at file:line:col');
like($err, qr/^\Q$warn\E:6:7: warning: virtual address 0x1001 is not 4 KiB-aligned/m,
     'lang.warn.unaligned: an unaligned VA, at file:line:col');
like($err, qr/^\Q$warn\E:9:13: warning: virtual address 0x1001/m, 'lang.warn.unaligned: every occurrence');
unlike($err, qr/error/, 'lang.warn: no error');
my $sdw = scenario('shootdown-warn.vtlb', "arch x86 vmx ept\nmachine pcpus 2\nvm g vcpus 2\nspace A pcid 1\n"
    . "map A 0x1000 -> 0x5000\nvcpu g.0 long cr3 A cr4 +pcide\nvcpu g.1 long cr3 A cr4 +pcide\nrun g.0 on 0\nrun g.1 on 1\n"
    . "g.0: shootdown g.1 invlpg 0x1001\ng.0: hvflush g.1 va 0x1801\nexpect clean\n");
($st, $out, $err) = run_vtlb('run', $sdw);
is($st, 0, 'lang.warn.unaligned.x86-ipis: the scenario runs');
like($err, qr/^\Q$sdw\E:10:27: warning: virtual address 0x1001 is not 4 KiB-aligned/m,
     'lang.warn.unaligned: a shootdown\'s VA');
like($err, qr/^\Q$sdw\E:11:21: warning: virtual address 0x1801 is not 4 KiB-aligned/m,
     'lang.warn.unaligned: a Hyper-V flush\'s VA');

($st, $out, $err) = run_vtlb('run', '--json', $warn);
is($st, 0, 'lang.warn.json exits 0');
my $j = eval { decode_json($out) };
ok($j, 'lang.warn.json parses') or diag($@, $out);
my $w = $j ? $j->{results}[0]{warnings} : [];
is(scalar(@{ $w // [] }), 3, 'lang.warn.json: three warnings');
is($w->[0]{line}, 2, 'lang.warn.json: line') if $w && @$w;
is($w->[0]{col}, 8, 'lang.warn.json: col') if $w && @$w;
like($w->[0]{message} // '', qr/option 'asids'/, 'lang.warn.json: message') if $w && @$w;
is($err, '', 'lang.warn.json: nothing on stderr');

(my $svm = $warn) =~ s/warn\.vtlb$/svm.vtlb/;
scenario('svm.vtlb', "arch x86 svm npt\noption asids 4\nmachine pcpus 1\nvm g vcpus 1\nspace A pcid 0\n"
    . "map A 0x1000 -> 0x5000\nvcpu g.0 long cr3 A\nrun g.0 on 0\ng.0: access 0x1000\nexpect clean\n");
($st, $out, $err) = run_vtlb('run', $svm);
is($st, 0, 'lang.warn.none exits 0');
is($err, '', 'lang.warn.none: an aligned scenario with its own options has no warning');

($st, $out, $err) = run_vtlb('run', 'scenarios/');
unlike($err, qr/warning/, 'lang.warn.suite: the bundled scenarios have no warnings');

my $xw = scenario('explore-warn.vtlb', "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nspace A pcid 0\n"
    . "map A 0x1000 -> 0x5000\nvcpu g.0 long cr3 A\nbounds depth 6\nprogram g.0\n  invlpg 0x1800\nend\n");
($st, $out, $err) = run_vtlb('explore', $xw);
like($err, qr/^\Q$xw\E:9:10: warning: virtual address 0x1800 is not 4 KiB-aligned/m, 'lang.warn.explore: explore warns too');
($st, $out, $err) = run_vtlb('explore', '--json', $xw);
$j = eval { decode_json($out) };
is($j ? scalar(@{ $j->{results}[0]{warnings} // [] }) : -1, 1, 'lang.warn.explore.json: in the result');

my $tw = scenario('s2-table-alias.vtlb', "arch arm64\nmachine pcpus 1\nvm g vcpus 1\ns2 g 0x0 -> 0x80200000 table\n"
    . "s2 g 0x1000 -> 0x80200000\nrun g.0 on 0\nexpect clean\n");
($st, $out, $err) = run_vtlb('run', $tw);
is($st, 0, 'lang.warn.s2-table-alias: exit 0');
like($err, qr/^\Q$tw\E:5:16: warning: host page 0x80200000 is both a stage-2 table and a guest page/m,
     'lang.warn.s2-table-alias: a table page that is also a guest page, at file:line:col');

my $sb = scenario('script-bounds.vtlb', "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nbounds depth 4\n"
    . "run g.0 on 0\nexpect clean\n");
($st, $out, $err) = run_vtlb('run', $sb);
is($st, 0, 'lang.warn.bounds: exit 0');
like($err, qr/^\Q$sb\E:4:1: warning: 'bounds' and 'phases' have no effect on a script/m,
     'lang.warn.bounds: exploration bounds in a script do nothing');
my $es = scenario('explore-schedule.vtlb', "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nschedule explicit\n"
    . "program g.0\n  access 0x1000\nend\n");
($st, $out, $err) = run_vtlb('explore', $es);
is($st, 0, 'lang.warn.schedule: exit 0');
like($err, qr/^\Q$es\E:4:1: warning: 'schedule' has no effect on an exploration file/m,
     'lang.warn.schedule: a schedule in an exploration file does nothing');

# ---- faults -----------------------------------------------------------------

my $prog = scenario('fault-prog.vtlb', <<'EOT');
arch x86 vmx ept
machine pcpus 2
vm g vcpus 1
space A pcid 0
map A 0x1000 -> 0x5000
vcpu g.0 long cr3 A
bounds depth 16 preemptions 2 migrations 2
program g.0
  mov cr3 A noflush
  access 0x1000
  map A 0x1000 -> 0x6000
  invlpg 0x1000
  access 0x1000
end
EOT
my $ce = "$dir/ce.vtlb";
($st, $out, $err) = run_vtlb('explore', '--revert', 'x86-vmx-migrate-flush', '--emit', $ce, $prog);
is($st, 1, 'lang.fault.emit: the search finds the bug');
open(my $cfh, '<', $ce) or die "$ce: $!";
my $cetext = do { local $/; <$cfh> };
close $cfh;
like($cetext, qr/^expect fault\b/m, 'lang.fault.emit: a path with a fault says expect fault');
like($cetext, qr/^g\.0: mov cr3 A noflush$/m, 'lang.fault.emit: the faulting step is on the path');
($st, $out) = run_vtlb('run', $ce);
is($st, 0, 'lang.fault.emit: the counterexample replays') or diag($out);
like($out, qr/stale as expected: g\.0 at step \d+, 1 fault as expected/, 'lang.fault.emit: and counts the fault');

($st, $out) = run_vtlb('run', '--json', 'scenarios/x86/arch-faults-no-effect.vtlb');
$j = eval { decode_json($out) };
is($j ? $j->{results}[0]{faults} : -1, 2, 'lang.fault.json: the faults a script meant are counted');

# ---- the trace shows checks and accesses -------------------------------------

($st, $out) = run_vtlb('run', '--trace', 'scenarios/x86/host-unmap.vtlb');
is($st, 0, 'lang.trace: host-unmap passes');
like($out, qr/^\s+check g\.0 hits 0x1000 -> 0x5000 -> 0x90000\s+\(line \d+\)\n\s+held: for VA 0x1000 the hardware could return GPA 0x5000 \(HPA 0x90000\)$/m,
     'lang.trace.check: a check, its result and what was seen');
my $acc = scenario('access.vtlb', "arch x86 vmx ept\nmachine pcpus 1\nvm g vcpus 1\nspace A pcid 1\n"
    . "map A 0x1000 -> 0x5000\nvcpu g.0 long cr3 A cr4 +pcide\nrun g.0 on 0\ng.0: access 0x1000\nexpect clean\n");
($st, $out) = run_vtlb('run', '--trace', $acc);
like($out, qr/access 0x1000: the hardware could answer with 1 translation:\n\s+VA 0x1000 -> GPA 0x5000 -> HPA 0x100005000 from TLB 0 \[VPID 1 EPTP 1\] \(permitted\)$/m,
     'lang.trace.access: which translation, from which TLB and tag');
($st, $out) = run_vtlb('run', '--json', '--trace', $acc);
$j = eval { decode_json($out) };
my @recs = $j ? @{ $j->{results}[0]{trace} } : ();
my ($ar) = grep { $_->{kind} eq 'access' } @recs;
is_deeply($ar ? $ar->{answers} : [], ['VA 0x1000 -> GPA 0x5000 -> HPA 0x100005000 from TLB 0 [VPID 1 EPTP 1] (permitted)'],
          'lang.trace.access.json: the answers');
($st, $out) = run_vtlb('run', '--trace', 'scenarios/x86/vmx-migrate-flush.vtlb');
like($out, qr/^\s+VA 0x1000 -> GPA 0x6000 -> HPA 0x100006000 from TLB 0 \[VPID 1 EPTP 1\] \(permitted\)$/m,
     'lang.trace.access: only the TLB the vCPU can look up (not pCPU 1\'s, which holds the same entry)');
my $cnp = scenario('cnp.vtlb', <<'EOT');
arch arm64
option cnp on
machine pcpus 3
vm g vcpus 2
space A asid 1
map A 0x1000 -> 0x5000
vcpu g.0 ttbr0 A mmu cnp
vcpu g.1 ttbr0 A mmu cnp
load g.1 on 1
run g.0 on 0
g.0: map A 0x2000 -> 0x6000
g.0: unmap A 0x2000
enter g.1
g.1: access 0x2000
g.1: fetch 0x1000
g.1: map A 0x1000 -> 0x7000
g.1: tlbi vae1 0x1000
g.1: dsb ish
g.1: access 0x1000
expect clean
EOT
($st, $out) = run_vtlb('run', '--trace', $cnp);
is($st, 0, 'lang.trace.access.arm64 passes') or diag($out);
like($out, qr/^\s+VA 0x2000 -> GPA 0x6000 -> HPA 0x100006000 from shared TLB 3 \[VMID 1\] \(permitted\)$/m,
     'lang.trace.access.arm64: an entry another PE walked, from the CnP shared TLB');
like($out, qr/^\s+VA 0x1000 -> GPA 0x5000 -> HPA 0x100005000 from a cache outside the TLB \(an I-cache line\) \[VMID 1\] \(permitted\)$/m,
     'lang.trace.access.arm64: an I-cache line');
my $erat = scenario('erat.vtlb', "arch ppc radix\nmachine cores 1 threads 2\nvm g vcpus 2\nspace X pid 1\n"
    . "map X 0x1000 -> 0x5000\nvcpu g.0 pid X\nvcpu g.1 pid X\nrun g.0 on 0\nrun g.1 on 1\ng.1: access 0x1000\n"
    . "g.0: access 0x1000\nexpect clean\n");
($st, $out) = run_vtlb('run', '--trace', $erat);
is($st, 0, 'lang.trace.access.ppc passes') or diag($out);
like($out, qr/^\s+g\.0: access 0x1000: the hardware could answer with 1 translation:\n\s+VA 0x1000 -> GPA 0x5000 -> HPA 0x100005000 from TLB 0 \[LPID 1\], ERAT 1 \[LPID 1\] \(permitted\)$/m,
     'lang.trace.access.ppc: the core\'s TLB and the thread\'s own ERAT, not the sibling thread\'s');
($st, $out) = run_vtlb('run', 'tests/fail/wrong-check.vtlb');
like($out, qr/check g\.0 hits 0x1000 -> 0x9000\s+\(line 9\)\n\s+FAILED: for VA 0x1000 the hardware could return GPA 0x5000/,
     'lang.trace.check: a failed check says what was seen');
($st, $out) = run_vtlb('run', '--json', 'tests/fail/wrong-check.vtlb');
$j = eval { decode_json($out) };
my ($cr) = grep { $_->{kind} eq 'check' } @{ $j ? $j->{results}[0]{trace} : [] };
ok($cr && !$cr->{held} && $cr->{line} == 9, 'lang.trace.check.json: held false, with its line');

# ---- every instruction and guest operation is documented ---------------------

my %arch = (
    'x86 vmx ept' => 'space A pcid 0', 'x86 vmx shadow' => 'space A pcid 0',
    'x86 svm npt' => 'space A pcid 0', 'x86 svm shadow' => 'space A pcid 0',
    'arm64' => 'space A asid 1', 'ppc radix' => 'space A pid 1',
);
my (%binary_insns, %ops);
for my $a (sort keys %arch) {
    (my $tag = $a) =~ s/ /-/g;
    my $base = "arch $a\nmachine pcpus 1\nvm g vcpus 1\n$arch{$a}\nrun g.0 on 0\n";
    my $f = scenario("insn-$tag.vtlb", $base . "check count no.such.insn 1\nexpect clean\n");
    ($st, $out, $err) = run_vtlb('run', $f);
    my ($list) = $err =~ /instructions: ([^)]*)\)/;
    ok(defined $list, "lang.names.$tag: the unknown-instruction error lists the valid ones") or diag($err);
    $binary_insns{$_} = $a for split /, /, $list // '';
    $f = scenario("op-$tag.vtlb", $base . "g.0: nosuchop\nexpect clean\n");
    ($st, $out, $err) = run_vtlb('run', $f);
    ($list) = $err =~ /guest operations: ([^)]*)\)/;
    ok(defined $list, "lang.names.$tag: the unknown-operation error lists the valid ones") or diag($err);
    $ops{$_} = $a for split /, /, $list // '';
}
# The binary's lists are the sources' tables, all of them.
my %source_insns;
for my $src (glob('src/arch/*.c')) {
    open(my $fh, '<', $src) or die;
    my $text = do { local $/; <$fh> };
    while ($text =~ /insn_names\s*\[[^\]]*\]\s*=\s*\{(.*?)\};/sg) {
        my $body = $1;
        $source_insns{$1} = 1 while $body =~ /"([^"]+)"/g;
    }
}
ok(keys(%source_insns) >= 40, 'lang.names: the sources define instruction names');
is_deeply([sort keys %binary_insns], [sort keys %source_insns], 'lang.names: the errors list every instruction the sources define');
for my $n (sort keys %binary_insns) {
    ok(documented($n), "lang.names.doc: instruction '$n' ($binary_insns{$n}) is in docs/scenarios.md");
}
for my $n (sort keys %ops) {
    ok(documented($n), "lang.names.doc: guest operation '$n' ($ops{$n}) is in docs/scenarios.md");
}

# ---- every keyword of the language is documented -----------------------------

my %kw;
for my $src ('src/scenario.c', 'src/scenario_perf.c', glob('src/guest/*.c')) {
    open(my $fh, '<', $src) or die;
    my $text = do { local $/; <$fh> };
    # words the parsers match
    $kw{$+} = $src while $text =~ /vt_(?:parse_accept|parse_expect|parse_peek)\(p, "([^"]+)"\)|vt_tok_is\(p, [^,]+, "([^"]+)"\)/g;
    # tables of words: declarations, operations, flags, operation names
    while ($text =~ /(?:decls\[\]|_names\[[^\]]*\]|_flags\[\]|_ops\[\])\s*=\s*\{(.*?)\};/sg) {
        my $body = $1;
        $kw{$1} = $src while $body =~ /"([a-z][a-z0-9_.\-]*)"/g;
    }
}
delete @kw{ ',', '->', ':' };
ok(keys(%kw) >= 80, 'lang.keywords: the parsers match keywords (' . scalar(keys %kw) . ')');
for my $k (sort keys %kw) {
    ok(documented($k), "lang.keywords.doc: '$k' ($kw{$k}) is in docs/scenarios.md");
}
ok(exists $kw{fault} && exists $kw{'sctlr_el1.m'} && exists $kw{pge}, 'lang.keywords: the extraction sees words, aliases and flags');

done_testing;
