# shellcheck shell=sh disable=SC2153,SC2154  # settings come from eval
# mcastproxy — sourced by the tools in pipelines/: reads and checks the
# configuration (mcastproxy-config.awk), finds the plugin, prints and runs
# one gst-launch-1.0 line.
#
# A tool gives run_pipeline the words of its line: element names, "!",
# name=value properties. The helpers below print their properties one per
# line, and IFS is a newline here, so that a helper's output splits into
# those words and a value with spaces or commas (MCAST_CAPS, a path) stays
# one. run_pipeline prints the line with every value quoted for a shell
# where it needs it, and runs exactly those words.

MCASTPROXY_PIPELINES=$(cd "$(dirname "$0")" && pwd)
MCASTPROXY_TOP=$(dirname "$MCASTPROXY_PIPELINES")
mcastproxy_tool=$(basename "$0")
set -f
IFS='
'

# Where the shipped configuration is: beside the tools in the source tree;
# installed (meson install writes mcastproxy-installed.sh beside them), in
# the configuration directory, and the plugin in its plugin directory.
# Installed paths are taken relative to where the tools are now, so that a
# tree installed with meson install --destdir, or unpacked from the
# package, runs on its own; mcastproxy_root is that tree's root (empty when
# installed for real, or when the tools are not where they were installed).
mcastproxy_root=
mcastproxy_shipped=$MCASTPROXY_PIPELINES/mcastproxy.conf
mcastproxy_installed=0
if [ -f "$MCASTPROXY_PIPELINES/mcastproxy-installed.sh" ]; then
  . "$MCASTPROXY_PIPELINES/mcastproxy-installed.sh"
  mcastproxy_installed=1
  case $MCASTPROXY_PIPELINES in
    *"$mcastproxy_installed_tooldir")
      mcastproxy_root=${MCASTPROXY_PIPELINES%"$mcastproxy_installed_tooldir"} ;;
  esac
  mcastproxy_shipped=$mcastproxy_root$mcastproxy_installed_conf
fi

# Whether stderr is the journal (systemd names it in JOURNAL_STREAM): then
# each line the tools write there begins with its priority, <3> for an
# error, <4> for a warning, <6> for the rest.
mcastproxy_journal=0
if [ -n "${JOURNAL_STREAM:-}" ] &&
    [ "$(stat -L -c %d:%i /proc/self/fd/3 3>&2 2>/dev/null)" = "$JOURNAL_STREAM" ]
then
  mcastproxy_journal=1
fi

# mcastproxy_log PRIORITY WORDS...: a line "TOOL: WORDS" on stderr
mcastproxy_log () {
  mcp_text="$mcastproxy_tool:"
  [ $mcastproxy_journal = 1 ] && mcp_text="<$1>$mcp_text"
  shift
  for mcp_word in "$@"; do mcp_text="$mcp_text $mcp_word"; done
  printf '%s\n' "$mcp_text" >&2
}

# The settings, checked, each with its origin (mcp_from_NAME): the
# environment, else MCASTPROXY_CONF, else the shipped mcastproxy.conf.
mcastproxy_config=$(MCASTPROXY_JOURNAL=$mcastproxy_journal awk -f \
  "$MCASTPROXY_PIPELINES/mcastproxy-config.awk" "$mcastproxy_tool" \
  "$mcastproxy_shipped") || exit 2
eval "$mcastproxy_config"

# A value for a shell: as it is when that is safe, else in single quotes.
q () {
  case $1 in
    '' | *[!A-Za-z0-9_./:@%+,-]*)
      printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}

# "ORIGIN: NAME=VALUE: WHY..." for setting NAME.
mcastproxy_say () {
  eval "mcp_value=\$$1 mcp_from=\${mcp_from_$1:-default}"
  mcp_say="$mcp_from: $1=$(q "$mcp_value"):"
  shift
  for mcp_word in "$@"; do mcp_say="$mcp_say $mcp_word"; done
}

# mcastproxy_bad NAME WHY...: one line naming the setting, its value and
# where it came from; exit status 2.
mcastproxy_bad () {
  mcastproxy_say "$@"
  mcastproxy_log 3 "$mcp_say"
  exit 2
}

# A mistake that depends on this host (a missing interface or file): a
# dry run, whose line may be meant for another host, only warns.
mcastproxy_bad_here () {
  [ "$MCASTPROXY_DRY_RUN" = true ] || mcastproxy_bad "$@"
  mcastproxy_say "$@"
  mcastproxy_log 4 "warning: $mcp_say (a real run stops here)"
}

for mcp_name in MCASTPROXY_AUTH_SECRET_FILE MCASTPROXY_TLS_CERTIFICATE \
  MCASTPROXY_TLS_KEY MCASTPROXY_TLS_CA MCASTPROXY_TLS_CLIENT_CA \
  GATEWAY_PLAYLIST GATEWAY_TOKEN_FILE; do
  eval "mcp_file=\$$mcp_name"
  if [ -z "$mcp_file" ]; then
    continue
  elif [ ! -e "$mcp_file" ]; then
    mcastproxy_bad_here $mcp_name "no such file"
  elif [ -d "$mcp_file" ]; then
    mcastproxy_bad_here $mcp_name "a directory, not a file"
  elif [ ! -r "$mcp_file" ]; then
    mcastproxy_bad_here $mcp_name "not readable by $(id -un)"
  elif [ $mcp_name = MCASTPROXY_AUTH_SECRET_FILE ] ||
      [ $mcp_name = GATEWAY_TOKEN_FILE ]; then
    # as the elements require
    mcp_mode=$(stat -L -c %a "$mcp_file")
    if [ $((0$mcp_mode & 077)) != 0 ]; then
      mcastproxy_bad_here $mcp_name "others may read it (mode $mcp_mode):" \
        "chmod 600 it"
    elif [ -z "$(tr -d '\r\n' <"$mcp_file" | head -c 1)" ]; then
      mcastproxy_bad_here $mcp_name "the $([ $mcp_name = GATEWAY_TOKEN_FILE \
        ] && echo token || echo secret) file is empty"
    fi
  fi
done
if [ -n "$MCASTPROXY_PLUGIN_DIR" ] && [ ! -d "$MCASTPROXY_PLUGIN_DIR" ]; then
  mcastproxy_bad_here MCASTPROXY_PLUGIN_DIR "no such directory"
fi
# GStreamer itself reads the caps (without GStreamer a dry run skips this)
case $MCAST_CAPS in
  '') ;;
  [Ee][Mm][Pp][Tt][Yy])
    mcastproxy_bad MCAST_CAPS "EMPTY caps would refuse every datagram" ;;
  *)
    if command -v gst-launch-1.0 >/dev/null &&
      ! gst-launch-1.0 -q fakesrc num-buffers=0 ! capsfilter \
        "caps=$MCAST_CAPS" ! fakesink >/dev/null 2>&1; then
      mcastproxy_bad MCAST_CAPS "not caps that GStreamer can read" \
        "(e.g. video/mpegts,systemstream=true)"
    fi ;;
esac

# What a tool needs beyond what every value is checked for:
#   mcastproxy_need iface       the interfaces of MCAST_IFACE exist here
#   mcastproxy_need listener    with TLS, a certificate to present
#   mcastproxy_need groups      MCAST_GROUPS, or a MCAST_PORT to send to;
#                               ranges carried on demand need MCAST_IFACE
#   mcastproxy_need port NAME   a port it connects or sends to: not 0
#   mcastproxy_need local NAME  the address NAME is one of this host's
#                               (ip addr; not checked without iproute2)
mcastproxy_need () {
  case $1 in
    iface)
      for mcp_if in $(printf '%s\n' "$MCAST_IFACE" | tr , '\n'); do
        [ -e "/sys/class/net/$mcp_if" ] ||
          mcastproxy_bad_here MCAST_IFACE "no network interface named" \
            "$mcp_if on this host"
      done ;;
    listener)
      if [ "$MCASTPROXY_TLS" = true ] && [ -z "$MCASTPROXY_TLS_CERTIFICATE" ]
      then
        mcastproxy_bad MCASTPROXY_TLS_CERTIFICATE "empty, but with" \
          "MCASTPROXY_TLS=true a listener needs its certificate"
      fi ;;
    groups)
      [ -n "$MCAST_GROUPS" ] || mcastproxy_need port MCAST_PORT
      if [ -n "$mcastproxy_scope" ] && [ -z "$MCAST_IFACE" ]; then
        mcastproxy_bad MCAST_IFACE "empty, but MCAST_GROUPS names ranges" \
          "carried on demand: name the LAN interface, where the gateway" \
          "hears who listens (IGMP/MLD)"
      fi ;;
    port)
      eval "mcp_port=\$$2"
      [ "$mcp_port" != 0 ] ||
        mcastproxy_bad "$2" "0 is no port to connect or send to (1-65535)" ;;
    local)
      eval "mcp_addr=\$$2"
      mcastproxy_is_local "$mcp_addr" ||
        mcastproxy_bad_here "$2" "not an address of this host (ip addr" \
          "shows no $mcp_addr)" ;;
  esac
}

# Whether numeric address $1 is configured on this host; true when that
# cannot be told (no ip command).
mcastproxy_is_local () {
  command -v ip >/dev/null || return 0
  [ -n "$(ip -o addr show to "$1" 2>/dev/null)" ]
}

# The plugin: MCASTPROXY_PLUGIN_DIR if given; installed tools, the one
# installed with them (in a tree of its own, or in a plugin directory of
# its own, through GST_PLUGIN_PATH); else an installed one, else the build
# tree (build/ at the top of the source tree, or MCASTPROXY_BUILD).
mcastproxy_find_plugin () {
  if [ -n "$MCASTPROXY_PLUGIN_DIR" ]; then
    GST_PLUGIN_PATH="$MCASTPROXY_PLUGIN_DIR${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
    return 0
  fi
  if [ $mcastproxy_installed = 1 ]; then
    dir=$mcastproxy_root$mcastproxy_installed_plugindir
    if [ -f "$dir/libgstmcastproxy.so" ]; then
      if [ -n "$mcastproxy_root" ] ||
          [ "$dir" != "$mcastproxy_installed_gst_plugindir" ]; then
        GST_PLUGIN_PATH="$dir${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
        export GST_PLUGIN_PATH
      fi
      return 0
    fi
  fi
  if gst-inspect-1.0 mcastproxy >/dev/null 2>&1; then
    return 0
  fi
  if [ $mcastproxy_installed = 1 ]; then
    mcastproxy_log 3 "the mcastproxy plugin is not installed in" \
      "$dir, nor anywhere GStreamer looks"
    exit 2
  fi
  dir="${MCASTPROXY_BUILD:-$MCASTPROXY_TOP/build}/plugins"
  if [ -f "$dir/libgstmcastproxy.so" ]; then
    GST_PLUGIN_PATH="$dir${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
    return 0
  fi
  mcastproxy_log 3 "the mcastproxy plugin is neither installed nor" \
    "built in $dir (build it: ./run build)"
  exit 2
}

# Optional properties: "name=value" when the value is not empty.
opt () {
  [ -n "$2" ] && printf '%s=%s\n' "$1" "$2"
}

# The limit of a client listener (tcpsplitsink)
max_clients () { [ "$MCASTPROXY_MAX_CLIENTS" != 0 ] && echo "max-clients=$MCASTPROXY_MAX_CLIENTS"; }

# The caps of every mcastsrc-relay, and the DSCP of every sending element.
caps () { opt caps "$MCAST_CAPS"; }
dscp () { opt qos-dscp "$MCASTPROXY_DSCP"; }

# One mcastsrc-relay per group (mcastproxy_groups), all into the element
# named $1 (as "$1."), through a funnel when there are several: the
# island's side of a gateway.
capture_groups () {
  into="$1."
  if [ -n "$mcastproxy_scope" ]; then
    # one element joins the pinned groups and, on demand, the others
    printf '%s\n' mcastsrc-relay "scope=$mcastproxy_scope" \
      "peer-id=$ISLAND_ID" "ignore-sources=:$MCAST_GATEWAY_PORT"
    opt multicast-iface "$MCAST_IFACE"
    caps
    stats
    printf '%s\n' ! "$into"
    return 0
  fi
  if [ "$(printf '%s\n' "$mcastproxy_groups" | wc -l)" -gt 1 ]; then
    printf '%s\n' funnel name=up ! "$into"
    into=up.
  fi
  printf '%s\n' "$mcastproxy_groups" | while IFS=' ' read -r addr port; do
    printf '%s\n' mcastsrc-relay "address=$addr" "port=$port" \
      "peer-id=$ISLAND_ID" "ignore-sources=:$MCAST_GATEWAY_PORT"
    opt multicast-iface "$MCAST_IFACE"
    caps
    stats
    printf '%s\n' ! "$into"
  done
}

# The island's re-multicast of what arrives from elsewhere: each datagram
# on its own group and port, from MCAST_GATEWAY_PORT; on demand (root)
# also from its original sender's address, which source-specific (SSM)
# listeners require.
remulticast () {
  # the first group (or range) is where a datagram without one goes
  { printf '%s\n' "$mcastproxy_groups"
    printf '%s\n' "$mcastproxy_scope" | tr ' ' '\n' |
      sed -n 's/^\[\{0,1\}\([^]/]*\)\]\{0,1\}\/[0-9]*:\([0-9]*\).*/\1 \2/p'
  } | grep -v '^$' | {
    IFS=' ' read -r addr port
    printf '%s\n' tcpremcastsink original-group=true "address=$addr" \
      "port=$port" "bind-port=$MCAST_GATEWAY_PORT" "ttl-mc=$MCAST_TTL" \
      "loop=$MCAST_LOOP"
  }
  opt scope "$mcastproxy_scope"
  [ -n "$mcastproxy_scope" ] && echo original-source=true
  opt multicast-iface "$MCAST_IFACE"
  dscp
  stats
}

# The security settings of a TCP element that is a "listener" or a
# "caller" (a mesh node is both: "both").
secure () {
  opt auth-secret-file "$MCASTPROXY_AUTH_SECRET_FILE"
  [ "$1" != caller ] && opt allow "$MCASTPROXY_ALLOW"
  [ "$MCASTPROXY_TLS" = true ] || return 0
  echo tls=true
  opt tls-certificate "$MCASTPROXY_TLS_CERTIFICATE"
  opt tls-key "$MCASTPROXY_TLS_KEY"
  case $1 in
    listener) opt tls-ca "$MCASTPROXY_TLS_CLIENT_CA" ;;
    *) opt tls-ca "$MCASTPROXY_TLS_CA" ;;
  esac
  return 0
}

# MCASTPROXY_LOG: events (or auto, when stderr is the journal) runs the
# pipeline with mcastproxy-launch: a log line per event, SIGHUP reloads the
# settings, systemd is told when the pipeline is playing; gst-launch-1.0
# otherwise.
mcastproxy_events=0
if [ "$MCASTPROXY_LOG" = events ] ||
    { [ "$MCASTPROXY_LOG" = auto ] && [ $mcastproxy_journal = 1 ]; }; then
  mcastproxy_events=1
fi

# The program that runs the pipeline with MCASTPROXY_LOG=events: beside the
# tools when installed, else in the build tree.
mcastproxy_launcher () {
  if [ $mcastproxy_installed = 1 ]; then
    mcp_launch=$MCASTPROXY_PIPELINES/mcastproxy-launch
  else
    mcp_launch=${MCASTPROXY_BUILD:-$MCASTPROXY_TOP/build}/pipelines/mcastproxy-launch
  fi
  if [ ! -x "$mcp_launch" ]; then
    mcastproxy_log 3 "MCASTPROXY_LOG=events needs $mcp_launch, which is" \
      "not there (build it: ./run build)"
    exit 2
  fi
  printf '%s\n' "$mcp_launch"
}

# The live status line on stderr (pipelines/mcastproxy-status):
# MCASTPROXY_STATUS=1 shows it, 0 never; auto (or unset), it shows when
# stderr is a terminal. It needs the stats messages: without
# MCASTPROXY_STATS_INTERVAL they come every second, and then stay off a
# terminal's stdout. A dry run prints the pipeline as it is without the
# status.
mcastproxy_status=0
mcastproxy_status_quiet=0
if [ "$MCASTPROXY_DRY_RUN" != true ] && [ $mcastproxy_events = 0 ]; then
  case $MCASTPROXY_STATUS in
    1) mcastproxy_status=1 ;;
    auto) [ -t 2 ] && mcastproxy_status=1 ;;
  esac
fi
if [ $mcastproxy_status = 1 ] && [ "$MCASTPROXY_STATS_INTERVAL" = 0 ]; then
  MCASTPROXY_STATS_INTERVAL=1000000000
  [ -t 1 ] && mcastproxy_status_quiet=1
fi

stats () {
  [ "$MCASTPROXY_STATS_INTERVAL" != 0 ] &&
    printf 'stats-interval=%s\n' "$MCASTPROXY_STATS_INTERVAL"
}

mcastproxy_status_filter () {
  exec "$MCASTPROXY_PIPELINES/mcastproxy-status" \
    "$MCASTPROXY_STATS_INTERVAL" "$([ -t 2 ] && echo 1 || echo 0)" \
    "$mcastproxy_status_quiet"
}

# Prints the pipeline, then replaces this shell with gst-launch-1.0 running
# it. MCASTPROXY_DRY_RUN=1 only prints; MCASTPROXY_LAUNCH_FLAGS adds
# gst-launch-1.0 options (e.g. -v to see current-port of port=0 listeners).
run_pipeline () {
  IFS=' '
  if [ "$MCASTPROXY_WORDS" = true ]; then
    # the words alone, NUL-separated: mcastproxy-launch reloading
    printf '%s\0' "$@"
    exit 0
  fi
  flags=$MCASTPROXY_LAUNCH_FLAGS
  [ "$MCASTPROXY_STATS_INTERVAL" != 0 ] && flags="$flags -m"
  mcp_line=gst-launch-1.0
  for mcp_word in $flags; do
    mcp_line="$mcp_line $mcp_word"
  done
  for mcp_word in "$@"; do
    case $mcp_word in
      *=*) mcp_word="${mcp_word%%=*}=$(q "${mcp_word#*=}")" ;;
    esac
    mcp_line="$mcp_line $mcp_word"
  done
  if [ "$MCASTPROXY_DRY_RUN" = true ] || [ $mcastproxy_events = 0 ]; then
    echo "$mcp_line"
  fi
  [ "$MCASTPROXY_DRY_RUN" = true ] && exit 0
  mcastproxy_find_plugin
  if [ $mcastproxy_events = 1 ]; then
    mcastproxy_log 6 "$mcp_line"
    exec "$(mcastproxy_launcher)" "$MCASTPROXY_PIPELINES/$mcastproxy_tool" \
      -- "$@"
  fi
  if [ $mcastproxy_status = 1 ]; then
    # gst-launch-1.0 keeps this process (signals, exit status); the filter
    # reads its output through a FIFO, removed once both ends are open
    fifo_dir=$(mktemp -d "${TMPDIR:-/tmp}/mcastproxy.XXXXXX") &&
      mkfifo "$fifo_dir/out" || exit 2
    { rm -rf "$fifo_dir"
      mcastproxy_status_filter; } <"$fifo_dir/out" &
    # shellcheck disable=SC2086
    exec gst-launch-1.0 $flags "$@" >"$fifo_dir/out"
  fi
  # shellcheck disable=SC2086
  exec gst-launch-1.0 $flags "$@"
}
