#!/bin/sh
# Steps of the lazy-restore test, run inside the CRIU container by CriuLazyRestoreIT.
#   check        criu check --feature uffd-noncoop: can this kernel restore lazily at all?
#   start        start a counter (a shell loop keeping its value in memory, writing it to /counter/count)
#   dump NAME    cairn criu dump NAME (pages through cairn's page server into the cluster); prints
#                the last value the counter wrote
#   lazy NAME    cairn criu lazy-pages NAME --images-dir /lazy serving on port 27200, criu lazy-pages
#                fetching from it, criu restore --lazy-pages -D /lazy; waits for cairn to end and
#                prints the counter's value two seconds after the restore
#   lazy-dir     what /lazy held when the restore started (pages-*.img sparse: only non-lazy pages)
set -u
T="${CRIU_TIMEOUT:-30}"
PORT=27200
cairn() {
  /opt/jdk/bin/java -cp "/opt/cairn/client/cairn-client.jar:/opt/cairn/client/lib/*" dev.cairn.client.cli.CairnCli "$@"
}
why() { # $1: what failed, $2: its exit status, $3: criu's log
  if [ "$2" -eq 124 ]; then echo "$1 hung (no end within $T s)" >&2; else echo "$1 failed (exit $2)" >&2; fi
  echo "its errors and last lines:" >&2
  grep "Error" "$3" | cut -c1-160 >&2
  tail -3 "$3" | cut -c1-160 >&2
}
case "$1" in
  check)
    criu check --feature uffd-noncoop ;;
  start)
    mkdir -p /counter
    [ -f /counter/pid ] && kill "$(cat /counter/pid)" 2>/dev/null
    setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /counter/count; sleep 0.1; done' </dev/null >/dev/null 2>&1 &
    echo $! > /counter/pid
    sleep 2
    cat /counter/count ;;
  dump)
    cairn criu dump "$2" -- -t "$(cat /counter/pid)" >&2 || exit 1
    cat /counter/count ;;
  lazy)
    rm -rf /lazy /counter/lazy.*
    cairn criu lazy-pages "$2" --port $PORT --images-dir /lazy >/counter/lazy.out 2>/counter/lazy.err &
    jvm=$!
    waited=0
    until grep -q "serving its pages" /counter/lazy.err 2>/dev/null; do
      if ! kill -0 $jvm 2>/dev/null || [ $waited -ge $((T * 10)) ]; then
        echo "cairn criu lazy-pages did not start serving:" >&2; cat /counter/lazy.err >&2; kill $jvm 2>/dev/null; exit 1
      fi
      sleep 0.1; waited=$((waited + 1))
    done
    ls -1 /lazy > /counter/lazy.dir
    # pages files are sparse: the bytes on disk against their length
    echo "pages on disk $(cat /lazy/pages-*.img | wc -c) bytes long, $(du -cB1 /lazy/pages-*.img | tail -1 | cut -f1) allocated" >> /counter/lazy.err
    echo 0 > /counter/count
    mkdir -p /lazy-logs
    criu lazy-pages --page-server --address 127.0.0.1 --port $PORT -D /lazy -o /lazy-logs/lazy-pages.log -v4 &
    lp=$!
    sleep 0.5 # lazy-pages makes its socket in /lazy before restore looks for it
    timeout "$T" criu restore --lazy-pages -D /lazy -o /lazy-logs/restore.log -v4 -d
    rc=$?
    if [ $rc -ne 0 ]; then why "criu restore --lazy-pages" $rc /lazy-logs/restore.log; kill $jvm $lp 2>/dev/null; exit 1; fi
    waited=0
    while kill -0 $jvm 2>/dev/null && [ $waited -lt $((T * 10)) ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 $jvm 2>/dev/null; then
      echo "cairn criu lazy-pages did not end within $T s after the restore" >&2
      why "criu lazy-pages" 124 /lazy-logs/lazy-pages.log; kill $jvm $lp 2>/dev/null; exit 1
    fi
    wait $jvm; crc=$?
    wait $lp; lrc=$?
    cat /counter/lazy.out /counter/lazy.err >&2
    if [ $crc -ne 0 ] || [ $lrc -ne 0 ]; then
      echo "cairn criu lazy-pages exited $crc, criu lazy-pages $lrc" >&2
      why "criu lazy-pages" $lrc /lazy-logs/lazy-pages.log; exit 1
    fi
    sleep 2
    cat /counter/count ;;
  lazy-dir)
    cat /counter/lazy.dir ;;
  *) echo "usage: $0 check|start|dump NAME|lazy NAME|lazy-dir" >&2; exit 2 ;;
esac
