#!/bin/sh
# mcastproxy — the ways README says to use the plugin: from the build tree
# with `meson devenv`, installed with `meson install` into GStreamer's
# plugin directory, and found by the pipelines/ tools on their own.
# Usage: install.sh BUILD_DIR
set -u
BUILD=$1
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/mcastproxy-install.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail () { echo "FAIL: $*"; FAILED=1; }
pass () { echo "PASS: $*"; }
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
exit $FAILED
