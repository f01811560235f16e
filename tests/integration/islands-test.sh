# shellcheck shell=bash
# mcastproxy — what the root island tests share (topology.sh, faults.sh):
# bash, sourced. Builds on pipelines/islands-lib.sh (namespaces, links,
# start, wait_for, wait_count, last_stat, wait_stat), sourced from here.
#
#   islands_test_init NAME  exit 77 without root; tool paths ($TOP, $BUILD,
#                           $P, $MCP_SEND, $MCP_RECV), the plugin of the
#                           build tree, a private registry; islands_init
#   fail / pass MESSAGE     one verdict line; fail sets FAILED=1
#   ns SUFFIX               a namespace name unique to this run ($TAG-SUFFIX)
#   check_receiver NAME     waits for mcp-recv NAME, prints its summary,
#                           passes on exit status 0
#   fresh_stats NAME...     until each has posted one more statistics message
#   link_counts NAME STRUCT "peer-id datagrams" per connection in the last
#                           STRUCT message (client-list of a sink or router)
#   stat_ge NAME STRUCT FIELD MIN
#                           the last STRUCT message's FIELD is at least MIN
#   wait_stat_ge NAME STRUCT FIELD MIN [SECONDS]
#                           until it is (statistics come periodically)
#   port_of NAME PATTERN    the current-port that gst-launch -v printed for
#                           the element whose path ends in PATTERN[0-9]*
#                           (e.g. GstTcpSplitSink:tcpsplitsink), waiting
#                           for it; empty (and 1) when it never came
#   now_ns                  CLOCK_REALTIME in ns (as mcp-send stamps)
#   field LINE NAME         NAME=value of one summary line

islands_test_init () {
  local name=$1
  TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  BUILD=${MCASTPROXY_BUILD:?set MCASTPROXY_BUILD}
  P=$TOP/pipelines
  MCP_SEND=$BUILD/tests/tools/mcp-send
  MCP_RECV=$BUILD/tests/tools/mcp-recv
  if [ "$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then
    echo "$name: needs root (ip netns)"
    exit 77
  fi
  export MCASTPROXY_PLUGIN_DIR=$BUILD/plugins
  export GST_REGISTRY=${GST_REGISTRY:-$BUILD/$name-registry.bin}
  unset MCASTPROXY_CONF MCASTPROXY_DRY_RUN MCASTPROXY_LAUNCH_FLAGS
  . "$P/islands-lib.sh"
  islands_init
  TAG=${TAG:-m${name:0:1}$$}
  FAILED=0
}

fail () { echo "FAIL: $*"; FAILED=1; }
pass () { echo "PASS: $*"; }

ns () { echo "$TAG-$1"; }

check_receiver () {
  local rc
  wait "$(eval echo "\$PID_$1")"
  rc=$?
  grep '^mcp-recv: ' "$LOGS/$1.log" | grep -v joined | sed "s/^/   $1: /"
  if [ $rc = 0 ]; then
    pass "$1 got every stream exactly once, in order"
  else
    fail "$1 (exit $rc)"
  fi
}

fresh_stats () {
  local n name
  for name in "$@"; do
    n=$(grep -c -- "-stats," "$LOGS/$name.log")
    timeout 5 tail -n +$((n + 1)) -f "$LOGS/$name.log" |
      grep -q -m1 -- "-stats,"
  done
}

link_counts () {
  grep -- "$2," "$LOGS/$1.log" | tail -n 1 | grep -o 'client\\,[^;]*' |
    sed -n 's/.*peer-id\\=\\(guint64\\)\([0-9]*\).*\\,\\ datagrams-sent\\=\\(guint64\\)\([0-9]*\).*/\1 \2/p'
}

stat_ge () {
  local v
  v=$(last_stat "$1" "$2" "$3")
  [ -n "$v" ] && [ "$v" -ge "$4" ]
}

wait_stat_ge () {
  local deadline=$(( $(date +%s) + ${5:-10} ))
  until stat_ge "$1" "$2" "$3" "$4"; do
    if [ "$(date +%s)" -ge $deadline ]; then
      echo "$(basename "$0"): $1: $2 $3 did not reach $4" \
        "(last: $(last_stat "$1" "$2" "$3"))" >&2
      return 1
    fi
    timeout 1 tail -n 0 -f "$LOGS/$1.log" | grep -q -m1 -- "$2,"
  done
}

port_of () {
  wait_for "$1" "$2[0-9]*: current-port = [1-9]" >/dev/null || return 1
  sed -n "s/.*$2[0-9]*: current-port = \([0-9]*\).*/\1/p" "$LOGS/$1.log" |
    head -n 1
}

now_ns () { date +%s%N; }

field () { echo "$1" | sed -n "s/.* $2=\([-0-9]*\).*/\1/p"; }
