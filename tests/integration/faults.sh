#!/bin/bash
# mcastproxy — fault injection over real islands, as root: network
# namespaces joined by veth links with multicast switched off (as in
# topology.sh), the tools of pipelines/ (or their gst-launch lines), and
# faults made while a numbered stream flows. Each scenario asserts exactly
# what was delivered (mcp-recv: counts, order, duplicates, and where the
# gaps are) and prints its measured outcome in one line, "OUTCOME ...".
#
#   restart          the splitting server is killed (SIGKILL) mid-stream and
#                    started again on the same ports; the callers on both
#                    sides reconnect by themselves; the datagrams lost are
#                    one run, all sent during the outage
#   source-change    the server's inbound source leaves, another one (from
#                    another island) connects; the receivers, never
#                    restarted, get both streams whole and in order
#   link-flap        the link of the source island to the server, then the
#                    link of a receiving island, goes down and up again;
#                    the TCP legs recover, and what is lost was sent while
#                    a link was down (for the receiving island, or queued
#                    at the server when it skipped ahead after link-up)
#   storm            1000 TCP clients connect within about a second to a
#                    relay's tcpsplitsink, with misbehaving peers (garbage,
#                    impossible lengths, a wrong version, a truncated
#                    preamble, a silent peer, slowloris); each misbehaving
#                    peer is closed with its reason; clients connected
#                    throughout get every datagram
#   throttle-drop    one client's link is throttled (tc tbf); with
#   throttle-resync  slow-client-policy drop it is closed as too slow, with
#                    resync it skips ahead; the other clients lose nothing.
#                    A dropped client gets everything written to it and a
#                    clean end between two messages (once a regression:
#                    cut inside a DATA message, or reset)
#   soak             a steady stream through relay -> splitting server ->
#                    re-multicast for SECONDS (default $FAULTS_SOAK_SECONDS,
#                    else 40); the resident memory (VmRSS) of each
#                    gst-launch process is sampled every 5 s and may grow
#                    by at most 2 MiB from the sample after warm-up (10 s,
#                    or a quarter of the run if shorter) to the last. The
#                    longer run:  FAULTS_SOAK_SECONDS=600 meson test -C build
#                    faults-soak --timeout-multiplier 0   (or run this
#                    script directly: faults.sh soak 600)
#
# Usage: faults.sh SCENARIO [SECONDS]
# Needs MCASTPROXY_BUILD (the meson build directory). Exit 77 without root.
set -u
SCENARIO=${1:?scenario}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/islands-test.sh"
islands_test_init faults

GROUP=239.78.0.1
# Where the receiving islands re-create the group: tcpremcastsink sends to
# a fixed port (it has no port=0); every other port is picked by the
# kernel and read back (current-port, printed by gst-launch -v).
PORT=6000
SIZES=188,1316,1500,576,1316
STATS="MCASTPROXY_STATS_INTERVAL=200000000"
VERBOSE="MCASTPROXY_LAUNCH_FLAGS=-v"
# How far a gap may reach past the fault window, for what is in flight
# when a fault starts and the time the test takes to see it end.
SLACK_MS=${FAULTS_SLACK_MS:-500}

# ---- the cascade: island a -> splitting server -> islands b, c ----------
#
#   island a: sender, multicast-tcp-client-relay ("relay")
#   hub:      splitting-server ("server"), no multicast
#   island X: tcp-relay-multicast ("gwX"), mcp-recv ("recvX")
#
# Links up0 (10.0.1.1 in a, 10.0.N.1 in the others) to the hub (10.0.N.2),
# multicast off. Sets IN_PORT, OUT_PORT (the server's) and MPORT (the
# relay's multicast port).

cascade_net () {   # cascade_net ISLAND...: the receiving islands
  local i=2 isl
  island "$(ns a)"
  host "$(ns hub)"
  link "$(ns a)" up0 10.0.1.1/24 "$(ns hub)" a0 10.0.1.2/24 off
  for isl in "$@"; do
    island "$(ns "$isl")"
    link "$(ns "$isl")" up0 10.0.$i.1/24 "$(ns hub)" "${isl}0" 10.0.$i.2/24 off
    i=$((i + 1))
  done
}

hub_ip () {   # hub_ip ISLAND: the server's address on the link of ISLAND
  local i=2 isl
  for isl in $ISLANDS; do
    [ "$isl" = "$1" ] && { echo 10.0.$i.2; return; }
    i=$((i + 1))
  done
}

server () {   # server NAME IN OUT: the splitting server (0: any port)
  start "$1" "$(ns hub)" $STATS $VERBOSE TCP_TCP_SPLITTER_IP= \
    TCP_TCP_SPLITTER_PORT="$2" TCP_SPLITTER_CLIENT_IP= \
    TCP_SPLITTER_CLIENT_PORT="$3" -- "$P/splitting-server"
}

relay () {   # relay NAME ISLAND SERVER_IP: the island's group (on lo) -> server
  start "$1" "$(ns "$2")" $STATS $VERBOSE MCAST_GROUP=$GROUP MCAST_PORT=0 \
    MCAST_IFACE=lo TCP_TCP_SPLITTER_IP="$3" TCP_TCP_SPLITTER_PORT="$IN_PORT" \
    -- "$P/multicast-tcp-client-relay"
}

gateway () {   # gateway ISLAND: server -> the island's group on lo
  start "gw$1" "$(ns "$1")" $STATS MCAST_GROUP=$GROUP MCAST_PORT=$PORT \
    MCAST_IFACE=lo TCP_SPLITTER_CLIENT_IP="$(hub_ip "$1")" \
    TCP_SPLITTER_CLIENT_PORT="$OUT_PORT" -- "$P/tcp-relay-multicast"
}

receiver () {   # receiver ISLAND [MCP-RECV ARGS]
  local isl=$1
  shift
  start "recv$isl" "$(ns "$isl")" -- "$MCP_RECV" --group $GROUP --port $PORT \
    --iface lo --count "$COUNT" --sizes "$SIZES" --timeout 20 "$@"
}

sender () {   # sender NAME ISLAND MPORT [MCP-SEND ARGS]
  local name=$1 isl=$2 mport=$3
  shift 3
  start "$name" "$(ns "$isl")" -- "$MCP_SEND" --group $GROUP --port "$mport" \
    --iface lo --count "$COUNT" --rate "$RATE" --sizes "$SIZES" --quiet "$@"
}

# cascade ISLAND...: the network, the server, the relay of island a, a
# gateway and a receiver (RECV_ARGS) in each receiving island; returns once
# every leg is connected and every receiver has joined.
cascade () {
  local isl
  ISLANDS="$*"
  cascade_net "$@"
  server server 0 0
  IN_PORT=$(port_of server GstTcpSplitSrc:tcpsplitsrc) || return 1
  OUT_PORT=$(port_of server GstTcpSplitSink:tcpsplitsink) || return 1
  relay relay a 10.0.1.2
  MPORT=$(port_of relay GstMcastSrcRelay:mcastsrcrelay) || return 1
  for isl in "$@"; do
    gateway "$isl"
    receiver "$isl" ${RECV_ARGS:-}
  done
  wait_for relay mcastproxy-client-added || return 1
  for isl in "$@"; do
    wait_for "gw$isl" mcastproxy-connected || return 1
    wait_for "recv$isl" joined || return 1
  done
  wait_count server mcastproxy-client-added $# || return 1
  echo "   server: source port $IN_PORT, client port $OUT_PORT;" \
    "island a's relay joined $GROUP port $MPORT"
}

# gaps NAME WINDOW...: checks the gaps mcp-recv NAME printed (with
# --allow-gaps): each must lie inside one WINDOW "FROM_NS TO_NS", widened by
# SLACK_MS on both sides (every datagram missing was sent between the two
# received around the gap; neither may be missing). Prints one line per gap,
# times relative to the first window's start; sets GAPS_DESC and GAPS_LOST.
gaps () {
  local name=$1 out rc
  shift
  out=$(grep '^mcp-recv: gap stream=' "$LOGS/$name.log" | awk -v slack="$SLACK_MS" \
    -v windows="$*" '
    BEGIN { n = split(windows, w, " "); t0 = w[1]; bad = 0; lost = 0; desc = "" }
    {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      before = f["before_sent_ns"]; after = f["after_sent_ns"]
      lost += f["count"]
      ok = 0
      if (before != -1 && after != -1)
        for (j = 1; j < n; j += 2)
          if (before >= w[j] - slack * 1e6 && after <= w[j + 1] + slack * 1e6)
            ok = 1
      d = sprintf("seqs %s (%d) between datagrams sent at %+.0f and %+.0f ms",
        f["seqs"], f["count"], before == -1 ? -1 : (before - t0) / 1e6,
        after == -1 ? -1 : (after - t0) / 1e6)
      print (ok ? "     inside:  " : "     OUTSIDE: ") d
      desc = desc (desc == "" ? "" : "; ") d
      if (!ok) bad = 1
    }
    END { print "LOST " lost; print "DESC " desc; exit bad }')
  rc=$?
  printf '%s\n' "$out" | grep -v '^LOST \|^DESC '
  GAPS_LOST=$(printf '%s\n' "$out" | sed -n 's/^LOST //p')
  GAPS_DESC=$(printf '%s\n' "$out" | sed -n 's/^DESC //p')
  return $rc
}

# recv_result NAME: waits for mcp-recv NAME; prints its summary lines; sets
# RECV_RC and RECV_LINE (the summary line)
recv_result () {
  wait "$(eval echo "\$PID_$1")"
  RECV_RC=$?
  grep '^mcp-recv: ' "$LOGS/$1.log" | grep -v 'joined\|connected to' |
    sed "s/^/   $1: /"
  RECV_LINE=$(grep '^mcp-recv: received=' "$LOGS/$1.log" | tail -n 1)
}

ms_between () { echo $(( ($2 - $1) / 1000000 )); }

# ---- a: the splitting server killed and restarted -------------------------

restart () {
  COUNT=8000 RATE=1000
  RECV_ARGS="--allow-gaps 1"
  cascade b c || return 1
  sender sender a "$MPORT"
  # mid-stream: once island b has had a quarter of the stream
  wait_stat_ge gwb tcpremcastsink-stats datagrams-sent $((COUNT / 4)) 20 || return 1
  local t_kill t_back t_restored isl
  t_kill=$(now_ns)
  kill -KILL "$PID_server"
  wait "$PID_server" 2>/dev/null
  echo "   server killed (SIGKILL)"
  # the outage lasts until every caller has failed to reconnect once
  wait_stat_ge relay tcpsplitsink-stats connect-failures 1 || return 1
  for isl in b c; do
    wait_stat_ge "gw$isl" tcpsplitsrc-stats connect-failures 1 || return 1
  done
  t_back=$(now_ns)
  server server2 "$IN_PORT" "$OUT_PORT"
  wait_for server2 mcastproxy-connected || return 1
  wait_count server2 mcastproxy-client-added 2 || return 1
  t_restored=$(now_ns)
  echo "   server restarted on ports $IN_PORT and $OUT_PORT after" \
    "$(ms_between "$t_kill" "$t_back") ms; all legs back" \
    "$(ms_between "$t_kill" "$t_restored") ms after the kill"
  wait "$PID_sender"

  local outcome="" name
  for isl in b c; do
    name=recv$isl
    recv_result "$name"
    if [ "$RECV_RC" != 0 ]; then
      fail "$name: not one run of gaps, in order, without duplicates (exit $RECV_RC)"
      continue
    fi
    if gaps "$name" "$t_kill" "$t_restored"; then
      pass "$name: $(field "$RECV_LINE" received) of $COUNT, in order, once;" \
        "the one gap was sent during the outage"
    else
      fail "$name: a gap reaches outside the outage"
    fi
    outcome="$outcome island $isl $(field "$RECV_LINE" received)/$COUNT (lost $GAPS_LOST: $GAPS_DESC);"
  done
  # the same processes, reconnected: a second handshake each
  fresh_stats relay gwb gwc
  local reconnects
  reconnects="relay $(last_stat relay tcpsplitsink-stats connects) connects/$(last_stat relay tcpsplitsink-stats connect-failures) failures, gwb $(last_stat gwb tcpsplitsrc-stats connects)/$(last_stat gwb tcpsplitsrc-stats connect-failures), gwc $(last_stat gwc tcpsplitsrc-stats connects)/$(last_stat gwc tcpsplitsrc-stats connect-failures)"
  if [ "$(last_stat relay tcpsplitsink-stats connects)" = 2 ] &&
    [ "$(last_stat gwb tcpsplitsrc-stats connects)" = 2 ] &&
    [ "$(last_stat gwc tcpsplitsrc-stats connects)" = 2 ]; then
    pass "the relay and both gateways reconnected once, by themselves ($reconnects)"
  else
    fail "reconnects: $reconnects"
  fi
  echo "OUTCOME restart: server down $(ms_between "$t_kill" "$t_back") ms," \
    "all legs back $(ms_between "$t_kill" "$t_restored") ms after the kill;$outcome" \
    "no duplicates, in order; $reconnects"
}

# ---- b: the inbound source changes ----------------------------------------

source_change () {
  COUNT=2000 RATE=1000
  RECV_ARGS="--stream-id 1,2"
  # island a2 is a second source island, on its own link to the server
  cascade b || return 1
  island "$(ns a2)"
  link "$(ns a2)" up0 10.0.9.1/24 "$(ns hub)" a20 10.0.9.2/24 off
  # a plain mpx client of the server, in island b, never restarted either
  start tcprecv "$(ns b)" -- "$MCP_RECV" --tcp "$(hub_ip b):$OUT_PORT" \
    --framing mpx --stream-id 1,2 --count "$COUNT" --sizes "$SIZES" --timeout 20
  wait_count server mcastproxy-client-added 2 || return 1

  sender send1 a "$MPORT" --stream-id 1
  wait "$PID_send1"
  # everything the first source read is on its way before it leaves
  wait_stat relay tcpsplitsink-stats datagrams-sent "$COUNT" || {
    fail "relay sent $(last_stat relay tcpsplitsink-stats datagrams-sent) of $COUNT"
    return 1
  }
  kill "$PID_relay"
  wait "$PID_relay" 2>/dev/null
  wait_for server mcastproxy-disconnected || return 1
  echo "   the first source left (island a's relay stopped)"
  relay relay2 a2 10.0.9.2
  local mport2
  mport2=$(port_of relay2 GstMcastSrcRelay:mcastsrcrelay) || return 1
  wait_for relay2 mcastproxy-client-added || return 1
  wait_count server mcastproxy-connected 2 || return 1
  echo "   a new source connected (island a2's relay)"
  sender send2 a2 "$mport2" --stream-id 2
  wait "$PID_send2"

  local name
  for name in recvb tcprecv; do
    recv_result "$name"
    if [ "$RECV_RC" = 0 ]; then
      pass "$name got all $COUNT of both sources, each in order, once"
    else
      fail "$name (exit $RECV_RC)"
    fi
    eval "line_$name=\$RECV_LINE"
  done
  fresh_stats server gwb
  local gw_c gw_d sv_c sv_d
  gw_c=$(last_stat gwb tcpsplitsrc-stats connects)
  gw_d=$(last_stat gwb tcpsplitsrc-stats disconnects)
  sv_c=$(last_stat server tcpsplitsrc-stats connects)
  sv_d=$(last_stat server tcpsplitsrc-stats disconnects)
  # (the TCP client cannot reconnect: it got everything over one connection)
  if [ "$gw_c/$gw_d" = 1/0 ]; then
    pass "island b's gateway kept its one connection (connects $gw_c," \
      "disconnects $gw_d)"
  else
    fail "island b's gateway: connects $gw_c, disconnects $gw_d"
  fi
  if [ "$sv_c/$sv_d" = 2/1 ]; then
    pass "the server took the second source after the first left" \
      "(source connects $sv_c, disconnects $sv_d)"
  else
    fail "server sources: connects $sv_c, disconnects $sv_d"
  fi
  echo "OUTCOME source-change: island b (re-multicast)" \
    "$(field "$line_recvb" received)/$((2 * COUNT)), TCP mpx client" \
    "$(field "$line_tcprecv" received)/$((2 * COUNT)) (2 sources x $COUNT," \
    "lost $(field "$line_recvb" lost)+$(field "$line_tcprecv" lost)," \
    "duplicates $(field "$line_recvb" duplicates)+$(field "$line_tcprecv" duplicates)," \
    "reordered $(field "$line_recvb" reordered)+$(field "$line_tcprecv" reordered));" \
    "receivers never reconnected (gateway connects $gw_c);" \
    "server source connects $sv_c, disconnects $sv_d"
}

# ---- c: links down and up -------------------------------------------------

DOWN_MS=${FAULTS_DOWN_MS:-5000}

# flap NS IFACE: the link down for DOWN_MS (the fault itself), then up;
# returns once the server's source counter moves again. Sets T_DOWN, T_UP,
# T_RESUMED (ns).
flap () {
  local before
  T_DOWN=$(now_ns)
  ip -n "$1" link set "$2" down
  sleep "$(awk -v ms="$DOWN_MS" 'BEGIN { print ms / 1000 }')"
  ip -n "$1" link set "$2" up
  T_UP=$(now_ns)
  before=$(last_stat gwb tcpremcastsink-stats datagrams-sent)
  wait_stat_ge gwb tcpremcastsink-stats datagrams-sent $((before + 1)) 30 || return 1
  T_RESUMED=$(now_ns)
  echo "   $2 of $1 down for $(ms_between "$T_DOWN" "$T_UP") ms; island b" \
    "receives again $(ms_between "$T_UP" "$T_RESUMED") ms after link-up"
}

link_flap () {
  # 24 s of stream: after the first outage the relay and the server may
  # skip up to max-queue-time each (more under load, when TCP's backed-off
  # retransmission resumes late), and the second flap needs the stream
  # still running (a run under ASan ran out with 16 s)
  COUNT=24000 RATE=1000
  RECV_ARGS="--allow-gaps 2"
  cascade b c || return 1
  sender sender a "$MPORT"
  wait_stat_ge gwb tcpremcastsink-stats datagrams-sent $((RATE * 2)) 20 || return 1
  # the source island's link, then (after a second of normal delivery) the
  # link of island b
  flap "$(ns a)" up0 || return 1
  local w1="$T_DOWN $T_RESUMED" d1=$((T_UP - T_DOWN)) r1=$((T_RESUMED - T_UP))
  wait_stat_ge gwb tcpremcastsink-stats datagrams-sent \
    $(( $(last_stat gwb tcpremcastsink-stats datagrams-sent) + RATE )) 20 || return 1
  flap "$(ns b)" up0 || return 1
  # Island b's leg is the server's client: the server queued for it while
  # the link was down, and skips ahead (slow-client-policy resync) once its
  # queue is max-queue-time (3 s) old. TCP's backed-off retransmission may
  # drain that queue only after the skip, so what was sent up to
  # max-queue-time after delivery resumed may be skipped too; no later.
  local w2="$T_DOWN $((T_RESUMED + 3000000000))" d2=$((T_UP - T_DOWN)) \
    r2=$((T_RESUMED - T_UP))
  wait "$PID_sender"

  local isl windows outcome=""
  for isl in b c; do
    recv_result "recv$isl"
    # island c's link stays up: only the first flap may cost it anything
    if [ "$isl" = b ]; then windows="$w1 $w2"; else windows="$w1"; fi
    if [ "$RECV_RC" != 0 ]; then
      fail "recv$isl: more gaps than flaps, or out of order or duplicates (exit $RECV_RC)"
    elif gaps "recv$isl" $windows; then
      pass "recv$isl: $(field "$RECV_LINE" received) of $COUNT in order," \
        "once; everything missing was sent while a link was down"
    else
      fail "recv$isl: a gap reaches outside the link-down windows"
    fi
    outcome="$outcome island $isl $(field "$RECV_LINE" received)/$COUNT, lost ${GAPS_LOST:-0}${GAPS_DESC:+ ($GAPS_DESC)};"
  done
  fresh_stats relay gwb gwc server
  local legs
  legs="relay connects $(last_stat relay tcpsplitsink-stats connects), skipped $(last_stat relay tcpsplitsink-stats dropped-resync); server skipped $(last_stat server tcpsplitsink-stats dropped-resync); gateway connects b $(last_stat gwb tcpsplitsrc-stats connects), c $(last_stat gwc tcpsplitsrc-stats connects)"
  echo "   $legs"
  echo "OUTCOME link-flap: island a's link down $((d1 / 1000000)) ms (delivery" \
    "back $((r1 / 1000000)) ms after link-up), island b's $((d2 / 1000000)) ms" \
    "(back after $((r2 / 1000000)) ms);$outcome times relative to the first" \
    "link-down; $legs"
}

# ---- d: a connect storm and misbehaving peers ------------------------------

# expected KIND SINK: what the sink must do with a badpeer.py peer: the
# start of its client-removed reason, or "raw" (a framing=auto port serves
# a peer that does not start with the mpx magic as a plain player).
expected () {
  case "$2:$1" in
    *:badversion) echo "bad input: peer speaks mpx version 2.0," ;;
    *:badlength) echo "bad input: message type 0x48 claims a 16777216-byte payload" ;;
    *:badmeta) echo "bad input: message type 0x44 has a 2000-byte metadata block" ;;
    *:slowmagic) echo "no mpx HELLO within 5000 ms" ;;
    mpx:garbage) echo "bad input: not an mpx peer: stream starts with 47 45 54" ;;
    mpx:truncated) echo "bad input: connection closed inside the mpx preamble" ;;
    mpx:silent) echo "peer sent nothing within 5000 ms" ;;
    mpx:slowloris) echo "no mpx HELLO within 5000 ms" ;;
    auto:garbage|auto:slowloris) echo raw ;;
  esac
}

# removal_reason SINK ADDRESS: the reason of the sink's client-removed
# message for ADDRESS, unescaped
removal_reason () {
  grep -a "from element \"$1\" (element): mcastproxy-client-removed, address=(string)$2," \
    "$LOGS/storm_relay.log" | head -n 1 |
    sed -n 's/.*reason=(string)"\(.*\)";$/\1/p; s/.*reason=(string)\([^;"]*\);$/\1/p' |
    sed 's/\\\(.\)/\1/g'
}

storm () {
  COUNT=1500 RATE=100 SIZES=188,1316
  local clients=${FAULTS_STORM_CLIENTS:-1000} limit=12
  island "$(ns a)"
  host "$(ns cl)"
  link "$(ns a)" up0 10.0.1.1/24 "$(ns cl)" c0 10.0.1.2/24 off
  # a thousand clients and more: one descriptor each
  ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
  if [ "$(ulimit -n)" -lt $((clients + 200)) ]; then
    fail "cannot raise the descriptor limit for $clients clients (ulimit -n: $(ulimit -n))"
    return 1
  fi
  # a relay with two listeners: "auto" (framing=auto, as the tools serve
  # relays and players on one port) and "mpx" (an mpx-only port)
  start storm_relay "$(ns a)" GST_PLUGIN_PATH="$BUILD/plugins" -- \
    gst-launch-1.0 -v -m mcastsrc-relay address=$GROUP port=0 \
    multicast-iface=lo ! tee name=t \
    t. ! tcpsplitsink name=auto port=0 framing=auto stats-interval=1000000000 \
    t. ! tcpsplitsink name=mpx port=0 framing=mpx stats-interval=1000000000
  local auto mpx mport
  auto=$(port_of storm_relay GstTcpSplitSink:auto) || return 1
  mpx=$(port_of storm_relay GstTcpSplitSink:mpx) || return 1
  mport=$(port_of storm_relay GstMcastSrcRelay:mcastsrcrelay) || return 1
  echo "   relay: framing=auto on port $auto, framing=mpx on port $mpx"

  # the clients connected throughout: mpx on both ports, a raw player
  local args="--count $COUNT --sizes $SIZES --timeout 20"
  start legit_auto "$(ns cl)" -- "$MCP_RECV" --tcp 10.0.1.1:$auto --framing mpx $args
  start legit_raw "$(ns cl)" -- "$MCP_RECV" --tcp 10.0.1.1:$auto --framing raw $args
  start legit_mpx "$(ns cl)" -- "$MCP_RECV" --tcp 10.0.1.1:$mpx --framing mpx $args
  wait_count storm_relay mcastproxy-client-added 3 || return 1
  sender sender a "$mport"
  wait_stat_ge storm_relay 'element "auto" (element): tcpsplitsink-stats' \
    datagrams-sent $((2 * RATE)) 20 || return 1

  # the storm and the bad peers at once
  local peers="" k
  for k in garbage badversion badlength badmeta truncated silent slowloris; do
    peers="$peers 10.0.1.1:$mpx:$k"
  done
  for k in badversion badlength badmeta slowmagic garbage slowloris; do
    peers="$peers 10.0.1.1:$auto:$k"
  done
  start fanout "$(ns cl)" -- "$BUILD/tests/bench/mcp-fanout" \
    --tcp 10.0.1.1:$auto --clients "$clients" --connect-rate 1000 \
    --count "$COUNT" --sizes "$SIZES" --timeout 20
  start badpeers "$(ns cl)" -- python3 "$HERE/badpeer.py" --limit $limit $peers
  wait_for fanout "clients connected to" 30 || return 1
  local storm_s
  storm_s=$(sed -n 's/.*clients connected to .* in \([0-9.]*\) s$/\1/p' "$LOGS/fanout.log")
  echo "   $clients clients connected within $storm_s s"
  wait "$PID_badpeers"
  wait "$PID_sender"

  # every misbehaving peer: closed with its reason, or served raw
  local line kind port local_a ms how sink want got bad_ok=1 slow=""
  while read -r line; do
    kind=$(echo "$line" | sed -n 's/.* kind=\([a-z]*\).*/\1/p')
    port=$(echo "$line" | sed -n 's/.* port=\([0-9]*\).*/\1/p')
    local_a=$(echo "$line" | sed -n 's/.* local=\([^ ]*\).*/\1/p')
    ms=$(echo "$line" | sed -n 's/.* closed_after_ms=\([0-9]*\).*/\1/p')
    how=$(echo "$line" | sed -n 's/.* how=\([a-z]*\).*/\1/p')
    if [ "$port" = "$auto" ]; then sink=auto; else sink=mpx; fi
    want=$(expected "$kind" "$sink")
    if [ "$want" = raw ]; then
      if [ "$how" = open ] && grep -aq "from element \"auto\" (element): mcastproxy-client-added, address=(string)$local_a, framing=(string)raw;" "$LOGS/storm_relay.log"; then
        printf '   %-4s %-10s served as a raw player, still open after %s ms (as documented for framing=auto)\n' "$sink" "$kind" "$ms"
      else
        fail "$sink $kind: expected to be served raw: $line"
        bad_ok=0
      fi
    else
      got=$(removal_reason "$sink" "$local_a")
      case "$got" in
        "$want"*)
          printf '   %-4s %-10s closed after %5s ms (%s): %s\n' "$sink" "$kind" "$ms" "$how" "$got" ;;
        *)
          fail "$sink $kind ($local_a, $how after $ms ms): reason '$got', expected '$want...'"
          bad_ok=0 ;;
      esac
      [ "$how" != open ] || { fail "$sink $kind: still open at the limit"; bad_ok=0; }
    fi
    case "$kind" in
      slowloris|slowmagic|silent) slow="$slow $sink/$kind $ms ms ($how)," ;;
    esac
    if [ "$kind" = slowloris ] || [ "$kind" = slowmagic ]; then
      # the handshake timeout (5 s) bounds a peer that speaks mpx
      if [ "$want" != raw ] && [ "$ms" -gt 6500 ]; then
        fail "$sink $kind held its slot $ms ms, beyond the 5 s handshake timeout"
        bad_ok=0
      fi
    fi
  done < <(grep '^badpeer: ' "$LOGS/badpeers.log")
  [ "$(grep -c '^badpeer: .* local=' "$LOGS/badpeers.log")" = 13 ] || {
    fail "badpeer.py: $(grep -v '^badpeer: .* local=' "$LOGS/badpeers.log" | head -n 3)"
    bad_ok=0
  }
  [ $bad_ok = 1 ] && pass "every misbehaving peer was closed with its reason" \
    "(or, not speaking mpx on the auto port, served as a player)"

  local name rc lines=""
  for name in legit_auto legit_raw legit_mpx; do
    recv_result "$name"
    if [ "$RECV_RC" = 0 ]; then
      pass "$name, connected throughout, got all $COUNT in order, once"
    else
      fail "$name (exit $RECV_RC)"
    fi
    lines="$lines $name $(field "$RECV_LINE" received)/$COUNT,"
  done
  wait "$PID_fanout"
  rc=$?
  local fo
  fo=$(grep '^mcp-fanout: clients=' "$LOGS/fanout.log")
  echo "   $fo"
  if [ $rc = 0 ]; then
    pass "all $clients storm clients got every datagram from their first on"
  else
    fail "storm clients (exit $rc)"
  fi
  echo "OUTCOME storm: $clients clients connected in $storm_s s, complete" \
    "$(field "$fo" complete)/$clients (lost $(field "$fo" lost), duplicates" \
    "$(field "$fo" duplicates), reordered $(field "$fo" reordered));$lines" \
    "13 misbehaving peers: 11 closed with their reason, 2 served raw on the" \
    "auto port; hold times:$slow handshake-timeout 5000 ms"
}

# ---- e: a throttled client ------------------------------------------------

TBF_RATE=${FAULTS_TBF_RATE:-2mbit}

throttle () {   # throttle drop|resync
  local policy=$1
  COUNT=8000 RATE=2000
  island "$(ns a)"
  host "$(ns slow)"
  host "$(ns fast)"
  link "$(ns a)" s0 10.0.5.1/24 "$(ns slow)" c0 10.0.5.2/24 off
  link "$(ns a)" f0 10.0.6.1/24 "$(ns fast)" c0 10.0.6.2/24 off
  # The queue limits do not count what the kernel holds: keep its send
  # buffers small, so that the element's max-queue-time decides.
  ip netns exec "$(ns a)" sysctl -q -w net.ipv4.tcp_wmem="4096 16384 262144"
  tc -n "$(ns a)" qdisc add dev s0 root tbf rate "$TBF_RATE" burst 16kb \
    latency 50ms || { fail "tc tbf"; return 1; }
  start relay "$(ns a)" GST_PLUGIN_PATH="$BUILD/plugins" -- \
    gst-launch-1.0 -v -m mcastsrc-relay address=$GROUP port=0 \
    multicast-iface=lo ! tcpsplitsink port=0 framing=auto \
    slow-client-policy="$policy" max-queue-time=500000000 \
    stats-interval=200000000
  local port mport
  port=$(port_of relay GstTcpSplitSink:tcpsplitsink) || return 1
  mport=$(port_of relay GstMcastSrcRelay:mcastsrcrelay) || return 1
  echo "   relay: tcpsplitsink slow-client-policy=$policy" \
    "max-queue-time=500 ms on port $port; client 'slow' behind tbf $TBF_RATE"

  local args="--count $COUNT --sizes $SIZES --timeout 15"
  if [ "$policy" = drop ]; then
    start slow "$(ns slow)" -- "$MCP_RECV" --tcp 10.0.5.1:$port --framing mpx \
      --allow-gaps 1 $args
  else
    start slow "$(ns slow)" -- "$MCP_RECV" --tcp 10.0.5.1:$port --framing mpx \
      --allow-gaps "$COUNT" $args
  fi
  start fast1 "$(ns fast)" -- "$MCP_RECV" --tcp 10.0.6.1:$port --framing mpx $args
  start fast2 "$(ns fast)" -- "$MCP_RECV" --tcp 10.0.6.1:$port --framing raw $args
  wait_count relay mcastproxy-client-added 3 || return 1
  local t0 t_drop=""
  t0=$(now_ns)
  sender sender a "$mport"
  if [ "$policy" = drop ]; then
    wait_for relay "mcastproxy-client-removed, address=(string)10.0.5.2:" 20 || return 1
    t_drop=$(now_ns)
  fi
  wait "$PID_sender"

  local name
  for name in fast1 fast2; do
    recv_result "$name"
    if [ "$RECV_RC" = 0 ]; then
      pass "$name got all $COUNT in order, once"
    else
      fail "$name (exit $RECV_RC)"
    fi
    eval "line_$name=\$RECV_LINE"
  done
  recv_result slow
  local slow_rc=$RECV_RC slow_line=$RECV_LINE received lost gaps_n
  received=$(field "$slow_line" received)
  lost=$(field "$slow_line" lost)
  gaps_n=$(field "$slow_line" gaps)
  # what the relay wrote: every datagram to each fast client, and to the
  # slow one exactly what it received (for drop, see below)
  local sent_want=$((2 * COUNT + ${received:-0})) outcome written
  wait_stat relay tcpsplitsink-stats datagrams-sent "$sent_want" 5
  written=$(last_stat relay tcpsplitsink-stats datagrams-sent)
  [ "$policy" = drop ] || [ "$written" = "$sent_want" ] ||
    fail "relay wrote $written datagrams, expected $sent_want (2 x $COUNT + $received)"
  local skipped dropped
  skipped=$(last_stat relay tcpsplitsink-stats dropped-resync)
  dropped=$(last_stat relay tcpsplitsink-stats clients-dropped)
  if [ "$policy" = drop ]; then
    local reason corrupt end_log unclean=""
    reason=$(grep -a "mcastproxy-client-removed, address=(string)10.0.5.2:" \
      "$LOGS/relay.log" | head -n 1 | sed -n 's/.*reason=(string)"\(.*\)";$/\1/p' |
      sed 's/\\\(.\)/\1/g')
    # How the connection ends is checked apart (below): an incomplete
    # message at the end is not counted against the prefix here.
    corrupt=$(field "$slow_line" corrupt)
    end_log=$(grep '^mcp-recv: mpx decode error\|^mcp-recv: connection lost\|incomplete mpx message at the end' "$LOGS/slow.log")
    if grep -q 'incomplete mpx message at the end' "$LOGS/slow.log"; then
      corrupt=$((corrupt - 1))
    fi
    if [ "$(field "$slow_line" first_seq)" = 0 ] && [ "$gaps_n" = 1 ] &&
      [ "$(field "$slow_line" duplicates)/$(field "$slow_line" reordered)/$corrupt" = 0/0/0 ] &&
      grep -q "^mcp-recv: gap stream=1 seqs=$received-$((COUNT - 1)) .* after_sent_ns=-1$" "$LOGS/slow.log" &&
      [ "$dropped" = 1 ] && [ "$skipped" = 0 ]; then
      pass "slow: dropped $(ms_between "$t0" "$t_drop") ms into the stream" \
        "after the first $received datagrams, whole and in order ($reason)"
    else
      fail "slow: $slow_line; clients-dropped $dropped, skipped $skipped"
    fi
    case "$reason" in
      "too slow: "*) ;;
      *) fail "slow: removed for '$reason', not as too slow" ;;
    esac
    # The dropped client should get what the relay wrote to it and then a
    # clean end between two messages: docs/elements.md (Slow clients) says
    # "A datagram already partly written is always completed, so the
    # framing stays intact".
    [ -n "$end_log" ] && unclean="$(echo "$end_log" | sed 's/^mcp-recv: //' | paste -sd ';' | sed 's/;/; /g')"
    [ "$written" = "$sent_want" ] ||
      unclean="${unclean:+$unclean; }the relay counts $((written - 2 * COUNT)) datagrams written to it, it received $received"
    if [ -n "$unclean" ]; then
      fail "slow-client-policy=drop did not end the connection" \
        "cleanly: $unclean"
    elif [ "$slow_rc" = 0 ]; then
      pass "slow: got all the relay wrote to it; its connection ended between two messages"
    else
      fail "slow: mcp-recv exit $slow_rc"
    fi
    outcome="slow client (tbf $TBF_RATE) dropped $(ms_between "$t0" "$t_drop") ms into the stream with the first $received/$COUNT datagrams intact, in order (reason: $reason)${unclean:+; unclean end: $unclean}"
  else
    if [ "$slow_rc" = 0 ] && [ "$(field "$slow_line" last_seq)" = $((COUNT - 1)) ] &&
      [ "$lost" = "$skipped" ] && [ "$dropped" = 0 ]; then
      pass "slow: resynced, $received received in order, once, intact;" \
        "the $lost missing are exactly those the relay skipped, in $gaps_n gaps"
    else
      fail "slow: rc $slow_rc, $slow_line; skipped $skipped, clients-dropped $dropped"
    fi
    outcome="slow client (tbf $TBF_RATE) stayed, received $received/$COUNT in order, $lost skipped in $gaps_n gaps (relay: dropped-resync $skipped)"
  fi
  echo "OUTCOME throttle-$policy: $outcome; fast clients" \
    "$(field "$line_fast1" received)/$COUNT (mpx) and" \
    "$(field "$line_fast2" received)/$COUNT (raw), none lost; relay wrote" \
    "$(last_stat relay tcpsplitsink-stats datagrams-sent) datagrams in all"
}

# ---- f: a soak --------------------------------------------------------------

rss_kib () { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status" 2>/dev/null; }

soak () {
  local seconds=${1:-${FAULTS_SOAK_SECONDS:-40}} sample=5 warmup name
  RATE=2000
  COUNT=$((RATE * seconds))
  warmup=$((seconds / 4 < 10 ? seconds / 4 : 10))
  local bound_kib=${FAULTS_RSS_BOUND_KIB:-2048}
  cascade b || return 1
  echo "   $COUNT datagrams at $RATE/s for $seconds s; RSS sampled every" \
    "$sample s, warm-up $warmup s"
  sender sender a "$MPORT"
  local t0 now next i=0 procs="relay server gwb"
  t0=$(date +%s)
  # one sample right after warm-up, then every $sample s until the sender
  # is done (sampling, not synchronisation: the stream runs meanwhile)
  sleep "$warmup"
  while :; do
    now=$(( $(date +%s) - t0 ))
    for name in $procs; do
      eval "rss_${name}_$i=$(rss_kib "$(eval echo "\$PID_$name")")"
    done
    printf '   t=%3ds  RSS KiB:' "$now"
    for name in $procs; do printf ' %s %s' "$name" "$(eval echo "\$rss_${name}_$i")"; done
    echo
    i=$((i + 1))
    kill -0 "$PID_sender" 2>/dev/null || break
    next=$(( warmup + i * sample ))
    [ "$next" -lt "$seconds" ] || { wait "$PID_sender"; continue; }
    sleep $(( next - now > 0 ? next - now : 1 ))
  done
  wait "$PID_sender" 2>/dev/null
  recv_result recvb
  if [ "$RECV_RC" = 0 ]; then
    pass "recvb got all $COUNT in order, once"
  else
    fail "recvb (exit $RECV_RC)"
  fi
  local first last growth out="" ok=1
  for name in $procs; do
    first=$(eval echo "\$rss_${name}_0")
    last=$(eval echo "\$rss_${name}_$((i - 1))")
    if [ -z "$first" ] || [ -z "$last" ]; then
      fail "$name: no RSS sample (process gone?)"
      ok=0
      continue
    fi
    growth=$((last - first))
    out="$out $name ${first}->${last} KiB (${growth:+$growth}),"
    if [ "$growth" -gt "$bound_kib" ]; then
      fail "$name grew by $growth KiB after warm-up (bound $bound_kib KiB)"
      ok=0
    fi
  done
  [ $ok = 1 ] && pass "resident memory flat: growth after warm-up within $bound_kib KiB"
  echo "OUTCOME soak: $seconds s at $RATE/s, recvb $(field "$RECV_LINE" received)/$COUNT" \
    "(lost $(field "$RECV_LINE" lost)); VmRSS from t=${warmup}s to the end" \
    "(bound +$bound_kib KiB):$out $i samples"
}

echo "== faults: $SCENARIO"
T_START=$(date +%s)
case "$SCENARIO" in
  restart) restart ;;
  source-change) source_change ;;
  link-flap) link_flap ;;
  storm) storm ;;
  throttle-drop) throttle drop ;;
  throttle-resync) throttle resync ;;
  soak) soak "${2:-}" ;;
  *) echo "unknown scenario $SCENARIO"; exit 2 ;;
esac || FAILED=1
echo "   ($(( $(date +%s) - T_START )) s)"
[ $FAILED = 0 ] && echo "faults $SCENARIO: PASS" || {
  echo "faults $SCENARIO: FAIL"
  KEEP_LOGS=1
}
exit $FAILED
