#!/bin/bash
# mcastproxy — the ways README says to use the plugin and the tools: from
# the build tree with `meson devenv`, installed with `meson install` into
# GStreamer's plugin directory, found by the pipelines/ tools on their own;
# and the installed tree alone (meson install --destdir): the mcastproxy
# command, the configuration and its examples, the man page and docs, and
# an installed tool carrying a stream with nothing of the source tree.
# Runs inside netns-run (one private namespace, multicast on lo).
# Usage: install.sh BUILD_DIR MCP_SEND
set -u
BUILD=$1
MCP_SEND=$2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/mcastproxy-install.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait; rm -rf "$WORK"' EXIT
FAILED=0
. "$TOP/tests/integration/plain-lib.sh"
SYSTEM_PLUGINS=$(pkg-config --variable=pluginsdir gstreamer-1.0)
export GST_REGISTRY="$WORK/registry.bin"

# 1. meson devenv puts the build tree's plugin in front
out=$(env -u GST_PLUGIN_PATH meson devenv -C "$BUILD" gst-inspect-1.0 mcastproxy 2>&1)
if printf '%s\n' "$out" | grep -q "Filename *$BUILD/plugins/libgstmcastproxy.so" &&
    printf '%s\n' "$out" | grep -q "8 elements"; then
  pass "meson devenv finds the build tree's plugin with its 8 elements"
else
  fail "meson devenv: $out"
fi

# 2. meson install puts it into GStreamer's plugin directory
meson install -C "$BUILD" --no-rebuild --destdir "$WORK/root" >"$WORK/install.log" 2>&1
so="$WORK/root$SYSTEM_PLUGINS/libgstmcastproxy.so"
if [ -f "$so" ]; then
  out=$(env -u GST_PLUGIN_PATH GST_PLUGIN_SYSTEM_PATH_1_0="$WORK/root$SYSTEM_PLUGINS" \
    GST_REGISTRY="$WORK/registry2.bin" gst-inspect-1.0 mcastproxy 2>&1)
  if printf '%s\n' "$out" | grep -q "Filename *$so"; then
    pass "meson install puts a loadable plugin into $SYSTEM_PLUGINS"
  else
    fail "installed plugin does not load: $out"
  fi
else
  fail "meson install did not produce $so: $(cat "$WORK/install.log")"
fi

# 3. the tools find the plugin in the build tree when it is not installed:
#    a file that is no certificate (which the tools pass on unread) must
#    get the element's own error, not "no element"
echo "not a certificate" >"$WORK/cert.pem"
out=$(env -u GST_PLUGIN_PATH -u MCASTPROXY_PLUGIN_DIR \
  GST_PLUGIN_SYSTEM_PATH_1_0="$SYSTEM_PLUGINS" MCASTPROXY_BUILD="$BUILD" \
  MCASTPROXY_TLS=true MCASTPROXY_TLS_CERTIFICATE="$WORK/cert.pem" \
  MCAST_TCP_SPLITTER_PORT=0 timeout 20 "$TOP/pipelines/multicast-tcp-relay" 2>&1)
if printf '%s\n' "$out" | grep -q "certificate $WORK/cert.pem: No PEM-encoded certificate found"; then
  pass "pipelines/ finds the plugin in the build tree; a bad certificate is a clear error"
else
  fail "multicast-tcp-relay with a bad certificate said: $out"
fi

# 4. the installed tree: where meson put each piece (prefix, libexecdir,
#    sysconfdir, ... as configured)
opt () {
  meson introspect --buildoptions "$BUILD" | python3 -c '
import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][0])' "$1"
}
PREFIX=$(opt prefix)
under () { case $1 in /*) echo "$1" ;; *) echo "$PREFIX/$1" ;; esac; }
ROOT=$WORK/root
BIN=$ROOT$(under "$(opt bindir)")/mcastproxy
TOOLDIR=$ROOT$(under "$(opt libexecdir)")/mcastproxy
CONF=$ROOT$(under "$(opt sysconfdir)")/mcastproxy/mcastproxy.conf
DOC=$ROOT$(under "$(opt datadir)")/doc/mcastproxy
MAN=$ROOT$(under "$(opt mandir)")/man1/mcastproxy.1
TOOLS="amt-relay channel-gateway hub island-gateway mesh-node
multicast-tcp-client-relay multicast-tcp-relay splitting-server
tcp-relay-multicast"
missing=""
for f in "$BIN" "$CONF" "$MAN" "$DOC/README.md" "$DOC/docs/elements.md" \
    "$TOOLDIR/mcastproxy-common.sh" "$TOOLDIR/mcastproxy-config.awk" \
    "$TOOLDIR/mcastproxy-status" "$TOOLDIR/mcastproxy-installed.sh"; do
  [ -f "$f" ] || missing="$missing $f"
done
for t in $TOOLS; do
  [ -x "$TOOLDIR/$t" ] || missing="$missing $TOOLDIR/$t"
  [ -f "$DOC/examples/$t.conf" ] || missing="$missing $DOC/examples/$t.conf"
done
if [ -z "$missing" ] && [ -L "$BIN" ] && cmp -s "$CONF" "$TOP/pipelines/mcastproxy.conf"
then
  pass "meson install: the command, the tools, the configuration, an example per tool, the man page, the docs"
else
  fail "meson install: missing or wrong:$missing (bin: $(ls -l "$BIN" 2>&1))"
fi

# Everything below runs the installed tree alone: no source tree, no build
# tree, no GST_PLUGIN_PATH; the destdir is not the real root, so the tools
# find their configuration and plugin relative to themselves.
# A sanitized build's plugin needs the sanitizer runtime its tests preload.
mkdir "$WORK/elsewhere"
KEEP=()
for v in LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
  [ -n "${!v:-}" ] && KEEP+=("$v=${!v}")
done
installed () {
  (cd "$WORK/elsewhere" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$WORK/elsewhere" GST_REGISTRY="$WORK/registry-installed.bin" \
    GST_PLUGIN_SYSTEM_PATH_1_0="$SYSTEM_PLUGINS" "${KEEP[@]}" "$@")
}

# 5. mcastproxy --help lists every tool, a line each, from any directory
out=$(installed "$BIN" --help 2>&1)
listed=$(printf '%s\n' "$out" | sed -n '/^Tools:/,$p' | sed 1d | awk '{ print $1 }' | tr '\n' ' ')
if [ "$listed" = "$(echo $TOOLS) " ] &&
    [ "$(printf '%s\n' "$out" | sed -n '/^Tools:/,$p' | sed 1d | awk 'NF < 3' | wc -l)" = 0 ]; then
  pass "mcastproxy --help lists the $(echo $TOOLS | wc -w) tools with a line each"
else
  fail "mcastproxy --help: $out"
fi
out=$(installed "$BIN" nonesuch 2>&1); rc=$?
expect "an unknown tool is exit status 2" "$rc" 2
version=$(installed "$BIN" --version 2>&1)
expect "mcastproxy --version" "$version" \
  "mcastproxy $(meson introspect --projectinfo "$BUILD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"

# 6. every example names its tool and passes that tool's checks (a dry
#    run: an interface or address of another host only warns)
bad=""
for t in $TOOLS; do
  out=$(installed env MCASTPROXY_DRY_RUN=1 "$BIN" --conf "$DOC/examples/$t.conf" 2>&1)
  if [ $? != 0 ] || ! printf '%s\n' "$out" | grep -q '^gst-launch-1.0 ' ||
      printf '%s\n' "$out" | grep -q 'is not a setting\|this file is for'; then
    bad="$bad $t: $out;"
  fi
done
if [ -z "$bad" ]; then
  pass "every example configuration runs its tool (mcastproxy --conf FILE)"
else
  fail "examples:$bad"
fi

# 7. the man page lists every tool and renders without warnings (man and
#    groff without a sanitized build's preloaded runtime)
if ! command -v man >/dev/null; then
  echo "SKIP: man is not installed: the man page is not rendered"
elif out=$(env -u LD_PRELOAD MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null) && [ -z "$out" ] &&
    [ "$(env -u LD_PRELOAD MANWIDTH=80 man -l "$MAN" 2>/dev/null | grep -c -E "^ {7}($(echo $TOOLS | tr ' ' '|'))( |$)")" = 9 ]; then
  pass "the man page renders and names every tool"
else
  fail "man page: $out"
fi

# 8. an installed tool carries a stream: multicast-tcp-relay, run by the
#    mcastproxy command of the installed tree, serves what mcp-send
#    multicasts to a plain TCP client, byte for byte
: >"$WORK/installed-relay.log"
(cd "$WORK/elsewhere" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME="$WORK/elsewhere" GST_REGISTRY="$WORK/registry-installed.bin" \
  GST_PLUGIN_SYSTEM_PATH_1_0="$SYSTEM_PLUGINS" "${KEEP[@]}" \
  MCAST_GROUP=239.7.7.9 MCAST_PORT=0 MCAST_TCP_SPLITTER_IP=127.0.0.1 \
  MCAST_TCP_SPLITTER_PORT=0 MCASTPROXY_STATS_INTERVAL=100000000 \
  MCASTPROXY_LAUNCH_FLAGS=-v "$BIN" multicast-tcp-relay) \
  >"$WORK/installed-relay.log" 2>&1 &
relay_pid=$!
PIDS+=($relay_pid)
tcp_port=$(port_of "$WORK/installed-relay.log" GstTcpSplitSink:tcpsplitsink)
mc_port=$(port_of "$WORK/installed-relay.log" GstMcastSrcRelay:mcastsrcrelay)
if [ -n "$tcp_port" ] && [ -n "$mc_port" ]; then
  nc -d 127.0.0.1 "$tcp_port" >"$WORK/nc.out" 2>"$WORK/nc.err" &
  nc_pid=$!
  PIDS+=($nc_pid)
  if wait_for "$WORK/installed-relay.log" "mcastproxy-client-added"; then
    "$MCP_SEND" --group 239.7.7.9 --port "$mc_port" --count 300 --rate 3000 \
      --sizes 1316 >/dev/null
    wait_for "$WORK/installed-relay.log" "datagrams-sent=(guint64)300,"
    kill "$relay_pid"
    timeout 10 tail --pid="$nc_pid" -f /dev/null
    if msg=$(check_stream "$WORK/nc.out" 300 1316); then
      pass "the installed multicast-tcp-relay carried 300 datagrams byte for byte"
    else
      fail "installed relay's stream: $msg"
    fi
  else
    fail "the installed relay never served its client"
  fi
else
  fail "the installed relay did not start: $(head -n 20 "$WORK/installed-relay.log")"
fi
if grep -q "$TOP" "$WORK/installed-relay.log"; then
  fail "the installed relay mentions the source tree: $(grep "$TOP" "$WORK/installed-relay.log")"
fi
exit $FAILED
