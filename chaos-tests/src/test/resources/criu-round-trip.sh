#!/bin/sh
# Steps of the CRIU round trip, run inside the CRIU container by CriuRoundTripIT.
#   start    start a counter (a shell loop keeping its value in memory, writing it to /counter/count)
#   dump     criu dump it into /dump (the process stops); prints the last value it wrote
#   wipe     delete the local dump and zero /counter/count
#   restore  criu restore /dump detached; prints the value written two seconds later
#   put|get  NAME: the cairn CLI from the mounted jars and JDK, against $CAIRN_CLUSTER
set -u
cairn() {
  /opt/jdk/bin/java -cp "/opt/cairn/client/cairn-client.jar:/opt/cairn/client/lib/*" dev.cairn.client.cli.CairnCli "$@"
}
case "$1" in
  start)
    mkdir -p /counter
    setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /counter/count; sleep 0.1; done' </dev/null >/dev/null 2>&1 &
    echo $! > /counter/pid
    sleep 2
    cat /counter/count ;;
  dump)
    rm -rf /dump && mkdir -p /dump
    timeout "${CRIU_TIMEOUT:-30}" criu dump -t "$(cat /counter/pid)" -D /dump -o dump.log -v4
    rc=$?
    if [ $rc -ne 0 ]; then
      if [ $rc -eq 124 ]; then echo "criu dump hung (no end within ${CRIU_TIMEOUT:-30} s)" >&2
      else echo "criu dump failed (exit $rc)" >&2; fi
      echo "its errors and last lines:" >&2
      grep "Error" /dump/dump.log | cut -c1-160 >&2
      tail -2 /dump/dump.log | cut -c1-160 >&2
      exit 1
    fi
    cp /dump/dump.log /counter/dump.log
    cat /counter/count ;;
  wipe)
    rm -rf /dump
    echo 0 > /counter/count ;;
  put)
    cairn put "$2" /dump ;;
  get)
    cairn get "$2" /dump ;;
  restore)
    timeout "${CRIU_TIMEOUT:-30}" criu restore -D /dump -o restore.log -v4 -d
    rc=$?
    if [ $rc -ne 0 ]; then
      echo "criu restore failed (exit $rc); its errors and last lines:" >&2
      grep "Error" /dump/restore.log | cut -c1-160 >&2
      tail -2 /dump/restore.log | cut -c1-160 >&2
      exit 1
    fi
    sleep 2
    cat /counter/count ;;
  *) echo "usage: $0 start|dump|wipe|put NAME|get NAME|restore" >&2; exit 2 ;;
esac
