#!/bin/bash
# mcastproxy — the tools against plain clients: nc gets the raw stream of a
# multicast-tcp-relay; GStreamer's rtpstreamdepay reads its rfc4571 framing;
# every tool prints exactly one gst-launch-1.0 line; MCASTPROXY_STATUS=1 shows
# the right live status while a stream flows. Runs inside netns-run
# (one private namespace, multicast on lo). Usage: interop.sh MCP_SEND
set -u
MCP_SEND=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
P=$TOP/pipelines
WORK=$(mktemp -d /tmp/mcastproxy-interop.XXXXXX)
PIDS=()
FAILED=0
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait; rm -rf "$WORK"' EXIT

. "$TOP/tests/integration/plain-lib.sh"

# --- 1. every tool prints exactly one gst-launch-1.0 line from the config
cat >"$WORK/test.conf" <<'EOF'
MCAST_GROUP=239.7.7.7
MCAST_PORT=6000
MCAST_IFACE=lo
MCAST_TTL=9
MCAST_TCP_SPLITTER_PORT=6100
TCP_TCP_SPLITTER_IP=192.0.2.1
TCP_TCP_SPLITTER_PORT=6200
TCP_SPLITTER_CLIENT_IP=192.0.2.2
TCP_SPLITTER_CLIENT_PORT=6201
EOF
for tool in multicast-tcp-relay multicast-tcp-client-relay splitting-server \
  tcp-relay-multicast; do
  out=$(MCASTPROXY_CONF=$WORK/test.conf MCASTPROXY_DRY_RUN=1 "$P/$tool")
  lines=$(printf '%s\n' "$out" | wc -l)
  case "$tool" in
    multicast-tcp-relay) want="mcastsrc-relay address=239.7.7.7 port=6000 multicast-iface=lo ! tcpsplitsink port=6100 framing=auto" ;;
    multicast-tcp-client-relay) want="mcastsrc-relay address=239.7.7.7 port=6000 multicast-iface=lo ! tcpsplitsink mode=caller host=192.0.2.1 port=6200 framing=mpx" ;;
    splitting-server) want="tcpsplitsrc mode=listener host=192.0.2.1 port=6200 framing=auto ! tcpsplitsink host=192.0.2.2 port=6201 framing=auto" ;;
    tcp-relay-multicast) want="tcpsplitsrc host=192.0.2.2 port=6201 framing=auto ! tcpremcastsink address=239.7.7.7 port=6000 multicast-iface=lo ttl-mc=9 loop=false" ;;
  esac
  if [ "$lines" = 1 ] && [ "$out" = "gst-launch-1.0 $want" ]; then
    pass "$tool prints its one line"
  else
    fail "$tool printed: $out"
  fi
done

# a dry run prints the same one line with the status asked for
out=$(MCASTPROXY_CONF=$WORK/test.conf MCASTPROXY_DRY_RUN=1 MCASTPROXY_STATUS=1 \
  "$P/splitting-server" 2>&1)
if [ "$out" = "gst-launch-1.0 tcpsplitsrc mode=listener host=192.0.2.1 port=6200 framing=auto ! tcpsplitsink host=192.0.2.2 port=6201 framing=auto" ]; then
  pass "MCASTPROXY_STATUS=1 leaves the dry run alone"
else
  fail "dry run with MCASTPROXY_STATUS=1 printed: $out"
fi

# --- 2. nc, a plain TCP client, gets the raw stream of multicast-tcp-relay
run_relay () {   # run_relay NAME FRAMING
  : >"$WORK/$1.log"   # exists before anyone waits on it
  MCASTPROXY_FRAMING=$2 MCAST_GROUP=239.7.7.8 MCAST_PORT=0 \
    MCAST_TCP_SPLITTER_IP=127.0.0.1 MCAST_TCP_SPLITTER_PORT=0 \
    MCASTPROXY_STATS_INTERVAL=100000000 MCASTPROXY_LAUNCH_FLAGS=-v \
    "$P/multicast-tcp-relay" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  relay_pid=$!
}

run_relay relay-raw auto
tcp_port=$(port_of "$WORK/relay-raw.log" GstTcpSplitSink:tcpsplitsink)
mc_port=$(port_of "$WORK/relay-raw.log" GstMcastSrcRelay:mcastsrcrelay)
nc -d 127.0.0.1 "$tcp_port" >"$WORK/nc.out" 2>"$WORK/nc.err" &
nc_pid=$!
PIDS+=($nc_pid)
if wait_for "$WORK/relay-raw.log" "mcastproxy-client-added.*framing=(string)raw"; then
  "$MCP_SEND" --group 239.7.7.8 --port "$mc_port" --count 300 --rate 3000 \
    --sizes 1316 >/dev/null
  # once the relay reports all 300 written, stopping it ends nc's stream
  wait_for "$WORK/relay-raw.log" "datagrams-sent=(guint64)300,"
  kill "$relay_pid"
  timeout 10 tail --pid="$nc_pid" -f /dev/null
  if msg=$(check_stream "$WORK/nc.out" 300 1316); then
    pass "nc received all 300 datagrams byte for byte"
  else
    fail "nc stream: $msg"
  fi
else
  fail "nc was never served"
fi

# --- 3. rtpstreamdepay reads the rfc4571 framing, one buffer per datagram
run_relay relay-rfc rfc4571
tcp_port=$(port_of "$WORK/relay-rfc.log" GstTcpSplitSink:tcpsplitsink)
mc_port=$(port_of "$WORK/relay-rfc.log" GstMcastSrcRelay:mcastsrcrelay)
mkdir "$WORK/depay"
gst-launch-1.0 -m tcpclientsrc host=127.0.0.1 port="$tcp_port" \
  ! application/x-rtp-stream ! rtpstreamdepay \
  ! multifilesink location="$WORK/depay/%05d.bin" \
  >"$WORK/depay.log" 2>&1 &
depay_pid=$!
PIDS+=($depay_pid)
if wait_for "$WORK/relay-rfc.log" "mcastproxy-client-added.*framing=(string)rfc4571"; then
  "$MCP_SEND" --group 239.7.7.8 --port "$mc_port" --count 200 --rate 3000 \
    --sizes 24,100,1316,1500 >/dev/null
  # stopping the relay ends the TCP stream: the depayloader drains to EOS
  wait_for "$WORK/relay-rfc.log" "datagrams-sent=(guint64)200,"
  kill "$relay_pid"
  timeout 10 tail --pid="$depay_pid" -f /dev/null
  n=$(ls "$WORK/depay" | wc -l)
  sizes_ok=1
  for i in $(seq 0 199); do
    f=$(printf '%s/depay/%05d.bin' "$WORK" "$i")
    case $((i % 4)) in 0) s=24 ;; 1) s=100 ;; 2) s=1316 ;; 3) s=1500 ;; esac
    [ -f "$f" ] && [ "$(stat -c %s "$f")" = "$s" ] || { sizes_ok=0; break; }
  done
  if [ "$n" = 200 ] && [ $sizes_ok = 1 ]; then
    pass "rtpstreamdepay split the rfc4571 stream into all 200 datagrams"
  else
    fail "rtpstreamdepay gave $n buffers (sizes ok: $sizes_ok)"
  fi
else
  fail "the rfc4571 client was never served"
fi

# --- 4. the tool lines in docs/topologies.md are what the tools print
while IFS= read -r cmd && IFS= read -r want; do
  got=$(cd "$TOP" && eval "MCASTPROXY_DRY_RUN=1 MCASTPROXY_CONF=$P/mcastproxy.conf $cmd")
  if [ "$got" = "$want" ]; then
    pass "docs/topologies.md: $cmd"
  else
    fail "docs/topologies.md: $cmd prints: $got"
  fi
done < <(grep -A1 -E '^([A-Z_]+=[^ ]* |[A-Z_]+="[^"]*" )*pipelines/[a-z-]+$' \
  "$TOP/docs/topologies.md" | grep -v '^--$')

# --- 5. MCASTPROXY_STATUS=1: a live status line on stderr, once a second,
# while stdout keeps gst-launch's raw -m output (what the tests parse)
: >"$WORK/status.log"
: >"$WORK/status.err"
MCAST_GROUP=239.7.7.9 MCAST_PORT=0 MCASTPROXY_FRAMING=auto \
  MCAST_TCP_SPLITTER_IP=127.0.0.1 MCAST_TCP_SPLITTER_PORT=0 \
  MCASTPROXY_STATUS=1 MCASTPROXY_LAUNCH_FLAGS=-v \
  "$P/multicast-tcp-relay" >"$WORK/status.log" 2>"$WORK/status.err" &
PIDS+=($!)
status_pid=$!
tcp_port=$(port_of "$WORK/status.log" GstTcpSplitSink:tcpsplitsink)
mc_port=$(port_of "$WORK/status.log" GstMcastSrcRelay:mcastsrcrelay)
for k in 1 2; do
  nc -d 127.0.0.1 "$tcp_port" >/dev/null 2>&1 &
  PIDS+=($!)
done
if wait_for "$WORK/status.log" "tcpsplitsink-stats.* clients=(uint)2,"; then
  # 1000 datagrams/s of 1316 bytes for 8 s: the status catches it flowing
  "$MCP_SEND" --group 239.7.7.9 --port "$mc_port" --count 8000 --rate 1000 \
    --sizes 1316 >/dev/null &
  send_pid=$!
  PIDS+=($send_pid)
  # a whole second of flow into 2 clients: 1000/s in (give or take the
  # sender's pacing and the timer's phase), twice that out, nothing lost
  want='^clients 2 | in [0-9]* dgram/s [0-9.]* Mbit/s | out [0-9]* dgram/s [0-9.]* Mbit/s | drops 0$'
  line=
  for i in $(seq 1 100); do
    line=$(grep -E "$want" "$WORK/status.err" | awk '$5 >= 800 && $5 <= 1200 && $11 >= 1600' | tail -n 1)
    [ -n "$line" ] && break
    kill -0 "$send_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$line" ]; then
    pass "status line while flowing: $line"
  else
    fail "no status line with 2 clients and ~1000 dgram/s; stderr: $(tail -n 3 "$WORK/status.err")"
  fi
  # in Mbit/s agrees with the datagram rate: 1316 bytes each
  echo "$line" | awk '{ d = $5; m = $7; if (m < d * 1316 * 8 / 1e6 * 0.95 || m > d * 1316 * 8 / 1e6 * 1.05) exit 1 }' ||
    fail "in Mbit/s does not match 1316-byte datagrams: $line"
  # the log keeps the raw stats messages; stderr has nothing but status lines
  grep -q 'tcpsplitsink-stats, datagrams-in=(guint64)' "$WORK/status.log" ||
    fail "the raw -m stats messages are missing from stdout"
  grep -q 'stats-interval=1000000000' "$WORK/status.log" ||
    fail "MCASTPROXY_STATUS=1 without MCASTPROXY_STATS_INTERVAL should ask for 1 s"
  others=$(grep -v -E '^clients [0-9]+ \| in ' "$WORK/status.err" | head -n 3)
  [ -z "$others" ] || fail "stderr holds more than status lines: $others"
  kill "$send_pid" 2>/dev/null
else
  fail "the status tool's clients never connected"
fi
kill "$status_pid" 2>/dev/null

# --- 6. a caller with nobody to call says so: one warning on the console,
# and the status line names where it connects and why it cannot
free_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$WORK/caller.log"
: >"$WORK/caller.err"
MCAST_GROUP=239.7.7.10 MCAST_PORT=5004 TCP_SPLITTER_CLIENT_IP=127.0.0.1 \
  TCP_SPLITTER_CLIENT_PORT="$free_port" MCASTPROXY_STATUS=1 \
  "$P/tcp-relay-multicast" >"$WORK/caller.log" 2>"$WORK/caller.err" &
PIDS+=($!)
caller_pid=$!
want="^clients 0 sources 0 \| in 0 dgram/s 0.00 Mbit/s \| out 0 dgram/s 0.00 Mbit/s \| drops 0 \| connecting to 127.0.0.1:$free_port: refused \([0-9]+ tries\)\$"
if wait_for "$WORK/caller.err" "connecting to 127.0.0.1:$free_port: refused (" >/dev/null &&
    line=$(grep -E "$want" "$WORK/caller.err" | tail -n 1) && [ -n "$line" ]; then
  pass "status line of a caller that cannot connect: $line"
else
  fail "no 'connecting to ...: refused' status line; stderr: $(tail -n 3 "$WORK/caller.err")"
fi
n=$(grep -c "WARNING: from element .*: Cannot connect to 127.0.0.1:$free_port: refused; retrying in [0-9]* ms" "$WORK/caller.log")
if [ "$n" = 1 ]; then
  pass "one console warning for the refused caller"
else
  fail "$n console warnings for the refused caller: $(grep WARNING "$WORK/caller.log" | head -n 3)"
fi
kill "$caller_pid" 2>/dev/null

exit $FAILED
