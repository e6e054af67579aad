#!/usr/bin/env bash
# Makes a Docker engine reachable and builds the local image the chaos tests run in.
#
# Called by .ci/run before `./mvnw -B verify`; usable by hand (as root). Idempotent and fast when
# everything is there already. When it cannot do its job (not root, no apt-get, no network for the
# packages) it says why and exits 0: the chaos tests then skip with a message of their own, and
# the rest of the build still runs.
#
#   chaos-tests/setup-docker.sh            # install docker.io if needed, start dockerd, build the image
#   CAIRN_CHAOS_IMAGE=name chaos-tests/setup-docker.sh
#
# The image (default cairn-chaos:trixie) is a Debian trixie minbase rootfs made with debootstrap
# and `docker import`ed (no registry is needed): it has iptables (partitions), criu 4.x (the CRIU
# round trip), procps, and crit, CRIU's image tool (Debian package python3-pycriu: the lineage test
# makes incremental pagemaps with it). The JDK and the Cairn jars are bind-mounted by the tests,
# not copied. An existing image without crit (built before the lineage test) is rebuilt.
set -uo pipefail

IMAGE="${CAIRN_CHAOS_IMAGE:-cairn-chaos:trixie}"
SUITE="${CAIRN_CHAOS_SUITE:-trixie}"
LOG_DIR="${CAIRN_CHAOS_LOG_DIR:-/var/log}"

say() { echo "chaos-setup: $*" >&2; }
give_up() { say "$*; the chaos tests will skip"; exit 0; }

engine_up() { docker info >/dev/null 2>&1; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; fi
fi
can_admin() { [[ $(id -u) -eq 0 || -n "$SUDO" ]]; }

# 1. Packages: the engine, iptables (dockerd needs it), debootstrap (to build the image).
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]})); then
  if ! can_admin; then
    say "missing ${need[*]} and not root (no sudo): not installing"
  elif ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${need[*]} and there is no apt-get: not installing"
  else
    say "installing ${need[*]}"
    $SUDO apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
      || say "apt-get install ${need[*]} failed"
  fi
fi
command -v docker >/dev/null 2>&1 || give_up "no docker client on PATH"

# 2. The engine. --bip gives the default bridge an IPAM gateway (Debian's 20.10 has none otherwise).
if ! engine_up; then
  can_admin || give_up "no Docker engine answers and this user cannot start dockerd"
  say "starting dockerd (log: $LOG_DIR/cairn-dockerd.log)"
  $SUDO sh -c "nohup dockerd --bip 172.17.0.1/16 >>'$LOG_DIR/cairn-dockerd.log' 2>&1 &"
  for _ in $(seq 1 60); do engine_up && break; sleep 1; done
  engine_up || give_up "dockerd did not answer within 60 s (see $LOG_DIR/cairn-dockerd.log)"
fi
say "engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers"

# 3. The image. One that lacks crit was built before the lineage test needed it: build it again.
has_crit() { docker run --rm "$IMAGE" sh -c 'command -v crit' >/dev/null 2>&1; }
state="missing"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  if has_crit; then
    say "image $IMAGE present"
    exit 0
  fi
  state="without crit"
  say "image $IMAGE has no crit (package python3-pycriu), which the CRIU lineage test needs: rebuilding it"
fi
can_admin || give_up "image $IMAGE $state and debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || give_up "image $IMAGE $state and no debootstrap"
ROOT="$(mktemp -d)"
trap '$SUDO rm -rf "$ROOT"' EXIT
say "building $IMAGE: debootstrap $SUITE (about a minute)"
if ! $SUDO debootstrap --variant=minbase --include=iptables,criu,python3-pycriu,procps,iproute2 "$SUITE" "$ROOT" \
    >"$ROOT.debootstrap.log" 2>&1; then
  tail -20 "$ROOT.debootstrap.log" >&2
  give_up "debootstrap failed (log above)"
fi
rm -f "$ROOT.debootstrap.log"
# Partitions are iptables rules inside the containers; the legacy backend needs no nftables support.
$SUDO chroot "$ROOT" update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
$SUDO rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
$SUDO mkdir -p "$ROOT/etc/java-17-openjdk" "$ROOT/opt/jdk" "$ROOT/opt/cairn"
if ! $SUDO tar -C "$ROOT" -c . | docker import - "$IMAGE" >/dev/null; then
  give_up "docker import of $IMAGE failed"
fi
say "image $IMAGE built"
