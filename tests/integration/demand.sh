#!/bin/bash
# mcastproxy — demand-driven islands, as root: a hub and three islands A, B
# and C, each a gateway namespace with a LAN (a veth pair, multicast on) to
# a host namespace; the links to the hub have multicast off. The gateways
# carry MCAST_GROUPS ranges on demand: they learn from the hosts' own kernel
# IGMP/MLD reports who listens, and the hub carries a group to an island
# only while a host there listens to it.
#
# A's host sends 10 groups at 1,000 datagrams/s each; B's host joins one,
# C's two. Checks, from the links' byte counters (ip -s link):
#  - before anyone listens, every link carries keepalives only;
#  - each link then carries about only what is listened to beyond it
#    (at most 1.2 times its payload): hub->B one group, hub->C two,
#    A->hub the three;
#  - a join is served within 1 s of it (the host reports it at once);
#  - after B's listener leaves, hub->B is quiet within 3 s (default timers:
#    group-specific queries 1 s apart, robustness 2), A->hub carries two;
#  - a late joiner in B gets its group within 1 s, with nothing lost after
#    its first datagram.
#
# Usage: demand.sh igmpv3|igmpv2|mld
# Needs MCASTPROXY_BUILD (the meson build directory). Exit 77 without root.
set -u
VARIANT=${1:?variant}
. "$(dirname "$0")/islands-test.sh"
islands_test_init demand

RATE=1000
SIZE=1000
GROUPS_N=10
SECONDS_TOTAL=${SECONDS_TOTAL:-30}
COUNT=$((RATE * SECONDS_TOTAL))
PORT=5004
STATS="MCASTPROXY_STATS_INTERVAL=200000000"
case $VARIANT in
  igmpv3|igmpv2)
    SCOPE=239.10.0.0/16:$PORT
    group () { echo "239.10.0.$1"; } ;;
  mld)
    SCOPE=ff15::a:0/112:$PORT
    group () { echo "ff15::a:$1"; } ;;
  *) echo "demand.sh: unknown variant $VARIANT"; exit 2 ;;
esac

# ---- the network ----------------------------------------------------------

host "$(ns hub)"
for i in a b c; do
  n=$(( $(printf '%d' "'$i") - 96 ))   # a=1, b=2, c=3
  host "$(ns gw$i)"
  host "$(ns h$i)"
  for x in gw$i h$i; do
    # link-local addresses at once: MLD speaks from them
    ip netns exec "$(ns $x)" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_dad=0
  done
  link "$(ns gw$i)" up0 10.0.$n.1/24 "$(ns hub)" to$i 10.0.$n.2/24 off
  link "$(ns gw$i)" lan 10.$n.0.1/24 "$(ns h$i)" eth0 10.$n.0.2/24 on
  ip -n "$(ns gw$i)" -6 addr add fd00:$n::1/64 dev lan nodad
  ip -n "$(ns h$i)" -6 addr add fd00:$n::2/64 dev eth0 nodad
  # (IPv6 has its multicast route on every interface that is up)
  ip -n "$(ns gw$i)" route add 224.0.0.0/4 dev lan
  ip -n "$(ns h$i)" route add 224.0.0.0/4 dev eth0
  if [ "$VARIANT" = igmpv2 ]; then
    ip netns exec "$(ns h$i)" sysctl -qw net.ipv4.conf.eth0.force_igmp_version=2
  fi
done

# bytes sent on a link: NS IFACE
tx_bytes () { ip netns exec "$(ns "$1")" cat "/sys/class/net/$2/statistics/tx_bytes"; }

start hub "$(ns hub)" $STATS HUB_IP= HUB_IN_PORT=5400 HUB_OUT_PORT=5401 \
  -- "$P/hub"
for i in a b c; do
  n=$(( $(printf '%d' "'$i") - 96 ))
  start "gw$i" "$(ns gw$i)" $STATS ISLAND_ID="$n" HUB_IP=10.0.$n.2 \
    HUB_IN_PORT=5400 HUB_OUT_PORT=5401 MCAST_GROUPS="$SCOPE" MCAST_IFACE=lan \
    MCAST_TTL=1 -- "$P/island-gateway"
done
for i in a b c; do
  wait_for "gw$i" mcastproxy-client-added || exit 1
  wait_for "gw$i" mcastproxy-connected || exit 1
done

# ---- the source ------------------------------------------------------------

for g in $(seq 1 $GROUPS_N); do
  start "send$g" "$(ns ha)" -- "$MCP_SEND" --group "$(group "$g")" \
    --port $PORT --iface eth0 --stream-id "$g" --count "$COUNT" \
    --rate $RATE --sizes $SIZE --quiet
done

# Bytes a link carries in SECONDS (a float): NS IFACE SECONDS
carried () {
  local a b
  a=$(tx_bytes "$1" "$2")
  sleep "$3"   # a measuring window, not a synchronisation
  b=$(tx_bytes "$1" "$2")
  echo $((b - a))
}

# payload of N groups in 2 s
payload2 () { echo $(($1 * RATE * SIZE * 2)); }

# ---- nobody listens ----------------------------------------------------------

# the senders run, on A's LAN only
sent=$(carried ha eth0 1)
if [ "$sent" -lt $(( $(payload2 $GROUPS_N) / 2 * 9 / 10 )) ]; then
  fail "A's host sends only $sent bytes a second"
fi
idle_b=$(carried hub tob 2)
idle_c=$(carried hub toc 2)
idle_a=$(carried gwa up0 2)
echo "   nobody listens, bytes in 2 s: hub->B $idle_b, hub->C $idle_c, A->hub $idle_a"
if [ "$idle_b" -lt 20000 ] && [ "$idle_c" -lt 20000 ] && [ "$idle_a" -lt 20000 ]; then
  pass "with no listener the links carry keepalives only"
else
  fail "links busy with no listener"
fi

# ---- listeners join ---------------------------------------------------------

# listener NAME ISLAND GROUP: mcp-recv on the island's host; its ready file
# appears with the first datagram
listener () {
  rm -f "$LOGS/$1.ready"
  date +%s%N >"$LOGS/$1.start"
  start "$1" "$(ns h$2)" -- "$MCP_RECV" --group "$3" --port $PORT \
    --iface eth0 --stream-id "$4" --count "$COUNT" --sizes $SIZE \
    --allow-gaps 1 --timeout 3 --ready-file "$LOGS/$1.ready" --quiet
}

# join latency of NAME in ms (from its start to its ready file's time),
# waiting up to 5 s for its first datagram
join_ms () {
  local i
  for i in $(seq 1 100); do
    [ -e "$LOGS/$1.ready" ] && break
    sleep 0.05   # polls for the file; the time measured is its own
  done
  [ -e "$LOGS/$1.ready" ] || { echo 99999; return; }
  echo $(( ($(stat -c %.9Y "$LOGS/$1.ready" | tr -d .) - $(cat "$LOGS/$1.start")) / 1000000 ))
}

listener recvb b "$(group 1)" 1
listener recvc2 c "$(group 2)" 2
listener recvc3 c "$(group 3)" 3
jb=$(join_ms recvb)
jc2=$(join_ms recvc2)
jc3=$(join_ms recvc3)
echo "   join to first datagram: B $jb ms, C $jc2 ms and $jc3 ms"
if [ "$jb" -le 1000 ] && [ "$jc2" -le 1000 ] && [ "$jc3" -le 1000 ]; then
  pass "joins served within 1 s"
else
  fail "join latency"
fi

bytes_b=$(carried hub tob 2)
bytes_c=$(carried hub toc 2)
bytes_a=$(carried gwa up0 2)
echo "   bytes in 2 s: hub->B $bytes_b (1 group: $(payload2 1)), hub->C $bytes_c" \
  "(2: $(payload2 2)), A->hub $bytes_a (3: $(payload2 3))"
within () {   # within BYTES GROUPS: at least 0.9x and at most 1.2x
  [ "$1" -ge $(( $(payload2 "$2") * 9 / 10 )) ] &&
    [ "$1" -le $(( $(payload2 "$2") * 12 / 10 )) ]
}
if within "$bytes_b" 1 && within "$bytes_c" 2 && within "$bytes_a" 3; then
  pass "each link carries what is listened to beyond it (<= 1.2x the payload)"
else
  fail "link bytes"
fi

# ---- B's listener leaves ---------------------------------------------------

kill "$PID_recvb"
t0=$(date +%s%N)
quiet=""
last=$(tx_bytes hub tob)
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 6000 ]; do
  sleep 0.2   # a measuring window
  now=$(tx_bytes hub tob)
  if [ $((now - last)) -lt 2000 ]; then
    quiet=$(( ($(date +%s%N) - t0) / 1000000 - 200 ))
    break
  fi
  last=$now
done
echo "   hub->B quiet ${quiet:-never} ms after B's listener left"
if [ -n "$quiet" ] && [ "$quiet" -le 3000 ]; then
  pass "leave: B's link quiet within 3 s"
else
  fail "leave latency"
fi
bytes_a=$(carried gwa up0 2)
echo "   A->hub now $bytes_a bytes in 2 s (2 groups: $(payload2 2))"
if within "$bytes_a" 2; then
  pass "A sends only the groups still listened to"
else
  fail "A's uplink after the leave"
fi

# ---- a late joiner ------------------------------------------------------------

listener recvb5 b "$(group 5)" 5
jb5=$(join_ms recvb5)
echo "   late joiner in B: first datagram after $jb5 ms"
if [ "$jb5" -le 1000 ]; then
  pass "a late joiner gets its group within 1 s"
else
  fail "late join latency"
fi

# the listeners that stayed got everything from their first datagram to
# the end of the stream: one gap (before the join) allowed
for g in $(seq 1 $GROUPS_N); do wait "$(eval echo "\$PID_send$g")"; done
for r in recvc2 recvc3 recvb5; do check_receiver $r; done
exit $FAILED
