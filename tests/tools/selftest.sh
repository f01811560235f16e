#!/bin/sh
# Self-test of the test tools mcp-send and mcp-recv.
# Run inside a private network namespace:  netns-run selftest.sh MCP_SEND MCP_RECV
#
# Multicast cases send through lo (each with its own random port and the
# warm-up handshake: the sender waits for the receiver's ready file); the TCP
# cases check mcp-recv against a stream built independently by python3
# (for mpx, an mpx source written from docs/protocol.md, not from mcp-wire.c).
# Cases with several streams run one sender per stream id on the same group.

if [ $# -ne 2 ]; then
  echo "usage: $0 MCP_SEND MCP_RECV" >&2
  exit 2
fi
SEND=$1
RECV=$2
T=30                            # per-process limit (seconds)

dir=$(mktemp -d "${TMPDIR:-/tmp}/mcp-selftest.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

# A random base port in 20000..59899; every multicast case adds its number.
rnd=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
base=$((20000 + rnd % 39900))

# A plain IPv6 route via lo is turned into a reject route by the kernel
# (datagrams vanish, counted as Ip6OutNoRoutes); only a "local" route makes
# IPv6 multicast on lo work.
if ! ip -6 route show table local 2>/dev/null | grep -q '^local ff00::/8 dev lo'
then
  echo "selftest: note: no 'local ff00::/8 dev lo' route in this namespace;" \
    "adding it (IPv6 multicast on lo needs it)" >&2
  ip -6 route replace local ff00::/8 dev lo table local ||
    echo "selftest: could not add the IPv6 multicast route" >&2
fi

# field FILE NAME: the value of NAME=... in the summary line of FILE (not
# in mcp-recv's per-stream lines).
field () {
  grep -v '^mcp-recv: stream=' "$1" |
    sed -n "s/^mcp-[a-z]*:.* $2=\(-\{0,1\}[0-9.]*\).*/\1/p" | head -n 1
}

# sfield FILE STREAM NAME: the value of NAME=... in the line of STREAM.
sfield () {
  sed -n "s/^mcp-recv: stream=$2 \(.* \)\{0,1\}$3=\(-\{0,1\}[0-9]*\).*/\2/p" \
    "$1" | head -n 1
}

# lines FILE: the number of lines in FILE.
lines () {
  wc -l <"$1" | tr -d ' '
}

# result NAME OK DETAIL...
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
      sed 's/^/  | /' "$f"
    done
  fi
}

# run_mcast TAG GROUP PORT "SENDER ARGS" "RECEIVER ARGS"
# Sets src / rrc (exit statuses) and leaves $dir/TAG.{send,recv}[.err].
run_mcast () {
  tag=$1
  ready="$dir/$1.ready"
  # shellcheck disable=SC2086  # the argument lists are meant to split
  timeout $T "$RECV" --group "$2" --port "$3" --ready-file "$ready" $5 \
    >"$dir/$tag.recv" 2>"$dir/$tag.recv.err" &
  rpid=$!
  # shellcheck disable=SC2086
  timeout $T "$SEND" --group "$2" --port "$3" --warmup-until "$ready" \
    --warmup-timeout 10 $4 >"$dir/$tag.send" 2>"$dir/$tag.send.err"
  src=$?
  wait $rpid
  rrc=$?
}

# The multicast case with several senders: mstart starts the receiver in the
# background; each msend runs one sender (stream ID, with the warm-up
# handshake) and leaves its exit status in TAG.rcID; mwait waits for the
# receiver (rrc) and sets ssum to the sum of the senders' statuses.
# mstart TAG GROUP PORT "RECEIVER ARGS"
mstart () {
  tag=$1
  mgroup=$2
  mport=$3
  ready="$dir/$1.ready"
  # shellcheck disable=SC2086
  timeout $T "$RECV" --group "$2" --port "$3" --ready-file "$ready" $4 \
    >"$dir/$tag.recv" 2>"$dir/$tag.recv.err" &
  rpid=$!
}

# msend ID "SENDER ARGS"
msend () {
  # shellcheck disable=SC2086
  timeout $T "$SEND" --group "$mgroup" --port "$mport" --stream-id "$1" \
    --warmup-until "$ready" --warmup-timeout 10 $2 \
    >"$dir/$tag.send$1" 2>"$dir/$tag.send$1.err"
  echo $? >"$dir/$tag.rc$1"
}

mwait () {
  wait $rpid
  rrc=$?
  ssum=0
  for f in "$dir/$tag".rc*; do
    ssum=$((ssum + $(cat "$f")))
  done
}

# The independent stream builder / one-shot TCP server:
#   tcpserve.py HOST FRAMING COUNT SIZES STREAM_IDS WARMUPS MUTATION
# prints the port it listens on, serves the stream to one client, exits.
# With several STREAM_IDS (1,2,3) the streams are interleaved seq by seq.
# FRAMING mpx: checks the client's HELLO (a receiver named mcp-recv), answers
# as a source and sends each datagram as a DATA message, among CAPS,
# KEEPALIVE and an ignorable unknown message; the mpx-* mutations break it.
cat >"$dir/tcpserve.py" <<'EOF'
import socket, struct, sys, time

host, framing, count, sizes, sids, warmups, mutation = sys.argv[1:8]
count, warmups = int(count), int(warmups)
sids = [int(x) for x in sids.split(",")]
sizes = [int(x) for x in sizes.split(",")]


def datagram(magic, seq, sid):
    n = sizes[seq % len(sizes)]
    head = magic + struct.pack(">IQQ", sid, seq, time.time_ns())
    # byte at offset o = (seq*131 + o*7 + stream_id) & 0xff; period 256
    start = seq * 131 + sid
    period = bytes((start + o * 7) & 0xFF for o in range(24, 24 + 256))
    body = (period * (n // 256 + 1))[: n - 24]
    return head + body


frames = [datagram(b"MCPW", w, sids[w % len(sids)]) for w in range(warmups)]
seqs = list(range(count))
if mutation == "reorder-dup":     # 11 before 10, 20 twice (in every stream)
    seqs[10], seqs[11] = seqs[11], seqs[10]
    seqs.insert(21, 20)
if mutation == "gaps":            # 0-4, 20-29 and the last 5 missing
    seqs = [s for s in seqs if not (s < 5 or 20 <= s < 30 or s >= count - 5)]
for seq in seqs:
    for sid in sids:
        d = bytearray(datagram(b"MCPT", seq, sid))
        if mutation == "flip" and seq == 10:
            d[len(d) // 2] ^= 0x01
        frames.append(bytes(d))


def msg(mtype, meta, payload=b"", flags=0):
    return struct.pack(">BBHI", ord(mtype), flags, len(meta), len(payload)) \
        + meta + payload


def tlv(ftype, value):
    return struct.pack(">HH", ftype, len(value)) + value


def mpx_stream():
    role = 2 if mutation == "mpx-role" else 1
    out = [b"\x89MPX\x01\x00\x00\x00",
           msg("H", struct.pack(">BBHQ", role, 0, 0, 0x0123456789ABCDEF),
               tlv(1, b"application/x-test") + tlv(2, b"tcpserve")),
           msg("C", b"", b"application/x-test, v=2"),
           msg("Z", b"\x00" * 3, b"skip me", flags=1)]
    for i, f in enumerate(frames):
        if mutation == "mpx-badtype" and i == 10:
            out.append(msg("Z", b"", b"must not be skipped"))
        if i % 10 == 5:
            out.append(msg("K", b"", flags=1))
        meta = struct.pack(">QQQBBH", 0x0123456789ABCDEF, i, time.time_ns(),
                           0, 4, 5004) + bytes([239, 1, 2, 3]) + bytes(12)
        if i == 0:
            meta += b"\xee" * 4    # a later minor's field: skipped
        out.append(msg("D", meta, f))
    data = b"".join(out)
    if mutation == "mpx-trunc":   # closed inside the last DATA message
        data = data[:-3]
    return data


def read_hello(conn):
    def exact(n):
        b = b""
        while len(b) < n:
            c = conn.recv(n - len(b))
            if not c:
                sys.exit("client closed inside its HELLO")
            b += c
        return b

    pre = exact(8)
    if pre != b"\x89MPX\x01\x00\x00\x00":
        sys.exit("bad client preamble " + pre.hex())
    mtype, _, mlen, plen = struct.unpack(">BBHI", exact(8))
    meta, payload = exact(mlen), exact(plen)
    role, peer_id = meta[0], struct.unpack(">Q", meta[4:12])[0]
    fields, off = {}, 0
    while off < len(payload):
        ftype, n = struct.unpack(">HH", payload[off:off + 4])
        fields[ftype] = payload[off + 4:off + 4 + n]
        off += 4 + n
    if mtype != ord("H") or mlen != 12 or role != 2 or peer_id == 0 \
            or fields.get(2) != b"mcp-recv" or 1 in fields:
        sys.exit("bad client HELLO: type %d meta %d role %d id %x fields %r"
                 % (mtype, mlen, role, peer_id, fields))


if framing == "rfc4571":
    data = b"".join(struct.pack(">H", len(f)) + f for f in frames)
elif framing == "mpx":
    data = mpx_stream()
else:
    data = b"".join(frames)

family = socket.AF_INET6 if ":" in host else socket.AF_INET
srv = socket.socket(family, socket.SOCK_STREAM)
srv.bind((host, 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
srv.settimeout(20)
conn, _ = srv.accept()
conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if framing == "mpx":
    conn.settimeout(10)
    read_hello(conn)
# a header split over reads, then the rest
for chunk in (data[:5], data[5:37], data[37:]):
    conn.sendall(chunk)
    time.sleep(0.05)
# End our direction, then read what the receiver sent (its keepalives)
# until it closes: closing with unread bytes would reset the connection.
conn.shutdown(socket.SHUT_WR)
try:
    while conn.recv(4096):
        pass
except OSError:
    pass
conn.close()
srv.close()
EOF

# run_tcp TAG HOST FRAMING COUNT SIZES WARMUPS MUTATION "RECEIVER ARGS"
#   [STREAM_IDS (default 1)]
# Sets rrc and leaves $dir/TAG.recv[.err].
run_tcp () {
  tag=$1
  : >"$dir/$tag.port"
  timeout $T python3 "$dir/tcpserve.py" "$2" "$3" "$4" "$5" "${9:-1}" "$6" \
    "$7" >"$dir/$tag.port" 2>"$dir/$tag.server.err" &
  spid=$!
  # the server prints its port as soon as it listens
  port=$(timeout 10 tail -n +1 -f "$dir/$tag.port" | head -n 1)
  case $2 in
    *:*) hostport="[$2]:$port" ;;
    *) hostport="$2:$port" ;;
  esac
  # shellcheck disable=SC2086
  timeout $T "$RECV" --tcp "$hostport" --framing "$3" --sizes "$5" \
    --timeout 5 $8 >"$dir/$tag.recv" 2>"$dir/$tag.recv.err"
  rrc=$?
  kill "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
}

# expect TAG NAME=VALUE...: "yes" if the summary line in TAG.recv has them all.
expect () {
  f="$dir/$1.recv"
  shift
  for kv in "$@"; do
    [ "$(field "$f" "${kv%%=*}")" = "${kv#*=}" ] || { echo no; return; }
  done
  echo yes
}

# expect_stream TAG STREAM NAME=VALUE...: the same for the line of STREAM.
expect_stream () {
  f="$dir/$1.recv"
  sid=$2
  shift 2
  for kv in "$@"; do
    [ "$(sfield "$f" "$sid" "${kv%%=*}")" = "${kv#*=}" ] ||
      { echo no; return; }
  done
  echo yes
}

# single TAG: "yes" if TAG.recv is the one summary line of a single stream,
# without per-stream lines or absent_violations, and with foreign=0.
single () {
  f="$dir/$1.recv"
  if [ "$(lines "$f")" = 1 ] && grep -q '^mcp-recv: received=.* foreign=0$' "$f"
  then
    echo yes
  else
    echo no
  fi
}

sizes=24,100,1316,9000,65507

# (1) IPv4, 500 datagrams of mixed sizes at 2000/s, warm-up handshake.
run_mcast v4 239.255.42.1 $((base + 1)) \
  "--count 500 --rate 2000 --sizes $sizes" \
  "--count 500 --sizes $sizes --timeout 10"
ok=$(expect v4 received=500 lost=0 duplicates=0 reordered=0 corrupt=0 \
  first_seq=0 last_seq=499)
[ "$(field "$dir/v4.send" sent)" = 500 ] || ok=no
[ $src -eq 0 ] && [ $rrc -eq 0 ] || ok=no
[ "$(field "$dir/v4.recv" warmup)" -ge 1 ] 2>/dev/null || ok=no
[ "$(single v4)" = yes ] || ok=no
result "ipv4 mixed sizes 500 at 2000/s" $ok "send rc=$src recv rc=$rrc"

# (2a) TTL 3 expected and sent.
run_mcast ttl3 239.255.42.2 $((base + 2)) \
  "--count 500 --rate 2000 --ttl 3" "--count 500 --expect-ttl 3"
ok=$(expect ttl3 received=500 lost=0 bad_ttl=0)
[ $src -eq 0 ] && [ $rrc -eq 0 ] || ok=no
result "ipv4 --expect-ttl 3, sender --ttl 3" $ok "send rc=$src recv rc=$rrc"

# (2b) TTL 3 expected, 2 sent: every datagram has a bad TTL.
run_mcast ttl2 239.255.42.2 $((base + 3)) \
  "--count 500 --rate 2000 --ttl 2" "--count 500 --expect-ttl 3"
ok=$(expect ttl2 received=500 lost=0 bad_ttl=500)
[ $src -eq 0 ] && [ $rrc -eq 1 ] || ok=no
result "ipv4 --expect-ttl 3, sender --ttl 2 (must fail)" $ok \
  "send rc=$src recv rc=$rrc"

# (3) IPv6 group on lo, with the hop limit checked too.
run_mcast v6 ff3e::4242 $((base + 4)) \
  "--count 500 --rate 2000 --sizes $sizes --ttl 4" \
  "--count 500 --sizes $sizes --expect-ttl 4"
ok=$(expect v6 received=500 lost=0 duplicates=0 reordered=0 corrupt=0 \
  bad_ttl=0)
[ $src -eq 0 ] && [ $rrc -eq 0 ] || ok=no
result "ipv6 ff3e::4242 on lo" $ok "send rc=$src recv rc=$rrc"

# (4) Receiver wants 600, sender sends 500: 100 lost at the end.
run_mcast short 239.255.42.3 $((base + 5)) \
  "--count 500 --rate 5000" "--count 600 --timeout 1"
ok=$(expect short received=500 lost=100 last_seq=499)
[ "$(single short)" = yes ] || ok=no
[ $src -eq 0 ] && [ $rrc -eq 1 ] || ok=no
result "receiver expects 600 of 500 (must fail, lost=100)" $ok \
  "send rc=$src recv rc=$rrc"

# (5a) TCP, raw framing (with warm-ups in the stream), mixed sizes.
run_tcp rawtcp 127.0.0.1 raw 50 $sizes 3 none "--count 50"
ok=$(expect rawtcp received=50 lost=0 corrupt=0 warmup=3 last_seq=49)
[ "$(single rawtcp)" = yes ] || ok=no
[ $rrc -eq 0 ] || ok=no
result "tcp raw framing, 50 datagrams" $ok "recv rc=$rrc"

# (5b) TCP, RFC 4571 framing, over IPv6.
run_tcp rfctcp ::1 rfc4571 50 $sizes 2 none "--count 50"
ok=$(expect rfctcp received=50 lost=0 corrupt=0 warmup=2 last_seq=49)
[ $rrc -eq 0 ] || ok=no
result "tcp rfc4571 framing over [::1], 50 datagrams" $ok "recv rc=$rrc"

# (6) A flipped payload bit is caught (must fail: corrupt=1, that seq lost).
run_tcp flip 127.0.0.1 rfc4571 50 1316,200 0 flip "--count 50"
ok=$(expect flip received=49 lost=1 corrupt=1)
[ $rrc -eq 1 ] || ok=no
grep -q "pattern mismatch" "$dir/flip.recv.err" || ok=no
result "corrupt datagram detected (must fail)" $ok "recv rc=$rrc"

# (7) Reordering and duplicates are told apart (must fail).
run_tcp reorder 127.0.0.1 raw 50 1316,200 0 reorder-dup "--count 50"
ok=$(expect reorder received=50 lost=0 duplicates=1 reordered=1)
[ "$(single reorder)" = yes ] || ok=no
[ $rrc -eq 1 ] || ok=no
result "reordered and duplicate datagrams counted (must fail)" $ok \
  "recv rc=$rrc"

# (7b) --allow-gaps: three runs missing (at the start, inside, at the end),
# each reported with the send times around it.
run_tcp gaps 127.0.0.1 rfc4571 50 1316,200 0 gaps "--count 50 --allow-gaps 3"
ok=$(expect gaps received=30 lost=20 duplicates=0 reordered=0 corrupt=0 \
  first_seq=5 last_seq=44 gaps=3)
[ $rrc -eq 0 ] || ok=no
[ "$(grep -c '^mcp-recv: gap ' "$dir/gaps.recv")" = 3 ] || ok=no
grep -q '^mcp-recv: gap stream=1 seqs=0-4 count=5 before_sent_ns=-1 after_sent_ns=[1-9][0-9]*$' \
  "$dir/gaps.recv" || ok=no
grep -q '^mcp-recv: gap stream=1 seqs=20-29 count=10 before_sent_ns=[1-9][0-9]* after_sent_ns=[1-9][0-9]*$' \
  "$dir/gaps.recv" || ok=no
grep -q '^mcp-recv: gap stream=1 seqs=45-49 count=5 before_sent_ns=[1-9][0-9]* after_sent_ns=-1$' \
  "$dir/gaps.recv" || ok=no
result "tcp, --allow-gaps 3 with three gaps" $ok "recv rc=$rrc"

# (7c) The same stream with --allow-gaps 2 (must fail: three gaps).
run_tcp gaps2 127.0.0.1 rfc4571 50 1316,200 0 gaps "--count 50 --allow-gaps 2"
ok=$(expect gaps2 received=30 lost=20 gaps=3)
[ $rrc -eq 1 ] || ok=no
result "tcp, --allow-gaps 2 with three gaps (must fail)" $ok "recv rc=$rrc"

# (7d) --allow-gaps does not excuse reordering or duplicates (must fail).
run_tcp gapsdup 127.0.0.1 raw 50 1316,200 0 reorder-dup \
  "--count 50 --allow-gaps 5"
ok=$(expect gapsdup received=50 duplicates=1 reordered=1)
[ $rrc -eq 1 ] || ok=no
result "tcp, --allow-gaps with reordered and duplicates (must fail)" $ok \
  "recv rc=$rrc"

# ---- several streams on one group ----

msizes="--count 300 --rate 1000 --sizes $sizes"

# (8) Three senders, streams 1, 2, 3 at once; one receiver checks all three.
mstart multi 239.255.42.4 $((base + 6)) \
  "--stream-id 1,2,3 --count 300 --sizes $sizes"
msend 1 "$msizes" & p1=$!
msend 2 "$msizes" & p2=$!
msend 3 "$msizes" & p3=$!
wait $p1 $p2 $p3
mwait
ok=$(expect multi received=900 lost=0 duplicates=0 reordered=0 corrupt=0 \
  first_seq=0 last_seq=299 foreign=0)
for i in 1 2 3; do
  [ "$(expect_stream multi $i received=300 lost=0 duplicates=0 reordered=0 \
    first_seq=0 last_seq=299)" = yes ] || ok=no
done
[ "$(lines "$dir/multi.recv")" = 4 ] || ok=no
sed -n 4p "$dir/multi.recv" | grep -q '^mcp-recv: received=.* foreign=0$' ||
  ok=no
[ "$(field "$dir/multi.recv" warmup)" -ge 1 ] 2>/dev/null || ok=no
[ $ssum -eq 0 ] && [ $rrc -eq 0 ] || ok=no
result "streams 1,2,3 from three senders, 300 each" $ok \
  "senders' rc sum=$ssum recv rc=$rrc"

# (9) Streams 1, 2, 3 sent, only 1,2 listed: stream 3 is foreign. Stream 3
# is sent (with stream 1) before stream 2 starts, so that all of it arrives
# before the receiver is complete.
mstart foreign 239.255.42.5 $((base + 7)) \
  "--stream-id 1,2 --count 300 --sizes $sizes"
msend 3 "$msizes" & p3=$!
msend 1 "$msizes" & p1=$!
wait $p3
msend 2 "$msizes"
wait $p1
mwait
ok=$(expect foreign received=600 lost=0 duplicates=0 corrupt=0 foreign=300)
for i in 1 2; do
  [ "$(expect_stream foreign $i received=300 lost=0)" = yes ] || ok=no
done
[ "$(lines "$dir/foreign.recv")" = 3 ] || ok=no
grep -q "foreign datagram: stream 3" "$dir/foreign.recv.err" || ok=no
[ $ssum -eq 0 ] && [ $rrc -eq 1 ] || ok=no
result "stream 3 not listed is foreign (must fail, foreign=300)" $ok \
  "senders' rc sum=$ssum recv rc=$rrc"

# (10) --expect-absent 2 while streams 1 and 2 are sent (2 first, whole).
mstart absent 239.255.42.6 $((base + 8)) \
  "--stream-id 1 --expect-absent 2 --count 300 --sizes $sizes"
msend 2 "$msizes"
msend 1 "$msizes"
mwait
ok=$(expect absent received=300 lost=0 corrupt=0 foreign=0 \
  absent_violations=300)
[ "$(lines "$dir/absent.recv")" = 1 ] || ok=no
[ $ssum -eq 0 ] && [ $rrc -eq 1 ] || ok=no
result "--stream-id 1 --expect-absent 2 (must fail, absent_violations=300)" \
  $ok "senders' rc sum=$ssum recv rc=$rrc"

# (11) One stream listed, another one sent too: foreign, not corrupt.
mstart foreign1 239.255.42.7 $((base + 9)) "--count 300 --sizes $sizes"
msend 7 "$msizes"
msend 1 "$msizes"
mwait
ok=$(expect foreign1 received=300 lost=0 corrupt=0 foreign=300)
[ "$(lines "$dir/foreign1.recv")" = 1 ] || ok=no
[ $ssum -eq 0 ] && [ $rrc -eq 1 ] || ok=no
result "single stream, stream 7 foreign (must fail, foreign=300)" $ok \
  "senders' rc sum=$ssum recv rc=$rrc"

# (12) TCP raw framing, streams 1,2,3 interleaved.
run_tcp mtcp 127.0.0.1 raw 50 $sizes 3 none "--stream-id 1,2,3 --count 50" \
  1,2,3
ok=$(expect mtcp received=150 lost=0 corrupt=0 warmup=3 foreign=0 \
  last_seq=49)
for i in 1 2 3; do
  [ "$(expect_stream mtcp $i received=50 lost=0 first_seq=0 last_seq=49)" \
    = yes ] || ok=no
done
[ $rrc -eq 0 ] || ok=no
result "tcp raw framing, streams 1,2,3 interleaved" $ok "recv rc=$rrc"

# (13) TCP rfc4571, streams 1..4: 4,1 listed (lines in that order), 2 must
# be absent, 3 is foreign.
run_tcp mtcp2 127.0.0.1 rfc4571 50 1316,200 0 none \
  "--stream-id 4,1 --expect-absent 2 --count 50" 1,2,3,4
ok=$(expect mtcp2 received=100 lost=0 corrupt=0 foreign=50 \
  absent_violations=50)
sed -n 's/^mcp-recv: stream=\([0-9]*\) .*/\1/p' "$dir/mtcp2.recv" |
  tr '\n' ' ' | grep -qx '4 1 ' || ok=no
[ $rrc -eq 1 ] || ok=no
result "tcp rfc4571, foreign and absent streams (must fail)" $ok \
  "recv rc=$rrc"

# (14) TCP, streams 1,2 each reordered and duplicated; 3 listed, never sent.
run_tcp mtcp3 127.0.0.1 raw 50 1316,200 0 reorder-dup \
  "--stream-id 1,2,3 --count 50" 1,2
ok=$(expect mtcp3 received=100 lost=50 duplicates=2 reordered=2 corrupt=0)
for i in 1 2; do
  [ "$(expect_stream mtcp3 $i received=50 lost=0 duplicates=1 reordered=1)" \
    = yes ] || ok=no
done
[ "$(expect_stream mtcp3 3 received=0 lost=50 first_seq=-1 last_seq=-1)" \
  = yes ] || ok=no
[ $rrc -eq 1 ] || ok=no
result "tcp per-stream duplicates, reordering, a missing stream (must fail)" \
  $ok "recv rc=$rrc"

# ---- TCP, mpx framing ----

# (15) mpx: handshake, CAPS, KEEPALIVEs, an ignorable unknown message and a
# longer DATA metadata block around 50 datagrams (with warm-ups).
run_tcp mpx 127.0.0.1 mpx 50 $sizes 3 none "--count 50"
ok=$(expect mpx received=50 lost=0 corrupt=0 warmup=3 last_seq=49)
[ "$(single mpx)" = yes ] || ok=no
grep -q "mpx 1.0 source, peer id 0123456789abcdef, name 'tcpserve'" \
  "$dir/mpx.recv.err" || ok=no
[ $rrc -eq 0 ] || ok=no
result "tcp mpx framing, 50 datagrams" $ok "recv rc=$rrc"

# (16) mpx over IPv6, streams 1,2,3 interleaved.
run_tcp mpx6 ::1 mpx 50 1316,200 0 none "--stream-id 1,2,3 --count 50" 1,2,3
ok=$(expect mpx6 received=150 lost=0 corrupt=0 foreign=0)
[ $rrc -eq 0 ] || ok=no
result "tcp mpx framing over [::1], streams 1,2,3" $ok "recv rc=$rrc"

# (17) mpx: a flipped payload bit is caught like in the other framings.
run_tcp mpxflip 127.0.0.1 mpx 50 1316,200 0 flip "--count 50"
ok=$(expect mpxflip received=49 lost=1 corrupt=1)
grep -q "pattern mismatch" "$dir/mpxflip.recv.err" || ok=no
[ $rrc -eq 1 ] || ok=no
result "tcp mpx, corrupt datagram detected (must fail)" $ok "recv rc=$rrc"

# (18) mpx: the server says it is a receiver too (must fail).
run_tcp mpxrole 127.0.0.1 mpx 50 1316 0 mpx-role "--count 50"
ok=$(expect mpxrole received=0)
grep -q "peer announced itself as a receiver, but this end is a receiver" \
  "$dir/mpxrole.recv.err" || ok=no
[ $rrc -eq 1 ] || ok=no
result "tcp mpx, server with the receiver role (must fail)" $ok "recv rc=$rrc"

# (19) mpx: a non-ignorable unknown message after 10 datagrams (must fail).
run_tcp mpxtype 127.0.0.1 mpx 50 1316 0 mpx-badtype "--count 50"
ok=$(expect mpxtype received=10 lost=40 corrupt=0)
grep -q "mpx decode error: unknown message type 0x5a" \
  "$dir/mpxtype.recv.err" || ok=no
[ $rrc -eq 1 ] || ok=no
result "tcp mpx, unknown message type (must fail)" $ok "recv rc=$rrc"

# (20) mpx: the server closes inside the last DATA message (must fail).
run_tcp mpxtrunc 127.0.0.1 mpx 50 1316 0 mpx-trunc "--count 50"
ok=$(expect mpxtrunc received=49 lost=1)
grep -q "mpx decode error: connection closed inside a message" \
  "$dir/mpxtrunc.recv.err" || ok=no
[ $rrc -eq 1 ] || ok=no
result "tcp mpx, connection closed inside a message (must fail)" $ok \
  "recv rc=$rrc"

echo "selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
