#!/bin/sh
# Steps of the lazy-restore tests, run inside the CRIU containers by CriuLazyRestoreIT.
#   check            criu check --feature uffd-noncoop: can this kernel restore lazily at all?
#   start            start a counter (a shell loop keeping its value in memory, writing it to /counter/count)
#   dump NAME        cairn criu dump NAME (pages through cairn's page server into the cluster); prints
#                    the last value the counter wrote
#   lazy NAME        serve NAME, then finish: one whole lazy restore in this container
#   serve NAME [N]   cairn criu lazy-pages NAME on port 27200 for N restores (default 1), images in /lazy
#                    (N = 1) or /shared/lazy/1..N; returns once it serves (the non-lazy files are written)
#   finish           criu lazy-pages fetching from that server, criu restore --lazy-pages -D /lazy; waits
#                    for cairn to end and prints the counter's value two seconds after the restore
#   restore-from A I in a container of its own: criu lazy-pages fetching from the server at A:27200 and
#                    criu restore --lazy-pages -D /shared/lazy/I; prints the counter two seconds later
#   served           waits for a cairn criu lazy-pages started by serve to end; prints its output
#   lazy-dir         what /lazy held when the restore started (pages-*.img sparse: only non-lazy pages)
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
# The counter's value. The counter rewrites its file every 0.1 s (truncate, then write), so a read
# can fall between the two and find it empty: read again (bounded) until it holds a number.
count() {
  tries=0
  while [ $tries -lt 50 ]; do
    c=$(cat /counter/count 2>/dev/null)
    case "$c" in ''|*[!0-9]*) ;; *) echo "$c"; return 0 ;; esac
    sleep 0.02; tries=$((tries + 1))
  done
  echo "the counter's file never held a number" >&2; return 1
}
# Polls (bounded, T s) until $1 exists; fails with $2 as the reason.
await_file() {
  waited=0
  until [ -e "$1" ]; do
    if [ $waited -ge $((T * 10)) ]; then echo "$2: no $1 within $T s" >&2; return 1; fi
    sleep 0.1; waited=$((waited + 1))
  done
}
# Polls (bounded) until pid $1 has ended.
await_end() {
  waited=0
  while kill -0 "$1" 2>/dev/null && [ $waited -lt $((T * 10)) ]; do sleep 0.1; waited=$((waited + 1)); done
  ! kill -0 "$1" 2>/dev/null
}
# Stops a counter restored earlier in this container and waits until its pids are free again.
stop_counters() {
  for p in $(pgrep -f 'while :'); do kill -9 "$p" 2>/dev/null; await_end "$p"; done
  return 0
}
# criu lazy-pages against $1:$PORT and criu restore --lazy-pages, both on images dir $2; logs in $3.
restore_lazily() {
  mkdir -p "$3"
  echo 0 > /counter/count
  criu lazy-pages --page-server --address "$1" --port $PORT -D "$2" -o "$3/lazy-pages.log" -v4 &
  lp=$!
  # criu restore finds lazy-pages by the socket lazy-pages makes in the images directory
  await_file "$2/lazy-pages.socket" "criu lazy-pages did not start" || { why "criu lazy-pages" 1 "$3/lazy-pages.log"; kill $lp 2>/dev/null; return 1; }
  timeout "$T" criu restore --lazy-pages -D "$2" -o "$3/restore.log" -v4 -d
  rc=$?
  if [ $rc -ne 0 ]; then why "criu restore --lazy-pages" $rc "$3/restore.log"; kill $lp 2>/dev/null; return 1; fi
  if ! await_end $lp; then why "criu lazy-pages" 124 "$3/lazy-pages.log"; kill $lp 2>/dev/null; return 1; fi
  wait $lp; lrc=$?
  if [ $lrc -ne 0 ]; then why "criu lazy-pages" $lrc "$3/lazy-pages.log"; return 1; fi
}
serve() { # $1: image name, $2: restores
  stop_counters
  rm -rf /lazy /shared/lazy /counter/lazy.*
  if [ "$2" -eq 1 ]; then dir=/lazy; else dir=/shared/lazy; fi
  cairn criu lazy-pages "$1" --address 0.0.0.0 --port $PORT --images-dir $dir --restores "$2" --json \
    </dev/null >/counter/lazy.out 2>/counter/lazy.err &
  echo $! > /counter/lazy.pid
  waited=0
  until grep -q "serving its pages" /counter/lazy.err 2>/dev/null; do
    if ! kill -0 "$(cat /counter/lazy.pid)" 2>/dev/null || [ $waited -ge $((T * 10)) ]; then
      echo "cairn criu lazy-pages did not start serving:" >&2; cat /counter/lazy.err >&2
      kill "$(cat /counter/lazy.pid)" 2>/dev/null; return 1
    fi
    sleep 0.1; waited=$((waited + 1))
  done
}
served() { # waits for cairn criu lazy-pages to end; its output to stderr, its status returned
  jvm=$(cat /counter/lazy.pid)
  if ! await_end "$jvm"; then
    echo "cairn criu lazy-pages did not end within $T s after the restores" >&2; kill "$jvm" 2>/dev/null; return 1
  fi
  # the JVM is this shell's child only when serve ran in the same shell; otherwise read its status file
  cat /counter/lazy.out /counter/lazy.err >&2
  tail -1 /counter/lazy.out | grep -q '"failedRestores":0' || { echo "cairn criu lazy-pages reports failed restores" >&2; return 1; }
}
finish() {
  ls -1 /lazy > /counter/lazy.dir
  # pages files are sparse: the bytes on disk against their length
  echo "pages on disk $(cat /lazy/pages-*.img | wc -c) bytes long, $(du -cB1 /lazy/pages-*.img | tail -1 | cut -f1) allocated" >> /counter/lazy.err
  restore_lazily 127.0.0.1 /lazy /lazy-logs || { kill "$(cat /counter/lazy.pid)" 2>/dev/null; return 1; }
  served || return 1
  sleep 2
  count
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
    count ;;
  dump)
    before=$(count) || exit 1
    cairn criu dump "$2" -- -t "$(cat /counter/pid)" >&2 || exit 1
    # criu dump kills the counter; should that fall between its truncate and its write, the file
    # stays empty, and the value read before the dump is the bound the restored counter must pass
    count 2>/dev/null || echo "$before" ;;
  lazy)
    serve "$2" 1 && finish ;;
  serve)
    serve "$2" "${3:-1}" ;;
  finish)
    finish ;;
  restore-from)
    mkdir -p /counter
    restore_lazily "$2" "/shared/lazy/$3" "/shared/logs-$3" || exit 1
    sleep 2
    count ;;
  served)
    served ;;
  lazy-dir)
    cat /counter/lazy.dir ;;
  *) echo "usage: $0 check|start|dump NAME|lazy NAME|serve NAME [N]|finish|restore-from A I|served|lazy-dir" >&2; exit 2 ;;
esac
