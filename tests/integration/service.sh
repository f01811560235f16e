#!/bin/bash
# mcastproxy — a tool run as the service mcastproxy@NAME runs it: stderr
# the journal (JOURNAL_STREAM names it, as systemd does; here a file),
# systemd's notification socket (NOTIFY_SOCKET; here a listener of this
# test). Checked: every line has its priority and says what happened
# (settings mistakes, listening, joins, clients connected and gone,
# refusals, reloads, errors with their cause, the stop); READY=1 once
# playing, RELOADING=1 and READY=1 around a reload, STOPPING=1; a client
# streams across a reload that lowers MCASTPROXY_MAX_CLIENTS and loses
# nothing, and the next client is refused; a change that needs a restart
# and a mistake made in a reload are told, and the tool runs on; a caller's
# source connected and lost; a channel gateway's player streams across a
# reload that rewrites the playlist, which is served anew.
# Runs inside netns-run (one private namespace, multicast on lo).
# Usage: service.sh MCP_SEND MCP_RECV
set -u
MCP_SEND=$1
MCP_RECV=$2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/mcastproxy-service.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait; rm -rf "$WORK"' EXIT
FAILED=0
. "$TOP/tests/integration/plain-lib.sh"
# a sanitized build's preloaded runtime: for the tools, not for curl and
# python3
GST_PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD
TOOL=multicast-tcp-relay
GROUP=239.255.41.1
GPORT=5141
COUNT=6000

# systemd's side of sd_notify: each message a line of notify.log
: >"$WORK/notify.log"
python3 - "$WORK/notify" "$WORK/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], 'a', buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace('\n', ' ') + '\n')
EOF
PIDS+=($!)

# run_tool NAME CONF: the tool of CONF as the service runs it, its stderr
# the "journal" NAME.journal; its pid in $tool_pid
run_tool () {
  : >"$WORK/$1.journal"
  LD_PRELOAD=$GST_PRELOAD JOURNAL_STREAM=$(stat -c %d:%i "$WORK/$1.journal") \
    NOTIFY_SOCKET="$WORK/notify" MCASTPROXY_STATUS=0 \
    "$TOP/pipelines/mcastproxy" --conf "$2" >"$WORK/$1.out" 2>>"$WORK/$1.journal" &
  tool_pid=$!
  PIDS+=($tool_pid)
}

# every line of a journal carries its priority and the tool's name
check_priorities () {
  bad=$(grep -v -E "^<[346]>$TOOL: " "$WORK/$1.journal")
  expect "$1: every line begins with <3>, <4> or <6> and the tool's name" "$bad" ""
}

# 1. settings mistakes, before anything runs: errors and warnings
printf 'TOOL=%s\nMCAST_GROUP=%s\nMCAST_PORT=70000\nMCAST_PROT=1\n' \
  $TOOL $GROUP >"$WORK/bad.conf"
run_tool bad "$WORK/bad.conf"
wait $tool_pid
expect "a settings mistake: exit status 2" $? 2
grep -q "^<4>$TOOL: warning: $WORK/bad.conf:4: MCAST_PROT is not a setting of the tools, ignored (did you mean MCAST_PORT?)$" "$WORK/bad.journal" &&
  pass "a misspelt setting is a <4> warning naming the file, the line and the setting meant" ||
  fail "no warning for MCAST_PROT: $(cat "$WORK/bad.journal")"
grep -q "^<3>$TOOL: $WORK/bad.conf:3: MCAST_PORT=70000: " "$WORK/bad.journal" &&
  pass "a bad value is a <3> error naming the file, the line and the value" ||
  fail "no error for MCAST_PORT=70000: $(cat "$WORK/bad.journal")"
check_priorities bad
grep -q READY=1 "$WORK/notify.log" 2>/dev/null &&
  fail "READY=1 from a tool that never ran"

# the service's own mistakes: a configuration that is not there, a TOOL=
# that names no tool
run_tool missing "$WORK/no-such.conf"
wait $tool_pid
expect "no configuration: exit status 2" $? 2
expect "no configuration: one <3> line" "$(cat "$WORK/missing.journal")" \
  "<3>mcastproxy: no configuration $WORK/no-such.conf"
echo TOOL=multicast-tcp-rely >"$WORK/typo.conf"
run_tool typo "$WORK/typo.conf"
wait $tool_pid
expect "TOOL= misspelt: exit status 2" $? 2
grep -q "^<3>mcastproxy: $WORK/typo.conf: TOOL=multicast-tcp-rely: no tool named multicast-tcp-rely; the tools are: .*multicast-tcp-relay" \
  "$WORK/typo.journal" && pass "TOOL= misspelt: one <3> line naming the file and the tools" ||
  fail "TOOL= misspelt: $(cat "$WORK/typo.journal")"

# 2. the relay, ready
cat >"$WORK/relay.conf" <<EOF
TOOL=$TOOL
MCAST_GROUP=$GROUP
MCAST_PORT=$GPORT
MCAST_TCP_SPLITTER_IP=127.0.0.1
MCAST_TCP_SPLITTER_PORT=0
EOF
run_tool relay "$WORK/relay.conf"
relay_pid=$tool_pid
if wait_for "$WORK/notify.log" "^READY=1" >/dev/null; then
  pass "READY=1 once the pipeline is playing"
else
  fail "no READY=1: $(cat "$WORK/relay.journal")"
fi
port=$(sed -n "s/^<6>$TOOL: tcpsplitsink: listening on 127.0.0.1 port \([0-9]*\)$/\1/p" \
  "$WORK/relay.journal")
[ -n "$port" ] && pass "<6> the port listened on ($port)" ||
  fail "no listening line: $(cat "$WORK/relay.journal")"
grep -q "^<6>$TOOL: playing$" "$WORK/relay.journal" &&
  pass "<6> playing" || fail "no playing line"
grep -q "^<6>$TOOL: mcastsrc-relay: joined $GROUP port $GPORT$" "$WORK/relay.journal" &&
  pass "<6> the join of $GROUP" || fail "no join line: $(cat "$WORK/relay.journal")"
grep -q "^<6>$TOOL: gst-launch-1.0 mcastsrc-relay address=$GROUP port=$GPORT ! tcpsplitsink " \
  "$WORK/relay.journal" && pass "<6> the pipeline's line" || fail "no pipeline line"

# 3. a client streams across a reload that lowers max-clients
"$MCP_RECV" --tcp "127.0.0.1:$port" --framing mpx --count $COUNT --timeout 30 \
  --ready-file "$WORK/recv.ready" >"$WORK/recv.out" 2>&1 &
recv_pid=$!
PIDS+=($recv_pid)
"$MCP_SEND" --group $GROUP --port $GPORT --count $COUNT --rate 1000 --sizes 1316 \
  --warmup-until "$WORK/recv.ready" --quiet >"$WORK/send.out" 2>&1 &
send_pid=$!
PIDS+=($send_pid)
wait_for "$WORK/relay.journal" "^<6>$TOOL: tcpsplitsink: client 127.0.0.1:[0-9]* connected" >/dev/null &&
  pass "<6> client connected" || fail "no client line"
# the receiver is ready: the sender's counted stream begins
for _ in $(seq 300); do [ -e "$WORK/recv.ready" ] && break; sleep 0.1; done
[ -e "$WORK/recv.ready" ] || fail "the receiver never got ready"
echo MCASTPROXY_MAX_CLIENTS=1 >>"$WORK/relay.conf"
kill -HUP $relay_pid
if wait_for "$WORK/relay.journal" "^<6>$TOOL: reload: 1 change applied, connections kept$" >/dev/null; then
  pass "<6> reload: 1 change applied"
else
  fail "reload not applied"
fi
grep -q "^<6>$TOOL: tcpsplitsink: max-clients: 0 -> 1$" "$WORK/relay.journal" &&
  pass "<6> the change: max-clients 0 -> 1" || fail "no max-clients line"
kill -0 $send_pid 2>/dev/null && pass "the reload happened while the stream was flowing" ||
  fail "the stream had ended before the reload: the test proves nothing"
grep -q "^RELOADING=1$" "$WORK/notify.log" && pass "RELOADING=1" || fail "no RELOADING=1"
[ "$(grep -c '^READY=1' "$WORK/notify.log")" = 2 ] &&
  pass "READY=1 again after the reload" || fail "no second READY=1: $(cat "$WORK/notify.log")"
# a second client is one too many now
"$MCP_RECV" --tcp "127.0.0.1:$port" --framing mpx --count 1 --timeout 5 \
  >"$WORK/recv2.out" 2>&1
expect "a second client after the reload fails" $? 1
wait_for "$WORK/relay.journal" "^<4>$TOOL: tcpsplitsink: Refused 127.0.0.1:[0-9]*: max-clients (1) reached" >/dev/null &&
  pass "<4> the refusal, with its reason" || fail "no refusal line"
wait $recv_pid
expect "the first client received every datagram across the reload" "$?" 0
grep -q "received=$COUNT lost=0 duplicates=0 reordered=0 corrupt=0" "$WORK/recv.out" &&
  pass "received=$COUNT lost=0, in order, intact" || fail "receiver: $(cat "$WORK/recv.out")"
wait $send_pid
wait_for "$WORK/relay.journal" "^<6>$TOOL: tcpsplitsink: client 127.0.0.1:[0-9]* gone: " >/dev/null &&
  pass "<6> client gone, with its reason" || fail "no client gone line"

# 4. a change that needs a restart; a mistake in a reload
sed -i 's/^MCAST_PORT=.*/MCAST_PORT=5142/' "$WORK/relay.conf"
kill -HUP $relay_pid
wait_for "$WORK/relay.journal" "^<4>$TOOL: mcastsrc-relay: port: $GPORT -> 5142 needs a restart (until then it stays $GPORT)$" >/dev/null &&
  pass "<4> a change that needs a restart, named" || fail "no restart line"
wait_for "$WORK/relay.journal" "^<4>$TOOL: reload: 0 changes applied, connections kept; 1 needs a restart$" >/dev/null &&
  pass "<4> the reload's summary" || fail "no reload summary"
sed -i 's/^MCAST_PORT=.*/MCAST_PORT=abc/' "$WORK/relay.conf"
kill -HUP $relay_pid
wait_for "$WORK/relay.journal" "^<3>$TOOL: reload: $WORK/relay.conf:3: MCAST_PORT=abc: " >/dev/null &&
  pass "<3> a mistake in a reload names the file, the line and the value" ||
  fail "no reload mistake line"
wait_for "$WORK/relay.journal" "^<3>$TOOL: reload: the settings were refused: still running with the previous ones$" >/dev/null &&
  pass "<3> the refused reload leaves the tool running as it was" || fail "no refused line"
kill -0 $relay_pid 2>/dev/null && pass "the tool runs on" || fail "the tool ended"

# 5. an error with its cause: a second relay on the first one's port
sed "s/^MCAST_TCP_SPLITTER_PORT=.*/MCAST_TCP_SPLITTER_PORT=$port/" \
  "$WORK/relay.conf" | sed 's/^MCAST_PORT=.*/MCAST_PORT=5143/' >"$WORK/busy.conf"
run_tool busy "$WORK/busy.conf"
wait $tool_pid
expect "a port in use: exit status 1" $? 1
grep -q "^<3>$TOOL: tcpsplitsink: .*$port.*Address already in use" "$WORK/busy.journal" &&
  pass "<3> the error, with its cause" || fail "busy port: $(cat "$WORK/busy.journal")"
grep -q "^<3>$TOOL: stopped after an error$" "$WORK/busy.journal" &&
  pass "<3> stopped after an error" || fail "no stopped line"
check_priorities busy

# 6. SIGTERM stops it cleanly
kill -TERM $relay_pid
wait $relay_pid
expect "SIGTERM: exit status 0" $? 0
grep -q "^STOPPING=1$" "$WORK/notify.log" && pass "STOPPING=1" || fail "no STOPPING=1"
grep -q "^<6>$TOOL: SIGTERM: stopping$" "$WORK/relay.journal" &&
  grep -q "^<6>$TOOL: mcastsrc-relay: left $GROUP port $GPORT: " "$WORK/relay.journal" &&
  grep -q "^<6>$TOOL: stopped$" "$WORK/relay.journal" &&
  pass "<6> stopping, the leave, stopped" || fail "stop lines: $(tail -n 5 "$WORK/relay.journal")"
check_priorities relay
# the status line and gst-launch-1.0's dumps stay off
[ ! -s "$WORK/relay.out" ] && pass "nothing on stdout" || fail "stdout: $(head -n 3 "$WORK/relay.out")"

# 7. a caller: its source connected and lost
TOOL=tcp-relay-multicast
"$MCP_SEND" --tcp-listen 127.0.0.1:0 --port-file "$WORK/src.port" \
  --framing rfc4571 --count 200 --rate 2000 --sizes 1316 \
  --warmup-until "$WORK/recv3.ready" --quiet >"$WORK/src.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/src.port" ] && break; sleep 0.1; done
"$MCP_RECV" --group $GROUP --port 5144 --count 200 --timeout 20 \
  --ready-file "$WORK/recv3.ready" >"$WORK/recv3.out" 2>&1 &
recv_pid=$!
PIDS+=($recv_pid)
cat >"$WORK/caller.conf" <<EOF
TOOL=$TOOL
MCAST_GROUP=$GROUP
MCAST_PORT=5144
MCAST_LOOP=true
TCP_SPLITTER_CLIENT_PORT=$(cat "$WORK/src.port")
MCASTPROXY_FRAMING=rfc4571
EOF
run_tool caller "$WORK/caller.conf"
wait $recv_pid
expect "the caller re-multicast the 200 datagrams" "$?" 0
wait_for "$WORK/caller.journal" "^<6>$TOOL: tcpsplitsrc: source 127.0.0.1:$(cat "$WORK/src.port") connected$" >/dev/null &&
  pass "<6> source connected" || fail "no source connected line"
wait_for "$WORK/caller.journal" "^<6>$TOOL: tcpsplitsrc: source 127.0.0.1:$(cat "$WORK/src.port") lost: " >/dev/null &&
  pass "<6> source lost, with its reason" || fail "no source lost line"
kill -TERM $tool_pid
wait $tool_pid
expect "the caller stops with exit status 0" $? 0
check_priorities caller

# 8. the channel gateway: an HTTP client streams across a reload that
# rewrites the playlist and sets a client limit
TOOL=channel-gateway
printf '#EXTM3U\n#EXTINF:-1,One\nudp://@239.255.41.2:5145\n' >"$WORK/list.m3u"
cat >"$WORK/gw.conf" <<EOF
TOOL=$TOOL
GATEWAY_HOST=127.0.0.1
GATEWAY_PORT=0
GATEWAY_PLAYLIST=$WORK/list.m3u
EOF
run_tool gw "$WORK/gw.conf"
gw_pid=$tool_pid
wait_for "$WORK/gw.journal" "^<6>$TOOL: playing$" >/dev/null || fail "the gateway is not playing"
gw_port=$(sed -n "s/^<6>$TOOL: mcastgateway: listening on 127.0.0.1 port \([0-9]*\)$/\1/p" \
  "$WORK/gw.journal")
"$MCP_SEND" --group 239.255.41.2 --port 5145 --count $COUNT --rate 1000 \
  --sizes 1316 --warmup-until "$WORK/gw.go" --quiet >"$WORK/send2.out" 2>&1 &
send_pid=$!
PIDS+=($send_pid)
# the client: a player reading the channel; once the first warm-up
# datagram is there it lets the counted stream start, then checks it
curl -sS -N -m 60 "http://127.0.0.1:$gw_port/udp/239.255.41.2:5145" 2>"$WORK/curl.err" |
  python3 -c '
import struct, sys
size, count, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
inp, seq_want, warm = sys.stdin.buffer, 0, 0
while seq_want < count:
    d = inp.read(size)
    if len(d) < size:
        sys.exit("the stream ended after %d datagrams" % seq_want)
    magic, stream, seq = struct.unpack(">4sIQ", d[:16])
    if magic == b"MCPW":
        warm += 1
        if warm == 1:
            open(go, "w").close()
        continue
    if magic != b"MCPT" or seq != seq_want:
        sys.exit("datagram %d: magic %r seq %d" % (seq_want, magic, seq))
    if d[24:] != bytes((seq * 131 + off * 7 + stream) & 0xff for off in range(24, size)):
        sys.exit("datagram %d: payload differs" % seq)
    seq_want += 1
print("received=%d" % seq_want)
' 1316 $COUNT "$WORK/gw.go" >"$WORK/player.out" 2>&1 &
player_pid=$!
PIDS+=($player_pid)
for _ in $(seq 300); do [ -e "$WORK/gw.go" ] && break; sleep 0.1; done
[ -e "$WORK/gw.go" ] || fail "the player got nothing: $(cat "$WORK/curl.err" "$WORK/gw.journal")"
grep -q "^<6>$TOOL: mcastgateway: joined 239.255.41.2 port 5145$" "$WORK/gw.journal" &&
  pass "<6> the channel's join" || fail "no channel join line"
grep -q "^<6>$TOOL: mcastgateway: client 127.0.0.1:[0-9]* connected: /udp/239.255.41.2:5145$" "$WORK/gw.journal" &&
  pass "<6> the player connected, with its channel" || fail "no player line"
printf '#EXTM3U\n#EXTINF:-1,Two\nudp://@239.255.41.3:5146\n' >"$WORK/list.m3u.new"
mv "$WORK/list.m3u.new" "$WORK/list.m3u"
echo GATEWAY_MAX_CLIENTS=5 >>"$WORK/gw.conf"
kill -HUP $gw_pid
wait_for "$WORK/gw.journal" "^<6>$TOOL: reload: 1 change applied, connections kept$" >/dev/null &&
  pass "<6> the gateway's reload: 1 change applied" || fail "gateway reload: $(tail -n 5 "$WORK/gw.journal")"
grep -q "^<6>$TOOL: mcastgateway: max-clients: 0 -> 5$" "$WORK/gw.journal" &&
  pass "<6> max-clients 0 -> 5" || fail "no max-clients line"
kill -0 $send_pid 2>/dev/null && pass "the gateway's reload happened while the stream was flowing" ||
  fail "the stream had ended before the gateway's reload"
list=$(curl -sS -m 10 "http://127.0.0.1:$gw_port/playlist.m3u")
case $list in
  *Two*239.255.41.3:5146*) pass "the playlist served after the reload is the new one" ;;
  *) fail "playlist after the reload: $list" ;;
esac
wait $player_pid
expect "the player received all $COUNT datagrams across the reload, in order, intact" \
  "$(cat "$WORK/player.out")" "received=$COUNT"
wait $send_pid
kill -TERM $gw_pid
wait $gw_pid
expect "the gateway stops with exit status 0" $? 0
check_priorities gw

[ $FAILED = 0 ] || { echo "--- relay journal:"; cat "$WORK/relay.journal"; }
exit $FAILED
