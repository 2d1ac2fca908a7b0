#!/usr/bin/perl
# option kvm-phases (docs/scenarios.md, "Requests, kicks and faults phase by
# phase"): the steps the protocol refuses (a vCPU inside its entry's
# IRQs-off window, a requester waiting for an IPI), the page fault with and
# without the option, and the trace of each phase.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
require './tests/lib.pl';

my $dir = tempdir(CLEANUP => 1);
my $head = <<'EOF2';
arch x86 vmx ept
option kvm-phases on
machine pcpus 2
vm g vcpus 1
space A pcid 1
map A 0x1000 -> 0x5000
vcpu g.0 long cr3 A cr4 +pcide
EOF2

sub scenario {
    my ($name, $body) = @_;
    my $f = "$dir/$name.vtlb";
    open(my $fh, '>', $f) or die;
    print $fh $head, $body;
    close $fh;
    return $f;
}

# A vCPU between vcpu->mode = IN_GUEST_MODE and VM entry cannot be preempted.
my $f = scenario('irqs-off', "run g.0 on 0\npreempt g.0\nload g.0 on 0\nenter g.0 phase\npreempt g.0\nexpect clean\n");
my ($st, $out, $err) = run_vtlb('run', $f);
is($st, 2, 'irqs-off: preempting inside the entry window is an error (exit 2)');
like($out, qr/^ERROR \Q$f\E:12:1: cannot preempt g\.0: the vCPU is between vcpu->mode = IN_GUEST_MODE and VM entry/m,
     'irqs-off: the error names file:line:col and why');

# The requester waits for the IPI it sent to a vCPU with IRQs off.
my $wait = "run g.0 on 0\npreempt g.0\nload g.0 on 0\nenter g.0 phase\n" . ("host: unmap g 0x5000 phase\n" x 5);
$f = scenario('wait', $wait . "expect clean\n");
($st, $out) = run_vtlb('run', $f);
is($st, 2, 'wait: a host phase while its IPI is pending is refused (exit 2)');
like($out, qr/^ERROR \Q$f\E:16:1: .*waits until every vCPU it sent an IPI has taken it/m, 'wait: says what it waits for');
$f = scenario('wait-ok', $wait =~ s/(host: unmap g 0x5000 phase\n)$/enter g.0 phase\n$1/r . "enter g.0\ng.0: access 0x1000\nexpect clean\n");
($st, $out) = run_vtlb('run', '--trace', $f);
is($st, 0, 'wait-ok: once the vCPU cancels its entry the host goes on') or diag($out);
like($out, qr/IPI arrives with IRQs off \(entry in progress\): pending/, 'wait-ok: the IPI waits while IRQs are off');
like($out, qr/entry cancelled; IRQs on: takes the IPI/, 'wait-ok: the re-check cancels and takes the IPI');
like($out, qr/every IPI acknowledged; the requester goes on/, 'wait-ok: then the wait ends');
like($out, qr/the hardware could answer with 0 translations/, 'wait-ok: the page is gone from the TLB');

# A whole host operation without 'phase' runs every phase.
$f = scenario('atomic', "run g.0 on 0\nhost: unmap g 0x5000\ng.0: access 0x1000\nexpect clean\n");
($st, $out) = run_vtlb('run', '--trace', $f);
is($st, 0, 'atomic: an unmap without phase completes');
like($out, qr/invalidate_range_start.*\n(?s:.*)kvm_vcpu_exiting_guest_mode\(g\.0\) was IN_GUEST_MODE: IPI its pCPU(?s:.*)invalidate_range_end/,
     'atomic: start, the cmpxchg and IPI, end, in order');

# The page fault without the option: the host's operations are whole, so a
# remap has mapped the new page already (no exit), and after an unmap there
# is no page to resolve: the fault retries and the vCPU stays out.
(my $nophase = $head) =~ s/^option kvm-phases on\n//m;
open(my $fh, '>', "$dir/fault-atomic.vtlb") or die;
print $fh $nophase, "run g.0 on 0\nhost: remap g 0x5000 -> 0x7000\ng.0: fault 0x5000\ng.0: access 0x1000\n",
  "check g.0 hits 0x1000 -> 0x5000 -> 0x7000\nexpect clean\n";
close $fh;
($st, $out) = run_vtlb('run', '--trace', "$dir/fault-atomic.vtlb");
is($st, 0, 'fault-atomic: without kvm-phases a remap maps the new page itself') or diag($out);
unlike($out, qr/g\.0: fault 0x5000.*\n\s+g\.0: VM exit/, 'fault-atomic: so the fault does not exit');
open($fh, '>', "$dir/fault-gone-atomic.vtlb") or die;
print $fh $nophase, "run g.0 on 0\nhost: unmap g 0x5000\ng.0: fault 0x5000\nexpect clean\n";
close $fh;
($st, $out) = run_vtlb('run', '--trace', "$dir/fault-gone-atomic.vtlb");
is($st, 0, 'fault-gone-atomic: runs');
unlike($out, qr/enters the guest(?!(?s:.*)fault 0x5000)/, 'fault-gone-atomic: the vCPU does not enter after the fault');
like($out, qr/the host maps no page there \(reclaimed\): RET_PF_RETRY/, 'fault-gone-atomic: the fault retries');

# With it, a fault on a page the host reclaimed cannot resolve and retries.
$f = scenario('fault-gone', "run g.0 on 0\nhost: unmap g 0x5000\ng.0: fault 0x5000\nenter g.0 phase\nexpect clean\n");
($st, $out, $err) = run_vtlb('run', '--trace', $f);
is($st, 0, 'fault-gone: runs') or diag($out);
like($out, qr/the host maps no page there \(reclaimed\): RET_PF_RETRY/, 'fault-gone: the fault retries');

# A fault on a page KVM maps is no fault at all; one outside the VM faults in the model.
$f = scenario('fault-mapped', "run g.0 on 0\ng.0: fault 0x5000\nexpect clean\n");
($st, $out) = run_vtlb('run', '--trace', $f);
is($st, 0, 'fault-mapped: nothing to do');
unlike($out, qr/VM exit/, 'fault-mapped: no exit');
$f = scenario('fault-none', "run g.0 on 0\ng.0: fault 0x9000\nexpect clean\n");
($st, $out) = run_vtlb('run', $f);
is($st, 1, 'fault-none: a page the VM does not have faults the script');
like($out, qr/model: no guest-physical page of the VM at that address/, 'fault-none: and says why');

# The option is x86's.
open($fh, '>', "$dir/arm.vtlb") or die;
print $fh "arch arm64\noption kvm-phases on\nvm g vcpus 1\nrun g.0 on 0\nexpect clean\n";
close $fh;
($st, $out) = run_vtlb('run', "$dir/arm.vtlb");
is($st, 2, 'arm64: option kvm-phases is an error there');
like($out, qr/^ERROR \Q$dir\E\/arm\.vtlb:2:\d+: /m, 'arm64: at its line');

done_testing();
