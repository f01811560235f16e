# mcastproxy — senders and HTTP clients of tests/integration/gateway.sh:
# each subcommand sends known datagrams into a group and checks exactly
# what an HTTP client of the gateway got. Prints one line with the reason
# and exits 1 on a mismatch.
import os, select, socket, struct, sys, time

DEADLINE = 20.0


def sender(group, src=None):
    fam = socket.AF_INET6 if ':' in group else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF,
                     socket.if_nametoindex('lo'))
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    if src:
        s.bind((src, 0))
    return s


class Client:
    """An HTTP client of one URL path; head and body kept apart."""

    def __init__(self, port, path, method='GET'):
        self.s = socket.create_connection(('127.0.0.1', port), timeout=DEADLINE)
        self.s.sendall(('%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' %
                        (method, path)).encode())
        self.buf = b''
        self.head = None
        self.eof = False

    def pump(self, wait):
        r, _, _ = select.select([self.s], [], [], wait)
        if r:
            d = self.s.recv(65536)
            if not d:
                self.eof = True
            self.buf += d
            if self.head is None and b'\r\n\r\n' in self.buf:
                self.head, self.buf = self.buf.split(b'\r\n\r\n', 1)
                self.head = self.head.decode()

    def status(self):
        return self.head.split(' ')[1] if self.head else None


def fail(msg):
    print(msg)
    sys.exit(1)


def until(cond, step, what):
    end = time.monotonic() + DEADLINE
    while not cond():
        if time.monotonic() > end:
            fail('timed out: ' + what)
        step()


def numbered(i):
    # distinct sizes and contents: any loss, duplicate or reordering shows
    return struct.pack('>I', i) + bytes((i * 7 + k) & 0xff for k in range(40 + i * 13 % 900))


def udp(port, group, mport, src=None, other=None, exact=False):
    """Client 1 opens the channel (warm-up datagrams until it is served),
    then 60 numbered datagrams; client 2 joins the running channel and must
    get those sent after it was served (and those of the batch being read
    then), no burst. With src: a
    source-specific channel; 'other' sends the same group meanwhile and must
    not be heard. With exact (a gateway with batch-latency=0): client 2
    gets exactly those sent after it was served."""
    src = None if src == '-' else src
    other = None if other == '-' else other
    tx = sender(group, src)
    txo = sender(group, other) if other else None
    g = '[%s]' % group if ':' in group else group
    path = '/udp/%s%s:%d' % (src + '@' if src else '', g, mport)
    warm = b'W' * 100
    c1 = Client(port, path)

    def warmup():
        tx.sendto(warm, (group, mport))
        if txo:
            txo.sendto(b'X' * 100, (group, mport))
        c1.pump(0.02)
    until(lambda: c1.buf, warmup, 'first bytes of ' + path)
    if c1.status() != '200':
        fail('%s: %s' % (path, c1.head))
    note = ''
    if src:
        # the join is source-specific: lo includes just that source
        want = '0x%s 0x%s 1 0' % (socket.inet_aton(group).hex(),
                                 socket.inet_aton(src).hex())
        rows = [' '.join(l.split()[2:]) for l in open('/proc/net/mcfilter')]
        if want not in rows:
            fail('%s: /proc/net/mcfilter has no %r: %r' % (path, want, rows))
        note = ', lo includes only source %s (/proc/net/mcfilter), %s not heard' % (src, other)
    sent = b''
    for i in range(30):
        tx.sendto(numbered(i), (group, mport))
        if txo:
            txo.sendto(b'X' * 100, (group, mport))
        sent += numbered(i)
    c2 = Client(port, path)
    until(lambda: c2.head is not None, lambda: c2.pump(0.05), 'client 2 head')
    later = b''
    for i in range(30, 60):
        if i == 45:
            tx.sendto(b'', (group, mport))  # an empty datagram adds nothing
        tx.sendto(numbered(i), (group, mport))
        later += numbered(i)
        time.sleep(0.001)
    sent += later
    until(lambda: len(c1.buf.lstrip(b'W')) >= len(sent),
          lambda: c1.pump(0.1), 'client 1: %d of %d bytes' % (len(c1.buf), len(sent)))
    until(lambda: len(c2.buf) >= len(later), lambda: c2.pump(0.1), 'client 2 bytes')
    c1.pump(0.2)
    c2.pump(0.2)
    got = c1.buf.lstrip(b'W')
    if (len(c1.buf) - len(got)) % 100 or got != sent:
        fail('%s client 1: %d bytes (%d warm-up), expected the %d sent' %
             (path, len(got), len(c1.buf) - len(got), len(sent)))
    # With batch-latency, a client also gets the datagrams of the batch
    # being collected when it was served (the few sent at most that long
    # before): whole datagrams, in order, up to the last, and no burst.
    # (warm-up datagrams left in that batch included)
    starts = [sum(len(numbered(j)) for j in range(i)) for i in range(31)]
    got2 = c2.buf.lstrip(b'W')
    if ((len(c2.buf) - len(got2)) % 100 or got2 not in [sent[k:] for k in starts]
            or len(got2) < len(later) or (exact and c2.buf != later)):
        fail('%s client 2: %d bytes, expected the %d sent after it joined '
             '(or a few more datagrams just before it)' %
             (path, len(c2.buf), len(later)))
    ct = [l for l in c2.head.split('\r\n') if l.lower().startswith('content-type:')]
    if ct != ['Content-Type: application/octet-stream']:
        fail('%s content type %r' % (path, ct))
    extra = len(got2) - len(later)
    print('%s: 60 datagrams exact; second client no burst: the 30 sent after it '
          'was served%s%s' % (path, ' and %d bytes of the batch then being read'
                              % extra if extra else '', note))


def rtp_packet(seq, payload, variant):
    csrcs = [0x11111111 * (k + 1) for k in range(variant % 3)]
    ext = variant % 2
    pad = 4 if variant % 4 == 3 else 0
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext else 0) | len(csrcs)
    h = struct.pack('>BBHII', b0, 33, seq & 0xffff, seq * 3600, 0xdeadbeef)
    h += b''.join(struct.pack('>I', c) for c in csrcs)
    if ext:
        h += struct.pack('>HH', 0xbede, 2) + b'EXT-DATA'
    return h + payload + (b'\0' * (pad - 1) + bytes([pad]) if pad else b'')


def rtp(port, group, mport):
    """RTP with CSRCs, an extension, padding; sent reordered and
    duplicated: the client gets the payloads in sequence order, once each."""
    tx = sender(group)
    path = '/rtp/%s:%d' % (group, mport)
    c = Client(port, path)
    seq = [65500]            # crosses the 16-bit wrap

    def warmup():
        tx.sendto(rtp_packet(seq[0], b'W' * 100, seq[0]), (group, mport))
        seq[0] += 1
        c.pump(0.02)
    until(lambda: c.buf, warmup, 'first bytes of ' + path)
    base = seq[0]
    order = []
    for i in range(0, 80, 4):   # 0 1 2 3 -> 1 0 3 3 2 1
        order += [i + 1, i, i + 3, i + 3, i + 2, i + 1]
    order += [80]
    want = b''
    for i in range(81):
        want += numbered(i)
    for i in order:
        tx.sendto(rtp_packet(base + i, numbered(i), i), (group, mport))
    until(lambda: len(c.buf.lstrip(b'W')) >= len(want), lambda: c.pump(0.1),
          '%s: %d of %d bytes' % (path, len(c.buf.lstrip(b'W')), len(want)))
    c.pump(0.2)
    got = c.buf.lstrip(b'W')
    if got != want:
        fail('%s: %d bytes, expected %d (payloads 0..80 in order, once each)' %
             (path, len(got), len(want)))
    print('%s: 81 payloads in sequence order once each (sent %d packets, '
          'reordered, duplicated, CSRCs/extension/padding stripped)' % (path, len(order)))


def hold(port, path, out):
    """A client that stays until killed; writes the body to out."""
    c = Client(port, path)
    with open(out, 'wb') as f:
        while not c.eof:
            c.pump(1)
            if c.head is not None:
                f.write(c.buf)
                f.flush()
                c.buf = b''


def fetch(port, path, out, nbytes):
    """Reads nbytes of the body (after the head) into out."""
    c = Client(port, path)
    until(lambda: len(c.buf) >= nbytes, lambda: c.pump(0.2),
          '%s: %d of %d bytes' % (path, len(c.buf), nbytes))
    if c.status() != '200':
        fail(c.head)
    open(out, 'wb').write(c.buf)


def head(port, path):
    """HEAD: the status and Content-Type, and nothing after the head until
    the gateway closes the connection."""
    c = Client(port, path, 'HEAD')
    until(lambda: c.eof, lambda: c.pump(0.2), 'HEAD %s: end of the answer' % path)
    if c.head is None or c.buf:
        fail('HEAD %s: head %r, then %d bytes' % (path, c.head, len(c.buf)))
    ct = [l for l in c.head.split('\r\n') if l.lower().startswith('content-type:')]
    print(c.head.split('\r\n')[0], *ct, sep='|')


def tsburst(path):
    """The first packets: PAT, then the PMT it names, then the video PID
    with payload_unit_start and random_access_indicator."""
    d = open(path, 'rb').read()
    if len(d) < 3 * 188 or len(d) % 188 and d[0] != 0x47:
        fail('%d bytes' % len(d))
    pkts = [d[i:i + 188] for i in range(0, len(d) - 187, 188)]
    if any(p[0] != 0x47 for p in pkts):
        fail('not aligned on 188-byte TS packets')
    pid = lambda p: (p[1] & 0x1f) << 8 | p[2]
    pusi = lambda p: bool(p[1] & 0x40)

    def section(p):
        off = 4
        if p[3] & 0x20:
            off += 1 + p[4]
        off += 1 + p[off]
        return p[off:]
    if pid(pkts[0]) != 0 or not pusi(pkts[0]):
        fail('first packet on PID %d, not the PAT' % pid(pkts[0]))
    pat = section(pkts[0])
    pmt_pid = struct.unpack('>H', pat[10:12])[0] & 0x1fff
    if pid(pkts[1]) != pmt_pid:
        fail('second packet on PID %d, not the PMT (%d)' % (pid(pkts[1]), pmt_pid))
    pmt = section(pkts[1])
    pil = struct.unpack('>H', pmt[10:12])[0] & 0xfff
    es = pmt[12 + pil:]
    video = None
    while len(es) >= 5:
        st, ep, il = es[0], struct.unpack('>H', es[1:3])[0] & 0x1fff, struct.unpack('>H', es[3:5])[0] & 0xfff
        if st == 0x1b:
            video = ep
        es = es[5 + il:]
    p = pkts[2]
    if pid(p) != video or not pusi(p):
        fail('third packet: PID %d pusi %s, expected video PID %s with PUSI' % (pid(p), pusi(p), video))
    if not (p[3] & 0x20 and p[4] and p[5] & 0x40):
        fail('third packet: no random_access_indicator')
    print('PAT, PMT (PID %d), then video PID %d with PUSI and random access' % (pmt_pid, video))


def send_numbered(group, mport):
    """Numbered datagrams to the group, every 2 ms, until killed."""
    tx = sender(group)
    i = 0
    while True:
        tx.sendto(numbered(i % 100000), (group, mport))
        i += 1
        time.sleep(0.002)


def check_numbered(path, count):
    """The file holds count numbered datagrams' payloads, consecutive."""
    data = open(path, 'rb').read()
    if len(data) < 4:
        fail('got %d bytes' % len(data))
    k = struct.unpack('>I', data[:4])[0]
    want = b''.join(numbered(k + i) for i in range(count))
    if data != want:
        fail('got %d bytes, not datagrams #%d.. in order' % (len(data), k))
    print('%d datagrams from #%d in order, %d bytes' % (count, k, len(data)))


globals()[sys.argv[1]](*[int(a) if a.isdigit() else a for a in sys.argv[2:]])
