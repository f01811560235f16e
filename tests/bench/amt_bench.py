"""amt_bench — AMT (RFC 7450): our gateway (amtsrc) against native
multicast, and one relay (amtrelay) serving many gateways; the "amt"
scenario of run-bench. Needs root: it builds network namespaces as
tests/integration/amt.sh does.

  S (sender) --s0/lan0, multicast-- R (relay) --wan0, unicast only-- G
  S          --s1/nat0, multicast------------------------------------ G

R runs the relay of amt.sh: `mcastsrc-relay scope=... ! amtrelay` (it
joins the group on lan0 only while a gateway asks for it). G runs the
contenders, each as `... ! fakesink`, counted by the element's own
statistics (stats-interval messages on the bus):

  sweep  one stream of SIZE-byte datagrams at each of RATES, side by side:
         native  mcp-send multicast on s1 -> `mcastsrc-relay` on nat0
         amtsrc  `mcp-send --amt-relay` on s1 (an AMT relay of its own
                 stream) -> unicast on the same link -> `amtsrc`: the
                 receivers like for like (the target is checked here)
         chain   mcp-send multicast on s0 -> R's relay -> unicast ->
                 `amtsrc`: our whole AMT path, with the relay's CPU and
                 where the loss is
         loss, CPU of the receiving process, of the sender and of the relay
  scale  GATEWAYS `amtsrc` elements in one process in G (each its own UDP
         socket: one gateway each) through R, all on one group at
         SCALE_RATE/s: the loss of each gateway, the relay's CPU

A run counts datagrams exactly: a short warm-up stream first (which also
makes the relay join), then, once every counter is still, the measured
stream; what a receiver got is the difference of its counter across the
measured stream, against what mcp-send says it sent. For amtsrc the one
mcp-send process sends warm-up datagrams once the gateway joined, until
the bench lets the stream go: what the receiver got is its count less the
warm-up datagrams mcp-send says it sent. Where a datagram was lost is read
from the relay's counters (datagrams in, datagrams sent) and from the
kernel's UDP counters of R and G (receive buffer errors).

MCP_AMT_DEBUG=DIR keeps each process's output there.
"""

import os
import re
import statistics
import subprocess
import time

from benchlib import CLK_TCK, Proc, kv, last_line, log, stop_all, thousands

GROUP = "239.77.1.1"
PORT = 5004
SCOPE = "239.77.1.0/24:%d" % PORT
RELAY_PORT = 2268               # a private namespace: fixed
SIZE = 1316
RATES = [50000, 100000, 150000, 200000]
QUICK_RATES = [50000, 100000, 200000]
GATEWAYS = 100
SCALE_RATE = 1000
SCALE_SECONDS = 10.0
WARMUP = 100                    # datagrams, at 1,000/s
STATS_NS = 250000000            # stats-interval of every element
SETTLE_S = 1.0                  # counters still after a stream this long
BUFFER = 8388608                # socket receive buffers, both contenders
CONTENDERS = ["native", "amtsrc", "chain"]
LABELS = {"native": "native", "amtsrc": "amtsrc", "chain": "chain (amtrelay)"}
TARGETS = {"amtsrc_rate": 100000, "gateways": GATEWAYS,
           "gateway_rate": SCALE_RATE}

# The lines as run (G, P: group and port; R, RP: relay and its port;
# SADDR, SPORT: mcp-send's AMT relay and the port it bound; F: the LAN
# interface).
LINES = {
    "relay": "gst-launch-1.0 -m mcastsrc-relay scope=SCOPE multicast-iface=lan0 "
             "buffer-size=BUF stats-interval=STATS ! amtrelay address=R "
             "port=RP max-gateways-per-host=0 stats-interval=STATS",
    "amt_sender": "mcp-send --amt-relay SADDR:0 --port-file FILE --group G "
                  "--port P --sizes SIZE --rate RATE --warmup-until FILE2",
    "amtsrc": "amtsrc address=G port=P relay=SADDR relay-port=SPORT "
              "buffer-size=BUF stats-interval=STATS ! fakesink sync=false "
              "enable-last-sample=false",
    "chain": "amtsrc address=G port=P relay=R relay-port=RP buffer-size=BUF "
             "stats-interval=STATS ! fakesink sync=false "
             "enable-last-sample=false",
    "native": "mcastsrc-relay address=G port=P multicast-iface=F "
              "buffer-size=BUF stats-interval=STATS ! fakesink sync=false "
              "enable-last-sample=false",
}
RELAY_ADDR = "10.30.0.1"
SENDER_ADDR = "10.50.0.2"       # S on the S-G link


def fill(line, **kw):
    d = {"G": GROUP, "P": str(PORT), "R": RELAY_ADDR, "RP": str(RELAY_PORT),
         "BUF": str(BUFFER), "STATS": str(STATS_NS), "SCOPE": SCOPE,
         "F": "nat0", "SADDR": SENDER_ADDR, "SIZE": str(SIZE)}
    d.update(kw)
    return re.sub(r"\b(%s)\b" % "|".join(sorted(d, key=len, reverse=True)),
                  lambda m: d[m.group(1)], line)


MSG = re.compile(r'from element "([^"]+)" \(element\): ([\w-]+), (.*)$')


def stats_of(text, kind):
    """{element name: {field: value}} of the last `kind` message of each
    element in gst-launch -m output."""
    out = {}
    for line in text.splitlines():
        m = MSG.search(line)
        if not m or m.group(2) != kind:
            continue
        f = {}
        for k, v in re.findall(r"([\w-]+)=\([\w]+\)([^,;]+)", m.group(3)):
            v = v.strip().strip('"')
            if k in f:          # a nested structure's field
                continue
            try:
                f[k] = int(v)
            except ValueError:
                f[k] = v
        out[m.group(1)] = f
    return out


class AmtBench:
    def __init__(self, bench):
        self.b = bench
        self.a = bench.args
        self.tag = "mab%d" % os.getpid()
        self.made = []
        self.env = dict(bench.env)
        self.debug = os.environ.get("MCP_AMT_DEBUG")
        self.serial = 0

    def ns(self, x):
        return "%s-%s" % (self.tag, x)

    @staticmethod
    def ip(*args):
        subprocess.run(["ip"] + list(args), check=True)

    # ---- the namespaces ----

    def host(self, x):
        self.ip("netns", "add", self.ns(x))
        self.made.append(self.ns(x))
        self.ip("-n", self.ns(x), "link", "set", "lo", "up")

    def link(self, x, ifx, ax, y, ify, ay, mcast):
        self.ip("link", "add", ifx, "netns", self.ns(x), "type", "veth",
                "peer", "name", ify, "netns", self.ns(y))
        self.ip("-n", self.ns(x), "addr", "add", ax, "dev", ifx)
        self.ip("-n", self.ns(y), "addr", "add", ay, "dev", ify)
        for n, i in ((x, ifx), (y, ify)):
            self.ip("-n", self.ns(n), "link", "set", i, "multicast", mcast,
                    "up")

    def topology(self):
        for x in "srg":
            self.host(x)
        self.link("s", "s0", "10.20.0.2/24", "r", "lan0", "10.20.0.1/24", "on")
        self.link("r", "wan0", RELAY_ADDR + "/24", "g", "wan0",
                  "10.30.0.2/24", "off")
        self.link("s", "s1", "10.50.0.2/24", "g", "nat0", "10.50.0.1/24", "on")
        for x in "rg":
            subprocess.run(["ip", "netns", "exec", self.ns(x), "sysctl",
                            "-qw", "net.ipv4.ip_forward=0"], check=True)

    def teardown(self):
        for n in self.made:
            subprocess.run(["ip", "netns", "del", n],
                           stderr=subprocess.DEVNULL)
        self.made = []

    def run_in(self, x, argv, name):
        return Proc(["ip", "netns", "exec", self.ns(x)] + argv, env=self.env,
                    name=name)

    def gst_in(self, x, line, name):
        # not quiet: -q would hide the messages of -m
        return self.run_in(x, line.split(), name)

    def udp(self, x):
        """The kernel's UDP counters of namespace x."""
        out = subprocess.run(["ip", "netns", "exec", self.ns(x), "cat",
                              "/proc/net/snmp"], capture_output=True,
                             text=True, check=True).stdout
        rows = [l.split()[1:] for l in out.splitlines()
                if l.startswith("Udp:")]
        return {k: int(v) for k, v in zip(rows[0], rows[1])}

    def keep(self, procs, label):
        if not self.debug or not os.path.isdir(self.debug):
            return
        self.serial += 1
        for k, p in procs.items():
            out, err = p.output()
            with open(os.path.join(self.debug, "%03d-%s-%s.log" % (
                    self.serial, label, k)), "w") as f:
                f.write(out + err)

    # ---- one measurement ----

    def send(self, iface, count, rate, stream=1):
        """mcp-send in S; a shell around it prints its CPU time (times)
        after it exited."""
        argv = [self.b.send, "--group", GROUP, "--port", str(PORT),
                "--iface", iface, "--count", str(count), "--rate", str(rate),
                "--sizes", str(SIZE), "--stream-id", str(stream), "--quiet"]
        return self.run_in("s", ["sh", "-c", '"$@"; times', "sh"] + argv,
                           "mcp-send")

    def send_amt(self, count, rate, port_file, go_file):
        """mcp-send --amt-relay in S (port 0, written to port_file): it
        waits for a gateway, sends warm-up datagrams to it until go_file
        exists, then the stream. Not quiet: the number of warm-up
        datagrams is on stderr. Timed as send()."""
        argv = [self.b.send, "--amt-relay", SENDER_ADDR + ":0",
                "--port-file", port_file, "--group", GROUP,
                "--port", str(PORT), "--count", str(count),
                "--rate", str(rate), "--sizes", str(SIZE),
                "--warmup-until", go_file, "--warmup-timeout", "120"]
        return self.run_in("s", ["sh", "-c", '"$@"; times', "sh"] + argv,
                           "mcp-send")

    @staticmethod
    def wait_file(path, proc, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with open(path) as f:
                    text = f.read().strip()
                if text:
                    return text
            except OSError:
                pass
            if not proc.alive():
                return None
            time.sleep(0.05)
        return None

    @staticmethod
    def child_cpu_s(text):
        """The children's user + system seconds of sh's times."""
        t = re.findall(r"(\d+)m([\d.]+)s", text.strip().splitlines()[-1]) \
            if text.strip() else []
        return sum(int(m) * 60 + float(x) for m, x in t) if t else None

    def wait_stats(self, proc, kind, names, until, timeout):
        """The last stats of every element of names, once until(stats) holds
        for all of them; None on timeout or when proc died."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = stats_of(proc.output()[0], kind)
            if all(n in st and until(st[n]) for n in names):
                return st
            if not proc.alive():
                return None
            time.sleep(0.1)
        return None

    def still(self, proc, kind, names, extra=None):
        """The stats of names once their datagram counters (and extra's)
        have not moved for SETTLE_S."""
        last = None
        end = time.monotonic() + 30
        while time.monotonic() < end:
            time.sleep(SETTLE_S)
            st = stats_of(proc.output()[0], kind)
            snap = {n: st.get(n, {}).get("datagrams-received") for n in names}
            if extra:
                snap["relay"] = self.relay_counts(extra)
            if snap == last:
                return st, snap.get("relay")
            last = snap
        return st, snap.get("relay")

    @staticmethod
    def relay_counts(relay):
        st = stats_of(relay.output()[0], "amtrelay-stats")
        r = next(iter(st.values()), {})
        return (r.get("datagrams-in"), r.get("datagrams-sent"),
                r.get("gateways"))

    def one(self, who, rate, count, gateways=1):
        """One measurement: who ("native", "amtsrc" or "chain") with
        gateways elements receives count datagrams at rate. A dict, or
        None when the path never came up."""
        procs = {}
        relay = None
        amt_snd = None
        sport = "0"
        try:
            if who == "amtsrc":
                self.serial += 1
                pf = os.path.join(self.b.tmp, "amt-port-%d" % self.serial)
                go = os.path.join(self.b.tmp, "amt-go-%d" % self.serial)
                amt_snd = self.send_amt(count, rate, pf, go)
                procs["send"] = amt_snd
                sport = self.wait_file(pf, amt_snd, 15)
                if not sport:
                    log("amt: mcp-send --amt-relay never bound: %s" %
                        amt_snd.output()[1][-300:])
                    return None
            if who == "chain":
                relay = self.gst_in("r", fill(LINES["relay"]), "relay")
                procs["relay"] = relay
                if not self.wait_stats(relay, "amtrelay-stats", ["amtrelay0"],
                                       lambda s: True, 15):
                    log("amt: the relay never started: %s" %
                        relay.output()[1][-300:])
                    return None
            line = " ".join(fill(LINES[who], SPORT=sport).replace(
                "fakesink", "fakesink name=sink%d" % i, 1).replace(
                    "address=", "name=rx%d address=" % i, 1)
                for i in range(gateways))
            names = ["rx%d" % i for i in range(gateways)]
            kind = "mcastsrc-relay-stats" if who == "native" else \
                "amtsrc-stats"
            rx = self.gst_in("g", "gst-launch-1.0 -m " + line, who)
            procs["rx"] = rx
            iface = "s0" if who == "chain" else "s1"
            t_up = time.monotonic()
            ready = (lambda s: True) if who == "native" else \
                (lambda s: s.get("state") == "joined")
            if not self.wait_stats(rx, kind, names, ready, 60):
                log("amt: %s never joined: %s" % (who, rx.output()[1][-300:]))
                return None
            joined_s = time.monotonic() - t_up
            # the warm-up: the relay joins natively on the first Update;
            # every receiver must see (the end of) it. mcp-send --amt-relay
            # sends its own until told to go.
            for _ in range(0 if amt_snd else 10):
                w = self.send(iface, WARMUP, 1000, stream=2)
                w.wait(30)
                st = self.wait_stats(rx, kind, names, lambda s: s.get(
                    "datagrams-received", 0) > 0, 3)
                if st:
                    break
            else:
                if not amt_snd:
                    log("amt: %s: no datagram came through" % who)
                    return None
            if amt_snd:
                if not self.wait_stats(rx, kind, names, lambda s: s.get(
                        "datagrams-received", 0) > 0, 15):
                    log("amt: amtsrc: no warm-up datagram came through")
                    return None
                base = None
                relay0 = None
            else:
                base, relay0 = self.still(rx, kind, names, relay)
            udp0 = {x: self.udp(x) for x in "rg"}
            t0 = rx.cpu_ticks()
            r0 = relay.cpu_ticks() if relay else None
            if amt_snd:
                snd = amt_snd
                with open(go, "w") as f:
                    f.write("go\n")
            else:
                snd = self.send(iface, count, rate)
            snd.wait(count / rate * 4 + 30)
            sent = kv(last_line(snd.output()[0], "mcp-send:"))
            send_cpu = self.child_cpu_s(snd.output()[0])
            t1 = rx.cpu_ticks()
            r1 = relay.cpu_ticks() if relay else None
            end, relay1 = self.still(rx, kind, names, relay)
            udp1 = {x: self.udp(x) for x in "rg"}
            seconds = sent.get("seconds") or count / rate
            if amt_snd:
                # every warm-up datagram came before the stream
                m = re.search(r"appeared after (\d+) warm-up",
                              snd.output()[1])
                warm = int(m.group(1)) if m else 0
                got = [end[n]["datagrams-received"] - warm for n in names]
            else:
                got = [end[n]["datagrams-received"] -
                       base[n]["datagrams-received"] for n in names]
            res = {
                "who": who, "rate": rate, "count": count,
                "gateways": gateways, "sent": sent.get("sent", 0),
                "offered": sent.get("rate", 0.0), "seconds": seconds,
                "received": got, "joined_s": joined_s,
                "cpu_s": (t1 - t0) / CLK_TCK,
                "send_cpu_s": send_cpu,
                "load": os.getloadavg()[0],
                "udp_g": {k: udp1["g"][k] - udp0["g"][k]
                          for k in ("InDatagrams", "RcvbufErrors",
                                    "InErrors")},
                "udp_r": {k: udp1["r"][k] - udp0["r"][k]
                          for k in ("InDatagrams", "RcvbufErrors",
                                    "InErrors", "SndbufErrors")},
                "alive": rx.alive() and (relay is None or relay.alive()),
            }
            if relay:
                res["relay_cpu_s"] = (r1 - r0) / CLK_TCK
                res["relay_in"] = relay1[0] - relay0[0]
                res["relay_sent"] = relay1[1] - relay0[1]
                res["relay_gateways"] = relay1[2]
            return res
        finally:
            self.keep(procs, "%s-%d-%d" % (who, gateways, rate))
            stop_all()

    # ---- the scenario ----

    def run(self):
        if os.geteuid() != 0:
            log("amt: needs root (ip netns): not measured")
            return {"skipped": "not root"}
        subprocess.run(["gst-inspect-1.0", "amtsrc"], env=self.env,
                       capture_output=True)
        rates = QUICK_RATES if self.a.quick else RATES
        scale_s = self.a.seconds if self.a.quick else SCALE_SECONDS
        R = {"size": SIZE, "rates": rates, "seconds": self.a.seconds,
             "gateways": GATEWAYS, "scale_rate": SCALE_RATE,
             "scale_seconds": scale_s, "buffer_size": BUFFER,
             "lines": {k: fill(v) for k, v in LINES.items()},
             "sweep": {}, "scale": []}
        self.topology()
        try:
            for i in range(self.a.runs):
                # the contenders side by side at each rate, in turn
                for rate in rates:
                    for who in CONTENDERS:
                        res = self.one(who, rate,
                                       int(rate * self.a.seconds))
                        R["sweep"].setdefault(who, {}).setdefault(
                            rate, []).append(res)
                        log("amt %-6s %6d/s run %d: %s" % (
                            who, rate, i + 1, describe(res)))
                res = self.one("chain", SCALE_RATE, int(SCALE_RATE * scale_s),
                               GATEWAYS)
                R["scale"].append(res)
                log("amt %d gateways x %d/s run %d: %s" % (
                    GATEWAYS, SCALE_RATE, i + 1, describe(res)))
        finally:
            stop_all()
            self.teardown()
        return R


# ---- figures -----------------------------------------------------------------

def lost(res):
    """Datagrams lost at each receiver (what mcp-send sent, less what the
    receiver counted)."""
    return [max(res["sent"] - g, 0) for g in res["received"]]


def describe(res):
    if not res:
        return "failed"
    l = lost(res)
    s = "sent %d (%.0f/s) lost sum %d max %d; cpu %.1f%% (%.2f us/dg)" % (
        res["sent"], res["offered"], sum(l), max(l),
        100 * res["cpu_s"] / res["seconds"],
        1e6 * res["cpu_s"] / max(sum(res["received"]), 1))
    if res.get("send_cpu_s") is not None:
        s += ", sender cpu %.1f%% (%.2f us/dg)" % (
            100 * res["send_cpu_s"] / res["seconds"],
            1e6 * res["send_cpu_s"] / max(res["sent"], 1))
    if "relay_cpu_s" in res:
        s += ", relay cpu %.1f%% in %d sent %d" % (
            100 * res["relay_cpu_s"] / res["seconds"], res["relay_in"],
            res["relay_sent"])
    s += "; R rcvbuf err %d, G rcvbuf err %d" % (
        res["udp_r"]["RcvbufErrors"], res["udp_g"]["RcvbufErrors"])
    return s


def run_figures(res):
    l = lost(res)
    n = len(res["received"])
    f = {
        "offered": res["offered"],
        "lost_sum": sum(l), "lost_max": max(l),
        "loss_pct": 100.0 * sum(l) / max(res["sent"] * n, 1),
        "cpu_pct": 100.0 * res["cpu_s"] / res["seconds"],
        "cpu_us_per_dg": 1e6 * res["cpu_s"] / max(sum(res["received"]), 1),
        "g_rcvbuf_errors": res["udp_g"]["RcvbufErrors"],
        "r_rcvbuf_errors": res["udp_r"]["RcvbufErrors"],
        "joined_s": res["joined_s"],
        "send_cpu_pct": 100.0 * res["send_cpu_s"] / res["seconds"]
        if res.get("send_cpu_s") is not None else None,
        "send_us_per_dg": 1e6 * res["send_cpu_s"] / max(res["sent"], 1)
        if res.get("send_cpu_s") is not None else None,
        "alive": res["alive"],
    }
    if "relay_cpu_s" in res:
        f.update({
            "relay_cpu_pct": 100.0 * res["relay_cpu_s"] / res["seconds"],
            "relay_us_per_dg_in": 1e6 * res["relay_cpu_s"] / max(
                res["relay_in"], 1),
            "relay_us_per_dg_sent": 1e6 * res["relay_cpu_s"] / max(
                res["relay_sent"], 1),
            # lost before the relay had it / between its send and G's
            # sockets' counters / in the relay
            "lost_before_relay": max(res["sent"] - res["relay_in"], 0),
            "relay_sent_per_gw": res["relay_sent"] / max(n, 1),
        })
    return f


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def med_figures(runs):
    figs = [run_figures(r) for r in runs if r]
    if not figs:
        return None
    S = {k: med([f[k] for f in figs]) for k in figs[0]
         if not isinstance(figs[0][k], bool)}
    S["runs"] = len(figs)
    S["runs_lossless"] = sum(1 for f in figs if f["lost_sum"] == 0)
    S["lost_max_all"] = max(f["lost_max"] for f in figs)
    S["lost_sum_all"] = sum(f["lost_sum"] for f in figs)
    S["died"] = sum(1 for f in figs if not f["alive"])
    return S


def summary(R):
    if R.get("skipped"):
        return {}
    S = {"sweep": {}, "lossless": {}}
    for who, per in R["sweep"].items():
        S["sweep"][who] = {}
        best = 0
        for rate, runs in sorted(per.items()):
            m = med_figures(runs)
            S["sweep"][who][rate] = m
            # the rate the sender achieved: it may fall short of the
            # offered one when the machine is busy
            if m and m["lost_sum"] == 0:
                best = max(best, m["offered"])
        S["lossless"][who] = best
    S["scale"] = med_figures(R["scale"])
    return S


def num(x, fmt="%.0f"):
    return fmt % x if isinstance(x, (int, float)) else "n/a"


def page(R, S, args, w):
    w("## AMT: gateway against native multicast, one relay for many "
      "gateways\n")
    if R.get("skipped") or not S:
        w("Not measured (%s).\n" % (R.get("skipped") or "every run failed"))
        return
    m = R.get("machine", {})
    if m:
        w("Measured on %s by `tests/bench/run-bench --only amt`, as root; "
          "the load average (1 min) was %.2f at the start and %.2f at the "
          "end.\n" % (m["date"], m["load_start"], m["load_end"]))
    runs = max(len(v) for per in R["sweep"].values() for v in per.values())
    w("Network namespaces as `tests/integration/amt.sh` builds them: a "
      "sender S, a relay R and a gateway G; S–R a multicast LAN, R–G "
      "unicast only (multicast off), and a second link S–G. G runs each "
      "receiver into `fakesink`; S sends %s-byte datagrams with `mcp-send`. "
      "Three contenders, side by side at each rate:\n" % thousands(R["size"]))
    w("- **native**: `mcp-send` multicast on S–G → `mcastsrc-relay` in G.")
    w("- **amtsrc**: `mcp-send --amt-relay` in S, an AMT relay of its own "
      "stream (it answers the gateway's Discovery, Request and Update and "
      "sends each datagram as Multicast Data, in `sendmmsg` batches) → "
      "unicast on the same S–G link → `amtsrc` in G. The receivers like "
      "for like: the amtsrc target is checked here.")
    w("- **chain (amtrelay)**: `mcp-send` multicast on S–R → our relay in R "
      "→ unicast R–G → `amtsrc` in G: the whole AMT path, with the relay's "
      "CPU and where the loss is.\n")
    w("Each receiver is counted by its own statistics across the measured "
      "stream (after a warm-up stream, once every counter is still; for "
      "amtsrc, less the warm-up datagrams `mcp-send` says it sent before "
      "the stream): lost is what `mcp-send` sent less what the receiver "
      "counted. CPU is that of the process over the stream, %% of one core "
      "(100 %% = one core busy), and µs per datagram received; the relay's "
      "CPU is its own process's (µs per datagram it took in), the sender's "
      "that of `mcp-send` (which, as every sender on a veth link, also pays "
      "for the receiving side's kernel work: the relay's sends likewise "
      "carry G's). Kernel drops are the UDP receive-buffer errors of R's "
      "and G's namespaces over the stream. "
      "Median of %d run%s.\n" % (runs, "" if runs == 1 else "s"))
    w("- relay (R): `%s`" % R["lines"]["relay"])
    if "amt_sender" in R["lines"]:
        w("- AMT sender (S): `%s`" % R["lines"]["amt_sender"])
    for who in CONTENDERS:
        if who in R["lines"]:
            w("- %s (G): `gst-launch-1.0 %s`" % (LABELS[who],
                                                 R["lines"][who]))
    w("")
    w("### One stream, offered rates\n")
    w("| offered/s | contender | sent/s | lost | lost, all runs | CPU % | "
      "CPU µs/datagram | sender CPU % | sender µs/datagram | relay CPU % | "
      "relay µs/datagram | kernel drops R / G |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rate in R["rates"]:
        for who in CONTENDERS:
            f = S["sweep"].get(who, {}).get(rate)
            if not f:
                w("| %s | %s | failed | | | | | | | | | |" % (
                    thousands(rate), LABELS[who]))
                continue
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | "
              "%s / %s |" % (
                thousands(rate), LABELS[who], thousands(f["offered"]),
                num(f["lost_sum"]), num(f["lost_sum_all"]),
                num(f["cpu_pct"], "%.1f"), num(f["cpu_us_per_dg"], "%.2f"),
                num(f.get("send_cpu_pct"), "%.1f"),
                num(f.get("send_us_per_dg"), "%.2f"),
                num(f.get("relay_cpu_pct"), "%.1f"),
                num(f.get("relay_us_per_dg_in"), "%.2f"),
                num(f["r_rcvbuf_errors"]), num(f["g_rcvbuf_errors"])))
    a, n = S["sweep"].get("amtsrc", {}), S["sweep"].get("native", {})
    w("\nHighest rate sent without loss (median run): %s. CPU per datagram, "
      "amtsrc against native: %s.\n" % (
          ", ".join("%s %s/s" % (LABELS[who], thousands(
              S["lossless"].get(who, 0))) for who in CONTENDERS),
          ", ".join("%s×" % num(a[r]["cpu_us_per_dg"] / n[r]["cpu_us_per_dg"],
                                "%.2f") + " at %s/s" % thousands(r)
                    for r in R["rates"] if a.get(r) and n.get(r)
                    and n[r]["cpu_us_per_dg"]) or "n/a"))
    w("### %d gateways on one relay\n" % R["gateways"])
    f = S["scale"]
    w("%d `amtsrc` elements in one `gst-launch-1.0` in G (one UDP socket, "
      "one gateway each), all on the same group through our relay in R; S "
      "sends %s datagrams/s "
      "for %g s; the relay sends each to every gateway.\n" % (
          R["gateways"], thousands(R["scale_rate"]), R["scale_seconds"]))
    if not f:
        w("Every run failed.\n")
        return
    w("| | median | all runs |\n|---|---:|---:|")
    w("| datagrams lost, all gateways (sum) | %s | %s |" % (
        num(f["lost_sum"]), num(f["lost_sum_all"])))
    w("| datagrams lost, worst gateway | %s | %s |" % (
        num(f["lost_max"]), num(f["lost_max_all"])))
    w("| runs without loss | | %d of %d |" % (f["runs_lossless"], f["runs"]))
    w("| sent/s (S) | %s | |" % thousands(f["offered"]))
    w("| relay: datagrams sent per gateway | %s | |" %
      num(f["relay_sent_per_gw"]))
    w("| relay CPU, %% of a core | %s | |" % num(f["relay_cpu_pct"], "%.1f"))
    w("| relay CPU µs per datagram sent (one per gateway) | %s | |" %
      num(f["relay_us_per_dg_sent"], "%.2f"))
    w("| relay CPU µs per datagram in | %s | |" %
      num(f["relay_us_per_dg_in"], "%.1f"))
    w("| gateways' process CPU, %% of a core | %s | |" %
      num(f["cpu_pct"], "%.1f"))
    w("| gateways' CPU µs per datagram received | %s | |" %
      num(f["cpu_us_per_dg"], "%.2f"))
    w("| kernel receive-buffer drops in G | %s | |" %
      num(f["g_rcvbuf_errors"]))
    w("| time for all gateways to join, s | %s | |" %
      num(f["joined_s"], "%.1f"))
    w("")


def targets(S):
    if not S:
        return []
    G = TARGETS
    T = []
    f = S["sweep"].get("amtsrc", {}).get(G["amtsrc_rate"])
    T.append(("amt: amtsrc %s/s of %d B without loss (AMT sender)" % (
        thousands(G["amtsrc_rate"]), SIZE),
        "lost %s (median), %s in all runs; sent %s/s" % (
            num(f["lost_sum"]), num(f["lost_sum_all"]),
            thousands(f["offered"])) if f else "failed",
        bool(f) and f["lost_sum"] == 0
        and f["offered"] >= 0.99 * G["amtsrc_rate"]))
    f = S.get("scale")
    T.append(("amt: %d gateways × %s/s without loss" % (
        G["gateways"], thousands(G["gateway_rate"])),
        "lost %s (median; worst gateway %s), %s in all runs" % (
            num(f["lost_sum"]), num(f["lost_max"]), num(f["lost_sum_all"]))
        if f else "failed",
        bool(f) and f["lost_sum"] == 0))
    return T
