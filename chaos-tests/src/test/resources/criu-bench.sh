#!/bin/sh
# Steps of the checkpoint benchmark, run inside the CRIU container by CriuCheckpointBenchIT.
# Every step prints its figures as KEY=VALUE lines on stdout (times in ms from `date +%s%N`,
# criu's own stats in us); what went wrong goes to stderr.
#   check          criu check --feature uffd-noncoop: can this kernel restore lazily at all?
#   machine        SHA-256 of 512 MiB of zeros on one core, 512 MiB written with one fdatasync, and
#                  how long `cairn --version` takes (the JVM start every cairn command pays)
#   agent          start `cairn agent` (with CAIRN_BENCH_AGENT set, every later cairn command but
#                  `cairn --version` goes to it through bin/cairn, as a checkpoint host with an agent runs)
#   start MB       start the memory process (criu-bench-mem.pl): MB MiB of random bytes it can check
#   dump-put NAME  (a) criu dump -D /dump to the container's disk, then cairn put NAME /dump
#   ingest NAME    (b) cairn criu dump NAME: the pages go through cairn's page server into the store
#   get-restore NAME  (a) cairn get NAME /restore, then criu restore -d; then the checks below
#   lazy NAME      (b) cairn criu lazy-pages NAME + criu lazy-pages + criu restore --lazy-pages -d;
#                  then the checks below, and the figures of what came from the store
# After a restore: "running" is the restored process's first heartbeat after the restore command
# returned; then it reads every tenth page (touch) and every page (verify) and checks each against
# the sum it kept. A check that fails fails the step. The process is stopped at the end.
set -u
T="${CRIU_TIMEOUT:-120}"
PORT=27300
B=/bench
MEM=/usr/local/bin/criu-bench-mem.pl
# written over the heartbeat before a restore: the process's own 11 bytes are digits
MARK=restoring.
CP="/opt/cairn/client/cairn-client.jar:/opt/cairn/client/lib/*"
AGENT_STATE=/tmp/cairn-agent
cairn_jvm() {
  /opt/jdk/bin/java -cp "$CP" dev.cairn.client.cli.CairnCli "$@"
}
cairn() {
  if [ -n "${CAIRN_BENCH_AGENT:-}" ]; then
    CAIRN_AGENT=$AGENT_STATE /opt/cairn/bin/cairn "$@"
  else
    cairn_jvm "$@"
  fi
}
now() { echo $(( $(date +%s%N) / 1000000 )); }
fail() { echo "$*" >&2; exit 1; }
why() { # $1: what failed, $2: its exit status, $3: criu's log
  if [ "$2" -eq 124 ]; then echo "$1 hung (no end within $T s)" >&2; else echo "$1 failed (exit $2)" >&2; fi
  echo "its errors and last lines:" >&2
  grep "Error" "$3" 2>/dev/null | cut -c1-160 >&2
  tail -3 "$3" 2>/dev/null | cut -c1-160 >&2
}
# Waits (10 ms steps, at most T s) until file $1 exists; $2 names what is awaited.
await() {
  n=0
  until [ -e "$1" ]; do
    [ $n -ge $((T * 100)) ] && fail "no $2 within $T s"
    sleep 0.01; n=$((n + 1))
  done
}
# criu's --display-stats lines in file $1 as KEY=VALUE
stats() {
  awk -F': ' '/^Freezing time/ {print "freezingUs=" $2+0} /^Frozen time/ {print "frozenUs=" $2+0}
    /^Memory dump time/ {print "memDumpUs=" $2+0} /^Memory write time/ {print "memWriteUs=" $2+0}
    /^Memory pages written/ {print "pagesWritten=" $2+0}' "$1"
}
# after a restore: running, touch a tenth, verify all; $1: when the restore started (ms)
after_restore() {
  n=0
  while [ "$(cat $B/heartbeat)" = "$MARK" ]; do
    [ $n -ge $((T * 100)) ] && fail "no heartbeat from the restored process within $T s"
    sleep 0.01; n=$((n + 1))
  done
  t=$(now); echo "runningMs=$((t - $1))"
  t0=$(now); touch $B/touch; await $B/touched "answer to touch"; t1=$(now)
  echo "touchMs=$((t1 - t0))"
  echo "touched=$(cat $B/touched | tr ' ' _)"
  case "$(cat $B/touched)" in ok*) ;; *) fail "the restored process found its memory changed: $(cat $B/touched)" ;; esac
}
verify_and_stop() {
  touch $B/verify; await $B/verified "answer to verify"
  echo "verified=$(cat $B/verified | tr ' ' _)"
  case "$(cat $B/verified)" in ok*) ;; *) fail "the restored process found its memory changed: $(cat $B/verified)" ;; esac
  stop
}
stop() {
  pid=$(cat $B/pid 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null
  n=0; while [ -d /proc/"$pid" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n + 1)); done
}
case "$1" in
  check)
    criu check --feature uffd-noncoop ;;
  machine)
    t0=$(now); head -c 536870912 /dev/zero | sha256sum >/dev/null; t1=$(now)
    echo "sha256MBps=$((536870912 * 1000 / (t1 - t0) / 1000000))"
    rm -f /tmp/write-test
    t0=$(now); dd if=/dev/zero of=/tmp/write-test bs=1M count=512 conv=fdatasync 2>/dev/null; t1=$(now)
    rm -f /tmp/write-test
    echo "writeMBps=$((536870912 * 1000 / (t1 - t0) / 1000000))"
    t0=$(now); cairn_jvm --version >/dev/null; t1=$(now)
    echo "cairnVersionMs=$((t1 - t0))" ;;
  agent)
    # as bin/cairn starts it: a node's heap and collector
    rm -f $AGENT_STATE /tmp/agent.out
    setsid /opt/jdk/bin/java -Xmx512m -XX:+UseParallelGC -cp "$CP" dev.cairn.client.cli.CairnCli agent \
      --state $AGENT_STATE </dev/null >/tmp/agent.out 2>/tmp/agent.log &
    n=0
    until grep -q '^ready' /tmp/agent.out 2>/dev/null; do
      [ $n -ge $((T * 100)) ] && fail "cairn agent did not start: $(cat /tmp/agent.log)"
      sleep 0.01; n=$((n + 1))
    done
    echo "agent=$(head -1 /tmp/agent.out)" ;;
  start)
    stop
    rm -rf $B && mkdir -p $B
    t0=$(now)
    # nothing of it in /bench but its heartbeat: the next start wipes /bench while this one's
    # image waits to be restored, and criu restores only files it finds; stderr of its own
    err=/tmp/mem-$t0.err
    setsid perl $MEM "$2" $B </dev/null >/dev/null 2>$err &
    echo $! > $B/pid
    await $B/ready "filled memory (perl: $(cat $err 2>/dev/null))"
    echo "fillMs=$(($(now) - t0))"
    echo "pid=$(cat $B/pid)" ;;
  dump-put)
    rm -rf /dump && mkdir -p /dump
    t0=$(now)
    timeout "$T" criu dump -t "$(cat $B/pid)" -D /dump --display-stats -o dump.log >$B/stats 2>&1
    rc=$?; t1=$(now)
    [ $rc -eq 0 ] || { why "criu dump" $rc /dump/dump.log; exit 1; }
    cairn put "$2" /dump --json >$B/put.out 2>$B/put.err || fail "cairn put failed: $(cat $B/put.err)"
    t2=$(now)
    echo "cMs=$((t2 - t0))"; echo "dumpMs=$((t1 - t0))"; echo "putMs=$((t2 - t1))"
    stats $B/stats
    echo "imageBytes=$(du -sb --apparent-size /dump | cut -f1)"
    echo "put=$(cat $B/put.out)" ;;
  ingest)
    t0=$(now)
    cairn criu dump "$2" --json -- -t "$(cat $B/pid)" --display-stats -o dump.log >$B/put.out 2>$B/stats
    rc=$?; t1=$(now)
    [ $rc -eq 0 ] || fail "cairn criu dump failed (exit $rc): $(tail -20 $B/stats)"
    echo "cMs=$((t1 - t0))"
    stats $B/stats
    echo "put=$(cat $B/put.out)" ;;
  get-restore)
    rm -rf /restore; rm -f $B/touched $B/verified $B/pid; echo $MARK > $B/heartbeat
    t0=$(now)
    cairn get "$2" /restore >$B/get.out 2>&1 || fail "cairn get failed: $(cat $B/get.out)"
    t1=$(now)
    timeout "$T" criu restore -D /restore -o restore.log -d --pidfile $B/pid
    rc=$?; t2=$(now)
    [ $rc -eq 0 ] || { why "criu restore" $rc /restore/restore.log; exit 1; }
    echo "getMs=$((t1 - t0))"; echo "restoreMs=$((t2 - t1))"
    after_restore "$t0"
    verify_and_stop ;;
  lazy)
    rm -rf /lazy /lazy-logs; rm -f $B/touched $B/verified $B/pid $B/lazy.*; echo $MARK > $B/heartbeat
    mkdir -p /lazy-logs
    t0=$(now)
    cairn criu lazy-pages "$2" --port $PORT --images-dir /lazy >$B/lazy.out 2>$B/lazy.err &
    jvm=$!
    n=0
    until grep -q "serving its pages" $B/lazy.err 2>/dev/null; do
      if ! kill -0 $jvm 2>/dev/null || [ $n -ge $((T * 100)) ]; then
        kill $jvm 2>/dev/null; fail "cairn criu lazy-pages did not start serving: $(cat $B/lazy.err)"
      fi
      sleep 0.01; n=$((n + 1))
    done
    t1=$(now)
    criu lazy-pages --page-server --address 127.0.0.1 --port $PORT -D /lazy -o /lazy-logs/lazy-pages.log -v4 &
    lp=$!
    # lazy-pages makes its socket in /lazy before restore may look for it
    await /lazy/lazy-pages.socket "lazy-pages socket"
    t2=$(now)
    timeout "$T" criu restore --lazy-pages -D /lazy -o /lazy-logs/restore.log -d --pidfile $B/pid
    rc=$?; t3=$(now)
    [ $rc -eq 0 ] || { why "criu restore --lazy-pages" $rc /lazy-logs/restore.log; kill $jvm $lp 2>/dev/null; exit 1; }
    echo "serveMs=$((t1 - t0))"; echo "lazyPagesMs=$((t2 - t1))"; echo "restoreMs=$((t3 - t2))"
    after_restore "$t0"
    # what criu lazy-pages had copied into the process when the touch was answered
    cp /lazy-logs/lazy-pages.log $B/lazy.at-touch
    echo "pfAtTouch=$(grep -c '#PF' $B/lazy.at-touch)"
    echo "pagesAtTouch=$(awk -F/ '/uffd_copy:/ {s += $NF} END {print s / 4096}' $B/lazy.at-touch)"
    n=0
    while kill -0 $jvm 2>/dev/null && [ $n -lt $((T * 100)) ]; do sleep 0.01; n=$((n + 1)); done
    kill -0 $jvm 2>/dev/null && { kill $jvm $lp; fail "cairn criu lazy-pages did not end within $T s after the restore"; }
    t4=$(now)
    wait $jvm; crc=$?
    wait $lp; lrc=$?
    [ $crc -eq 0 ] && [ $lrc -eq 0 ] || { why "criu lazy-pages (cairn exited $crc)" $lrc /lazy-logs/lazy-pages.log; cat $B/lazy.err >&2; exit 1; }
    echo "allInMs=$((t4 - t0))"
    echo "pf=$(grep -c '#PF' /lazy-logs/lazy-pages.log)"
    echo "pagesCopied=$(awk -F/ '/uffd_copy:/ {s += $NF} END {print s / 4096}' /lazy-logs/lazy-pages.log)"
    # cairn criu lazy-pages: "served P pages of NAME in R requests" on stdout
    echo "servedPages=$(awk '/^served/ {print $2}' $B/lazy.out)"
    echo "servedRequests=$(awk '/^served/ {print $(NF-1)}' $B/lazy.out)"
    echo "localPagesBytes=$(cat /lazy/pages-*.img | wc -c)"
    echo "localPagesAllocated=$(du -cB1 /lazy/pages-*.img | tail -1 | cut -f1)"
    verify_and_stop ;;
  *) echo "usage: $0 check|machine|agent|start MB|dump-put NAME|ingest NAME|get-restore NAME|lazy NAME" >&2; exit 2 ;;
esac
