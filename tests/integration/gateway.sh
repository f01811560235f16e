#!/bin/bash
# mcastproxy — mcastgateway with real clients (Python sockets, curl,
# ffprobe) and real senders (Python, ffmpeg) in one private namespace
# (netns-run): every URL form byte for byte, HEAD, the error answers, join
# on demand and leave after linger (/proc/net/igmp), the MPEG-TS key-frame
# burst, RTP reordering, the playlist rewrite, /stats and /metrics, and the
# limits. One line per check; exit 1 on any failure. Usage: gateway.sh
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CLIENTS=$TOP/tests/integration/gateway-clients.py
WORK=$(mktemp -d /tmp/mcastproxy-gateway.XXXXXX)
PIDS=()
FAILED=0
# (a gateway starts in a command substitution: its pid is in a file)
trap 'for p in "${PIDS[@]}" $(cat "$WORK"/*.pid 2>/dev/null); do
  kill "$p" 2>/dev/null; done; wait; rm -rf "$WORK"' EXIT

GST_PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD
# a GLib critical in the gateway (a bad buffer, say) ends it: the checks see it
GST=(env "LD_PRELOAD=$GST_PRELOAD" G_DEBUG=fatal-criticals)
PY=/usr/bin/python3

for tool in curl ffmpeg ffprobe $PY; do
  command -v $tool >/dev/null || { echo "gateway.sh: $tool missing"; exit 77; }
done
$PY -c 'import prometheus_client' 2>/dev/null ||
  { echo "gateway.sh: python3-prometheus-client missing"; exit 77; }

. "$TOP/tests/integration/plain-lib.sh"
ok () { echo "ok $*"; }
fail () { echo "FAIL $*"; FAILED=1; }
pass () { ok "$@"; }

# poll CMD...: until CMD succeeds (20 s at most)
poll () {
  local end=$((SECONDS + 20))
  until "$@"; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.05
  done
}

# gateway LOG PROPS...: starts one, prints its port
gateway () {
  local log=$1
  shift
  "${GST[@]}" gst-launch-1.0 -v mcastgateway port=0 "$@" >"$log" 2>&1 &
  echo $! >"$log.pid"
  if ! port_of "$log" GstMcastGateway:mcastgateway; then
    # said on stderr: the caller reads stdout for the port
    echo "FAIL: the gateway of $log never printed its port; its log ends:" >&2
    tail -n 20 "$log" >&2
  fi
}

# joined GROUP_HEX: lo is a member of the group
joined () { grep -q "^[[:space:]]*$1 " /proc/net/igmp; }
not_joined () { ! joined "$1"; }
# igmp_hex 239.1.2.3 -> 030201EF, as /proc/net/igmp shows it
igmp_hex () { local IFS=.; set -- $1; printf '%02X%02X%02X%02X' "$4" "$3" "$2" "$1"; }

# stats PORT EXPR [CURL_ARGS]: EXPR (python, over the JSON as s, the element
# as e) holds
stats () {
  curl -sS -m 10 "${@:3}" "http://127.0.0.1:$1/stats" | $PY -c '
import json, sys
s = json.load(sys.stdin); e = list(s["elements"].values())[0]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}

# client subcommands of gateway-clients.py, one check each
check () {
  local what=$1 out
  shift
  if out=$($PY "$CLIENTS" "$@" 2>&1); then ok "$what: $out"; else fail "$what: $out"; fi
}

cat >"$WORK/list.m3u" <<'M3U'
#EXTM3U x-tvg-url="http://epg.example/e.xml"
#EXTINF:-1 tvg-id="one",One
udp://@239.1.1.1:5000
#EXTINF:-1,Two  (rtp)
rtp://@239.1.1.2:5002
# a comment stays   as it is
http://elsewhere.example/stream
M3U
printf '#EXTINF:-1,Three\r\nudp://@[ff3e::7]:6000\r\n' >>"$WORK/list.m3u"

PORT=$(gateway "$WORK/gw.log" linger=200000000 timeout=1000000000 \
  playlist="$WORK/list.m3u")
[ -n "$PORT" ] || { echo "FAIL gateway did not start"; cat "$WORK/gw.log"; exit 1; }
URL=http://127.0.0.1:$PORT

# --- 2. join on demand, shared, left after linger
G=239.1.9.9
H=$(igmp_hex $G)
if joined "$H"; then fail "join: lo is a member of $G before any request"; else
  ok "join: no membership of $G before any request"; fi
$PY -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"T" * 188, ("239.1.9.9", 5900)); time.sleep(0.01)' &
trickle=$!
PIDS+=($trickle)
$PY "$CLIENTS" hold "$PORT" /udp/$G:5900 "$WORK/h1" &
h1=$!
PIDS+=($h1)
if poll joined "$H"; then ok "join: one client, lo joined $G"; else
  fail "join: one client, no membership of $G"; fi
$PY "$CLIENTS" hold "$PORT" /udp/$G:5900 "$WORK/h2" &
h2=$!
PIDS+=($h2)
if poll stats "$PORT" 'e["channels"] == 1 and e["clients"] == 2 and e["channel-list"][0]["clients"] == 2'; then
  n=$(grep -c "^[[:space:]]*$H " /proc/net/igmp)
  expect "join: two clients share one join (memberships of $G)" "$n" 1
  ok "join: /stats channels 1, clients 2"
else
  fail "join: /stats never showed one channel with two clients"
fi
expect "HEAD non-TS" "$($PY "$CLIENTS" head "$PORT" /udp/$G:5900 2>&1)" \
  "HTTP/1.1 200 OK|Content-Type: application/octet-stream"
# 6. /metrics and /stats while two clients are served
if out=$(curl -sS -m 10 "$URL/metrics" | $PY -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        v[(s.name, tuple(sorted(s.labels.items())))] = s.value
want = {("mcastgateway_channel_clients", (("channel", "/udp/239.1.9.9:5900"),)): 2,
        ("mcastgateway_clients", ()): 2, ("mcastgateway_channels", ()): 1}
for k, n in want.items():
    if v.get(k) != n:
        sys.exit("%s = %r, expected %d" % (k, v.get(k), n))
print("%d samples" % len(v))' 2>&1); then
  ok "metrics: parses (prometheus_client, $out), channel clients gauge 2"
else
  fail "metrics: $out"
fi
if curl -sS -m 10 "$URL/stats" | $PY -c 'import json, sys; json.load(sys.stdin)'; then
  ok "stats: valid JSON"; else fail "stats: not JSON"; fi
kill $h1 $h2
wait $h1 $h2 2>/dev/null
if poll not_joined "$H"; then ok "join: left $G after the last client and linger"; else
  fail "join: still a member of $G after the clients left"; fi
kill $trickle
wait $trickle 2>/dev/null

# --- 1. every URL form, bytes exact
check "udp" udp "$PORT" 239.1.2.1 5010
check "ssm" udp "$PORT" 239.1.2.2 5020 127.0.0.2 127.0.0.3
check "ipv6" udp "$PORT" ff3e::1 5030
check "rtp" rtp "$PORT" 239.1.2.3 5040
# batch-latency=0: every datagram written as it comes, so a client that
# joins a running channel gets exactly what was sent after it was served
PORT0=$(gateway "$WORK/gw0.log" batch-latency=0)
check "udp batch-latency=0" udp "$PORT0" 239.1.2.4 5050 - - exact

for u in "/udp/10.1.2.3:5000 400 group 10.1.2.3 is not a multicast address" \
    "/udp/239.1.1.1:0 400 bad port \"0\": must be 1-65535" \
    "/udp/239.1.1.1:70000 400 bad port \"70000\": must be 1-65535" \
    "/udp/zz 400 missing :PORT after the group" \
    "/udp/not-an-address:5000 400 group not-an-address: not an IP address" \
    "/udp/239.1.1.1:50x0 400 bad port \"50x0\": must be 1-65535" \
    "/udp/%zz 400 bad percent-encoding \"%zz\"" \
    "/rtp/ 400 missing the channel: GROUP:PORT or SOURCE@GROUP:PORT" \
    "/nope 404 no such page; channels are /udp/GROUP:PORT and /rtp/GROUP:PORT"; do
  set -- $u
  got=$(curl -sS -m 10 -w ' %{http_code}' "$URL$1" | tr -d '\r')
  body=${got% *}
  code=${got##* }
  reason=${u#* }
  reason=${reason#* }
  expect "GET $1 -> $2 $reason" "$code|$(echo "$body" | head -n 1)" "$2|$2 $(
    case $2 in 400) echo "Bad Request";; 404) echo "Not Found";; esac): $reason"
done

# --- 3. the MPEG-TS burst, and 5. ffprobe as a player
"${GST[@]}" ffmpeg -nostdin -loglevel error -re -f lavfi \
  -i testsrc=size=160x120:rate=25 -t 60 -c:v libx264 -preset ultrafast -g 25 \
  -map 0 -f tee "[f=mpegts]udp://239.1.3.1:5100?pkt_size=1316|[f=rtp_mpegts]rtp://239.1.3.2:5102" \
  >"$WORK/ffmpeg.log" 2>&1 &
PIDS+=($!)
$PY "$CLIENTS" hold "$PORT" /udp/239.1.3.1:5100 "$WORK/ts1" &
PIDS+=($!)
if poll stats "$PORT" '[c for c in e["channel-list"] if c["group"] == "239.1.3.1" and c["random-access-points"] >= 1 and c["clients"] == 1]'; then
  if out=$($PY "$CLIENTS" fetch "$PORT" /udp/239.1.3.1:5100 "$WORK/ts2" 60000 2>&1) &&
      out=$($PY "$CLIENTS" tsburst "$WORK/ts2" 2>&1); then
    ok "burst: second client of the running TS channel: $out"
  else
    fail "burst: $out"
  fi
  pict=$(ffprobe -v error -show_frames -read_intervals %+#1 -select_streams v \
    -show_entries frame=pict_type -of csv=p=0 "$WORK/ts2" 2>&1 | head -n 1 | cut -d, -f1)
  expect "burst: first decoded frame of the second client" "$pict" I
else
  fail "burst: the TS channel never saw a key frame"
fi
expect "HEAD TS" "$($PY "$CLIENTS" head "$PORT" /udp/239.1.3.1:5100 2>&1)" \
  "HTTP/1.1 200 OK|Content-Type: video/mp2t"
for u in udp/239.1.3.1:5100 rtp/239.1.3.2:5102; do
  got=$(timeout 30 ffprobe -v error -show_entries stream=codec_name,width,height \
    -of csv=p=0 "$URL/$u" 2>&1 | head -n 1)
  expect "ffprobe $URL/$u" "$got" "h264,160,120"
done

# --- 5. the playlist
got=$(curl -sS -m 10 -H 'Host: example.net:8080' "$URL/playlist.m3u" | od -c)
want=$(sed -e 's|^udp://@\[\(.*\)\]|http://example.net:8080/udp/[\1]|' \
  -e 's|^udp://@|http://example.net:8080/udp/|' \
  -e 's|^rtp://@|http://example.net:8080/rtp/|' "$WORK/list.m3u" | od -c)
expect "playlist.m3u rewritten for Host: example.net:8080" "$got" "$want"

# --- 7. 504 for a silent group
expect "silent group: 504" \
  "$(curl -sS -m 15 -o /dev/null -w '%{http_code}' "$URL/udp/239.1.4.4:5400")" 504

# --- 1./7. groups, token, limits on a second gateway
P2=$(gateway "$WORK/gw2.log" groups=239.1.0.0/16 token=s3cret max-channels=1 \
  max-channel-clients=1 timeout=5000000000)
U2=http://127.0.0.1:$P2
code () { curl -sS -m 10 -o /dev/null -w '%{http_code}' "$@"; }
expect "403 outside groups=" "$(code "$U2/udp/239.2.1.1:5000?token=s3cret")" 403
expect "401 without token" "$(code "$U2/udp/239.1.5.1:5500")" 401
expect "401 with a wrong token" "$(code "$U2/udp/239.1.5.1:5500?token=nope")" 401
$PY -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"T" * 188, ("239.1.5.1", 5500)); time.sleep(0.01)' &
PIDS+=($!)
expect "200 with ?token= (HEAD)" "$(code -I "$U2/udp/239.1.5.1:5500?token=s3cret")" 200
curl -sS -m 30 -N -D "$WORK/tok.head" -o /dev/null \
  -H 'Authorization: Bearer s3cret' "$U2/udp/239.1.5.1:5500" &
PIDS+=($!)
if poll stats "$P2" 'e["clients"] == 1' -H 'Authorization: Bearer s3cret'; then
  expect "200 with Authorization: Bearer" "$(head -n 1 "$WORK/tok.head" | tr -d '\r')" "HTTP/1.1 200 OK"
  expect "max-channel-clients=1: second client 503" \
    "$(code "$U2/udp/239.1.5.1:5500?token=s3cret")" 503
  expect "max-channels=1: second channel 503" \
    "$(code -H 'Authorization: Bearer s3cret' "$U2/udp/239.1.5.2:5500")" 503
else
  fail "token: the client with the token was never served"
fi

# --- 8. tcpsplitsrc path=: a channel in mpx, with its metadata
$PY "$CLIENTS" send_numbered 239.1.6.1 5600 &
PIDS+=($!)
"${GST[@]}" timeout 60 gst-launch-1.0 -q tcpsplitsrc host=127.0.0.1 \
  port="$PORT" path=/udp/239.1.6.1:5600 num-buffers=200 ! \
  filesink location="$WORK/mpx.bin" >"$WORK/mpx.log" 2>&1
out=$($PY "$CLIENTS" check_numbered "$WORK/mpx.bin" 200 2>&1)
expect_rc=$?
if [ $expect_rc = 0 ]; then ok "tcpsplitsrc path=: $out"; else
  fail "tcpsplitsrc path=: $out; $(cat "$WORK/mpx.log")"; fi
"${GST[@]}" gst-launch-1.0 tcpsplitsrc host=127.0.0.1 port="$PORT" \
  path=/udp/10.1.1.1:5600 ! fakesink >"$WORK/mpx-bad.log" 2>&1 &
bad=$!
PIDS+=($bad)
refused () { grep -q "the gateway refused /udp/10.1.1.1:5600: 400 Bad Request: group 10.1.1.1 is not a multicast address" "$WORK/mpx-bad.log"; }
if poll refused; then ok "tcpsplitsrc path= refused: the gateway's reason in the warning"
else fail "tcpsplitsrc path= refused: $(cat "$WORK/mpx-bad.log")"; fi
kill $bad 2>/dev/null

exit $FAILED
