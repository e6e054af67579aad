#!/usr/bin/perl
# The process CriuCheckpointBenchIT checkpoints: it holds MB megabytes of memory it can check.
#   criu-bench-mem.pl MB DIR
# It fills MB MiB with bytes from /dev/urandom (incompressible, and no page repeats another or any
# earlier run's, so neither dedup nor compression flatters the store), keeps a 32-bit sum of
# every 4 KiB page, then loops every 10 ms: it writes a counter to DIR/heartbeat and looks for two
# trigger files:
#   DIR/touch   read every tenth page, check it against its sum; answer in DIR/touched
#   DIR/verify  read every page, check it; answer in DIR/verified
# An answer is "ok PAGES" or "bad PAGE ...". DIR/ready says the memory is filled.
# The heartbeat file stays open and always holds 11 bytes ("%010d\n", rewritten in place): criu
# dumps the process whenever it likes, and restores an open file only if a file of that path and
# size is there, so a heartbeat written through a new file each time would fail a restore now and
# then. A reader who wants the next heartbeat writes 11 other bytes and waits for them to change.
# Only perl-base is in the container (no Digest::*, no Time::HiRes), hence the unpack sums and
# select() for sleeping.
use strict;
use warnings;

my ($mb, $dir) = @ARGV;
die "usage: $0 MB DIR\n" unless defined $dir && $mb =~ /^\d+$/ && $mb > 0;
my $page = 4096;
my $pages = $mb * 256;
my $size = $pages * $page;

my $mem = '';
open(my $rnd, '<:raw', '/dev/urandom') or die "cannot open /dev/urandom: $!\n";
while (length($mem) < $size) {
    my $want = $size - length($mem);
    $want = 1 << 20 if $want > (1 << 20);
    my $n = sysread($rnd, $mem, $want, length($mem));
    die "cannot read /dev/urandom: $!\n" unless $n;
}
close($rnd);

# One sum per page, packed: 4 bytes a page, outside the pages being checked.
my $sums = '';
for my $i (0 .. $pages - 1) {
    $sums .= pack('N', unpack('%32N*', substr($mem, $i * $page, $page)));
}

sub answer {
    my ($name, $text) = @_;
    open(my $fh, '>', "$dir/$name.tmp") or return;
    print $fh "$text\n";
    close($fh);
    rename("$dir/$name.tmp", "$dir/$name");
}

# Checks every $step-th page; returns "ok N" or "bad ..." naming the first pages that differ.
sub check {
    my ($step) = @_;
    my ($n, @bad) = (0);
    for (my $i = 0; $i < $pages; $i += $step) {
        my $got = unpack('%32N*', substr($mem, $i * $page, $page));
        my $want = unpack('N', substr($sums, $i * 4, 4));
        push(@bad, $i) if $got != $want && @bad < 10;
        $n++;
    }
    return @bad ? "bad pages @bad of $n checked" : "ok $n";
}

open(my $hb, '+>', "$dir/heartbeat") or die "cannot write $dir/heartbeat: $!\n";
answer('ready', "$pages pages");
my $beat = 0;
while (1) {
    $beat++;
    sysseek($hb, 0, 0);
    syswrite($hb, sprintf("%010d\n", $beat % 10_000_000_000));
    if (-e "$dir/touch") {
        unlink("$dir/touch");
        answer('touched', check(10));
    }
    if (-e "$dir/verify") {
        unlink("$dir/verify");
        answer('verified', check(1));
    }
    select(undef, undef, undef, 0.01);
}
