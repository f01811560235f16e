#!/bin/bash
# mcastproxy — the configuration of the tools in pipelines/: what they
# accept, what they refuse, and how they say it.
#
#   tools-config.sh checks   (inside netns-run) every tool, in dry runs and
#                            real ones: plain NAME=value files never run as
#                            shell code; each bad value stops the tool with
#                            exit status 2 and exactly one line on stderr
#                            naming the setting, the value and its origin
#                            (file:line or the environment); booleans in
#                            every spelling; ISLAND_ID names; MCAST_CAPS
#                            quoted and served (curl HEAD gets video/mp2t
#                            from a real multicast-tcp-relay);
#                            MCASTPROXY_DSCP on every sending element;
#                            misspelled names warned about; precedence;
#                            channel-gateway's settings, and a real one
#                            serving a group to curl byte for byte; the
#                            README's and the shipped file's settings are
#                            the ones the tools read.
#   tools-config.sh island   (root; 77 otherwise) a hub, island "london"
#                            and island "paris", each gateway given its
#                            island's name: 200 datagrams sent in london
#                            reach its receiver exactly once (none echoed
#                            back by the hub) and paris's exactly once.
set -u
MODE=${1:?checks or island}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
P=$TOP/pipelines
TOOLS="multicast-tcp-relay multicast-tcp-client-relay splitting-server
tcp-relay-multicast hub island-gateway mesh-node channel-gateway"

# London's id, worked out here as docs say: the first 8 bytes of the
# SHA-256 of the lower-case name, top bit set.
LONDON_ID=$(python3 -c '
import hashlib
print(int.from_bytes(hashlib.sha256(b"london").digest()[:8], "big") | 1 << 63)')

# ---------------------------------------------------------------------------
checks () {
  WORK=$(mktemp -d /tmp/mcastproxy-tools-config.XXXXXX)
  PIDS=()
  FAILED=0
  trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait; rm -rf "$WORK"' EXIT
  . "$TOP/tests/integration/plain-lib.sh"
  # the tools see only what each check gives them
  # shellcheck disable=SC2046
  unset MCASTPROXY_CONF MCASTPROXY_DRY_RUN MCASTPROXY_LAUNCH_FLAGS \
    $(awk -f "$P/mcastproxy-config.awk" list settings)

  # run TOOL [NAME=VALUE...]: a dry run; OUT, ERR and RC
  run () {
    local tool=$1
    shift
    OUT=$(env "$@" MCASTPROXY_DRY_RUN=1 "$P/$tool" 2>"$WORK/err")
    RC=$?
    ERR=$(cat "$WORK/err")
  }
  # refused WHAT ERROR-LINE: the last run stopped, saying exactly that
  refused () {
    if [ "$RC" = 2 ] && [ -z "$OUT" ] && [ "$ERR" = "$2" ]; then
      pass "$1"
    else
      fail "$1: exit $RC, stdout '$OUT', stderr '$ERR'; wanted stderr '$2'"
    fi
  }
  # accepted WHAT PATTERN: the last run printed a line matching PATTERN
  # (grep -E, the whole line) and nothing on stderr
  accepted () {
    if [ "$RC" = 0 ] && [ -z "$ERR" ] &&
        printf '%s\n' "$OUT" | grep -qxE -- "$2"; then
      pass "$1"
    else
      fail "$1: exit $RC, stdout '$OUT', stderr '$ERR'; wanted /$2/"
    fi
  }
  # conf NAME LINE...: a configuration file
  conf () {
    local f=$WORK/$1
    shift
    printf '%s\n' "$@" >"$f"
    echo "$f"
  }

  echo "-- the shipped configuration"
  local t
  for t in $TOOLS; do
    run "$t"
    accepted "$t: the shipped file is read without a word" "gst-launch-1.0 .*"
  done

  echo "-- a file is read, never run"
  local c
  c=$(conf space.conf '# the group' 'MCAST_GROUP=239.1.1.1 5000')
  run multicast-tcp-relay MCASTPROXY_CONF="$c"
  refused "MCAST_GROUP=239.1.1.1 5000 is an error at its line" \
    "multicast-tcp-relay: $c:2: MCAST_GROUP=239.1.1.1 5000: a space outside quotes (a value with spaces needs quotes; a comment starts with #)"
  for c in 'MCAST_GROUP=$(touch WORK/ran)' 'MCAST_GROUP="$(touch WORK/ran)"' \
      'MCAST_GROUP=`touch WORK/ran`' 'MCAST_GROUP=239.1.1.1; touch WORK/ran' \
      ': "${MCAST_GROUP:=$(touch WORK/ran)}"'; do
    c=${c//WORK/$WORK}
    run hub MCASTPROXY_CONF="$(conf code.conf "$c")"
    if [ "$RC" = 2 ] && [ -z "$OUT" ] && [ ! -e "$WORK/ran" ] &&
        [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] &&
        [[ $ERR == "hub: $WORK/code.conf:1: $c: "* ]]; then
      pass "not run but refused: $c"
    else
      fail "$c: exit $RC, stderr '$ERR', ran: $([ -e "$WORK/ran" ] && echo yes || echo no)"
    fi
  done
  c=$(conf conf.conf 'MCASTPROXY_CONF=/etc/other.conf')
  run hub MCASTPROXY_CONF="$c"
  refused "MCASTPROXY_CONF in a file is refused" \
    "hub: $c:1: MCASTPROXY_CONF=/etc/other.conf: MCASTPROXY_CONF names the file to read: it is taken from the environment only"
  c=$(conf plain.conf '  # comments, blank lines, quotes' '' \
    "MCAST_GROUP='239.1.2.3'   # a comment after the value" \
    'MCAST_PORT="6000"' "MCAST_CAPS='video/x-raw, format=(string)\"S16LE\"'")
  run multicast-tcp-relay MCASTPROXY_CONF="$c"
  accepted "comments, blank lines, quoted values" \
    "gst-launch-1.0 mcastsrc-relay address=239.1.2.3 port=6000 caps='video/x-raw, format=\(string\)\"S16LE\"' ! tcpsplitsink port=5100 framing=auto"

  echo "-- booleans in every spelling; TLS never silently off"
  local v cert=$WORK/cert.pem
  echo "a readable file" >"$cert"
  for v in true yes 1 on TRUE Yes ON True; do
    run multicast-tcp-relay MCASTPROXY_TLS=$v MCASTPROXY_TLS_CERTIFICATE="$cert"
    accepted "MCASTPROXY_TLS=$v is TLS" \
      "gst-launch-1.0 mcastsrc-relay address=239.255.42.42 port=5004 ! tcpsplitsink port=5100 framing=auto tls=true tls-certificate=$cert"
  done
  for v in false no 0 off FALSE No OFF ''; do
    run multicast-tcp-relay MCASTPROXY_TLS=$v MCAST_LOOP=$v
    accepted "MCASTPROXY_TLS='$v' is no TLS" \
      "gst-launch-1.0 mcastsrc-relay address=239.255.42.42 port=5004 ! tcpsplitsink port=5100 framing=auto"
  done
  run tcp-relay-multicast MCAST_LOOP=Yes
  accepted "MCAST_LOOP=Yes is loop=true" ".* ttl-mc=1 loop=true"
  run splitting-server MCASTPROXY_TLS=maybe
  refused "MCASTPROXY_TLS=maybe is refused" \
    "splitting-server: environment: MCASTPROXY_TLS=maybe: not a boolean (true/false, yes/no, on/off, 1/0)"
  c=$(conf tls.conf 'MCASTPROXY_TLS=yes')
  run multicast-tcp-relay MCASTPROXY_CONF="$c"
  refused "TLS from a file, a listener without a certificate" \
    "multicast-tcp-relay: $P/mcastproxy.conf:$(grep -n '^MCASTPROXY_TLS_CERTIFICATE=' "$P/mcastproxy.conf" | cut -d: -f1): MCASTPROXY_TLS_CERTIFICATE='': empty, but with MCASTPROXY_TLS=true a listener needs its certificate"

  echo "-- misspelled names"
  c=$(conf typo.conf 'MCAST_GROUP=239.1.1.9' 'MCAST_GRUOP=239.1.1.1')
  run multicast-tcp-relay MCASTPROXY_CONF="$c"
  if [ "$RC" = 0 ] && [ "$OUT" = "gst-launch-1.0 mcastsrc-relay address=239.1.1.9 port=5004 ! tcpsplitsink port=5100 framing=auto" ] &&
      [ "$ERR" = "multicast-tcp-relay: warning: $c:2: MCAST_GRUOP is not a setting of the tools, ignored (did you mean MCAST_GROUP?)" ]; then
    pass "a misspelled name in a file: one warning, with the likely name"
  else
    fail "misspelled name in a file: exit $RC, stdout '$OUT', stderr '$ERR'"
  fi
  run hub TCP_SPLITER_CLIENT_PORT=1 HUB_IN_PROT=5 ISLAND_NAME=x
  if [ "$RC" = 0 ] && [ "$(printf '%s\n' "$ERR" | sort)" = \
"hub: warning: environment: HUB_IN_PROT is not a setting of the tools, ignored (did you mean HUB_IN_PORT?)
hub: warning: environment: ISLAND_NAME is not a setting of the tools, ignored
hub: warning: environment: TCP_SPLITER_CLIENT_PORT is not a setting of the tools, ignored (did you mean TCP_SPLITTER_CLIENT_PORT?)" ]; then
    pass "names that look like ours in the environment: a warning each"
  else
    fail "misspelled names in the environment: exit $RC, stderr '$ERR'"
  fi

  echo "-- ISLAND_ID"
  for t in island-gateway mesh-node; do
    run $t ISLAND_ID=0
    refused "$t: ISLAND_ID=0 is refused" \
      "$t: environment: ISLAND_ID=0: 0 is no island id (every element would pick its own random id and the island would get its own traffic back): a number 1-18446744073709551615 or a name"
    run $t ISLAND_ID=
    refused "$t: an empty ISLAND_ID is refused" \
      "$t: environment: ISLAND_ID='': empty: a number 1-18446744073709551615 or a name (a letter, then letters, digits, '.', '-' or '_'; at most 64)"
  done
  c=$(conf id.conf '' 'ISLAND_ID=18446744073709551616')
  run island-gateway MCASTPROXY_CONF="$c"
  refused "an id beyond 64 bits is refused, at its line" \
    "island-gateway: $c:2: ISLAND_ID=18446744073709551616: out of range: an island id is a number 1-18446744073709551615 or a name"
  run island-gateway ISLAND_ID=2x
  refused "ISLAND_ID=2x is refused" \
    "island-gateway: environment: ISLAND_ID=2x: not an island id: a number 1-18446744073709551615 or a name (a letter, then letters, digits, '.', '-' or '_'; at most 64)"
  run island-gateway ISLAND_ID=18446744073709551615
  accepted "the largest id" \
    "gst-launch-1.0 tcpsplitsrc .* peer-id=18446744073709551615 .* peer-id=18446744073709551615 .* peer-id=18446744073709551615 ignore-sources=:5499 ! hub_in."
  local id=" peer-id=$LONDON_ID "
  for v in london London LONDON; do
    run island-gateway ISLAND_ID=$v
    accepted "ISLAND_ID=$v is peer-id $LONDON_ID on all three elements" \
      "gst-launch-1.0 tcpsplitsrc host=127.0.0.1 port=5401${id}framing=mpx ! .* tcpsplitsink name=hub_in mode=caller host=127.0.0.1 port=5400${id}framing=mpx mcastsrc-relay address=239.255.42.42 port=5004${id}ignore-sources=:5499 ! hub_in."
  done
  run mesh-node ISLAND_ID=london
  accepted "mesh-node: ISLAND_ID=london is island-id $LONDON_ID" \
    "gst-launch-1.0 tcpmeshrouter name=mesh island-id=$LONDON_ID port=5300 ! .*${id}ignore-sources=:5499 ! mesh."
  run island-gateway ISLAND_ID=paris
  [[ $OUT == *"$id"* ]] && fail "paris has london's id" ||
    pass "another name, another id"

  echo "-- ports"
  for t in $TOOLS; do
    run "$t" MCAST_PORT=70000
    refused "$t: MCAST_PORT=70000 is refused" \
      "$t: environment: MCAST_PORT=70000: not a port number (1-65535, or 0 for a free one)"
  done
  c=$(conf port.conf 'HUB_OUT_PORT=5x')
  run hub MCASTPROXY_CONF="$c"
  refused "HUB_OUT_PORT=5x from a file" \
    "hub: $c:1: HUB_OUT_PORT=5x: not a port number (1-65535, or 0 for a free one)"
  run multicast-tcp-client-relay TCP_TCP_SPLITTER_PORT=0
  refused "a caller's port 0 is refused" \
    "multicast-tcp-client-relay: environment: TCP_TCP_SPLITTER_PORT=0: 0 is no port to connect or send to (1-65535)"
  run tcp-relay-multicast MCAST_PORT=0
  refused "a re-multicast to port 0 is refused" \
    "tcp-relay-multicast: environment: MCAST_PORT=0: 0 is no port to connect or send to (1-65535)"
  run island-gateway MCAST_GROUPS=239.10.0.0/16:5004
  refused "ranges carried on demand need the LAN interface" \
    "island-gateway: $P/mcastproxy.conf:23: MCAST_IFACE='': empty, but MCAST_GROUPS names ranges carried on demand: name the LAN interface, where the gateway hears who listens (IGMP/MLD)"
  run mesh-node MCAST_IFACE=lo MCAST_GROUPS=239.10.0.0/16:5004
  accepted "a mesh node carries ranges on demand too" \
    "gst-launch-1.0 tcpmeshrouter name=mesh island-id=1 port=5300 ! tcpremcastsink original-group=true address=239.10.0.0 port=5004 bind-port=5499 ttl-mc=1 loop=false scope=239.10.0.0/16:5004 original-source=true multicast-iface=lo mcastsrc-relay scope=239.10.0.0/16:5004 peer-id=1 ignore-sources=:5499 multicast-iface=lo ! mesh."
  run island-gateway MCAST_IFACE=lo 'MCAST_GROUPS=239.10.0.0/16:5004 ff3e::/96:5004 232.1.1.0/24:5000-5010 239.1.1.1:4000'
  accepted "ranges carried on demand: one mcastsrc-relay and a tcpremcastsink with the scope" \
    "gst-launch-1.0 tcpsplitsrc host=127.0.0.1 port=5401 peer-id=1 framing=mpx ! tcpremcastsink original-group=true address=239.1.1.1 port=4000 bind-port=5499 ttl-mc=1 loop=false scope='239.10.0.0/16:5004 \\[ff3e::\\]/96:5004 232.1.1.0/24:5000-5010 239.1.1.1:4000' original-source=true multicast-iface=lo tcpsplitsink name=hub_in mode=caller host=127.0.0.1 port=5400 peer-id=1 framing=mpx mcastsrc-relay scope='239.10.0.0/16:5004 \\[ff3e::\\]/96:5004 232.1.1.0/24:5000-5010 239.1.1.1:4000' peer-id=1 ignore-sources=:5499 multicast-iface=lo ! hub_in."
  run splitting-server TCP_TCP_SPLITTER_PORT=0 TCP_SPLITTER_CLIENT_PORT=00
  accepted "a listener's port 0: any free one" \
    "gst-launch-1.0 tcpsplitsrc mode=listener host=127.0.0.1 port=0 framing=auto ! tcpsplitsink host=127.0.0.1 port=0 framing=auto"
  for t in multicast-tcp-relay multicast-tcp-client-relay; do
    run $t MCAST_PORT=0
    accepted "$t, which only receives the group: MCAST_PORT=0 binds a free port" \
      "gst-launch-1.0 mcastsrc-relay address=239.255.42.42 port=0 ! .*"
  done
  run island-gateway MCAST_GATEWAY_PORT=0
  refused "MCAST_GATEWAY_PORT=0 is refused" \
    "island-gateway: environment: MCAST_GATEWAY_PORT=0: not a port number (1-65535)"

  echo "-- groups, addresses, numbers, names"
  local bad
  while IFS='|' read -r t bad want; do
    run "$t" "$bad"
    refused "$bad" "$t: environment: $want"
  done <<'EOF'
multicast-tcp-relay|MCAST_GROUP=10.1.2.3|MCAST_GROUP=10.1.2.3: not a multicast group (IPv4 224.0.0.0 to 239.255.255.255, IPv6 ff00::/8)
multicast-tcp-relay|MCAST_GROUP=239.1.1.256|MCAST_GROUP=239.1.1.256: not a multicast group (IPv4 224.0.0.0 to 239.255.255.255, IPv6 ff00::/8)
multicast-tcp-relay|MCAST_GROUP=ff::1|MCAST_GROUP=ff::1: not a multicast group (IPv4 224.0.0.0 to 239.255.255.255, IPv6 ff00::/8)
multicast-tcp-relay|MCAST_SOURCE=10.0.0.1,ff3e::1|MCAST_SOURCE=10.0.0.1,ff3e::1: 'ff3e::1' is not a numeric unicast address (sources are comma-separated)
multicast-tcp-relay|MCAST_SOURCE=2001:db8::1|MCAST_SOURCE=2001:db8::1: sources and MCAST_GROUP 239.255.42.42 must be of one family (IPv4 or IPv6)
tcp-relay-multicast|MCAST_TTL=256|MCAST_TTL=256: not a TTL (0-255)
island-gateway|MCAST_GROUPS=239.1.1.1:5004 ff3e::1:5006|MCAST_GROUPS='239.1.1.1:5004 ff3e::1:5006': 'ff3e::1:5006': write IPv6 groups as [group]:port (or PREFIX/LEN:port)
island-gateway|MCAST_GROUPS=239.10.0.1/16:5004|MCAST_GROUPS=239.10.0.1/16:5004: '239.10.0.1/16:5004': 239.10.0.1 has bits set after the /16
island-gateway|MCAST_GROUPS=239.10.0.0/33:5004|MCAST_GROUPS=239.10.0.0/33:5004: '239.10.0.0/33:5004': /33 is not a prefix length (0-32)
island-gateway|MCAST_GROUPS=10.0.0.0/8:5004|MCAST_GROUPS=10.0.0.0/8:5004: '10.0.0.0/8:5004': 10.0.0.0 is not a multicast group
island-gateway|MCAST_GROUPS=232.1.1.0/24:5010-5000|MCAST_GROUPS=232.1.1.0/24:5010-5000: '232.1.1.0/24:5010-5000': the port range 5010-5000 ends before it starts
island-gateway|MCAST_GROUPS=[ff3e::]/129:5004|MCAST_GROUPS='[ff3e::]/129:5004': '[ff3e::]/129:5004': /129 is not a prefix length (0-128)
island-gateway|MCAST_GROUPS=239.1.1.1|MCAST_GROUPS=239.1.1.1: '239.1.1.1' is not group:port
mesh-node|MCAST_GROUPS=[ff3e::1]:0|MCAST_GROUPS='[ff3e::1]:0': '[ff3e::1]:0': 0 is not a port number (1-65535)
mesh-node|MESH_PEERS=10.0.0.1:5300 10.0.0.2|MESH_PEERS='10.0.0.1:5300 10.0.0.2': '10.0.0.2' is not host:port
hub|HUB_IP=hub example|HUB_IP='hub example': not an address or a host name (IPv6 without [ ])
splitting-server|MCASTPROXY_ALLOW=10.0.0.0/8,10.1.2.3/8|MCASTPROXY_ALLOW=10.0.0.0/8,10.1.2.3/8: '10.1.2.3/8' is not a network (ADDRESS/PREFIX with no bits set after the prefix, or ADDRESS; comma-separated)
splitting-server|MCASTPROXY_FRAMING=mpeg|MCASTPROXY_FRAMING=mpeg: not a framing (auto, mpx, rfc4571 or raw)
splitting-server|MCASTPROXY_STATS_INTERVAL=1s|MCASTPROXY_STATS_INTERVAL=1s: not a number of nanoseconds (0-18446744073709551615)
splitting-server|MCASTPROXY_STATUS=sometimes|MCASTPROXY_STATUS=sometimes: not 1 (show), 0 (never) or auto (when stderr is a terminal); true/false, yes/no and on/off also do
EOF
  run island-gateway "MCAST_GROUPS=239.1.1.1:5004, [FF3E::1]:5006"
  accepted "MCAST_GROUPS: IPv6 in brackets, commas or spaces" \
    "gst-launch-1.0 .* tcpremcastsink original-group=true address=239.1.1.1 port=5004 .* mcastsrc-relay address=239.1.1.1 port=5004 .* mcastsrc-relay address=ff3e::1 port=5006 peer-id=1 ignore-sources=:5499 ! up."
  run mesh-node "MESH_PEERS=10.0.0.1:5300 hub.example.net:5301,[fd00::1]:5302"
  accepted "MESH_PEERS: one list for the element" \
    "gst-launch-1.0 tcpmeshrouter name=mesh island-id=1 port=5300 peers='10.0.0.1:5300,hub.example.net:5301,\[fd00::1\]:5302' ! .*"

  echo "-- what depends on the host: interfaces and files"
  run multicast-tcp-relay MCAST_IFACE=lo,nosuch0
  if [ "$RC" = 0 ] && [ "$ERR" = "multicast-tcp-relay: warning: environment: MCAST_IFACE=lo,nosuch0: no network interface named nosuch0 on this host (a real run stops here)" ] &&
      [ "$OUT" = "gst-launch-1.0 mcastsrc-relay address=239.255.42.42 port=5004 multicast-iface=lo,nosuch0 ! tcpsplitsink port=5100 framing=auto" ]; then
    pass "a dry run (perhaps for another host) warns about a missing interface"
  else
    fail "dry run, missing interface: exit $RC, stdout '$OUT', stderr '$ERR'"
  fi
  # real runs: they stop before anything starts
  real () {
    local tool=$1
    shift
    OUT=$(env "$@" MCAST_TCP_SPLITTER_PORT=0 timeout 20 "$P/$tool" 2>"$WORK/err")
    RC=$?
    ERR=$(cat "$WORK/err")
  }
  real multicast-tcp-relay MCAST_IFACE=lo,nosuch0
  refused "a real run with a missing interface stops" \
    "multicast-tcp-relay: environment: MCAST_IFACE=lo,nosuch0: no network interface named nosuch0 on this host"
  real multicast-tcp-relay MCASTPROXY_AUTH_SECRET_FILE="$WORK/none"
  refused "a missing secret file" \
    "multicast-tcp-relay: environment: MCASTPROXY_AUTH_SECRET_FILE=$WORK/none: no such file"
  head -c 32 /dev/urandom | base64 >"$WORK/secret"
  chmod 644 "$WORK/secret"
  real multicast-tcp-relay MCASTPROXY_AUTH_SECRET_FILE="$WORK/secret"
  refused "a secret file others may read" \
    "multicast-tcp-relay: environment: MCASTPROXY_AUTH_SECRET_FILE=$WORK/secret: others may read it (mode 644): chmod 600 it"
  : >"$WORK/secret"
  chmod 600 "$WORK/secret"
  real multicast-tcp-relay MCASTPROXY_AUTH_SECRET_FILE="$WORK/secret"
  refused "an empty secret file" \
    "multicast-tcp-relay: environment: MCASTPROXY_AUTH_SECRET_FILE=$WORK/secret: the secret file is empty"
  real multicast-tcp-relay MCASTPROXY_TLS=on MCASTPROXY_TLS_CERTIFICATE="$WORK"
  refused "a directory for a certificate" \
    "multicast-tcp-relay: environment: MCASTPROXY_TLS_CERTIFICATE=$WORK: a directory, not a file"

  echo "-- MCASTPROXY_DSCP"
  local n_send n_dscp tools
  for v in EF:46 af41:34 CS1:8 cs7:56 VA:44 le:1 DF:0 0:0 63:63; do
    # every tool once, every spelling once
    case $v in
      EF:46) tools=$TOOLS ;;
      *) tools=island-gateway ;;
    esac
    for t in $tools; do
      run "$t" MCASTPROXY_DSCP="${v%:*}"
      n_send=$(printf '%s\n' "$OUT" | grep -oE ' (tcpsplitsink|tcpmeshrouter|tcpremcastsink|mcastgateway) ' | wc -l)
      n_dscp=$(printf '%s\n' "$OUT" | grep -o " qos-dscp=${v#*:}\( \|$\)" | wc -l)
      if [ "$RC" = 0 ] && [ -z "$ERR" ] && [ "$n_send" -ge 1 ] &&
          [ "$n_dscp" = "$n_send" ] &&
          [ "$(printf '%s\n' "$OUT" | grep -o qos-dscp | wc -l)" = "$n_send" ]; then
        pass "$t: MCASTPROXY_DSCP=${v%:*} is qos-dscp=${v#*:} on its $n_send sending element(s)"
      else
        fail "$t: MCASTPROXY_DSCP=${v%:*}: exit $RC, '$OUT', '$ERR'"
      fi
    done
  done
  run hub
  [[ $OUT == *qos-dscp* ]] && fail "no MCASTPROXY_DSCP, yet qos-dscp" ||
    pass "no MCASTPROXY_DSCP: the system's marking"
  for v in 64 AF44 -1; do
    run hub MCASTPROXY_DSCP=$v
    refused "MCASTPROXY_DSCP=$v is refused" \
      "hub: environment: MCASTPROXY_DSCP=$v: not a DSCP (0-63, or CS0-CS7, AF11-AF43, EF, VA, LE, DF)"
  done

  echo "-- precedence: environment, then MCASTPROXY_CONF, then the shipped file"
  c=$(conf prec.conf 'MCAST_TTL=5' 'MCAST_IFACE=lo')
  run tcp-relay-multicast MCASTPROXY_CONF="$c"
  accepted "the file over the shipped defaults" ".* multicast-iface=lo ttl-mc=5 loop=false"
  run tcp-relay-multicast MCASTPROXY_CONF="$c" MCAST_TTL=6 MCAST_IFACE=
  accepted "the environment over the file, an empty value too" \
    ".* port=5004 ttl-mc=6 loop=false"

  echo "-- MCAST_CAPS"
  local caps_re="caps='video/mpegts,systemstream=true'"
  for t in multicast-tcp-relay multicast-tcp-client-relay island-gateway mesh-node; do
    run "$t" MCAST_CAPS=video/mpegts,systemstream=true
    if [ "$RC" = 0 ] && [ -z "$ERR" ] &&
        [ "$(printf '%s\n' "$OUT" | grep -o "mcastsrc-relay [^!]* $caps_re " | wc -l)" = 1 ]; then
      pass "$t: MCAST_CAPS quoted as $caps_re on its mcastsrc-relay"
    else
      fail "$t MCAST_CAPS: exit $RC, '$OUT', '$ERR'"
    fi
  done
  run island-gateway MCAST_CAPS=video/mpegts "MCAST_GROUPS=239.1.1.1:1 239.1.1.2:2"
  [ "$(printf '%s\n' "$OUT" | grep -o " caps=video/mpegts " | wc -l)" = 2 ] &&
    pass "every mcastsrc-relay of a gateway gets the caps" ||
    fail "gateway with two groups: '$OUT'"
  run multicast-tcp-relay 'MCAST_CAPS=video/mpegts,,systemstream'
  refused "caps GStreamer cannot read are refused" \
    "multicast-tcp-relay: environment: MCAST_CAPS=video/mpegts,,systemstream: not caps that GStreamer can read (e.g. video/mpegts,systemstream=true)"
  run multicast-tcp-relay MCAST_CAPS=EMPTY
  refused "EMPTY caps are refused" \
    "multicast-tcp-relay: environment: MCAST_CAPS=EMPTY: EMPTY caps would refuse every datagram"

  # a real multicast-tcp-relay with the caps: an HTTP player gets video/mp2t
  # (the sanitized build preloads the ASan runtime: for GStreamer only)
  local gst_preload=${LD_PRELOAD:-} tcp_port
  : >"$WORK/relay.log"
  env -u LD_PRELOAD LD_PRELOAD="$gst_preload" \
    MCAST_CAPS='video/mpegts, systemstream=(boolean)true' \
    MCAST_GROUP=239.7.7.10 MCAST_PORT=0 MCAST_TCP_SPLITTER_IP=127.0.0.1 \
    MCAST_TCP_SPLITTER_PORT=0 MCASTPROXY_LAUNCH_FLAGS=-v \
    "$P/multicast-tcp-relay" >"$WORK/relay.log" 2>&1 &
  PIDS+=($!)
  tcp_port=$(port_of "$WORK/relay.log" GstTcpSplitSink:tcpsplitsink)
  expect "the printed line" "$(head -n 1 "$WORK/relay.log")" \
    "gst-launch-1.0 -v mcastsrc-relay address=239.7.7.10 port=0 caps='video/mpegts, systemstream=(boolean)true' ! tcpsplitsink host=127.0.0.1 port=0 framing=auto"
  if [ -n "$tcp_port" ] &&
      wait_for "$WORK/relay.log" "GstTcpSplitSink:tcpsplitsink0.GstPad:sink: caps = video/mpegts, systemstream=(boolean)true"; then
    (unset LD_PRELOAD; curl -sS -m 20 -I "http://127.0.0.1:$tcp_port/") \
      >"$WORK/head" 2>&1
    expect "curl -I gets Content-Type video/mp2t" \
      "$(grep -i '^content-type:' "$WORK/head" | tr -d '\r')" \
      "Content-Type: video/mp2t"
  else
    fail "the relay with MCAST_CAPS did not start: $(tail -n 5 "$WORK/relay.log")"
  fi

  echo "-- channel-gateway"
  local tok=$WORK/token pl=$WORK/list.m3u
  echo s3cret >"$tok"
  chmod 600 "$tok"
  echo '#EXTM3U' >"$pl"
  run channel-gateway
  accepted "the defaults: every address, port 4022" \
    "gst-launch-1.0 mcastgateway port=4022"
  run channel-gateway GATEWAY_HOST=127.0.0.1 GATEWAY_PORT=4023 MCAST_IFACE=lo \
    GATEWAY_PLAYLIST="$pl" "GATEWAY_GROUPS=239.1.0.0/16, ff3e::/16" \
    GATEWAY_TOKEN_FILE="$tok" GATEWAY_MAX_CLIENTS=100 GATEWAY_MAX_CHANNELS=010 \
    GATEWAY_MAX_CHANNEL_CLIENTS=20 MCASTPROXY_ALLOW=10.0.0.0/8 MCASTPROXY_TLS=yes \
    MCASTPROXY_TLS_CERTIFICATE="$cert" MCASTPROXY_DSCP=AF41 \
    MCASTPROXY_STATS_INTERVAL=1000000000
  accepted "every setting on its property" \
    "gst-launch-1.0 -m mcastgateway host=127.0.0.1 port=4023 multicast-iface=lo playlist=$pl groups=239.1.0.0/16,ff3e::/16 token-file=$tok max-clients=100 max-channels=10 max-channel-clients=20 allow=10.0.0.0/8 tls=true tls-certificate=$cert qos-dscp=34 stats-interval=1000000000"
  while IFS='|' read -r bad want; do
    run channel-gateway "$bad"
    refused "channel-gateway: $bad" "channel-gateway: environment: $want"
  done <<'EOF'
GATEWAY_PORT=70000|GATEWAY_PORT=70000: not a port number (1-65535, or 0 for a free one)
GATEWAY_MAX_CLIENTS=-1|GATEWAY_MAX_CLIENTS=-1: not a number (0-4294967295; 0: no limit)
GATEWAY_MAX_CHANNEL_CLIENTS=4294967296|GATEWAY_MAX_CHANNEL_CLIENTS=4294967296: not a number (0-4294967295; 0: no limit)
GATEWAY_GROUPS=239.1.1.1/8|GATEWAY_GROUPS=239.1.1.1/8: '239.1.1.1/8' is not a network (ADDRESS/PREFIX with no bits set after the prefix, or ADDRESS; comma-separated)
GATEWAY_HOST=any host|GATEWAY_HOST='any host': not an address or a host name (IPv6 without [ ])
EOF
  run channel-gateway MCASTPROXY_TLS=on MCASTPROXY_TLS_CERTIFICATE="$cert" \
    MCASTPROXY_TLS_CLIENT_CA="$cert"
  refused "channel-gateway: no client certificates to require" \
    "channel-gateway: environment: MCASTPROXY_TLS_CLIENT_CA=$cert: the channel gateway cannot require client certificates (use GATEWAY_TOKEN_FILE)"
  run channel-gateway GATEWAY_PORTT=4023
  if [ "$RC" = 0 ] && [ "$OUT" = "gst-launch-1.0 mcastgateway port=4022" ] &&
      [ "$ERR" = "channel-gateway: warning: environment: GATEWAY_PORTT is not a setting of the tools, ignored (did you mean GATEWAY_PORT?)" ]; then
    pass "GATEWAY_PORTT: one warning, with the likely name"
  else
    fail "GATEWAY_PORTT: exit $RC, stdout '$OUT', stderr '$ERR'"
  fi
  real channel-gateway GATEWAY_PLAYLIST="$WORK/none.m3u"
  refused "a missing playlist" \
    "channel-gateway: environment: GATEWAY_PLAYLIST=$WORK/none.m3u: no such file"
  chmod 640 "$tok"
  real channel-gateway GATEWAY_TOKEN_FILE="$tok"
  refused "a token file others may read" \
    "channel-gateway: environment: GATEWAY_TOKEN_FILE=$tok: others may read it (mode 640): chmod 600 it"
  : >"$tok"
  chmod 600 "$tok"
  real channel-gateway GATEWAY_TOKEN_FILE="$tok"
  refused "an empty token file" \
    "channel-gateway: environment: GATEWAY_TOKEN_FILE=$tok: the token file is empty"

  # a real gateway: curl asks for a group, mcp-send sends to it (warm-up
  # datagrams until curl has its first bytes, then 300 numbered ones), and
  # curl gets every byte, in order; the channel's timeout (5 s of silence)
  # ends the response
  local gw_port n_warm why curl_pid send_pid
  env -u LD_PRELOAD LD_PRELOAD="$gst_preload" GATEWAY_HOST=127.0.0.1 \
    GATEWAY_PORT=0 MCAST_IFACE=lo MCASTPROXY_LAUNCH_FLAGS=-v \
    "$P/channel-gateway" >"$WORK/gw.log" 2>&1 &
  PIDS+=($!)
  gw_port=$(port_of "$WORK/gw.log" GstMcastGateway:mcastgateway)
  expect "channel-gateway prints its line" "$(head -n 1 "$WORK/gw.log")" \
    "gst-launch-1.0 -v mcastgateway host=127.0.0.1 port=0 multicast-iface=lo"
  if [ -n "$gw_port" ]; then
    (unset LD_PRELOAD; curl -sS -m 30 -o "$WORK/gw.out" \
      "http://127.0.0.1:$gw_port/udp/239.7.7.11:6011") 2>"$WORK/curl.err" &
    curl_pid=$!
    (unset LD_PRELOAD; "$MCASTPROXY_BUILD/tests/tools/mcp-send" \
      --group 239.7.7.11 --port 6011 --iface lo --count 300 --rate 1000 \
      --warmup-until "$WORK/gw.go" --warmup-timeout 20 -q) &
    send_pid=$!
    timeout 20 sh -c "until [ -s '$WORK/gw.out' ]; do sleep 0.02; done"
    touch "$WORK/gw.go"
    wait "$send_pid"
    expect "mcp-send sent its stream" "$?" 0
    wait "$curl_pid"
    expect "curl ended with the channel (exit 0)" "$? $(cat "$WORK/curl.err")" "0 "
    # the warm-up datagrams (MCPW) come first: the rest is the stream
    n_warm=$(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
n = 0
while d[n * 1316:n * 1316 + 4] == b"MCPW":
    n += 1
open(sys.argv[1] + ".stream", "wb").write(d[n * 1316:])
print(n)' "$WORK/gw.out")
    if why=$(check_stream "$WORK/gw.out.stream" 300 1316 2>&1); then
      pass "curl got the 300 datagrams sent, byte for byte ($n_warm warm-up before)"
    else
      fail "curl /udp/239.7.7.11:6011: $why"
    fi
  else
    fail "channel-gateway did not start: $(tail -n 5 "$WORK/gw.log")"
  fi

  echo "-- amt-relay"
  # this namespace's host: a relay address of each family (the anycast
  # address comes later)
  ip addr add 10.30.0.1/24 dev lo
  ip addr add fd30::1/64 dev lo nodad
  local amt="AMT_RELAY_IP=10.30.0.1 MCAST_IFACE=lo MCAST_GROUPS=232.1.1.0/24:5000"
  local amt_line="gst-launch-1.0 mcastsrc-relay scope=232.1.1.0/24:5000 multicast-iface=lo ! amtrelay address=10.30.0.1 port=2268 query-interval=125000000000 max-gateways=1000 max-groups=64"
  # shellcheck disable=SC2086
  run amt-relay $amt
  accepted "the typical settings: scope, interface, address; the rest defaults" \
    "$amt_line"
  run amt-relay AMT_RELAY_IP=FD30::1 MCAST_IFACE=lo AMT_RELAY_PORT=02269 \
    "MCAST_GROUPS=232.1.1.0/24:5000-5010, ff3e::8000:0/112:5004 239.1.1.1:5004" \
    AMT_QUERY_INTERVAL=10000000000 AMT_MAX_GATEWAYS=0 AMT_MAX_GROUPS=4096 \
    MCASTPROXY_ALLOW=192.0.2.0/24,2001:db8::/32 \
    MCASTPROXY_STATS_INTERVAL=1000000000
  accepted "every setting on its property, an IPv6 relay" \
    "gst-launch-1.0 -m mcastsrc-relay scope='232.1.1.0/24:5000-5010 \\[ff3e::8000:0\\]/112:5004 239.1.1.1:5004' multicast-iface=lo stats-interval=1000000000 ! amtrelay address=fd30::1 port=2269 query-interval=10000000000 max-gateways=0 max-groups=4096 allow=192.0.2.0/24,2001:db8::/32 stats-interval=1000000000"
  # shellcheck disable=SC2086
  run amt-relay $amt AMT_DISCOVERY_IP=fd30::1
  accepted "a second address of this host answers discovery" \
    "gst-launch-1.0 .* amtrelay address=10.30.0.1 port=2268 discovery-address=fd30::1 query-interval=.*"
  # a dry run may be meant for another host: what depends on this one
  # only warns
  run amt-relay AMT_RELAY_IP=203.0.113.5 AMT_DISCOVERY_IP=192.52.193.1 \
    MCAST_IFACE=eth9 MCAST_GROUPS=232.0.0.0/8:5000
  if [ "$RC" = 0 ] && [ "$OUT" = "gst-launch-1.0 mcastsrc-relay scope=232.0.0.0/8:5000 multicast-iface=eth9 ! amtrelay address=203.0.113.5 port=2268 discovery-address=192.52.193.1 query-interval=125000000000 max-gateways=1000 max-groups=64" ] &&
      [ "$ERR" = "amt-relay: warning: environment: AMT_RELAY_IP=203.0.113.5: not an address of this host (ip addr shows no 203.0.113.5) (a real run stops here)
amt-relay: warning: environment: AMT_DISCOVERY_IP=192.52.193.1: not an address of this host (ip addr shows no 192.52.193.1) (a real run stops here)
amt-relay: warning: environment: MCAST_IFACE=eth9: no network interface named eth9 on this host (a real run stops here)" ]; then
    pass "a dry run for another host: the line, and a warning for each address and the interface"
  else
    fail "amt-relay dry run for another host: exit $RC, stdout '$OUT', stderr '$ERR'"
  fi

  # the mistakes a new user makes: each one line naming the setting
  run amt-relay
  refused "the shipped file: no relay address yet" \
    "amt-relay: $P/mcastproxy.conf:$(grep -n '^AMT_RELAY_IP=' "$P/mcastproxy.conf" | cut -d: -f1): AMT_RELAY_IP='': empty: the relay needs the numeric address of this host that gateways reach it at"
  c=$(conf amt.conf 'MCAST_IFACE=lo' 'MCAST_GROUPS=232.1.1.0/24:5000' \
    'AMT_RELAY_IP=relay.example.net')
  run amt-relay MCASTPROXY_CONF="$c"
  refused "a host name for the relay address, from a file" \
    "amt-relay: $c:3: AMT_RELAY_IP=relay.example.net: not a numeric address (e.g. 203.0.113.5 or 2001:db8::5; no host names: it must be an address of this host)"
  while IFS='|' read -r bad want; do
    # shellcheck disable=SC2086
    run amt-relay $amt "$bad"
    refused "amt-relay: $bad" "amt-relay: environment: $want"
  done <<'EOF'
AMT_RELAY_IP=|AMT_RELAY_IP='': empty: the relay needs the numeric address of this host that gateways reach it at
AMT_RELAY_IP=10.30.0.l|AMT_RELAY_IP=10.30.0.l: not a numeric address (e.g. 203.0.113.5 or 2001:db8::5; no host names: it must be an address of this host)
AMT_RELAY_IP=10.30.0.256|AMT_RELAY_IP=10.30.0.256: not a numeric address (e.g. 203.0.113.5 or 2001:db8::5; no host names: it must be an address of this host)
AMT_RELAY_IP=10.30.0.1:2268|AMT_RELAY_IP=10.30.0.1:2268: not a numeric address (e.g. 203.0.113.5 or 2001:db8::5; no host names: it must be an address of this host)
AMT_RELAY_IP=0.0.0.0|AMT_RELAY_IP=0.0.0.0: the wildcard address: name one address of this host, which gateways are told
AMT_RELAY_IP=::|AMT_RELAY_IP=::: the wildcard address: name one address of this host, which gateways are told
AMT_RELAY_IP=232.1.1.1|AMT_RELAY_IP=232.1.1.1: a multicast group, not a unicast address of this host
AMT_RELAY_PORT=0|AMT_RELAY_PORT=0: not a port number (1-65535)
AMT_RELAY_PORT=70000|AMT_RELAY_PORT=70000: not a port number (1-65535)
AMT_DISCOVERY_IP=anycast|AMT_DISCOVERY_IP=anycast: not a numeric address (e.g. 203.0.113.5 or 2001:db8::5; no host names: it must be an address of this host)
AMT_DISCOVERY_IP=10.30.0.1|AMT_DISCOVERY_IP=10.30.0.1: the same as AMT_RELAY_IP, where discovery is answered anyway (empty: no second address)
MCAST_IFACE=|MCAST_IFACE='': empty, but the AMT relay joins MCAST_GROUPS natively: name the interface of its multicast network
MCAST_GROUPS=|MCAST_GROUPS='': empty: name the groups the relay may serve (group:port, or ranges joined on demand such as 232.0.0.0/8:5000)
MCAST_GROUPS=232.1.1.0/24|MCAST_GROUPS=232.1.1.0/24: '232.1.1.0/24' is not group:port
AMT_QUERY_INTERVAL=125|AMT_QUERY_INTERVAL=125: not a query interval in ns (1000000000-31744000000000: 1 s to 31744 s)
AMT_QUERY_INTERVAL=31745000000000|AMT_QUERY_INTERVAL=31745000000000: not a query interval in ns (1000000000-31744000000000: 1 s to 31744 s)
AMT_MAX_GATEWAYS=-1|AMT_MAX_GATEWAYS=-1: not a number (0-4294967295; 0: no limit)
AMT_MAX_GROUPS=0|AMT_MAX_GROUPS=0: not a number of groups (1-4096)
AMT_MAX_GROUPS=4097|AMT_MAX_GROUPS=4097: not a number of groups (1-4096)
MCASTPROXY_ALLOW=10.0.0.1/8|MCASTPROXY_ALLOW=10.0.0.1/8: '10.0.0.1/8' is not a network (ADDRESS/PREFIX with no bits set after the prefix, or ADDRESS; comma-separated)
EOF
  # shellcheck disable=SC2086
  run amt-relay $amt AMT_RELAY_PROT=2269
  if [ "$RC" = 0 ] && [ "$OUT" = "$amt_line" ] &&
      [ "$ERR" = "amt-relay: warning: environment: AMT_RELAY_PROT is not a setting of the tools, ignored (did you mean AMT_RELAY_PORT?)" ]; then
    pass "AMT_RELAY_PROT: one warning, with the likely name"
  else
    fail "AMT_RELAY_PROT: exit $RC, stdout '$OUT', stderr '$ERR'"
  fi
  # real runs: what is not on this host stops them before anything starts
  # shellcheck disable=SC2086
  real amt-relay $amt AMT_RELAY_IP=10.30.0.2
  refused "a real run: a relay address not on this host" \
    "amt-relay: environment: AMT_RELAY_IP=10.30.0.2: not an address of this host (ip addr shows no 10.30.0.2)"
  # shellcheck disable=SC2086
  real amt-relay $amt AMT_DISCOVERY_IP=192.52.193.1
  refused "a real run: a discovery address not on this host" \
    "amt-relay: environment: AMT_DISCOVERY_IP=192.52.193.1: not an address of this host (ip addr shows no 192.52.193.1)"
  # shellcheck disable=SC2086
  real amt-relay $amt MCAST_IFACE=eth9
  refused "a real run: no such interface" \
    "amt-relay: environment: MCAST_IFACE=eth9: no network interface named eth9 on this host"
  # AMT_DISCOVERY_IP=auto (the default): the anycast address once this
  # host has it; empty: none
  ip addr add 192.52.193.1/32 dev lo
  # shellcheck disable=SC2086
  run amt-relay $amt
  accepted "auto: the anycast 192.52.193.1, now that this host has it" \
    "gst-launch-1.0 .* amtrelay address=10.30.0.1 port=2268 discovery-address=192.52.193.1 query-interval=.*"
  # shellcheck disable=SC2086
  run amt-relay $amt AMT_DISCOVERY_IP=
  accepted "an empty AMT_DISCOVERY_IP: no discovery address" "$amt_line"
  # shellcheck disable=SC2086
  run amt-relay $amt AMT_RELAY_IP=192.52.193.1
  accepted "a relay on the anycast address itself: no second socket" \
    "gst-launch-1.0 .* amtrelay address=192.52.193.1 port=2268 query-interval=.*"
  ip addr del 192.52.193.1/32 dev lo

  echo "-- the documented settings are the ones the tools read"
  local names readme conf_names
  names=$(awk -f "$P/mcastproxy-config.awk" list settings | sort)
  conf_names=$(sed -n 's/^\([A-Z_]*\)=.*/\1/p' "$P/mcastproxy.conf" | sort)
  expect "mcastproxy.conf sets every setting once" "$conf_names" "$names"
  # the README's tables of variables: the `NAME`s of their first column
  readme=$(grep -E '^\| `[A-Z_]+`' "$TOP/README.md" | cut -d '|' -f 2 |
    grep -oE '`[A-Z_]+`' | tr -d '`' | sort -u)
  expect "README's tables list exactly the settings and knobs" "$readme" \
    "$( (awk -f "$P/mcastproxy-config.awk" list all; echo MCASTPROXY_CONF) |
      sort)"
  exit $FAILED
}

# ---------------------------------------------------------------------------
island () {
  . "$TOP/tests/integration/islands-test.sh"
  islands_test_init tools-config
  local COUNT=200 GROUP=239.77.3.1 PORT=6300 i
  local STATS=MCASTPROXY_STATS_INTERVAL=100000000
  island "$(ns hub)"
  i=1
  for isl in london paris; do
    island "$(ns $isl)"
    link "$(ns $isl)" up0 10.0.$i.1/24 "$(ns hub)" $isl 10.0.$i.2/24 off
    i=$((i + 1))
  done
  start hub "$(ns hub)" $STATS HUB_IP= -- "$P/hub"
  start gwlondon "$(ns london)" $STATS ISLAND_ID=london HUB_IP=10.0.1.2 \
    MCAST_GROUP=$GROUP MCAST_PORT=$PORT MCAST_IFACE=lo -- "$P/island-gateway"
  start gwparis "$(ns paris)" $STATS ISLAND_ID=Paris HUB_IP=10.0.2.2 \
    MCAST_GROUP=$GROUP MCAST_PORT=$PORT MCAST_IFACE=lo -- "$P/island-gateway"
  for isl in london paris; do
    start "recv$isl" "$(ns $isl)" -- "$MCP_RECV" --group $GROUP --port $PORT \
      --iface lo --count $COUNT --timeout 10
    wait_for "gw$isl" mcastproxy-client-added || return 1
    wait_for "gw$isl" mcastproxy-connected || return 1
    wait_for "recv$isl" joined || return 1
  done
  # slowly enough that an echo would come back while london still receives
  start send "$(ns london)" -- "$MCP_SEND" --group $GROUP --port $PORT \
    --iface lo --count $COUNT --rate 100
  wait "$PID_send"
  check_receiver recvlondon
  check_receiver recvparis

  # the hub: all 200 in, all 200 to paris, none back to london
  wait_stat hub tcpsplitsink-stats datagrams-sent $COUNT
  fresh_stats hub gwlondon
  local links want
  links=$(link_counts hub tcpsplitsink-stats | sort)
  want=$(printf '%s %s\n' "$LONDON_ID" 0 "$(paris_id)" $COUNT | sort)
  echo "   hub: in $(last_stat hub tcpsplitsrc-stats datagrams-received), sent per island (id datagrams): $(echo $links)"
  if [ "$(last_stat hub tcpsplitsrc-stats datagrams-received)" = $COUNT ] &&
      [ "$links" = "$want" ]; then
    pass "the hub sent london's $COUNT datagrams to paris only"
  else
    fail "hub links: '$links', expected '$want'"
  fi
  if [ "$(last_stat gwlondon tcpremcastsink-stats datagrams-sent)" = 0 ]; then
    pass "london's gateway re-multicast nothing (no echo)"
  else
    fail "london's gateway re-multicast $(last_stat gwlondon tcpremcastsink-stats datagrams-sent)"
  fi
  return $FAILED
}

paris_id () {
  python3 -c '
import hashlib
print(int.from_bytes(hashlib.sha256(b"paris").digest()[:8], "big") | 1 << 63)'
}

case $MODE in
  checks) checks ;;
  island)
    island || FAILED=1
    [ $FAILED = 0 ] && echo "tools-config island: PASS" || {
      echo "tools-config island: FAIL"
      KEEP_LOGS=1
    }
    exit $FAILED ;;
  *) echo "usage: tools-config.sh checks|island" >&2; exit 2 ;;
esac
