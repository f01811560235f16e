#!/usr/bin/env python3
"""badpeer.py: misbehaving TCP peers of an mpx listener, for the fault tests.

  badpeer.py [--limit SEC] HOST:PORT:KIND [HOST:PORT:KIND ...]

Opens one connection per argument, all at once (one thread each), behaves
as KIND, reads and discards whatever the server sends, and waits until the
server closes the connection or --limit seconds (default 20) have passed.
Then it prints one line per peer, in argument order:

  badpeer: kind=K port=P local=A:L closed_after_ms=N how=eof|reset|open
           sent=S received=R

closed_after_ms counts from the moment the connection was made to the
moment the server closed it (how=eof or reset), or to the limit (how=open:
the server never closed it). local is the peer's own address, as the
server's client-removed messages name it. The bytes follow docs/protocol.md
(written from it, not from mcp-wire.c).

KIND:
  garbage      an HTTP request and binary junk (not mpx at all)
  badversion   the mpx preamble with major version 2
  badlength    a good preamble, then a HELLO header claiming a 16 MiB payload
  badmeta      a complete, good HELLO as a receiver; once the server's
               HELLO has come back, a DATA header with 2000 bytes of
               metadata (more than 1024)
  truncated    half a preamble, then the peer half-closes its side
  silent       connects and sends nothing
  slowloris    a good preamble and HELLO, one byte per second from the
               first byte on
  slowmagic    the 4-byte magic at once, then the rest one byte per second
Exit status 0 when every peer could connect, 2 otherwise.
"""
import socket
import struct
import sys
import threading
import time

PREAMBLE = b"\x89MPX\x01\x00\x00\x00"


def msg(mtype, meta, payload=b"", flags=0):
    return struct.pack(">BBHI", ord(mtype), flags, len(meta),
                       len(payload)) + meta + payload


def hello(role):
    name = b"badpeer"
    return msg("H", struct.pack(">BBHQ", role, 0, 0, 0x0BAD0BAD0BAD0BAD),
               struct.pack(">HH", 2, len(name)) + name)


class Peer(threading.Thread):
    def __init__(self, spec, limit):
        super().__init__(daemon=True)
        host, port, self.kind = spec.rsplit(":", 2)
        self.addr = (host.strip("[]"), int(port))
        self.limit = limit
        self.sent = 0
        self.received = 0
        self.how = "open"
        self.closed_ms = None
        self.local = "?"
        self.error = None
        self.t0 = None
        self.server_hello = threading.Event()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.gave_up = False

    # the reader: counts what the server sends until it closes
    def read_all(self, sock):
        got = b""
        while True:
            how = None
            try:
                b = sock.recv(65536)
            except ConnectionResetError:
                how = "reset"
            except OSError:
                return
            else:
                if not b:
                    how = "eof"
            if how:
                with self.lock:
                    if self.gave_up:
                        return
                    self.how = how
                    self.closed_ms = (time.monotonic() - self.t0) * 1000
                    self.done.set()
                return
            self.received += len(b)
            if not self.server_hello.is_set():
                got += b
                # preamble + HELLO header + its metadata and payload
                if len(got) >= 16:
                    _, _, mlen, plen = struct.unpack(">BBHI", got[8:16])
                    if len(got) >= 16 + mlen + plen:
                        self.server_hello.set()

    def send(self, sock, data):
        try:
            sock.sendall(data)
            self.sent += len(data)
            return True
        except OSError:
            return False

    def dribble(self, sock, data):
        for i in range(len(data)):
            if self.done.wait(0 if i == 0 else 1.0):
                return
            if time.monotonic() - self.t0 >= self.limit:
                return
            if not self.send(sock, data[i:i + 1]):
                return

    def run(self):
        try:
            sock = socket.create_connection(self.addr, timeout=10)
        except OSError as e:
            self.error = str(e)
            return
        self.t0 = time.monotonic()
        sock.settimeout(None)
        la = sock.getsockname()
        self.local = ("[%s]:%d" if ":" in la[0] else "%s:%d") % la[:2]
        reader = threading.Thread(target=self.read_all, args=(sock,),
                                  daemon=True)
        reader.start()
        k = self.kind
        if k == "garbage":
            self.send(sock, b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)))
        elif k == "badversion":
            self.send(sock, b"\x89MPX\x02\x00\x00\x00" + hello(2))
        elif k == "badlength":
            self.send(sock, PREAMBLE + struct.pack(">BBHI", ord("H"), 0, 12,
                                                   16 << 20))
        elif k == "badmeta":
            self.send(sock, PREAMBLE + hello(2))
            if self.server_hello.wait(10):
                self.send(sock, struct.pack(">BBHI", ord("D"), 0, 2000, 10))
        elif k == "truncated":
            self.send(sock, PREAMBLE[:3])
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        elif k == "silent":
            pass
        elif k == "slowloris":
            self.dribble(sock, PREAMBLE + hello(2))
        elif k == "slowmagic":
            self.send(sock, PREAMBLE[:4])
            self.dribble(sock, PREAMBLE[4:] + hello(2))
        else:
            self.error = "unknown kind " + k
        self.done.wait(max(0.0, self.limit - (time.monotonic() - self.t0)))
        with self.lock:
            if not self.done.is_set():
                self.gave_up = True
                self.closed_ms = (time.monotonic() - self.t0) * 1000
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        reader.join(5)
        sock.close()

    def line(self):
        if self.error:
            return "badpeer: kind=%s port=%d error=%s" % (
                self.kind, self.addr[1], self.error.replace(" ", "_"))
        return ("badpeer: kind=%s port=%d local=%s closed_after_ms=%d how=%s "
                "sent=%d received=%d" % (self.kind, self.addr[1], self.local,
                                         self.closed_ms, self.how, self.sent,
                                         self.received))


def main(argv):
    limit = 20.0
    if len(argv) > 1 and argv[0] == "--limit":
        limit = float(argv[1])
        argv = argv[2:]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2 if not argv else 0
    peers = [Peer(spec, limit) for spec in argv]
    for p in peers:
        p.start()
    for p in peers:
        p.join()
    for p in peers:
        print(p.line(), flush=True)
    return 2 if any(p.error for p in peers) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
