#!/bin/bash
# mcastproxy — the Debian package: built from a copy of the source tree
# (dpkg-buildpackage -b, without its own tests) or taken from
# MCASTPROXY_DEB, unpacked with dpkg-deb -x into a scratch root; its files
# and conffiles; the unit mcastproxy@.service (systemd-analyze verify with
# the unpacked paths, and its security exposure at most 2.0); and a tool
# from it run as the unit runs it, as an unprivileged user without
# capabilities, its log on the "journal": ready once PLAYING (READY=1 on
# the notification socket), carrying a stream, stopping cleanly on SIGTERM
# with exit status 0; a demand-driven gateway failing without CAP_NET_RAW
# and ready with it (the example drop-in).
# Root only (a network namespace and another user); skipped (77) without
# root, dpkg-deb or (to build) dpkg-buildpackage and debhelper.
# Usage: package.sh MCP_SEND
set -u
MCP_SEND=$(readlink -f "$1")
TOP=$(cd "$(dirname "$0")/../.." && pwd)

# --- inside a private network namespace (see the end): the tool's run
if [ "${2:-}" = --in-netns ]; then
  ROOT=$3 WORK=$4
  . "$TOP/tests/integration/plain-lib.sh"
  ip link set lo up
  ip link set lo multicast on
  ip route add 224.0.0.0/4 dev lo
  FAILED=0
  # systemd's notification socket: its messages, a line each, in LOG
  notify_listener () {
    python3 - "$1" "$2" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
with open(sys.argv[2], 'a', buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace('\n', ' ') + '\n')
EOF
    listener=$!
    for _ in $(seq 100); do [ -S "$1" ] && break; sleep 0.1; done
  }
  # wait_ready LOG PID: 0 once LOG shows READY=1, 1 once PID is gone first
  wait_ready () {
    for _ in $(seq 300); do
      grep -q "^READY=1" "$1" && return 0
      kill -0 "$2" 2>/dev/null || { grep -q "^READY=1" "$1"; return; }
      sleep 0.1
    done
    return 1
  }
  # run_as_unit CONF LOG NOTIFY SETPRIV-CAPS...: the tool of CONF as the
  # unit runs it: its user (nobody here, DynamicUser there), the
  # capabilities given, no new privileges, its environment, stderr the
  # journal (a file JOURNAL_STREAM names); its pid in $pid
  run_as_unit () {
    conf=$1 log=$2 sock=$3
    shift 3
    : >"$log"
    chmod 666 "$log"
    (cd / && exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@" \
      --no-new-privs env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/nonexistent MCASTPROXY_LOG=events MCASTPROXY_STATUS=0 \
      JOURNAL_STREAM="$(stat -c %d:%i "$log")" NOTIFY_SOCKET="$sock" \
      GST_REGISTRY="$WORK/run/registry.bin" \
      "$ROOT/usr/bin/mcastproxy" --conf "$conf") >>"$log" 2>&1 &
    pid=$!
  }
  cat >"$WORK/etc/relay.conf" <<'EOF'
TOOL=multicast-tcp-relay
MCAST_GROUP=239.7.7.10
MCAST_PORT=5710
MCAST_TCP_SPLITTER_IP=127.0.0.1
MCAST_TCP_SPLITTER_PORT=0
EOF
  chmod 644 "$WORK/etc/relay.conf"
  notify_listener "$WORK/run/notify" "$WORK/notify.log"
  run_as_unit "$WORK/etc/relay.conf" "$WORK/relay.log" "$WORK/run/notify" \
    --inh-caps=-all --bounding-set=-all
  if wait_ready "$WORK/notify.log" "$pid"; then
    pass "the tool is ready (READY=1 once its pipeline is PLAYING), unprivileged"
  else
    fail "not ready: $(cat "$WORK/relay.log")"
  fi
  tcp_port=$(sed -n 's/^<6>multicast-tcp-relay: tcpsplitsink: listening on 127.0.0.1 port \([0-9]*\)$/\1/p' \
    "$WORK/relay.log")
  nc -d 127.0.0.1 "$tcp_port" >"$WORK/nc.out" 2>"$WORK/nc.err" &
  nc_pid=$!
  if wait_for "$WORK/relay.log" "^<6>multicast-tcp-relay: tcpsplitsink: client 127.0.0.1:[0-9]* connected"; then
    "$MCP_SEND" --group 239.7.7.10 --port 5710 --count 300 \
      --rate 3000 --sizes 1316 >/dev/null
    for _ in $(seq 200); do
      [ "$(stat -c %s "$WORK/nc.out")" -ge $((300 * 1316)) ] && break
      sleep 0.1
    done
  fi
  # the unit's KillSignal (SIGTERM)
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  timeout 10 tail --pid="$nc_pid" -f /dev/null
  kill "$nc_pid" 2>/dev/null
  if msg=$(check_stream "$WORK/nc.out" 300 1316); then
    pass "the packaged multicast-tcp-relay, unprivileged, carried 300 datagrams byte for byte"
  else
    fail "the packaged relay's stream: $msg ($(tail -n 5 "$WORK/relay.log"))"
  fi
  expect "SIGTERM stops the tool cleanly (exit status)" "$rc" 0
  grep -q "^STOPPING=1" "$WORK/notify.log" && pass "STOPPING=1" ||
    fail "no STOPPING=1: $(cat "$WORK/notify.log")"
  grep -q "^<6>multicast-tcp-relay: stopped$" "$WORK/relay.log" &&
    pass "<6> stopped, in the journal" || fail "journal: $(tail -n 5 "$WORK/relay.log")"
  kill "$listener"

  # a demand-driven gateway needs CAP_NET_RAW, and no more: without it the
  # tool fails and is never ready; with the drop-in's capability it is
  mount -t sysfs sysfs /sys   # this namespace's interfaces
  ip link add lan0 type veth peer name lan1
  ip link set lan0 up
  ip link set lan1 up
  ip addr add 10.9.0.1/24 dev lan0
  printf '%s\n' TOOL=island-gateway ISLAND_ID=london HUB_IP=127.0.0.1 \
    MCAST_GROUPS=239.10.0.0/16:5004 MCAST_IFACE=lan0 >"$WORK/etc/gw.conf"
  chmod 644 "$WORK/etc/gw.conf"
  for caps in none net_raw; do
    if [ $caps = none ]; then
      set -- --inh-caps=-all --bounding-set=-all
    else
      set -- --inh-caps=+net_raw --ambient-caps=+net_raw \
        --bounding-set=-all,+net_raw
    fi
    notify_listener "$WORK/run/notify-$caps" "$WORK/notify-$caps.log"
    run_as_unit "$WORK/etc/gw.conf" "$WORK/gw-$caps.log" \
      "$WORK/run/notify-$caps" "$@"
    wait_ready "$WORK/notify-$caps.log" "$pid"
    ready=$?
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    kill "$listener"
    if [ $caps = none ]; then
      if [ $ready = 1 ] && [ $rc != 0 ] &&
          grep -q "^<3>island-gateway: .*needs CAP_NET_RAW" "$WORK/gw-$caps.log"; then
        pass "a demand-driven island-gateway without CAP_NET_RAW fails, never ready, saying (<3>) it needs CAP_NET_RAW"
      else
        fail "island-gateway without CAP_NET_RAW: ready $ready, exit $rc: $(tail -n 5 "$WORK/gw-$caps.log")"
      fi
    elif [ $ready = 0 ] && [ $rc = 0 ]; then
      pass "a demand-driven island-gateway with CAP_NET_RAW alone is ready, and stops cleanly"
    else
      fail "island-gateway with CAP_NET_RAW: ready $ready, exit $rc: $(tail -n 5 "$WORK/gw-$caps.log")"
    fi
  done
  exit $FAILED
fi

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (a network namespace, another user)"
  exit 77
fi
if ! command -v dpkg-deb >/dev/null; then
  echo "SKIP: no dpkg-deb"
  exit 77
fi
WORK=$(mktemp -d /tmp/mcastproxy-package.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
FAILED=0
. "$TOP/tests/integration/plain-lib.sh"

# --- the package
if [ -n "${MCASTPROXY_DEB:-}" ]; then
  deb=$(readlink -f "$MCASTPROXY_DEB")
else
  if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
    echo "SKIP: no dpkg-buildpackage or debhelper to build the package" \
      "(apt-get install debhelper), and no MCASTPROXY_DEB"
    exit 77
  fi
  mkdir "$WORK/dist" "$WORK/dist/src"
  (cd "$TOP" && tar -cf - --exclude=./build --exclude='./build-*' \
    --exclude=./dist --exclude='./obj-*' --exclude=./.git \
    --exclude='./debian/.debhelper' --exclude=./debian/mcastproxy \
    --exclude=./debian/files --exclude='./debian/*.substvars' \
    --exclude=./debian/debhelper-build-stamp --exclude='./debian/*.debhelper*' \
    .) | tar -xf - -C "$WORK/dist/src"
  start=$(date +%s)
  # without its own tests (the suite runs them), and without the
  # sanitizer runtime a sanitized build's tests preload
  if ! (cd "$WORK/dist/src" && env -u LD_PRELOAD -u ASAN_OPTIONS \
      DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
      DEB_BUILD_PROFILES=nocheck dpkg-buildpackage -us -uc -b) \
      >"$WORK/build.log" 2>&1; then
    fail "dpkg-buildpackage: $(tail -n 30 "$WORK/build.log")"
    exit 1
  fi
  pass "dpkg-buildpackage -b built the package in $(( $(date +%s) - start )) s"
  deb=$(ls "$WORK"/dist/mcastproxy_*.deb)
fi

ROOT=$WORK/root
dpkg-deb -x "$deb" "$ROOT"
dpkg-deb -e "$deb" "$WORK/control"

# --- its files
missing=""
for f in usr/bin/mcastproxy etc/mcastproxy/mcastproxy.conf \
    lib/systemd/system/mcastproxy@.service \
    usr/lib/*/gstreamer-1.0/libgstmcastproxy.so \
    usr/share/man/man1/mcastproxy.1.gz usr/share/doc/mcastproxy/copyright \
    usr/libexec/mcastproxy/mcastproxy-launch; do
  # shellcheck disable=SC2086  # the glob
  [ -e "$ROOT"/$f ] || missing="$missing $f"
done
for t in amt-relay channel-gateway hub island-gateway mesh-node \
    multicast-tcp-client-relay multicast-tcp-relay splitting-server \
    tcp-relay-multicast; do
  [ -x "$ROOT/usr/libexec/mcastproxy/$t" ] || missing="$missing $t"
  [ -e "$ROOT/usr/share/doc/mcastproxy/examples/$t.conf" ] ||
    missing="$missing examples/$t.conf"
done
for f in mcastproxy-common.sh mcastproxy-config.awk mcastproxy-installed.sh; do
  [ "$(stat -c %a "$ROOT/usr/libexec/mcastproxy/$f")" = 644 ] ||
    missing="$missing $f(mode)"
done
if [ -z "$missing" ] && grep -qx /etc/mcastproxy/mcastproxy.conf "$WORK/control/conffiles"
then
  pass "the package holds the plugin, the command, the tools, the configuration (a conffile), the examples, the man page and the unit"
else
  fail "the package lacks:$missing (conffiles: $(cat "$WORK/control/conffiles" 2>&1))"
fi

# --- the unit, with the paths of the unpacked tree
unit=$ROOT/lib/systemd/system/mcastproxy@.service
mkdir "$WORK/units"
sed -e "s|/usr/bin/|$ROOT/usr/bin/|" -e "s|/usr/libexec/|$ROOT/usr/libexec/|" \
  "$unit" >"$WORK/units/mcastproxy@.service"
if out=$(systemd-analyze verify --man=no "$WORK/units/mcastproxy@.service" 2>&1) &&
    [ -z "$out" ]; then
  pass "systemd-analyze verify finds nothing to say about mcastproxy@.service"
else
  fail "systemd-analyze verify: $out"
fi
score=$(systemd-analyze security --offline=yes "$WORK/units/mcastproxy@.service" 2>&1 |
  sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
  pass "systemd-analyze security: exposure $score (at most 2.0)"
else
  fail "systemd-analyze security: exposure '$score'"
fi
# with each capability drop-in of the examples (appended: the same merge)
for d in net-raw low-port; do
  cat "$WORK/units/mcastproxy@.service" \
    "$ROOT/usr/share/doc/mcastproxy/examples/service-$d.conf" \
    >"$WORK/units/mcastproxy-$d@.service"
  score=$(systemd-analyze security --offline=yes "$WORK/units/mcastproxy-$d@.service" 2>&1 |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' &&
      out=$(systemd-analyze verify --man=no "$WORK/units/mcastproxy-$d@.service" 2>&1) &&
      [ -z "$out" ]; then
    pass "with the drop-in service-$d.conf: verified, exposure $score (at most 2.0)"
  else
    fail "with the drop-in service-$d.conf: exposure '$score' ${out:-}"
  fi
done
grep -q '^ExecStart=/usr/bin/mcastproxy --conf /etc/mcastproxy/%i.conf$' "$unit" &&
  grep -q '^Type=notify$' "$unit" && grep -q '^ExecReload=kill -HUP $MAINPID$' "$unit" &&
  grep -q '^Environment=MCASTPROXY_LOG=events' "$unit" && ! grep -q '^KillSignal=' "$unit" &&
  pass "the unit runs mcastproxy --conf /etc/mcastproxy/NAME.conf with MCASTPROXY_LOG=events, Type=notify, reloads with SIGHUP and stops with SIGTERM" ||
  fail "the unit's ExecStart, Type, ExecReload, Environment or KillSignal: $(grep -E '^(ExecStart|Type|ExecReload|Environment|KillSignal)=' "$unit")"

# --- a tool from it, in a network namespace of its own
mkdir -m 755 "$WORK/etc"
mkdir -m 777 "$WORK/run"
unshare -n -m "$0" "$1" --in-netns "$ROOT" "$WORK" || FAILED=1
exit $FAILED
