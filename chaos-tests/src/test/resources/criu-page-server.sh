#!/bin/sh
# Steps of the CRIU page-server test, run inside the CRIU container by CriuPageServerIT.
#   start        start a counter (a shell loop keeping its value in memory, writing it to /counter/count)
#   local-dump   plain criu dump of it into /local (the process stops): does criu dump work here at
#                all? prints the number of pages it wrote to pages-*.img
#   dump NAME    cairn criu dump NAME: the pages go through cairn's page server into the cluster,
#                the rest to cairn's temporary -D directory; prints the last value the counter wrote
#   page-server NAME  cairn criu page-server NAME running criu dump -D /images --page-server itself
#   images-dir   what criu left in its -D directory, listed when criu exited (before cairn deleted it)
#   get NAME     wipe /counter/count and /restore, cairn get NAME /restore, list /restore
#   restore      criu restore /restore detached; prints the value written two seconds later
# A wrapper given to cairn as --criu runs the real criu and records its -D directory, its log and
# its exit status in /counter, because cairn deletes the directory when the dump is stored.
set -u
T="${CRIU_TIMEOUT:-30}"
cairn() {
  /opt/jdk/bin/java -cp "/opt/cairn/client/cairn-client.jar:/opt/cairn/client/lib/*" dev.cairn.client.cli.CairnCli "$@"
}
why() { # $1: what failed, $2: its exit status, $3: criu's log
  if [ "$2" -eq 124 ]; then echo "$1 hung (no end within $T s)" >&2; else echo "$1 failed (exit $2)" >&2; fi
  echo "its errors and last lines:" >&2
  grep "Error" "$3" | cut -c1-160 >&2
  tail -2 "$3" | cut -c1-160 >&2
}
# Runs cairn with "$@" while criu dumps through it; prints the counter's last value. On a hang,
# prints where both sides stood: cairn's threads, criu's log, kernel stacks and files, sockets.
through_cairn() {
  cat > /usr/local/bin/criu-recorded <<'WRAP'
#!/bin/sh
criu "$@"
rc=$?
dir=; prev=
for a in "$@"; do [ "$prev" = "-D" ] && dir="$a"; prev="$a"; done
echo $rc > /counter/criu.rc
ls -1 "$dir" > /counter/images-dir.ls 2>&1
cp "$dir/dump.log" /counter/dump.log 2>/dev/null
exit $rc
WRAP
  chmod 755 /usr/local/bin/criu-recorded
  rm -f /counter/criu.rc /counter/images-dir.ls /counter/dump.log
  /opt/jdk/bin/java -cp "/opt/cairn/client/cairn-client.jar:/opt/cairn/client/lib/*" \
    dev.cairn.client.cli.CairnCli "$@" >/counter/cairn.out 2>/counter/cairn.err &
  jvm=$!
  # criu's own time plus time for the JVM and the put
  waited=0
  while kill -0 $jvm 2>/dev/null && [ $waited -lt $((T + 60)) ]; do sleep 1; waited=$((waited + 1)); done
  if kill -0 $jvm 2>/dev/null; then
    echo "cairn $1 $2 hung (no end within $((T + 60)) s); where cairn's threads stood:" >&2
    /opt/jdk/bin/jcmd $jvm Thread.print 2>&1 | grep -A12 '"main"\|criu\|page' | cut -c1-160 >&2
    for log in /tmp/cairn-criu-dump-*/dump.log /images/dump.log; do
      [ -f "$log" ] || continue
      why "criu dump" 124 "$log"; tail -12 "$log" | cut -c1-160 >&2
    done
    for p in $(pgrep -f 'criu dump') $(pgrep -f 'while :'); do
      echo "process $p: $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-80) $(grep State /proc/$p/status) wchan=$(cat /proc/$p/wchan)" >&2
      cat /proc/$p/stack >&2 2>/dev/null
      ls -l /proc/$p/fd 2>/dev/null | cut -c40- >&2
    done
    ss -tnp >&2 2>/dev/null
    kill $jvm; pkill -f 'criu dump'; wait $jvm
    exit 1
  fi
  wait $jvm
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "cairn $1 $2 exited $rc; criu exited $(cat /counter/criu.rc 2>/dev/null || echo '(not yet)')" >&2
    tail -20 /counter/cairn.err >&2
    [ -f /counter/dump.log ] && why "criu dump" "$(cat /counter/criu.rc)" /counter/dump.log
    exit 1
  fi
  cat /counter/cairn.out >&2
  cat /counter/count
}
case "$1" in
  start)
    mkdir -p /counter
    [ -f /counter/pid ] && kill "$(cat /counter/pid)" 2>/dev/null # a counter restored by an earlier round
    setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /counter/count; sleep 0.1; done' </dev/null >/dev/null 2>&1 &
    echo $! > /counter/pid
    sleep 2
    cat /counter/count ;;
  local-dump)
    rm -rf /local && mkdir -p /local
    timeout "$T" criu dump -t "$(cat /counter/pid)" -D /local -o dump.log -v4
    rc=$?
    if [ $rc -ne 0 ]; then why "criu dump" $rc /local/dump.log; exit 1; fi
    cat /local/pages-*.img | wc -c | awk '{print $1 / 4096}' ;;
  dump)
    through_cairn criu dump "$2" --criu /usr/local/bin/criu-recorded -- -t "$(cat /counter/pid)" -o dump.log -v4 ;;
  page-server)
    rm -rf /images && mkdir -p /images
    through_cairn criu page-server "$2" --port 27100 --images-dir /images -- /usr/local/bin/criu-recorded dump \
      -t "$(cat /counter/pid)" -D /images --page-server --address 127.0.0.1 --port 27100 -o dump.log -v4 ;;
  images-dir)
    cat /counter/images-dir.ls ;;
  get)
    rm -rf /restore
    echo 0 > /counter/count
    cairn get "$2" /restore >&2 || exit 1
    ls -l /restore ;;
  restore)
    timeout "$T" criu restore -D /restore -o restore.log -v4 -d
    rc=$?
    if [ $rc -ne 0 ]; then why "criu restore" $rc /restore/restore.log; exit 1; fi
    sleep 2
    cat /counter/count ;;
  *) echo "usage: $0 start|local-dump|dump NAME|page-server NAME|images-dir|get NAME|restore" >&2; exit 2 ;;
esac
