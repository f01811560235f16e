#!/bin/bash
# mcastproxy — many islands, as root: each island a network namespace with
# its own sender, receiver and gateway; the links between islands have
# multicast switched off. Checks that every island receives every other
# island's stream exactly once, in order, never its own back, and that the
# links carry no more than the topology needs.
#
# An island's hosts share its lo: the island's LAN, named explicitly
# (MCAST_IFACE=lo) as a real gateway names its LAN interface.
#
# Usage: topology.sh star|two-gateways|triangle|ring|ring-cut|groups
# Needs MCASTPROXY_BUILD (the meson build directory). Exit 77 without root.
set -u
TOPOLOGY=${1:?topology}
. "$(dirname "$0")/islands-test.sh"
islands_test_init topology

COUNT=${COUNT:-3000}
RATE=${RATE:-1000}
SIZES=188,1316,1500,576,9000,1316
GROUP=239.77.0.1
PORT=6000
STATS="MCASTPROXY_STATS_INTERVAL=200000000"

gateway () {   # gateway NAME ISLAND ID HUB_IP [ENV...]
  local name=$1 isl=$2 id=$3 hub=$4
  shift 4
  start "$name" "$(ns "$isl")" $STATS ISLAND_ID="$id" HUB_IP="$hub" \
    HUB_IN_PORT=5400 HUB_OUT_PORT=5401 MCAST_GROUP=$GROUP MCAST_PORT=$PORT \
    MCAST_TTL=2 MCAST_IFACE=lo "$@" -- "$P/island-gateway"
}

mesh_node () {   # mesh_node ISLAND ID "PEERS"
  start "node$1" "$(ns "$1")" $STATS ISLAND_ID="$2" MESH_PORT=5300 \
    MESH_PEERS="$3" MCAST_GROUP=$GROUP MCAST_PORT=$PORT MCAST_TTL=2 \
    MCAST_IFACE=lo -- "$P/mesh-node"
}

receiver () {   # receiver NAME ISLAND STREAMS [GROUP PORT]
  start "$1" "$(ns "$2")" -- "$MCP_RECV" --group "${4:-$GROUP}" \
    --port "${5:-$PORT}" --iface lo --stream-id "$3" --count "$COUNT" --sizes "$SIZES" \
    --timeout 10
}

sender () {   # sender NAME ISLAND STREAM [GROUP PORT]
  start "$1" "$(ns "$2")" -- "$MCP_SEND" --group "${4:-$GROUP}" \
    --port "${5:-$PORT}" --iface lo --stream-id "$3" --count "$COUNT" --rate "$RATE" \
    --sizes "$SIZES"
}

send_all () {   # send_all SENDER...: start them together, wait for them
  local s
  for s in "$@"; do sender "$s" "${s#send}" "${s#send}"; done
  for s in "$@"; do wait "$(eval echo "\$PID_$s")"; done
}

# ---- topologies -----------------------------------------------------------

star () {   # a hub and 3 islands, each island's own sender on one group
  local i
  island "$(ns hub)"
  for i in 1 2 3; do
    island "$(ns $i)"
    link "$(ns $i)" up0 10.0.$i.1/24 "$(ns hub)" isl$i 10.0.$i.2/24 off
  done
  start hub "$(ns hub)" $STATS HUB_IP= HUB_IN_PORT=5400 HUB_OUT_PORT=5401 \
    -- "$P/hub"
  for i in 1 2 3; do
    gateway "gw$i" $i $i 10.0.$i.2
  done
  # receivers time out 10 s after their last datagram (or their join):
  # they start once the paths are up, however slowly those came up
  for i in 1 2 3; do
    wait_for "gw$i" mcastproxy-client-added || return
    wait_for "gw$i" mcastproxy-connected || return
  done
  for i in 1 2 3; do receiver "recv$i" $i 1,2,3; done
  for i in 1 2 3; do wait_for "recv$i" joined || return; done
  send_all send1 send2 send3
  for i in 1 2 3; do check_receiver "recv$i"; done

  wait_stat hub tcpsplitsink-stats datagrams-sent $((6 * COUNT))
  echo "   hub: $(last_stat hub tcpsplitsrc-stats datagrams-received) in," \
    "$(last_stat hub tcpsplitsrc-stats datagrams-duplicate) duplicates dropped;" \
    "out per island (id datagrams): $(link_counts hub tcpsplitsink-stats | tr '\n' ' ')"
  local id n ok=1
  while read -r id n; do
    # each island gets exactly the other two streams
    [ "$n" = $((2 * COUNT)) ] || ok=0
  done < <(link_counts hub tcpsplitsink-stats)
  [ "$(link_counts hub tcpsplitsink-stats | wc -l)" = 3 ] || ok=0
  if [ $ok = 1 ]; then
    pass "the hub sent each island exactly the others' $((2 * COUNT)) datagrams"
  else
    fail "hub link counts"
  fi
}

two_gateways () {   # island 1 has two gateways; island 2 one
  local i
  island "$(ns hub)"
  for i in 1 2; do
    island "$(ns $i)"
    link "$(ns $i)" up0 10.0.$i.1/24 "$(ns hub)" isl$i 10.0.$i.2/24 off
  done
  start hub "$(ns hub)" $STATS HUB_IP= HUB_IN_PORT=5400 HUB_OUT_PORT=5401 \
    -- "$P/hub"
  gateway gw1a 1 1 10.0.1.2
  wait_for gw1a mcastproxy-client-added || return
  wait_for gw1a mcastproxy-connected || return
  gateway gw1b 1 1 10.0.1.2
  gateway gw2 2 2 10.0.2.2
  for g in gw1b gw2; do
    wait_for $g mcastproxy-client-added || return
    wait_for $g mcastproxy-connected || return
  done
  receiver recv1 1 1,2
  receiver recv2 2 1,2
  wait_for recv1 joined || return
  wait_for recv2 joined || return
  send_all send1 send2
  check_receiver recv1
  check_receiver recv2

  wait_stat gw1a tcpremcastsink-stats datagrams-sent "$COUNT"
  fresh_stats hub gw1b
  local a b
  a=$(last_stat gw1a tcpremcastsink-stats datagrams-sent)
  b=$(last_stat gw1b tcpremcastsink-stats datagrams-sent)
  echo "   re-multicast into island 1: gw1a $a, gw1b $b;" \
    "hub: $(last_stat hub tcpsplitsrc-stats datagrams-standby) standby datagrams dropped"
  if [ "$a" = "$COUNT" ] && [ "$b" = 0 ]; then
    pass "one gateway of island 1 serves, the other stands by: no loop, no copy"
  else
    fail "island 1's gateways re-multicast $a and $b"
  fi
  # both saw island 2's stream re-multicast into their island and left it
  wait_stat gw1a mcastsrc-relay-stats datagrams-ignored "$COUNT"
  wait_stat gw1b mcastsrc-relay-stats datagrams-ignored "$COUNT"
  a=$(last_stat gw1a mcastsrc-relay-stats datagrams-ignored)
  b=$(last_stat gw1b mcastsrc-relay-stats datagrams-ignored)
  echo "   re-multicast ignored at capture: gw1a $a, gw1b $b"
  if [ "$a" = "$COUNT" ] && [ "$b" = "$COUNT" ]; then
    pass "neither gateway picked up the island's re-multicast"
  else
    fail "re-multicast ignored at capture: $a and $b, expected $COUNT"
  fi
}

mesh () {   # mesh "EDGES" N: islands 1..N, edges "1-2 2-3 ..." (i calls j)
  local edges=$1 n=$2 i e a b peers streams
  for i in $(seq 1 "$n"); do island "$(ns $i)"; done
  for e in $edges; do
    a=${e%-*}; b=${e#*-}
    link "$(ns $a)" "e$a$b" 10.$a.$b.1/24 "$(ns $b)" "e$b$a" 10.$a.$b.2/24 off
  done
  streams=$(seq -s, 1 "$n")
  for i in $(seq 1 "$n"); do
    peers=""
    for e in $edges; do
      a=${e%-*}; b=${e#*-}
      [ "$a" = "$i" ] && peers="$peers 10.$a.$b.2:5300"
    done
    mesh_node "$i" "$i" "$peers"
  done
  for i in $(seq 1 "$n"); do
    local degree=0
    for e in $edges; do
      case "-$e-" in *-$i-*) degree=$((degree + 1)) ;; esac
    done
    wait_count "node$i" mcastproxy-peer-added "$degree" || return
  done
  for i in $(seq 1 "$n"); do receiver "recv$i" "$i" "$streams"; done
  for i in $(seq 1 "$n"); do wait_for "recv$i" joined || return; done
}

mesh_check () {   # mesh_check N: receivers, then the link counts
  local n=$1 i id c ok=1 total
  for i in $(seq 1 "$n"); do check_receiver "recv$i"; done
  for i in $(seq 1 "$n"); do
    wait_stat "node$i" tcpmeshrouter-stats datagrams-out $(((n - 1) * COUNT))
  done
  fresh_stats $(for i in $(seq 1 "$n"); do echo "node$i"; done)
  total=$((n * COUNT))
  for i in $(seq 1 "$n"); do
    echo "   node$i: $(last_stat node$i tcpmeshrouter-stats datagrams-duplicate) duplicates dropped;" \
      "sent per link (peer datagrams): $(link_counts node$i tcpmeshrouter-stats | tr '\n' ' ')"
    while read -r id c; do
      # a datagram crosses a link at most once each way
      [ "$c" -le "$total" ] || ok=0
    done < <(link_counts "node$i" tcpmeshrouter-stats)
  done
  if [ $ok = 1 ]; then
    pass "no link carried more than the $total datagrams injected (no storm)"
  else
    fail "a link carried more than $total datagrams"
  fi
}

triangle () {
  mesh "1-2 2-3 1-3" 3 || return
  send_all send1 send2 send3
  mesh_check 3
}

ring () {
  mesh "1-2 2-3 3-4 4-1" 4 || return
  send_all send1 send2 send3 send4
  mesh_check 4
}

ring_cut () {   # the 1-2 link goes down in the middle of the stream
  mesh "1-2 2-3 3-4 4-1" 4 || return
  local s
  for s in send1 send2 send3 send4; do sender "$s" "${s#send}" "${s#send}"; done
  # half way through island 1's stream (the receiver in island 2 counts)
  sleep_until_half
  ip -n "$(ns 1)" link set e12 down
  echo "   link 1-2 cut"
  for s in send1 send2 send3 send4; do wait "$(eval echo "\$PID_$s")"; done
  mesh_check 4
}

# The sender reports nothing until it ends: wait for the stats of node 2 to
# show half of island 1's datagrams arrived (bus messages, event-driven).
sleep_until_half () {
  local want=$((3 * COUNT / 2))   # node 2 outputs the three other streams
  timeout 20 tail -n +1 -f "$LOGS/node2.log" | while read -r line; do
    case "$line" in
      *tcpmeshrouter-stats,*)
        v=$(echo "$line" | sed -n 's/.*[ ,]datagrams-out=(guint64)\([0-9]*\).*/\1/p')
        [ "${v:-0}" -ge "$want" ] && break ;;
    esac
  done
}

groups () {   # island 1 carries three groups (one IPv6) to island 2
  local i
  island "$(ns hub)"
  for i in 1 2; do
    island "$(ns $i)"
    link "$(ns $i)" up0 10.0.$i.1/24 "$(ns hub)" isl$i 10.0.$i.2/24 off
  done
  start hub "$(ns hub)" $STATS HUB_IP= HUB_IN_PORT=5400 HUB_OUT_PORT=5401 \
    -- "$P/hub"
  local g="239.77.1.1:6101 239.77.1.2:6102 [ff3e::77]:6103"
  gateway gw1 1 1 10.0.1.2 MCAST_GROUPS="$g"
  gateway gw2 2 2 10.0.2.2 MCAST_GROUPS="$g"
  for i in gw1 gw2; do
    wait_for $i mcastproxy-client-added || return
    wait_for $i mcastproxy-connected || return
  done
  receiver recv_a 2 1 239.77.1.1 6101
  receiver recv_b 2 2 239.77.1.2 6102
  receiver recv_c 2 3 ff3e::77 6103
  for i in recv_a recv_b recv_c; do wait_for $i joined || return; done
  sender send_a 1 1 239.77.1.1 6101
  sender send_b 1 2 239.77.1.2 6102
  sender send_c 1 3 ff3e::77 6103
  wait "$PID_send_a"; wait "$PID_send_b"; wait "$PID_send_c"
  # each receiver takes one stream: another stream on its group would be
  # "foreign" and fail it
  check_receiver recv_a
  check_receiver recv_b
  check_receiver recv_c
}

echo "== topology: $TOPOLOGY, $COUNT datagrams per island at $RATE/s"
case "$TOPOLOGY" in
  star) star ;;
  two-gateways) two_gateways ;;
  triangle) triangle ;;
  ring) ring ;;
  ring-cut) ring_cut ;;
  groups) groups ;;
  *) echo "unknown topology $TOPOLOGY"; exit 2 ;;
esac || FAILED=1
[ $FAILED = 0 ] && echo "topology $TOPOLOGY: PASS" || {
  echo "topology $TOPOLOGY: FAIL"
  KEEP_LOGS=1
}
exit $FAILED
