#!/bin/sh
# mcp-send's AMT relay mode against our gateway, amtsrc, on lo of a private
# network namespace:  netns-run amt-selftest.sh MCP_SEND MCP_RECV
#
# mcp-send --amt-relay binds port 0 (read from --port-file); amtsrc
# discovers it, joins, and passes the stream to tcpsplitsink, whose mpx
# client mcp-recv checks every datagram's payload, order and count. The
# warm-up handshake: mcp-send sends warm-up datagrams until mcp-recv's
# ready file appears. Then the usage errors of the mode.
# Needs gst-launch-1.0 and the plugin (GST_PLUGIN_PATH, from meson).

if [ $# -ne 2 ]; then
  echo "usage: $0 MCP_SEND MCP_RECV" >&2
  exit 2
fi
SEND=$1
RECV=$2
T=30                            # per-process limit (seconds)

command -v gst-launch-1.0 >/dev/null || {
  echo "amt-selftest: no gst-launch-1.0" >&2
  exit 77
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/mcp-amt-selftest.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

result () {
  name=$1
  ok=$2
  shift 2
  if [ "$ok" = yes ]; then
    echo "PASS: $name"
    pass=$((pass + 1))
  else
    echo "FAIL: $name: $*"
    fail=$((fail + 1))
    for f in "$dir/$tag".*; do
      [ -f "$f" ] || continue
      echo "  --- ${f##*/}"
      sed 's/^/  | /' "$f" | tail -n 40
    done
  fi
}

# run_amt TAG RELAY_ADDR GATEWAY_RELAY GROUP TCP_PORT COUNT SIZES "SENDER ARGS"
# One stream of COUNT datagrams of SIZES from mcp-send --amt-relay
# RELAY_ADDR:0 to amtsrc (relay=GATEWAY_RELAY), checked by mcp-recv.
run_amt () {
  tag=$1
  rm -f "$dir/$tag.port" "$dir/$tag.ready"
  # shellcheck disable=SC2086
  timeout $T "$SEND" --amt-relay "$2:0" --port-file "$dir/$tag.port" \
    --group "$4" --port 5004 --count "$6" --sizes "$7" \
    -w "$dir/$tag.ready" --warmup-timeout 20 $8 >"$dir/$tag.send" 2>"$dir/$tag.send.err" &
  spid=$!
  i=0
  while [ ! -s "$dir/$tag.port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  rport=$(cat "$dir/$tag.port" 2>/dev/null)
  timeout $T gst-launch-1.0 amtsrc relay="$3" relay-port="${rport:-1}" \
    address="$4" port=5004 buffer-size=4194304 ! \
    tcpsplitsink host=127.0.0.1 port="$5" framing=mpx \
    >"$dir/$tag.gst" 2>&1 &
  gpid=$!
  # shellcheck disable=SC2086
  timeout $T "$RECV" --tcp "127.0.0.1:$5" --framing mpx --count "$6" \
    --sizes "$7" -r "$dir/$tag.ready" -t 5 >"$dir/$tag.recv" 2>"$dir/$tag.recv.err"
  rrc=$?
  wait $spid
  src=$?
  kill $gpid 2>/dev/null
  wait $gpid 2>/dev/null
  sent=$(sed -n 's/^mcp-send: sent=\([0-9]*\) .*/\1/p' "$dir/$tag.send")
  got=$(sed -n 's/^mcp-recv: received=\([0-9]*\) .*/\1/p' "$dir/$tag.recv")
  if [ -n "$rport" ] && [ "$rport" != 0 ] && [ "$src" = 0 ] &&
    [ "$rrc" = 0 ] && [ "$sent" = "$6" ] && [ "$got" = "$6" ]; then
    result "$tag" yes
  else
    result "$tag" no "port=$rport send exit $src sent=$sent," \
      "recv exit $rrc received=$got"
  fi
}

run_amt amt-ipv4 127.0.0.1 127.0.0.1 239.1.2.3 5201 5000 24,1316,1500,9000 \
  "--rate 5000"
run_amt amt-ipv6 "[::1]" ::1 ff3e::1:2:3 5202 5000 1316,100 "--rate 5000"
# unpaced, a burst that fits the gateway's receive buffer
run_amt amt-unpaced 127.0.0.1 127.0.0.1 239.1.2.4 5203 64 1316 "--rate 0"
# the relay on a wildcard: it advertises the route's address to the gateway
run_amt amt-wildcard 0.0.0.0 127.0.0.1 239.1.2.5 5204 1000 1316 \
  "--rate 5000"

# usage errors
tag=usage
"$SEND" --amt-relay 127.0.0.1:0 --tcp-listen 127.0.0.1:0 -g 239.1.2.3 \
  -p 5004 >"$dir/$tag.1" 2>&1
r1=$?
"$SEND" --amt-relay 127.0.0.1:0 -g ff3e::1 -p 5004 >"$dir/$tag.2" 2>&1
r2=$?
"$SEND" --amt-relay 127.0.0.1:0 -p 5004 >"$dir/$tag.3" 2>&1
r3=$?
if [ $r1 = 2 ] && [ $r2 = 2 ] && [ $r3 = 2 ]; then
  result "amt-usage" yes
else
  result "amt-usage" no "exit $r1 (with --tcp-listen), $r2 (IPv6 group," \
    "IPv4 relay, no --bind), $r3 (no --group); want 2"
fi

echo "amt-selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
