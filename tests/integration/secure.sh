#!/bin/bash
# mcastproxy — the four tools with the security settings of their shared
# configuration (MCASTPROXY_AUTH_SECRET_FILE, MCASTPROXY_TLS*,
# MCASTPROXY_ALLOW), across real islands:
#
#   island A                      hub network               island B
#   [a-src]--lan--[a-gw]==up==[hub]==up==[b-gw]--lan--[b-rcv]
#    mcp-send    client relay  splitting     tcp-relay-    mcp-recv
#                              server        multicast
#                 (TLS + authentication on both "==" legs)
#
# and strangers: a relay without the secret, one with another secret, one
# from a network that the allow-list leaves out, and a plain player. Every datagram must reach island B; each
# stranger must be refused with its reason and get nothing.
# Root only (exit 77 otherwise). Usage: secure.sh
set -u
. "$(dirname "$0")/islands-test.sh"
islands_test_init secure

COUNT=3000
RATE=1000
SIZES="188,1316,9000,64"
GROUP=239.255.42.42
PORT=5004

# --- certificates and secrets (EC keys, a day of validity)
CERTS=$LOGS/certs
mkdir -p "$CERTS"
(
  cd "$CERTS" || exit 1
  k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
  # shellcheck disable=SC2086
  openssl req -x509 $k -keyout ca.key -out ca.pem -days 1 -subj /CN=mcp-ca &&
  printf 'subjectAltName=IP:10.0.1.2,IP:10.0.2.2\n' >hub.ext &&
  # shellcheck disable=SC2086
  openssl req $k -keyout hub.key -out hub.csr -subj /CN=hub &&
  openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out hub.pem -days 1 -extfile hub.ext &&
  head -c 32 /dev/urandom | base64 >secret && chmod 600 secret &&
  head -c 32 /dev/urandom | base64 >other && chmod 600 other
) >"$LOGS/certs.log" 2>&1 || { cat "$LOGS/certs.log"; exit 1; }

A=$(ns a) AG=$(ns ag) HUB=$(ns hub) BG=$(ns bg) B=$(ns b) X=$(ns x)
for n in $A $AG $HUB $BG $B $X; do host "$n"; done
link "$A" lan0 10.1.0.10/24 "$AG" lan0 10.1.0.1/24 on
link "$AG" up0 10.0.1.1/24 "$HUB" a0 10.0.1.2/24 off
link "$BG" up0 10.0.2.1/24 "$HUB" b0 10.0.2.2/24 off
link "$BG" lan0 10.2.0.1/24 "$B" lan0 10.2.0.10/24 on
# the strangers' network, which the allow-list of the client port leaves out
link "$X" up0 10.9.0.1/24 "$HUB" x0 10.9.0.2/24 off
ip -n "$A" route add 224.0.0.0/4 dev lan0
ip -n "$B" route add 224.0.0.0/4 dev lan0

SECURE=(MCASTPROXY_AUTH_SECRET_FILE=$CERTS/secret MCASTPROXY_TLS=true
  MCASTPROXY_TLS_CERTIFICATE=$CERTS/hub.pem MCASTPROXY_TLS_KEY=$CERTS/hub.key
  MCASTPROXY_TLS_CA=$CERTS/ca.pem MCASTPROXY_LAUNCH_FLAGS=-v
  MCAST_PORT=$PORT MCAST_GROUP=$GROUP MCASTPROXY_STATS_INTERVAL=200000000)

start server "$HUB" "${SECURE[@]}" MCASTPROXY_ALLOW=10.0.0.0/16 \
  TCP_TCP_SPLITTER_IP= TCP_TCP_SPLITTER_PORT=0 TCP_SPLITTER_CLIENT_IP= \
  TCP_SPLITTER_CLIENT_PORT=0 -- "$P/splitting-server"
IN=$(port_of server GstTcpSplitSrc:tcpsplitsrc) || exit 1
OUT=$(port_of server GstTcpSplitSink:tcpsplitsink) || exit 1
start relay "$AG" "${SECURE[@]}" MCAST_IFACE=lan0 TCP_TCP_SPLITTER_IP=10.0.1.2 \
  TCP_TCP_SPLITTER_PORT="$IN" -- "$P/multicast-tcp-client-relay"
start remcast "$BG" "${SECURE[@]}" MCAST_IFACE=lan0 MCAST_TTL=2 \
  TCP_SPLITTER_CLIENT_IP=10.0.2.2 TCP_SPLITTER_CLIENT_PORT="$OUT" -- \
  "$P/tcp-relay-multicast"
wait_for relay "mcastproxy-client-added" || exit 1
wait_for remcast "mcastproxy-connected" || exit 1

# strangers, while the stream flows: relays that log why they were refused
STRANGER=("${SECURE[@]}" GST_DEBUG=tcpsplitsrc:WARNING MCAST_GROUP=239.255.9.9
  TCP_SPLITTER_CLIENT_PORT="$OUT")
start nosecret "$BG" "${STRANGER[@]}" MCASTPROXY_AUTH_SECRET_FILE= \
  MCAST_IFACE=lan0 TCP_SPLITTER_CLIENT_IP=10.0.2.2 -- "$P/tcp-relay-multicast"
start othersecret "$BG" "${STRANGER[@]}" \
  MCASTPROXY_AUTH_SECRET_FILE="$CERTS/other" MCAST_IFACE=lan0 \
  TCP_SPLITTER_CLIENT_IP=10.0.2.2 -- "$P/tcp-relay-multicast"
start outsider "$X" "${STRANGER[@]}" TCP_SPLITTER_CLIENT_IP=10.9.0.2 -- \
  "$P/tcp-relay-multicast"
start player "$BG" -- "$MCP_RECV" --tcp "10.0.2.2:$OUT" --framing raw \
  --count 1 --timeout 10

start receiver "$B" -- "$MCP_RECV" --group $GROUP --port $PORT --iface lan0 \
  --count $COUNT --sizes "$SIZES" --expect-ttl 2 --timeout 10 \
  --ready-file "$LOGS/ready"
start sender "$A" -- "$MCP_SEND" --group $GROUP --port $PORT --iface lan0 \
  --ttl 8 --count $COUNT --rate $RATE --sizes "$SIZES" \
  --warmup-until "$LOGS/ready"
check_receiver receiver

# each stranger was refused, with its reason, and got nothing
expect_refused () {
  if wait_for "$1" "$2" 10 && [ "$(last_stat "$1" tcpsplitsrc-stats connects)" = 0 ] &&
      [ "$(last_stat "$1" tcpsplitsrc-stats datagrams-received)" = 0 ]; then
    pass "$3"
  else
    fail "$1: $(tail -n 3 "$LOGS/$1.log")"
  fi
}
expect_refused nosecret "authentication required: this port needs the shared secret" \
  "a relay without the secret is told 'authentication required' and gets nothing"
expect_refused othersecret "peer closed: authentication failed" \
  "a relay with another secret is told 'authentication failed' and gets nothing"
expect_refused outsider "Cannot connect to 10.9.0.2:$OUT: " \
  "a relay outside the allow-list is cut off at once and gets nothing"
if ! wait "$PID_player" && grep -q "received=0 " "$LOGS/player.log"; then
  pass "a plain player (no TLS) gets nothing"
else
  fail "plain player: $(tail -n 3 "$LOGS/player.log")"
fi
refused=$(last_stat server tcpsplitsink-stats refused-allow-list)
if [ "${refused:-0}" -ge 1 ]; then
  pass "the server counted $refused connection(s) refused by its allow-list"
else
  fail "refused-allow-list is ${refused:-missing}"
fi
sent=$(last_stat server tcpsplitsink-stats datagrams-sent)
got=$(grep -o 'received=[0-9]*' "$LOGS/receiver.log" | tail -n 1)
echo "OUTCOME secure: ${got#received=}/$COUNT datagrams crossed over TLS with authentication; 4 strangers refused; the server sent $sent datagrams in all (warm-up included)"
exit $FAILED
