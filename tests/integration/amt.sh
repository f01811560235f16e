#!/bin/bash
# mcastproxy — AMT (RFC 7450) across namespaces, as root: our amtsrc against
# our amtrelay. Only unicast crosses the link between gateway and relay
# (multicast off on it); the relay's side is a native multicast LAN.
#
#   S (sender) --lan, multicast-- R (relay) --wan, unicast only-- G (gateway) --lan-- H (host)
#
# R runs `mcastsrc-relay scope=... ! amtrelay`: it joins a group natively
# only while some gateway asks for it. G runs `amtsrc ! tcpremcastsink`: an
# island fed from the relay, its host H listening with the kernel's own
# joins.
#
# ssm: H joins (S,G) INCLUDE; S sends 3,000 datagrams of mixed sizes at
#      1,000/s. H gets every one, once, in order, from S's address; the
#      wan link carried no multicast; R joined the group on its LAN only
#      once G asked, and left it within 3 s after G stopped.
# asm: the same for an any-source group, IPv4.
# ipv6: the same over IPv6 on both sides (MLDv2 inside, AMT over IPv6).
# restart: R is killed while S sends; G's Requests go unanswered and it
#      goes back to discovery; R starts again on the same port, G finds it
#      and H gets the rest, with one gap.
# tool: as ssm, with R running pipelines/amt-relay from the shared
#      configuration (AMT_RELAY_IP, MCAST_GROUPS, ...) instead of the raw
#      line: it prints the line expected, and its live status line
#      (MCASTPROXY_STATUS=1) shows the gateway, every datagram sent to it,
#      no drops and the group captured.
#
# Against an AMT implementation we did not write (GrumpyOldTroll's amt,
# github.com/GrumpyOldTroll/amt: amtrelayd and amtgwd), built by this test
# from the checkout MCASTPROXY_AMT_PEER_SRC names (autotools, libevent):
# their-relay: our amtsrc takes (S,G) from their amtrelayd; H gets every
#      datagram once, in order.
# their-gateway: their amtgwd takes (S,G) from our amtrelay for a listener
#      joined on its tun device; the listener gets every datagram once, in
#      order, and our relay leaves the group after the gateway stopped.
# Their relay reads 1,500 bytes at most, so these send no larger datagrams.
#
# Usage: amt.sh ssm|asm|ipv6|restart|tool|their-relay|their-gateway
# Needs MCASTPROXY_BUILD (the meson build directory). Exit 77 without root,
# and for the last two without MCASTPROXY_AMT_PEER_SRC.
set -u
VARIANT=${1:?variant}
. "$(dirname "$0")/islands-test.sh"
islands_test_init amt
export GST_PLUGIN_PATH=$BUILD/plugins

RATE=1000
COUNT=3000

# Their daemons, built once per checkout in the build tree.
peer_build () {
  local src=${MCASTPROXY_AMT_PEER_SRC:-} head dir
  if [ -z "$src" ]; then
    echo "amt-$VARIANT: skipped: set MCASTPROXY_AMT_PEER_SRC to a checkout" \
      "of github.com/GrumpyOldTroll/amt to run it"
    exit 77
  fi
  [ -f "$src/configure.ac" ] || {
    echo "amt-$VARIANT: MCASTPROXY_AMT_PEER_SRC=$src: no configure.ac there"
    exit 1; }
  head=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo local)
  dir=$BUILD/amt-peer-$head
  AMTRELAYD=$dir/relay/amtrelayd
  AMTGWD=$dir/gateway/amtgwd
  [ -x "$AMTRELAYD" ] && [ -x "$AMTGWD" ] && return 0
  rm -rf "$dir" && cp -a "$src" "$dir" || exit 1
  # their -Werror meets GCC 12's warnings: built without it
  if ! (cd "$dir" && autoreconf -f -i && ./configure &&
        make -j2 CFLAGS="-g -O2 -Wno-error") >"$dir.log" 2>&1; then
    echo "amt-$VARIANT: building $src failed (needs autoconf automake" \
      "libtool libevent-dev pkg-config); see $dir.log"
    tail -n 5 "$dir.log"
    exit 1
  fi
}
SIZES=24,1316,9000,100
PORT=5000
case $VARIANT in
  ssm|restart|tool) FAM=4; GROUP=232.1.1.1; SCOPE="232.1.1.0/24:$PORT" ;;
  asm) FAM=4; GROUP=239.1.1.1; SCOPE="239.1.1.0/24:$PORT" ;;
  ipv6) FAM=6; GROUP=ff1e::8000:1; SCOPE="ff1e::8000:0/112:$PORT" ;;
  their-relay|their-gateway)
    FAM=4; GROUP=232.1.1.1; SCOPE="232.1.1.0/24:$PORT"; SIZES=24,1316,100,1400
    peer_build ;;
  *) echo "amt.sh: unknown variant $VARIANT"; exit 2 ;;
esac
[ "$VARIANT" = restart ] && COUNT=12000

# ---- the namespaces ---------------------------------------------------------

S=$(ns s); R=$(ns r); G=$(ns g); H=$(ns h)
for x in "$S" "$R" "$G" "$H"; do
  host "$x"
  ip netns exec "$x" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.accept_dad=0
done
if [ $FAM = 4 ]; then
  SRC=10.20.0.2; RELAY=10.30.0.1
  link "$S" s0 10.20.0.2/24 "$R" lan0 10.20.0.1/24 on
  link "$R" wan0 10.30.0.1/24 "$G" wan0 10.30.0.2/24 off
  link "$G" lan0 10.40.0.1/24 "$H" h0 10.40.0.2/24 on
  ip -n "$H" route add default via 10.40.0.1
  ip -n "$G" route add default via 10.30.0.1
  ip -n "$S" route add 224.0.0.0/4 dev s0
  ip -n "$H" route add 224.0.0.0/4 dev h0
else
  SRC=fd20::2; RELAY=fd30::1
  link "$S" s0 fd20::2/64 "$R" lan0 fd20::1/64 on
  link "$R" wan0 fd30::1/64 "$G" wan0 fd30::2/64 off
  link "$G" lan0 fd40::1/64 "$H" h0 fd40::2/64 on
  ip -n "$H" -6 route add default via fd40::1
  ip -n "$G" -6 route add default via fd30::1
fi
# the sender's kernel must reach the host only through the tunnel
for x in "$R" "$G"; do
  ip netns exec "$x" sysctl -qw net.ipv4.ip_forward=0 \
    net.ipv6.conf.all.forwarding=0
done

# ---- against their daemons ---------------------------------------------------

if [ "$VARIANT" = their-relay ]; then
  # their relay binds 2268 on the address it is given, and captures what
  # arrives on lan0 (a sender behind it, as S is)
  start relay "$R" -- "$AMTRELAYD" -a $RELAY -c lan0 -p none -d
  wait_for relay "." 10 >/dev/null
  start gateway "$G" -- gst-launch-1.0 -e -v -m \
    amtsrc address=$GROUP port=$PORT multicast-source=$SRC relay=$RELAY \
      retransmit-interval=200000000 stats-interval=100000000 \
    ! tcpremcastsink address=$GROUP port=$PORT multicast-iface=lan0 \
      ttl-mc=1 original-source=true
  if wait_stat_ge gateway amtsrc-stats updates 1 20; then
    pass "our gateway: discovery, request, their query, our update"
  else
    fail "our gateway never sent an update to their relay"
  fi
  READY=$LOGS/ready
  start recv "$H" -- "$MCP_RECV" -g $GROUP -p $PORT -i h0 -S $SRC \
    -c $COUNT -s $SIZES -t 15 -r "$READY"
  start send "$S" -- "$MCP_SEND" -g $GROUP -p $PORT -i s0 -c $COUNT \
    -r $RATE -s $SIZES -w "$READY" --warmup-timeout 20 -q
  check_receiver recv
  wait "$PID_send"
  echo "   gateway: $(grep 'amtsrc-stats,' "$LOGS/gateway.log" | tail -n 1 |
    grep -o 'datagrams-received=[^,]*\|datagrams-dropped=[^,]*' | tr '\n' ' ')"
  kill -INT "$PID_gateway"; wait "$PID_gateway"
  kill -INT "$PID_relay"; wait "$PID_relay"
  exit $FAILED
fi

if [ "$VARIANT" = their-gateway ]; then
  start relay "$R" -- gst-launch-1.0 -e -v -m \
    mcastsrc-relay scope="$SCOPE" multicast-iface=lan0 \
    ! amtrelay address=$RELAY port=2268 stats-interval=100000000
  wait_for relay "amtrelay-stats," 10 >/dev/null
  # their gateway: a tun device whose kernel side the listener joins on; a
  # private /tmp for its lock file
  ip -n "$G" tuntap add mode tun dev tun0
  ip -n "$G" addr add 10.8.8.1/24 dev tun0
  ip -n "$G" link set tun0 up
  ip -n "$G" route add 10.20.0.0/24 dev tun0
  start gateway "$G" -- unshare -m sh -c \
    'mount -t tmpfs tmpfs /tmp && exec "$0" "$@"' \
    "$AMTGWD" -a $RELAY -c tun0 -s 10.8.8.2 -d
  READY=$LOGS/ready
  start recv "$G" -- "$MCP_RECV" -g $GROUP -p $PORT -i tun0 -S $SRC \
    -c $COUNT -s $SIZES -t 15 -r "$READY"
  if wait_for relay "gateways=(uint)1" 30 >/dev/null; then
    pass "their gateway: our query taken, its update accepted"
  else
    fail "their gateway never got through to our relay"
  fi
  start send "$S" -- "$MCP_SEND" -g $GROUP -p $PORT -i s0 -c $COUNT \
    -r $RATE -s $SIZES -w "$READY" --warmup-timeout 30 -q
  check_receiver recv
  wait "$PID_send"
  kill -TERM "$PID_gateway"; wait "$PID_gateway"
  # it sends no leave when killed: our relay expires it (gateway-timeout)
  kill -INT "$PID_relay"; wait "$PID_relay"
  exit $FAILED
fi

# ---- the relay and the gateway ---------------------------------------------

LAUNCH="gst-launch-1.0 -e -v -m"
RELAY_PORT=0
# a restarted relay is found again where it was: a port fixed in this
# private namespace
[ "$VARIANT" = restart ] && RELAY_PORT=2268
STATS=stats-interval=100000000

start_relay () {
  if [ "$VARIANT" = tool ]; then
    # the status line comes with the -m output on the log
    start "$1" "$R" AMT_RELAY_IP=$RELAY MCAST_IFACE=lan0 \
      MCAST_GROUPS="$SCOPE" AMT_QUERY_INTERVAL=2000000000 \
      MCASTPROXY_STATS_INTERVAL=100000000 MCASTPROXY_STATUS=1 \
      MCASTPROXY_LAUNCH_FLAGS="-e -v" -- "$P/amt-relay"
    RP=$(port_of "$1" GstAmtRelay:amtrelay) ||
      { fail "the relay never started"; exit 1; }
    local want="gst-launch-1.0 -e -v -m mcastsrc-relay scope=$SCOPE multicast-iface=lan0 stats-interval=100000000 ! amtrelay address=$RELAY port=2268 query-interval=2000000000 max-gateways=1000 max-groups=64 stats-interval=100000000"
    if [ "$(head -n 1 "$LOGS/$1.log")" = "$want" ] && [ "$RP" = 2268 ]; then
      pass "pipelines/amt-relay printed its line and listens on 2268"
    else
      fail "pipelines/amt-relay printed '$(head -n 1 "$LOGS/$1.log")', port $RP"
    fi
    return
  fi
  start "$1" "$R" -- $LAUNCH \
    mcastsrc-relay scope="$SCOPE" multicast-iface=lan0 \
    ! amtrelay address=$RELAY port=$RELAY_PORT query-interval=2000000000 \
      $STATS
  RP=$(port_of "$1" GstAmtRelay:amtrelay) ||
    { fail "the relay never started"; exit 1; }
}

# whether R has joined GROUP on its LAN
joined () { ip -n "$R" maddr show dev lan0 | grep -qw -- "$GROUP"; }

# until joined is $1 (0 or 1), polling the kernel's table (it tells no one
# of a change) at most $2 ms; prints the time taken
until_joined () {
  local t0 now
  t0=$(date +%s%N)
  while :; do
    if joined; then [ "$1" = 1 ] && break; else [ "$1" = 0 ] && break; fi
    now=$(date +%s%N)
    [ $(( (now - t0) / 1000000 )) -ge "$2" ] && return 1
    sleep 0.02
  done
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

SSM_SOURCE=
case $VARIANT in ssm|restart|tool) SSM_SOURCE=$SRC ;; esac

start_relay relay
wait_for relay "amtrelay-stats," 10 >/dev/null
if joined; then fail "R joined $GROUP before anyone asked"
else pass "R has not joined $GROUP before anyone asks"; fi

start gateway "$G" -- $LAUNCH \
  amtsrc address=$GROUP port=$PORT ${SSM_SOURCE:+multicast-source=$SSM_SOURCE} \
    relay=$RELAY relay-port=$RP retransmit-interval=200000000 \
    request-tries=3 $STATS \
  ! tcpremcastsink address=$GROUP port=$PORT multicast-iface=lan0 ttl-mc=1 \
    ${SSM_SOURCE:+original-source=true}

if wait_for relay "gateways=(uint)1" 10 >/dev/null; then
  pass "the relay took the gateway's Update"
else
  fail "the relay never took the gateway"
fi
if ms=$(until_joined 1 3000); then
  pass "R joined $GROUP on its LAN ${ms} ms after the gateway's Update"
else
  fail "R never joined $GROUP on its LAN"
fi

READY=$LOGS/ready
GAPS=0
[ "$VARIANT" = restart ] && GAPS=1
start recv "$H" -- "$MCP_RECV" -g $GROUP -p $PORT -i h0 \
  ${SSM_SOURCE:+-S $SSM_SOURCE} -c $COUNT -s $SIZES -t 15 -r "$READY" \
  -G $GAPS
start send "$S" -- "$MCP_SEND" -g $GROUP -p $PORT -i s0 -c $COUNT \
  -r $RATE -s $SIZES -w "$READY" --warmup-timeout 20 -q

if [ "$VARIANT" = restart ]; then
  # the relay goes away mid-stream, and comes back on its port
  wait_stat_ge gateway amtsrc-stats datagrams-received 2000 20 ||
    fail "no data before the restart"
  kill "$PID_relay"; wait "$PID_relay" 2>/dev/null
  # its Requests go unanswered: it goes back to discovery
  if wait_stat_ge gateway amtsrc-stats rediscoveries 1 20; then
    pass "the gateway went back to discovery while the relay was away"
  else
    fail "the gateway never went back to discovery"
  fi
  start_relay relay2
  wait_for relay2 "gateways=(uint)1" 20 >/dev/null ||
    fail "the restarted relay never took the gateway"
fi

check_receiver recv
wait "$PID_send"

if [ "$VARIANT" = tool ]; then
  # every datagram captured (the stream and the sender's warm-up) went to
  # the one gateway as one AMT message and arrived there; the status line,
  # summed from the same messages, says so
  # (the sender is done: the three counters settle within a stats
  # interval or two)
  for i in $(seq 1 50); do
    took=$(last_stat relay mcastsrc-relay-stats datagrams-received)
    sent=$(last_stat relay amtrelay-stats datagrams-sent)
    got=$(last_stat gateway amtsrc-stats datagrams-received)
    [ "$took" = "$sent" ] && [ "$sent" = "$got" ] && break
    sleep 0.1
  done
  dropped=$(last_stat relay amtrelay-stats datagrams-dropped)
  if [ "$took" -ge $COUNT ] && [ "$sent" = "$took" ] && [ "$dropped" = 0 ] &&
      [ "$got" = "$sent" ]; then
    pass "the relay sent all $took datagrams it captured to the gateway, none dropped, all received"
  else
    fail "the relay captured $took datagrams, sent $sent, dropped $dropped; the gateway received $got"
  fi
  want="^gateways 1 \| in [0-9]+ dgram/s [0-9.]+ Mbit/s \| out [0-9]+ dgram/s [0-9.]+ Mbit/s \| drops 0 \| captured $GROUP:$PORT\$"
  line=$(grep -E "$want" "$LOGS/relay.log" | awk '$5 >= 800 && $5 <= 1200 && $11 >= 800 && $11 <= 1200' | tail -n 1)
  if [ -n "$line" ]; then
    pass "status line while flowing: $line"
  else
    fail "no status line with 1 gateway and ~1000 dgram/s in and out; last: $(grep -E '^(clients|gateways) ' "$LOGS/relay.log" | tail -n 2)"
  fi
fi

# only unicast crossed the wan link: multicast is off on it, and neither
# end received a multicast packet
for x in "$R" "$G"; do
  m=$(ip -n "$x" -s -j link show wan0 | python3 -c \
    'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["multicast"])')
  if [ "$m" = 0 ]; then pass "${x##*-} wan0: no multicast received"
  else fail "${x##*-} wan0: $m multicast packets received"; fi
done

# the gateway stops (its leave, and a Teardown): R leaves the group on its
# LAN within 3 s
kill -INT "$PID_gateway"
if ms=$(until_joined 0 3000); then
  pass "R left $GROUP ${ms} ms after the gateway stopped"
else
  fail "R still joined to $GROUP 3 s after the gateway stopped"
fi
wait "$PID_gateway"

exit $FAILED
