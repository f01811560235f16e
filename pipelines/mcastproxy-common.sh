# mcastproxy — sourced by the tools in pipelines/: reads the configuration,
# finds the plugin, prints and runs one gst-launch-1.0 line.

MCASTPROXY_PIPELINES=$(cd "$(dirname "$0")" && pwd)
MCASTPROXY_TOP=$(dirname "$MCASTPROXY_PIPELINES")

: "${MCASTPROXY_CONF:=$MCASTPROXY_PIPELINES/mcastproxy.conf}"
if [ ! -r "$MCASTPROXY_CONF" ]; then
  echo "$(basename "$0"): cannot read configuration $MCASTPROXY_CONF" >&2
  exit 2
fi
# The chosen file, then the shipped defaults for whatever it leaves out;
# variables given in the environment win over both.
mcastproxy_env=$(export -p)
# shellcheck source=mcastproxy.conf
. "$MCASTPROXY_CONF"
. "$MCASTPROXY_PIPELINES/mcastproxy.conf"
eval "$mcastproxy_env"

# The plugin: MCASTPROXY_PLUGIN_DIR if given, else an installed one, else
# the build tree (build/ at the top of the source tree, or MCASTPROXY_BUILD).
mcastproxy_find_plugin () {
  if [ -n "$MCASTPROXY_PLUGIN_DIR" ]; then
    GST_PLUGIN_PATH="$MCASTPROXY_PLUGIN_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
    return 0
  fi
  if gst-inspect-1.0 mcastproxy >/dev/null 2>&1; then
    return 0
  fi
  dir="${MCASTPROXY_BUILD:-$MCASTPROXY_TOP/build}/plugins"
  if [ -f "$dir/libgstmcastproxy.so" ]; then
    GST_PLUGIN_PATH="$dir${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
    return 0
  fi
  echo "$(basename "$0"): the mcastproxy plugin is neither installed nor" \
    "built in $dir (build it: ./run build)" >&2
  exit 2
}

# Optional properties: "name=value" when the value is not empty.
opt () {
  [ -n "$2" ] && printf ' %s=%s' "$1" "$2"
}

# The MCAST_GROUPS list (MCAST_GROUP:MCAST_PORT when empty), one
# "group port" line each; [v6]:port becomes "v6 port".
groups () {
  for g in ${MCAST_GROUPS:-$MCAST_GROUP:$MCAST_PORT}; do
    case "$g" in
      \[*\]:*) a=${g%]:*}; echo "${a#[} ${g##*]:}" ;;
      *:*:*) echo "$(basename "$0"): write IPv6 groups as [group]:port: $g" >&2
        exit 2 ;;
      *:*) echo "${g%:*} ${g##*:}" ;;
      *) echo "$(basename "$0"): '$g' is not group:port" >&2; exit 2 ;;
    esac
  done
}

# One mcastsrc-relay per group, all into the element named $1 (as "$1."),
# through a funnel when there are several: the island's side of a gateway.
capture_groups () {
  list=$(groups) || exit 2
  n=$(printf '%s\n' "$list" | wc -l)
  into="$1."
  if [ "$n" -gt 1 ]; then
    printf ' funnel name=up ! %s' "$into"
    into="up."
  fi
  printf '%s\n' "$list" | while read -r addr port; do
    printf ' mcastsrc-relay address=%s port=%s peer-id=%s ignore-sources=:%s%s%s ! %s' \
      "$addr" "$port" "$ISLAND_ID" "$MCAST_GATEWAY_PORT" \
      "$(opt multicast-iface "$MCAST_IFACE")" "$(stats)" "$into"
  done
}

# The island's re-multicast of what arrives from elsewhere: each datagram
# on its own group and port, from MCAST_GATEWAY_PORT.
remulticast () {
  set -- $(groups | head -n 1)
  printf ' tcpremcastsink original-group=true address=%s port=%s bind-port=%s ttl-mc=%s loop=%s%s%s' \
    "$1" "$2" "$MCAST_GATEWAY_PORT" "$MCAST_TTL" "$MCAST_LOOP" \
    "$(opt multicast-iface "$MCAST_IFACE")" "$(stats)"
}

# The security settings of a TCP element that is a "listener" or a
# "caller" (a mesh node is both: "both").
secure () {
  printf '%s%s' "$(opt auth-secret-file "$MCASTPROXY_AUTH_SECRET_FILE")" \
    "$(opt allow "$([ "$1" != caller ] && echo "$MCASTPROXY_ALLOW")")"
  [ "$MCASTPROXY_TLS" = true ] || return 0
  printf ' tls=true%s%s' "$(opt tls-certificate "$MCASTPROXY_TLS_CERTIFICATE")" \
    "$(opt tls-key "$MCASTPROXY_TLS_KEY")"
  case $1 in
    listener) printf '%s' "$(opt tls-ca "$MCASTPROXY_TLS_CLIENT_CA")" ;;
    *) printf '%s' "$(opt tls-ca "$MCASTPROXY_TLS_CA")" ;;
  esac
}

# The live status line on stderr (pipelines/mcastproxy-status):
# MCASTPROXY_STATUS=1 shows it, 0 never; unset, it shows when stderr is a
# terminal. It needs the stats messages: without MCASTPROXY_STATS_INTERVAL
# they come every second, and then stay off a terminal's stdout. A dry run
# prints the pipeline as it is without the status.
mcastproxy_status=0
mcastproxy_status_quiet=0
if [ "${MCASTPROXY_DRY_RUN:-0}" != 1 ]; then
  case ${MCASTPROXY_STATUS:-auto} in
    1) mcastproxy_status=1 ;;
    auto) [ -t 2 ] && mcastproxy_status=1 ;;
  esac
fi
if [ $mcastproxy_status = 1 ] && [ "${MCASTPROXY_STATS_INTERVAL:-0}" = 0 ]; then
  MCASTPROXY_STATS_INTERVAL=1000000000
  [ -t 1 ] && mcastproxy_status_quiet=1
fi

stats () {
  [ "${MCASTPROXY_STATS_INTERVAL:-0}" != 0 ] &&
    printf ' stats-interval=%s' "$MCASTPROXY_STATS_INTERVAL"
}

# Prints the pipeline, then replaces this shell with gst-launch-1.0 running
# it. MCASTPROXY_DRY_RUN=1 only prints; MCASTPROXY_LAUNCH_FLAGS adds
# gst-launch-1.0 options (e.g. -v to see current-port of port=0 listeners).
run_pipeline () {
  flags=${MCASTPROXY_LAUNCH_FLAGS:-}
  [ "${MCASTPROXY_STATS_INTERVAL:-0}" != 0 ] && flags="$flags -m"
  echo "gst-launch-1.0 $flags $*" | tr -s ' '
  [ "${MCASTPROXY_DRY_RUN:-0}" = 1 ] && exit 0
  mcastproxy_find_plugin
  if [ $mcastproxy_status = 1 ]; then
    # gst-launch-1.0 keeps this process (signals, exit status); the filter
    # reads its output through a FIFO, removed once both ends are open
    fifo_dir=$(mktemp -d "${TMPDIR:-/tmp}/mcastproxy.XXXXXX") &&
      mkfifo "$fifo_dir/out" || exit 2
    { rm -rf "$fifo_dir"
      exec "$MCASTPROXY_PIPELINES/mcastproxy-status" \
        "$MCASTPROXY_STATS_INTERVAL" "$([ -t 2 ] && echo 1 || echo 0)" \
        "$mcastproxy_status_quiet"; } <"$fifo_dir/out" &
    # shellcheck disable=SC2086,SC2048
    exec gst-launch-1.0 $flags $* >"$fifo_dir/out"
  fi
  # shellcheck disable=SC2086,SC2048
  exec gst-launch-1.0 $flags $*
}
