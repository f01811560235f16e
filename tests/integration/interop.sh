#!/bin/bash
# mcastproxy — the tools against plain clients: nc gets the raw stream of a
# multicast-tcp-relay; GStreamer's rtpstreamdepay reads its rfc4571 framing;
# every tool prints exactly one gst-launch-1.0 line. Runs inside netns-run
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

exit $FAILED
