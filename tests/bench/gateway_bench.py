"""gateway_bench — the channel gateway (mcastgateway) against udpxy, the
"gateway" scenario of run-bench.

udpxy is not packaged in Debian 12. When MCASTPROXY_UDPXY_SRC names a
checkout of its source (github.com/pcherenkov/udpxy), the scenario copies
it to a temporary folder and builds it there (`make` in chipmunk/, with
-Wno-error); without it, only our gateway runs, and the page says so.
Both serve HTTP on loopback in the benchmark's namespace:

  start  channel start: a 4 Mbit/s MPEG-TS channel with a 2 s GOP (made
         here: PAT and PMT every 80 ms, 25 frames/s, a key frame flagged
         random_access every 50 frames) that another client already
         watches; the time from connect to the first packet of a key frame
         with PAT and PMT before it, at random points of the GOP
  join   join latency: the first request of a channel whose source already
         sends (1,000 datagrams/s); the time to the first byte of the body
  many   20 channels x 10 HTTP clients, 4 Mbit/s each (the numbered test
         stream of mcp-send, one mcp-fanout per channel checking every
         datagram): the server's CPU and memory, all its processes summed
  scale  one process, many clients of one ~100 kbit/s channel: every
         client checked, memory per client

CPU is the server's process tree over the stream (udpxy forks a process
per client: the live ones and the reaped ones are summed); memory is the
tree's private dirty memory (pages it wrote that no other process maps:
not the shared libraries, nor what a forked child still shares with its
parent) at its peak during the stream, minus the server's before any
client came.
"""

import os
import random
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

from benchlib import (CLK_TCK, Proc, fill_line, free_port, kv, last_line,
                      log, stop_all, thousands, tree_cpu_ticks, tree_uss_kib,
                      wait_file, wait_listen)

UDPXY_ENV = "MCASTPROXY_UDPXY_SRC"
SIZE = 1316
TS = 188
CHANNEL_BPS = 4000000           # the many-channels and channel-start rate
CHANNEL_RATE = round(CHANNEL_BPS / 8 / SIZE)    # datagrams/s: 380
LOW_RATE = 10                   # the scale channel: 105 kbit/s
GOP_S = 2.0
FPS = 25
PMT_PID = 0x1000
VIDEO_PID = 0x100

# The contenders (PORT: the HTTP port).
LINES = {
    "ours": "gst-launch-1.0 mcastgateway host=127.0.0.1 port=PORT",
    "udpxy": "udpxy -T -a 127.0.0.1 -p PORT -c 5000",
    # only in "many": what batching saves
    "ours-unbatched": "gst-launch-1.0 mcastgateway host=127.0.0.1 port=PORT "
                      "batch-latency=0",
}

TARGETS = {
    "start_ms": 50,             # channel start, median
    "cpu_vs_udpxy": 0.3,        # many channels: CPU, at most times udpxy's
    "scale_clients": 10000,     # one process, every byte to every client
    "scale_kib": 16,            # memory per client at that scale
}


# ---- the MPEG-TS channel ---------------------------------------------------

def crc32_mpeg(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def psi_section(table_id, ext, body):
    """A long-form PSI section (version 0, current) with its CRC."""
    length = 5 + len(body) + 4
    head = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF,
                  ext >> 8, ext & 0xFF, 0xC1, 0, 0]) + body
    return head + struct.pack(">I", crc32_mpeg(head))


PAT = psi_section(0x00, 1, bytes([0, 1, 0xE0 | (PMT_PID >> 8),
                                  PMT_PID & 0xFF]))
PMT = psi_section(0x02, 1, bytes([0xE0 | (VIDEO_PID >> 8), VIDEO_PID & 0xFF,
                                  0xF0, 0x00, 0x1B, 0xE0 | (VIDEO_PID >> 8),
                                  VIDEO_PID & 0xFF, 0xF0, 0x00]))


def ts_packet(pid, cc, payload, pusi=False, rai=False):
    """One 188-byte packet: payload cut or padded with 0xff; random_access
    flagged in an adaptation field."""
    head = bytes([0x47, (0x40 if pusi else 0) | (pid >> 8), pid & 0xFF])
    if not rai:
        return head + bytes([0x10 | cc]) + payload[:184].ljust(184, b"\xff")
    payload = payload[:182]
    af_len = 183 - len(payload)
    af = bytes([af_len, 0x40]) + b"\xff" * (af_len - 1)
    return head + bytes([0x30 | cc]) + af + payload


def ts_channel():
    """The channel's packets, frame by frame, for ever."""
    cc = {0: 0, PMT_PID: 0, VIDEO_PID: 0}
    per_frame = round(CHANNEL_BPS / 8 / TS / FPS)
    frame = 0

    def pkt(pid, payload, **kw):
        p = ts_packet(pid, cc[pid], payload, **kw)
        cc[pid] = (cc[pid] + 1) & 0xF
        return p

    while True:
        out = []
        if frame % 2 == 0:
            out.append(pkt(0, b"\x00" + PAT, pusi=True))
            out.append(pkt(PMT_PID, b"\x00" + PMT, pusi=True))
        key = frame % int(GOP_S * FPS) == 0
        pes = (b"\x00\x00\x01\xe0\x00\x00\x80\x00\x00" +
               b"\x00\x00\x00\x01\x09\xf0" +
               (b"\x00\x00\x00\x01\x65" if key else b"\x00\x00\x00\x01\x41"))
        out.append(pkt(VIDEO_PID, pes.ljust(182, b"\x5a"), pusi=True,
                       rai=key))
        body = bytes([frame & 0xFF]) * 184
        while len(out) < per_frame:
            out.append(pkt(VIDEO_PID, body))
        for p in out:
            yield p
        frame += 1


def ts_send(group, port, seconds):
    """Sends the channel to group:port at CHANNEL_BPS for seconds (a child
    process of the benchmark: gateway_bench.py ts-send G P S)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    packets = ts_channel()
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds:
        due = t0 + n / CHANNEL_RATE
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        s.sendto(b"".join(next(packets) for _ in range(SIZE // TS)),
                 (group, port))
        n += 1


# ---- HTTP clients ------------------------------------------------------------

def request(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n"
               % (path, port)).encode())
    return s


def read_header(s, buf=b""):
    """(status line, the body bytes read with the header)."""
    while b"\r\n\r\n" not in buf:
        got = s.recv(4096)
        if not got:
            raise OSError("closed before the response header")
        buf += got
    head, body = buf.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 200" not in status:
        raise OSError("refused: %s" % status)
    return status, body


def channel_start_ms(port, path, timeout=6.0):
    """Connect -> the first packet of a key frame (random_access on the
    video PID) with a PAT and a PMT before it, in ms."""
    t0 = time.monotonic()
    s = request(port, path)
    try:
        s.settimeout(timeout)
        _, buf = read_header(s)
        seen_pat = seen_pmt = False
        while True:
            while len(buf) >= TS:
                p, buf = buf[:TS], buf[TS:]
                if p[0] != 0x47:
                    raise OSError("lost TS sync")
                pid = ((p[1] & 0x1F) << 8) | p[2]
                if pid == 0:
                    seen_pat = True
                elif pid == PMT_PID and seen_pat:
                    seen_pmt = True
                elif (pid == VIDEO_PID and seen_pmt and p[3] & 0x20
                      and p[4] > 0 and p[5] & 0x40):
                    return (time.monotonic() - t0) * 1000
            got = s.recv(65536)
            if not got:
                raise OSError("closed before a key frame")
            buf += got
            if time.monotonic() - t0 > timeout:
                raise OSError("no key frame in %g s" % timeout)
    finally:
        s.close()


def first_byte_ms(port, path):
    """The request -> the first byte of the body, in ms."""
    t0 = time.monotonic()
    s = request(port, path)
    try:
        _, body = read_header(s)
        while not body:
            body = s.recv(4096)
            if not body:
                raise OSError("closed before the first byte")
        return (time.monotonic() - t0) * 1000
    finally:
        s.close()


class Holder(threading.Thread):
    """A client that watches a channel (reads and discards) until closed."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.s = request(port, path)
        read_header(self.s)
        self.start()

    def run(self):
        try:
            while self.s.recv(65536):
                pass
        except OSError:
            pass

    def close(self):
        try:
            self.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.s.close()


# ---- the scenario ------------------------------------------------------------

class GatewayBench:
    def __init__(self, bench):
        self.b = bench
        self.a = bench.args
        self.udpxy = None
        self.udpxy_note = None

    def contenders(self):
        return ["ours"] + (["udpxy"] if self.udpxy else [])

    def build_udpxy(self):
        """Copies the checkout named by MCASTPROXY_UDPXY_SRC to a temporary
        folder and builds it there."""
        src = os.environ.get(UDPXY_ENV)
        if not src:
            self.udpxy_note = ("%s is not set: udpxy left out" % UDPXY_ENV)
            return
        dst = os.path.join(self.b.tmp, "udpxy")
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".git"))
        r = subprocess.run(["make", "-C", os.path.join(dst, "chipmunk"),
                            "CFLAGS=-Wno-error -O2"], capture_output=True,
                           text=True)
        exe = os.path.join(dst, "chipmunk", "udpxy")
        if r.returncode != 0 or not os.access(exe, os.X_OK):
            self.udpxy_note = ("udpxy from %s did not build: %s" % (
                src, (r.stderr or r.stdout).strip()[-300:]))
            return
        ver = subprocess.run([exe], capture_output=True, text=True)
        self.udpxy = exe
        self.udpxy_note = ((ver.stdout + ver.stderr).splitlines() or ["?"])[0]

    def server(self, who, port):
        words = fill_line(LINES[who], {"PORT": str(port)}).split()
        if who == "udpxy":
            words[0] = self.udpxy
            p = Proc(words, name="udpxy")
        else:
            p = Proc(words[:1] + ["-q"] + words[1:], env=self.b.env,
                     name="mcastgateway")
        if not wait_listen([port], 10, [p]):
            raise RuntimeError("%s did not listen: %s" % (
                who, p.output()[1][-300:]))
        return p

    def sender(self, group, port, rate, count, gate=None, stream_id=1):
        """mcp-send to group:port; with gate, warm-up datagrams until the
        file gate exists, then the stream."""
        warm = ["--warmup-until", gate, "--warmup-timeout", "120"] if gate \
            else []
        return Proc([self.b.send, "--group", group, "--port", str(port),
                     "--count", str(count), "--rate", str(rate), "--sizes",
                     str(SIZE), "--stream-id", str(stream_id), "--quiet"] +
                    warm, name="mcp-send")

    def fanout(self, port, path, clients, count, seconds, stream_id=1,
               connect_rate=0):
        ready = self.b.path("ready")
        argv = [self.b.fanout_tool, "--tcp", "127.0.0.1:%d" % port, "--http",
                path, "--clients", str(clients), "--count", str(count),
                "--sizes", str(SIZE), "--stream-id", str(stream_id),
                "--timeout", str(seconds + 30), "--ready-file", ready,
                "--quiet"]
        if connect_rate:
            argv += ["--connect-rate", str(connect_rate)]
        return Proc(argv, name="mcp-fanout"), ready

    # ---- channel start ----

    def start_runs(self, who, samples):
        port = free_port()
        group, mport = "239.78.0.1", 5000
        path = "/udp/%s:%d" % (group, mport)
        src = Proc([sys.executable, os.path.abspath(__file__), "ts-send",
                    group, str(mport), "600"], name="ts-send")
        try:
            self.server(who, port)
            holder = Holder(port, path)
            # a whole GOP cached before the first sample
            time.sleep(GOP_S + 0.5)
            rnd = random.Random(7)
            out = []
            for _ in range(samples):
                # a random point of the GOP
                time.sleep(rnd.uniform(0, GOP_S))
                out.append(round(channel_start_ms(port, path), 2))
            holder.close()
            return out
        finally:
            src.stop()
            stop_all()

    # ---- join latency ----

    def join_runs(self, who, samples):
        port = free_port()
        groups = ["239.78.1.%d" % (i + 1) for i in range(samples)]
        try:
            for i, g in enumerate(groups):
                self.sender(g, 5000, 1000, 10 ** 6, stream_id=i + 1)
            self.server(who, port)
            out = []
            for g in groups:
                out.append(round(first_byte_ms(port, "/udp/%s:5000" % g), 2))
            return out
        finally:
            stop_all()

    # ---- many channels, many clients ----

    def stream_run(self, who, channels, clients, rate, seconds,
                   connect_rate=0, group_net="239.78.2"):
        """channels x clients over HTTP, each channel at rate datagrams/s
        for seconds; every client checked. A dict of figures."""
        count = int(rate * seconds)
        port = free_port()
        try:
            server = self.server(who, port)
            time.sleep(0.2)
            base = tree_uss_kib(server.pid)
            fos, snds, gates = [], [], []
            for c in range(channels):
                group = "%s.%d" % (group_net, c + 1)
                gate = self.b.path("gate")
                gates.append(gate)
                snds.append(self.sender(group, 5000, rate, count, gate,
                                        stream_id=c + 1))
                fos.append(self.fanout(port, "/udp/%s:5000" % group, clients,
                                       count, seconds, stream_id=c + 1,
                                       connect_rate=connect_rate))
            watch = [server] + snds + [f[0] for f in fos]
            for _, ready in fos:
                if not wait_file(ready, 60 + clients * channels / max(
                        connect_rate or 1000, 1), watch):
                    log("gateway %s: the clients never all connected (%s)" % (
                        who, "; ".join("%s: %s" % (p.name, p.output()[1][
                            -200:].strip()) for p in watch
                            if not p.alive())))
                    return None
            t0 = tree_cpu_ticks(server.pid)
            w0 = time.monotonic()
            for g in gates:
                open(g, "w").close()
            peak = 0
            while any(s.alive() for s in snds):
                peak = max(peak, tree_uss_kib(server.pid))
                time.sleep(1.0)
            t1 = tree_cpu_ticks(server.pid)
            wall = time.monotonic() - w0
            res = {"channels": channels, "clients": clients, "rate": rate,
                   "count": count, "seconds": wall,
                   "cpu_pct": 100.0 * (t1 - t0) / CLK_TCK / wall,
                   "uss_base_kib": base, "uss_peak_kib": peak,
                   "fanouts": []}
            for proc, _ in fos:
                proc.wait(seconds + 40)
                r = kv(last_line(proc.output()[0], "mcp-fanout:"))
                r["exit"] = proc.p.returncode
                if r["exit"] != 0:
                    r["stderr"] = proc.output()[1].strip()[-300:]
                res["fanouts"].append(r)
            res["complete"] = sum(r.get("complete", 0) for r in res["fanouts"])
            res["lost"] = sum(r.get("lost", 0) for r in res["fanouts"])
            res["intact"] = all(r["exit"] == 0 for r in res["fanouts"])
            res["kib_per_client"] = (peak - base) / (channels * clients)
            return res
        finally:
            stop_all()

    def run(self, smoke=False):
        """Every part of the scenario; the results as stored."""
        if not smoke:
            self.build_udpxy()
            log("gateway: %s" % self.udpxy_note)
        # the scale part needs a descriptor per client, in both processes
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
        except (ValueError, OSError):
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        a = self.a
        R = {"udpxy": self.udpxy_note, "lines": dict(LINES),
             "start": {}, "join": {}, "many": {}, "scale": {}}
        for who in self.contenders() + ["ours-unbatched"]:
            if who == "ours-unbatched":
                R["many"][who] = [self.stream_run(
                    who, a.gw_channels, a.gw_clients, CHANNEL_RATE,
                    a.seconds * 2)]
                log("gateway many  %s: cpu %s" % (who, R["many"][who][0] and
                                                  "%.1f%%" % R["many"][who][0]
                                                  ["cpu_pct"]))
                continue
            R["start"][who] = self.start_runs(who, a.gw_samples)
            log("gateway start %-5s ms: %s" % (who, R["start"][who]))
            R["join"][who] = self.join_runs(who, a.gw_samples)
            log("gateway join  %-5s ms: %s" % (who, R["join"][who]))
            runs = []
            for i in range(a.runs):
                res = self.stream_run(who, a.gw_channels, a.gw_clients,
                                      CHANNEL_RATE, a.seconds * 2)
                runs.append(res)
                log("gateway many  %-5s run %d: intact %s lost %s cpu %s "
                    "private memory %s -> %s KiB" % (
                        who, i + 1, res and res["intact"], res and res["lost"],
                        res and "%.1f%%" % res["cpu_pct"],
                        res and res["uss_base_kib"],
                        res and res["uss_peak_kib"]))
            R["many"][who] = runs
            for n in (a.gw_scale if who == "ours" else a.gw_scale_udpxy):
                res = self.stream_run(who, 1, n, LOW_RATE, a.gw_scale_seconds,
                                      connect_rate=1000,
                                      group_net="239.78.3")
                log("gateway scale %-5s %d clients: intact %s complete %s "
                    "cpu %s KiB/client %s" % (
                        who, n, res and res["intact"],
                        res and res["complete"],
                        res and "%.1f%%" % res["cpu_pct"],
                        res and "%.1f" % res["kib_per_client"]))
                R["scale"].setdefault(who, {})[n] = [res]
        return R

    def smoke(self):
        """Ours only, small: (name, ok) of each part."""
        out = []
        try:
            ms = self.start_runs("ours", 2)
            out.append(("gateway: channel start %s ms" % ms, len(ms) == 2))
        except (OSError, RuntimeError) as e:
            out.append(("gateway: channel start: %s" % e, False))
        res = self.stream_run("ours", 2, 5, 500, 2.0)
        out.append(("gateway: 2 channels x 5 HTTP clients, every datagram",
                    bool(res) and res["intact"]))
        return out


# ---- figures -----------------------------------------------------------------

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summary(R):
    S = {"start": {}, "join": {}, "many": {}, "scale": {}}
    for who, ms in R["start"].items():
        S["start"][who] = {"median_ms": med(ms), "max_ms": max(ms),
                           "min_ms": min(ms), "n": len(ms)}
    for who, ms in R["join"].items():
        S["join"][who] = {"median_ms": med(ms), "max_ms": max(ms),
                          "n": len(ms)}
    for who, runs in R["many"].items():
        ok = [r for r in runs if r]
        S["many"][who] = {
            "cpu_pct": med([r["cpu_pct"] for r in ok]),
            "uss_mib": med([(r["uss_peak_kib"]) / 1024 for r in ok]),
            "kib_per_client": med([r["kib_per_client"] for r in ok]),
            "intact": bool(ok) and all(r["intact"] for r in ok),
            "lost": med([r["lost"] for r in ok]),
            "complete": med([r["complete"] for r in ok]),
        }
    for who, per in R["scale"].items():
        for n, runs in per.items():
            r = runs[0]
            S["scale"].setdefault(who, {})[n] = None if not r else {
                "complete": r["complete"], "intact": r["intact"],
                "cpu_pct": r["cpu_pct"], "kib_per_client":
                r["kib_per_client"], "uss_mib": r["uss_peak_kib"] / 1024}
    return S


def num(x, fmt="%.0f"):
    return fmt % x if isinstance(x, (int, float)) else "n/a"


def page(R, S, args, w):
    """The page's section, line by line through w."""
    w("## Channel gateway against udpxy\n")
    m = R.get("machine", {})
    if m:
        w("Measured on %s by `tests/bench/run-bench --only gateway`; the load "
          "average (1 min) was %.2f at the start and %.2f at the end.\n"
          % (m["date"], m["load_start"], m["load_end"]))
    if "udpxy" in S["start"]:
        w("udpxy: %s, built from the source named by `%s`.\n"
          % (R["udpxy"], UDPXY_ENV))
    else:
        w("**udpxy was not measured in this run** (%s): the figures below are "
          "ours alone. Set `%s` to a checkout of "
          "github.com/pcherenkov/udpxy to compare.\n" % (R["udpxy"],
                                                           UDPXY_ENV))
    w("Contenders (PORT: the HTTP port):\n")
    for who in S["start"]:
        w("- %s: `%s`" % (who, R["lines"][who]))
    w("\nBoth run with their defaults otherwise (udpxy reads one datagram "
      "per write, `-B 2048 -R 1`; ours bursts from the last key frame). "
      "udpxy's `-c` cannot go above 5,000 clients.\n")
    w("### Channel start\n")
    w("A %g Mbit/s MPEG-TS channel with a %g s GOP (PAT and PMT every 80 ms, "
      "%d frames/s, each key frame's first packet flagged random access) "
      "that one other client already watches. A new client connects at a "
      "random point of the GOP; the time is from connect to the first "
      "packet of a key frame with a PAT and a PMT before it (%d samples).\n"
      % (CHANNEL_BPS / 1e6, GOP_S, FPS, max(s["n"] for s in
                                             S["start"].values())))
    w("| contender | median ms | min ms | max ms |\n|---|---:|---:|---:|")
    for who, s in S["start"].items():
        w("| %s | %s | %s | %s |" % (who, num(s["median_ms"], "%.1f"),
                                     num(s["min_ms"], "%.1f"),
                                     num(s["max_ms"], "%.1f")))
    w("\n### Join latency\n")
    w("The first request of a channel whose source already sends 1,000 "
      "datagrams/s (a new group each time, so each is a join): the time "
      "from the request to the first byte of the body.\n")
    w("| contender | median ms | max ms |\n|---|---:|---:|")
    for who, s in S["join"].items():
        w("| %s | %s | %s |" % (who, num(s["median_ms"], "%.2f"),
                                num(s["max_ms"], "%.2f")))
    many = R["many"]
    first = next((r for runs in many.values() for r in runs if r), None)
    if first:
        w("\n### Many channels, many clients\n")
        w("%d channels × %d HTTP clients, %s datagrams/s of %d bytes "
          "(%.1f Mbit/s) per channel for %g s; each channel's clients are "
          "one `mcp-fanout --http` that checks every datagram. CPU is the "
          "server's process tree over the stream, memory its peak private "
          "dirty memory "
          "(median of %s).\n" % (
              first["channels"], first["clients"], thousands(first["rate"]),
              SIZE, first["rate"] * SIZE * 8 / 1e6, args.seconds * 2,
              "%d run%s" % (len(many["ours"]), "" if len(many["ours"]) == 1
                            else "s")))
        if "ours-unbatched" in many:
            w("ours-unbatched is ours with `batch-latency=0`: every datagram "
              "written to every client as it comes (one run).\n")
        w("| contender | clients complete | lost | CPU % | memory MiB | "
          "KiB per client |\n|---|---:|---:|---:|---:|---:|")
        for who, s in S["many"].items():
            w("| %s | %s of %d | %s | %s | %s | %s |" % (
                who, num(s["complete"]), first["channels"] * first["clients"],
                num(s["lost"]), num(s["cpu_pct"], "%.1f"),
                num(s["uss_mib"], "%.1f"), num(s["kib_per_client"], "%.1f")))
        m = S["many"]
        if m.get("udpxy", {}).get("cpu_pct") and m["ours"]["cpu_pct"]:
            w("\nCPU, ours against udpxy: %.2f×; memory: %.2f×.\n" % (
                m["ours"]["cpu_pct"] / m["udpxy"]["cpu_pct"],
                m["ours"]["uss_mib"] / m["udpxy"]["uss_mib"]))
        else:
            w("")
    if S["scale"]:
        w("### Scale of one process\n")
        w("Clients of one channel of %d datagrams/s (%.0f kbit/s) for %g s, "
          "connecting at 1,000/s; every client checks every datagram from "
          "its first. Memory per client is the peak private dirty memory of "
          "the server tree minus the same before any client, per "
          "client (socket buffers are "
          "the kernel's and not in it).\n" % (
              LOW_RATE, LOW_RATE * SIZE * 8 / 1e3, args.gw_scale_seconds))
        w("| contender | clients | complete | every byte | CPU % | memory MiB "
          "| KiB per client |\n|---|---:|---:|---|---:|---:|---:|")
        for who, per in S["scale"].items():
            for n, s in sorted(per.items()):
                if not s:
                    w("| %s | %d | n/a | no | | | |" % (who, n))
                    continue
                w("| %s | %s | %s | %s | %s | %s | %s |" % (
                    who, thousands(n), thousands(s["complete"]),
                    "yes" if s["intact"] else "no", num(s["cpu_pct"], "%.1f"),
                    num(s["uss_mib"], "%.1f"),
                    num(s["kib_per_client"], "%.1f")))
        w("")


def targets(S):
    T = []
    G = TARGETS
    s = S["start"].get("ours")
    if s:
        T.append(("gateway channel start median < %g ms" % G["start_ms"],
                  "%.1f ms%s" % (s["median_ms"], "; udpxy %.0f ms" %
                                 S["start"]["udpxy"]["median_ms"]
                                 if "udpxy" in S["start"] else ""),
                  s["median_ms"] < G["start_ms"]))
    m = S["many"]
    if "ours" in m:
        if m.get("udpxy", {}).get("cpu_pct") and m["ours"]["cpu_pct"]:
            r = m["ours"]["cpu_pct"] / m["udpxy"]["cpu_pct"]
            T.append(("gateway 20 × 10 clients: CPU ≤ %g× udpxy's, no loss"
                      % G["cpu_vs_udpxy"], "%.1f%% vs %.1f%%: %.2f×, lost %s"
                      % (m["ours"]["cpu_pct"], m["udpxy"]["cpu_pct"], r,
                         m["ours"]["lost"]),
                      r <= G["cpu_vs_udpxy"] and m["ours"]["intact"]))
        else:
            T.append(("gateway 20 × 10 clients: CPU ≤ %g× udpxy's, no loss"
                      % G["cpu_vs_udpxy"], "udpxy not measured; lost %s"
                      % m["ours"]["lost"], None))
    sc = S["scale"].get("ours", {})
    big = sc.get(G["scale_clients"])
    if G["scale_clients"] in sc:
        T.append(("gateway %s clients: every byte, < %g KiB per client"
                  % (thousands(G["scale_clients"]), G["scale_kib"]),
                  "%s complete, %.1f KiB" % (thousands(big["complete"]),
                                             big["kib_per_client"])
                  if big else "failed",
                  bool(big) and big["intact"] and
                  big["kib_per_client"] < G["scale_kib"]))
    return T


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "ts-send":
        ts_send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: gateway_bench.py ts-send GROUP PORT SECONDS (the "
                 "scenario runs from run-bench --only gateway)")
