#!/bin/bash
# mcastproxy — real HTTP clients on a framing=auto listener: curl fetches
# the stream of a multicast-tcp-relay byte for byte, HEAD, 404, 405 and
# 400 answers, /stats as JSON (checked with python3), and ffprobe
# identifies an MPEG-TS stream (made by ffmpeg, sent into the group) served
# over http://. Runs inside netns-run (one private namespace, multicast on
# lo). Usage: http.sh MCP_SEND
set -u
MCP_SEND=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
P=$TOP/pipelines
WORK=$(mktemp -d /tmp/mcastproxy-http.XXXXXX)
PIDS=()
FAILED=0
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait; rm -rf "$WORK"' EXIT

# The sanitized build preloads the ASan runtime for the plugin: only our
# pipelines get it (curl hangs with it).
GST_PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD
GST=(env "LD_PRELOAD=$GST_PRELOAD")

for tool in curl ffmpeg ffprobe python3; do
  command -v $tool >/dev/null || { echo "http.sh: $tool missing"; exit 77; }
done

. "$TOP/tests/integration/plain-lib.sh"

# --- 1. curl gets the stream of multicast-tcp-relay over http://
: >"$WORK/relay.log"
MCAST_GROUP=239.7.7.8 MCAST_PORT=0 MCAST_TCP_SPLITTER_IP=127.0.0.1 \
  MCAST_TCP_SPLITTER_PORT=0 MCASTPROXY_STATS_INTERVAL=100000000 \
  MCASTPROXY_LAUNCH_FLAGS=-v "${GST[@]}" "$P/multicast-tcp-relay" >"$WORK/relay.log" 2>&1 &
relay_pid=$!
PIDS+=($relay_pid)
tcp_port=$(port_of "$WORK/relay.log" GstTcpSplitSink:tcpsplitsink)
mc_port=$(port_of "$WORK/relay.log" GstMcastSrcRelay:mcastsrcrelay)
URL=http://127.0.0.1:$tcp_port

curl -sS -m 60 -N -D "$WORK/get.head" -o "$WORK/get.body" "$URL/" \
  2>"$WORK/curl.err" &
curl_pid=$!
PIDS+=($curl_pid)
if wait_for "$WORK/relay.log" "mcastproxy-client-added.*framing=(string)raw"; then
  "$MCP_SEND" --group 239.7.7.8 --port "$mc_port" --count 300 --rate 3000 \
    --sizes 1316 >/dev/null
  wait_for "$WORK/relay.log" "datagrams-sent=(guint64)300," >/dev/null

  # /stats while the curl client is still served
  curl -sS -m 20 -D "$WORK/stats.head" -o "$WORK/stats.json" "$URL/stats"
  if msg=$(python3 - "$WORK/stats.json" <<'EOF'
import json, sys
top = json.load(open(sys.argv[1]))
if not isinstance(top.get("version"), str) or top.get("uptime-seconds", 0) <= 0:
    sys.exit("version/uptime %r" % top)
el = top["elements"]
# the whole pipeline, source side first
if [e["factory"] for e in el.values()] != ["mcastsrc-relay", "tcpsplitsink"]:
    sys.exit("elements %r" % list(el))
relay, sink = el.values()
want = [(relay, "datagrams-received", 300), (relay, "bytes-received", 300 * 1316),
        (sink, "datagrams-in", 300), (sink, "bytes-in", 300 * 1316),
        (sink, "datagrams-sent", 300), (sink, "clients", 1)]
for s, k, v in want:
    if s.get(k) != v:
        sys.exit("%s %s = %r, expected %r" % (s["factory"], k, s.get(k), v))
cl = sink["client-list"]
if len(cl) != 1 or cl[0]["framing"] != "raw" or cl[0]["datagrams-sent"] != 300 \
        or not cl[0]["address"].startswith("127.0.0.1:"):
    sys.exit("client-list %r" % cl)
# 64-bit ids survive as strings; durations come in seconds
if not isinstance(cl[0]["peer-id"], str) or \
        not 0 < cl[0]["connect-duration-seconds"] < 600:
    sys.exit("client %r" % cl[0])
EOF
  ); then
    pass "curl /stats: the pipeline as JSON: relay received 300, sink sent 300 to one raw client"
  else
    fail "/stats: $msg ($(cat "$WORK/stats.json"))"
  fi
  expect "/stats Content-Type" \
    "$(grep -i '^content-type:' "$WORK/stats.head" | tr -d '\r')" \
    "Content-Type: application/json"

  # stopping the relay ends the HTTP stream
  kill "$relay_pid"
  timeout 10 tail --pid="$curl_pid" -f /dev/null
  wait "$curl_pid"
  expect "curl exit status" "$?" 0
  expect "GET head" "$(tr -d '\r' <"$WORK/get.head")" "HTTP/1.1 200 OK
Server: mcastproxy
Content-Type: application/octet-stream
Cache-Control: no-cache
Connection: close"
  if msg=$(check_stream "$WORK/get.body" 300 1316); then
    pass "curl received all 300 datagrams byte for byte"
  else
    fail "curl stream: $msg"
  fi
else
  fail "curl was never served"
fi

# --- 2. an MPEG-TS relay: HEAD, errors, N bytes, and ffprobe
: >"$WORK/ts.log"
"${GST[@]}" gst-launch-1.0 -v mcastsrc-relay address=239.7.7.9 port=0 \
  caps="video/mpegts,systemstream=(boolean)true,packetsize=(int)188" \
  ! tcpsplitsink host=127.0.0.1 port=0 >"$WORK/ts.log" 2>&1 &
PIDS+=($!)
tcp_port=$(port_of "$WORK/ts.log" GstTcpSplitSink:tcpsplitsink)
mc_port=$(port_of "$WORK/ts.log" GstMcastSrcRelay:mcastsrcrelay)
URL=http://127.0.0.1:$tcp_port

expect "curl -I" "$(curl -sS -m 20 -I "$URL/" | tr -d '\r')" "HTTP/1.1 200 OK
Server: mcastproxy
Content-Type: video/mp2t
Cache-Control: no-cache
Connection: close"
expect "GET /nope" "$(curl -sS -m 20 -o /dev/null -w '%{http_code}' "$URL/nope")" 404
expect "POST /" "$(curl -sS -m 20 -o /dev/null -w '%{http_code}' -X POST -d x "$URL/")" 405
expect "405 Allow" "$(curl -sS -m 20 -D - -o /dev/null -X PUT -d x "$URL/" |
  grep -i '^allow:' | tr -d '\r')" "Allow: GET, HEAD"
expect "HTTP/1.0 request" "$(curl -sS -m 20 -0 -I "$URL/" | head -n 1 | tr -d '\r')" \
  "HTTP/1.0 200 OK"
expect "malformed request" "$(printf 'GET / HTTP/1.1\r\nno colon\r\n\r\n' |
  timeout 10 nc 127.0.0.1 "$tcp_port" | head -n 1 | tr -d '\r')" \
  "HTTP/1.0 400 Bad Request"

ffmpeg -nostdin -loglevel error -re -f lavfi \
  -i testsrc=size=320x240:rate=25 -t 60 -c:v mpeg2video -b:v 1M \
  -f mpegts "udp://239.7.7.9:$mc_port?pkt_size=1316&ttl=1" \
  >"$WORK/ffmpeg.log" 2>&1 &
PIDS+=($!)

# N bytes of the stream: 188-byte packets, each starting with 0x47
curl -sS -m 30 -N "$URL/" 2>/dev/null | head -c 188000 >"$WORK/ts.part"
if msg=$(python3 - "$WORK/ts.part" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
if len(d) != 188000:
    sys.exit("%d bytes" % len(d))
bad = [i for i in range(0, len(d), 188) if d[i] != 0x47]
if bad:
    sys.exit("no sync byte at %d" % bad[0])
EOF
); then
  pass "curl read 188000 bytes: 1000 TS packets, each with its sync byte"
else
  fail "TS over curl: $msg"
fi

timeout 30 ffprobe -v error -show_format -show_streams -of json "$URL/" \
  >"$WORK/probe.json" 2>"$WORK/ffprobe.err"
expect "ffprobe over http://" "$(python3 - "$WORK/probe.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
print(p["format"]["format_name"], ";".join(
    "%s %s %dx%d" % (s["codec_type"], s["codec_name"], s["width"], s["height"])
    for s in p["streams"]))
EOF
)" "mpegts video mpeg2video 320x240"

exit $FAILED
