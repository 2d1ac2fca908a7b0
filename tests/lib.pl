# Shared helpers for the .t files: where the binaries are, and a runner that
# captures stdout, stderr and the exit status without a shell.
use strict;
use warnings;
use File::Temp qw(tempfile);

our $VTLB = $ENV{VTLB} // 'build/vtlb';
die "vtlb binary '$VTLB' not found (run 'make check')\n" unless -x $VTLB;

# run_vtlb(@args) -> ($status, $stdout, $stderr).  A run that takes longer
# than $TIMEOUT seconds is killed and reported as status 137, so a hang
# fails its test instead of stalling the suite.
our $TIMEOUT = $ENV{VTLB_TEST_TIMEOUT} // 120;
sub run_vtlb {
    my @args = @_;
    my ($ofh, $ofile) = tempfile(UNLINK => 1);
    my ($efh, $efile) = tempfile(UNLINK => 1);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>&', $ofh) or die;
        open(STDERR, '>&', $efh) or die;
        exec($VTLB, @args) or exit 127;
    }
    local $SIG{ALRM} = sub { kill 'KILL', $pid };
    alarm($TIMEOUT);
    waitpid($pid, 0);
    my $st = $?;
    alarm(0);
    my $status = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
    local $/;
    open(my $o, '<', $ofile) or die; my $out = <$o>; close $o;
    open(my $e, '<', $efile) or die; my $err = <$e>; close $e;
    return ($status, $out // '', $err // '');
}

1;
