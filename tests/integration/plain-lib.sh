# mcastproxy — helpers of the tests with plain clients (interop.sh,
# http.sh): bash, sourced.

# a check's verdict; a failure makes the script exit 1 in the end
fail () { echo "FAIL: $*"; FAILED=1; }
pass () { echo "PASS: $*"; }

# expect WHAT GOT WANT
expect () {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', expected '$3'"; fi
}

# wait_for FILE PATTERN: until FILE shows PATTERN (20 s at most)
wait_for () {
  timeout 20 tail -n +1 -f "$1" | grep -q -m1 -- "$2" && return 0
  echo "--- $1 did not show '$2':"; tail -n 20 "$1"
  return 1
}

# port_of LOG ELEMENT: current-port printed by gst-launch -v
port_of () {
  wait_for "$1" "$2[0-9]*: current-port = [1-9]" >/dev/null &&
    sed -n "s/.*$2[0-9]*: current-port = \([0-9]*\).*/\1/p" "$1" | head -n 1
}

# check_stream FILE COUNT SIZE: FILE holds COUNT mcp-send datagrams of SIZE
# bytes back to back, each one exactly as sent.
check_stream () {
  python3 - "$@" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
count, size = int(sys.argv[2]), int(sys.argv[3])
if len(data) != count * size:
    sys.exit("%d bytes, expected %d" % (len(data), count * size))
for i in range(count):
    d = data[i * size:(i + 1) * size]
    magic, stream, seq = struct.unpack('>4sIQ', d[:16])
    if magic != b'MCPT' or seq != i:
        sys.exit("datagram %d: magic %r seq %d" % (i, magic, seq))
    want = bytes((seq * 131 + off * 7 + stream) & 0xff for off in range(24, size))
    if d[24:] != want:
        sys.exit("datagram %d: payload differs" % i)
EOF
}
