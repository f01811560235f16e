# mcastproxy — bash helpers to build multicast islands out of network
# namespaces and run the tools in them: sourced by pipelines/demo and the
# topology tests. Everything made here is undone on exit, also on Ctrl-C.
#
#   islands_init            a log directory; cleanup on exit
#   host NS                 a namespace with lo up
#   island NS               a namespace whose lo carries IPv4 and IPv6
#                           multicast (the hosts of an island in one)
#   link NS1 IF1 A1/P NS2 IF2 A2/P on|off
#                           a veth pair; "off": no multicast on it
#   start NAME NS ENV=.. -- CMD ARGS
#                           CMD in NS (or here when NS is empty), logged to
#                           $LOGS/NAME.log; its pid in PID_NAME
#   wait_for NAME PATTERN [SECONDS]
#                           until NAME's log shows PATTERN (event-driven)
#   wait_count NAME PATTERN N [SECONDS]
#                           until NAME's log shows PATTERN N times
#   last_stat NAME STRUCT FIELD
#                           FIELD of NAME's last STRUCT statistics message
#   wait_stat NAME STRUCT FIELD VALUE [SECONDS]
#                           until that field reaches VALUE (statistics come
#                           periodically; counts only grow)

LOGS=
PIDS=()
NETNS=()
KEEP_LOGS=${KEEP_LOGS:-0}

islands_cleanup () {
  local p ns
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ -n "$LOGS" ]; then
    if [ "$KEEP_LOGS" = 1 ]; then echo "logs kept in $LOGS"; else rm -rf "$LOGS"; fi
  fi
}

islands_init () {
  LOGS=$(mktemp -d /tmp/mcastproxy-islands.XXXXXX)
  trap islands_cleanup EXIT
  trap 'echo; echo "$(basename "$0"): interrupted"; exit 130' INT TERM
}

host () {
  ip netns add "$1" || exit 1
  NETNS+=("$1")
  ip -n "$1" link set lo up
}

# A namespace whose loopback is a small multicast LAN.
island () {
  host "$1"
  ip -n "$1" link set lo multicast on
  ip -n "$1" route add 224.0.0.0/4 dev lo
  ip -n "$1" -6 route add local ff00::/8 dev lo table local 2>/dev/null
}

link () {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || exit 1
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" multicast "$7" up
  ip -n "$4" link set "$5" multicast "$7" up
}

start () {
  local name=$1 ns=$2 envs=()
  shift 2
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  : >"$LOGS/$name.log"    # exists before anyone waits on it
  # started directly (not through a function) so that $! is the tool itself
  if [ -z "$ns" ]; then
    env "${envs[@]}" "$@" >"$LOGS/$name.log" 2>&1 &
  else
    ip netns exec "$ns" env "${envs[@]}" "$@" >"$LOGS/$name.log" 2>&1 &
  fi
  PIDS+=($!)
  eval "PID_$name=$!"
}

wait_for () {
  if ! timeout "${3:-20}" tail -n +1 -f "$LOGS/$1.log" | grep -q -m1 -- "$2"; then
    echo "$(basename "$0"): $1 did not show '$2'; its log ends:" >&2
    tail -n 15 "$LOGS/$1.log" >&2
    return 1
  fi
}

wait_count () {
  if ! timeout "${4:-20}" tail -n +1 -f "$LOGS/$1.log" |
      grep -m "$3" -- "$2" | tail -n 1 | grep -q .; then
    echo "$(basename "$0"): $1 did not show '$2' $3 times" >&2
    return 1
  fi
  [ "$(grep -c -- "$2" "$LOGS/$1.log")" -ge "$3" ]
}

last_stat () {
  grep -- "$2," "$LOGS/$1.log" | tail -n 1 |
    sed -n "s/.*[ ,]$3=(g[a-z0-9]*)\([0-9]*\).*/\1/p"
}

wait_stat () {
  local deadline=$(( $(date +%s) + ${5:-5} ))
  until [ "$(last_stat "$1" "$2" "$3")" = "$4" ]; do
    [ "$(date +%s)" -ge $deadline ] && return 1
    timeout 1 tail -n 0 -f "$LOGS/$1.log" | grep -q -m1 -- "$2,"
  done
}
