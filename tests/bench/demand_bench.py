"""demand_bench — demand-driven islands against static flooding, the
"demand" scenario of run-bench (issue 12's performance section). Needs
root: it builds network namespaces as tests/integration/demand.sh does.

A hub and islands A, B, C (each a gateway namespace and a host namespace
on a veth LAN; the wide-area links gateway <-> hub have multicast off).
A's host sends GROUPS groups (239.10.0.1 ...), RATE datagrams/s of SIZE
bytes each (one mcp-send per group); B's host listens to 4 of them, C's
to 6 (one mcp-recv per group). In one run, on the same namespaces:

  demand  the gateways carry the scope 239.10.0.0/24:5004 on demand
          (learned from the hosts' kernel IGMP reports): the bytes of
          every wide-area link, both directions, over a window once the
          joins have settled; then, for CHURN_S s, a listener in B's host
          joins or leaves one of 50 other groups every 100 ms (a UDP
          socket toggling IP_ADD/DROP_MEMBERSHIP), while the 10 steady
          listeners must lose nothing after their first datagram
  static  the gateways list the GROUPS single groups (pinned: today's
          flooding, one mcastsrc-relay per group): the same window

Bytes are the counters of the hub's ends of the links (tx: hub -> island,
rx: island -> hub), read in one call.

MCP_DEMAND_DEBUG=DIR keeps the hub's and gateways' output (with their
statistics every second) in DIR, and a backtrace of B's gateway if it
still runs after the churn; each run's results go to stderr.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

from benchlib import (CLK_TCK, Proc, log, stop_all, thousands,
                      tree_cpu_ticks, wait_file)

GROUPS = 200
RATE = 50                       # datagrams/s per group (100: see page)
SIZE = 1000
PORT = 5004
SCOPE = "239.10.0.0/24:%d" % PORT
LISTEN = {"b": list(range(1, 5)), "c": list(range(5, 11))}
CHURN_GROUPS = list(range(11, 61))
# the churn window: (name, first, last group), across 50 groups as
# issue 12 asks
CHURNS = [("churn", CHURN_GROUPS[0], CHURN_GROUPS[-1])]
CHURN_INTERVAL = 0.1
SETTLE_S = 2.0
WINDOW_S = 5.0
CHURN_S = 10.0
ISLANDS = "abc"
TARGETS = {"demand_vs_payload": 1.2}


def group(i):
    return "239.10.0.%d" % i


def payload(groups, seconds):
    return groups * RATE * SIZE * seconds


def churn(iface_addr, first, last, interval, seconds):
    """A listener that joins or leaves one group of first..last every
    interval s, for seconds (in its own process, in a host's namespace:
    demand_bench.py churn ADDR FIRST LAST INTERVAL SECONDS). Prints
    'churn: ops=N joins=J leaves=L late_max_ms=M'."""
    # a socket per group: the kernel allows 20 memberships per socket
    # (igmp_max_memberships)
    socks = {}
    joined = set()
    groups = list(range(first, last + 1))
    t0 = time.monotonic()
    n = joins = leaves = 0
    late = 0.0
    while True:
        due = t0 + n * interval
        if due - t0 >= seconds:
            break
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        late = max(late, time.monotonic() - due)
        g = groups[n % len(groups)]
        if g not in socks:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, 49, 0)      # IP_MULTICAST_ALL
            s.bind(("0.0.0.0", 0))
            socks[g] = s
        mreq = socket.inet_aton(group(g)) + socket.inet_aton(iface_addr)
        if g in joined:
            socks[g].setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP,
                                mreq)
            joined.discard(g)
            leaves += 1
        else:
            socks[g].setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                                mreq)
            joined.add(g)
            joins += 1
        n += 1
    print("churn: ops=%d joins=%d leaves=%d late_max_ms=%.1f" % (
        n, joins, leaves, late * 1000), flush=True)
    for s in socks.values():
        s.close()


class DemandBench:
    def __init__(self, bench):
        self.b = bench
        self.a = bench.args
        self.tag = "mdb%d" % os.getpid()
        self.made = []
        self.top = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        self.env = dict(bench.env)
        self.env["MCASTPROXY_PLUGIN_DIR"] = os.path.join(bench.build,
                                                         "plugins")
        for k in ("MCASTPROXY_CONF", "MCASTPROXY_DRY_RUN",
                  "MCASTPROXY_LAUNCH_FLAGS", "MCASTPROXY_STATS_INTERVAL"):
            self.env.pop(k, None)

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
        self.host("hub")
        for n, i in enumerate(ISLANDS, 1):
            self.host("gw" + i)
            self.host("h" + i)
            self.link("gw" + i, "lan", "10.%d.0.1/24" % n, "h" + i, "eth0",
                      "10.%d.0.2/24" % n, "on")
            self.ip("-n", self.ns("gw" + i), "route", "add", "224.0.0.0/4",
                    "dev", "lan")
            self.ip("-n", self.ns("h" + i), "route", "add", "224.0.0.0/4",
                    "dev", "eth0")
            self.link("gw" + i, "up0", "10.0.%d.1/24" % n, "hub", "to" + i,
                      "10.0.%d.2/24" % n, "off")

    def teardown(self):
        for n in self.made:
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
        self.made = []

    def run_in(self, x, argv, name, env=None):
        return Proc(["ip", "netns", "exec", self.ns(x)] + argv,
                    env=env or self.env, name=name)

    def counters(self, x):
        """{iface: (tx_bytes, rx_bytes, tx_packets)} of a namespace."""
        out = subprocess.run(["ip", "-n", self.ns(x), "-s", "-j", "link",
                              "show"], capture_output=True, text=True,
                             check=True).stdout
        res = {}
        for l in json.loads(out):
            s = l.get("stats64", {})
            res[l["ifname"]] = (s["tx"]["bytes"], s["rx"]["bytes"],
                                s["tx"]["packets"])
        return res

    def snapshot(self):
        hub = self.counters("hub")
        snap = {"t": time.monotonic()}
        for i in ISLANDS:
            snap["hub->" + i] = hub["to" + i][0]
            snap[i + "->hub"] = hub["to" + i][1]
        snap["sent_a"] = self.counters("ha")["eth0"][2]
        for i in "bc":
            snap["lan_" + i] = self.counters("gw" + i)["lan"][2]
        return snap

    @staticmethod
    def diff(s0, s1):
        return {k: s1[k] - s0[k] for k in s0}

    # ---- the islands' tools ----

    def dump(self, procs, phase):
        d = os.environ.get("MCP_DEMAND_DEBUG")
        if not d or not os.path.isdir(d):
            return
        for k, p in procs.items():
            if p.alive() and phase == "demand" and k == "gwb":
                bt = subprocess.run(["gdb", "-p", str(p.pid), "-batch", "-ex",
                                     "thread apply all bt"],
                                    capture_output=True, text=True).stdout
                with open(os.path.join(d, "gwb-bt.txt"), "w") as f:
                    f.write(bt)
            elif not p.alive():
                log("demand: %s exited %s" % (k, p.p.returncode))
            out, err = p.output()
            with open(os.path.join(d, "%s-%s.log" % (phase, k)), "w") as f:
                f.write(out + err)

    def gateway_argv(self, i, n, groups):
        """The island gateway of island i (number n)."""
        env = ["ISLAND_ID=%d" % n, "HUB_IP=10.0.%d.2" % n,
               "HUB_IN_PORT=5400", "HUB_OUT_PORT=5401",
               "MCAST_GROUPS=" + groups, "MCAST_IFACE=lan", "MCAST_TTL=1",
               "MCASTPROXY_STATS_INTERVAL=%d" % (
                   1000000000 if os.environ.get("MCP_DEMAND_DEBUG") else 0)]
        return ["env"] + env + [os.path.join(self.top, "pipelines",
                                             "island-gateway")]

    def start_islands(self, groups):
        pipes = os.path.join(self.top, "pipelines")
        procs = {"hub": self.run_in("hub", [
            "env", "HUB_IP=", "HUB_IN_PORT=5400", "HUB_OUT_PORT=5401",
            os.path.join(pipes, "hub")], "hub")}
        for n, i in enumerate(ISLANDS, 1):
            procs["gw" + i] = self.run_in("gw" + i, self.gateway_argv(
                i, n, groups), "gw" + i)
        # each gateway has its two connections to the hub
        end = time.monotonic() + 60
        while time.monotonic() < end:
            est = subprocess.run(["ip", "netns", "exec", self.ns("hub"),
                                  "ss", "-Htn", "state", "established"],
                                 capture_output=True, text=True).stdout
            if len(est.splitlines()) >= 2 * len(ISLANDS):
                return procs
            dead = [k for k, p in procs.items() if not p.alive()]
            if dead:
                break
            time.sleep(0.1)
        raise RuntimeError("the islands never connected: %s" % "; ".join(
            "%s: %s" % (k, p.output()[1][-300:].strip())
            for k, p in procs.items() if not p.alive()))

    def senders(self, count, gate=None):
        warm = ["--warmup-until", gate, "--warmup-timeout", "60"] if gate \
            else []
        return [self.run_in("ha", [
            self.b.send, "--group", group(g), "--port", str(PORT),
            "--iface", "eth0", "--stream-id", str(g), "--count", str(count),
            "--rate", str(RATE), "--sizes", str(SIZE), "--quiet"] + warm,
            "send%d" % g) for g in range(1, GROUPS + 1)]

    def listeners(self, count):
        out = []
        for i, gs in LISTEN.items():
            for g in gs:
                ready = self.b.path("ready")
                p = self.run_in("h" + i, [
                    self.b.recv, "--group", group(g), "--port", str(PORT),
                    "--iface", "eth0", "--stream-id", str(g), "--count",
                    str(count), "--sizes", str(SIZE), "--allow-gaps", "1",
                    "--timeout", "5", "--ready-file", ready, "--quiet"],
                    "recv%d" % g)
                out.append((g, p, ready))
        return out

    def window(self, seconds, cpu_of=None):
        c0 = tree_cpu_ticks(cpu_of.pid) if cpu_of else None
        s0 = self.snapshot()
        time.sleep(seconds)     # the measuring window
        s1 = self.snapshot()
        d = self.diff(s0, s1)
        if cpu_of:
            d["cpu_gw_a_pct"] = 100.0 * (tree_cpu_ticks(cpu_of.pid) - c0) \
                / CLK_TCK / d["t"]
        return d

    # ---- one run ----

    def demand_phase(self):
        isl = self.start_islands(SCOPE)
        gate = self.b.path("gate")
        count = int(RATE * (SETTLE_S + WINDOW_S + len(CHURNS) * CHURN_S +
                            3))
        snd = self.senders(count, gate)
        recvs = self.listeners(count)
        for g, p, ready in recvs:
            if not wait_file(ready, 30, [p]):
                raise RuntimeError("listener of group %d never got a "
                                   "datagram: %s" % (g, p.output()[1][-300:]))
        open(gate, "w").close()
        t_gate = time.monotonic()
        time.sleep(SETTLE_S)    # the joins settle, the streams start
        res = {"window": self.window(WINDOW_S, isl["gwa"])}
        for name, first, last in CHURNS:
            t0 = time.monotonic()
            ch = self.run_in("hb", [
                sys.executable, os.path.abspath(__file__), "churn",
                "10.2.0.2", str(first), str(last), str(CHURN_INTERVAL),
                str(CHURN_S)], "churn")
            res[name + "_window"] = self.window(CHURN_S)
            ch.wait(10)
            res[name] = dict(kv_line(ch.output()[0], "churn:"))
            if not res[name]:
                log("demand: the churn listener: %s" % ch.output()[1][-300:])
            # the steady streams' sequence numbers of the churn window
            res[name]["seqs"] = [int((t0 - t_gate) * RATE),
                                 int((time.monotonic() - t_gate) * RATE)]
        alive = {k: p.alive() for k, p in isl.items()}
        res["gateways_alive"] = alive
        if not all(alive.values()):
            log("demand: gateways alive after the churn: %s" % alive)
        rl = []
        for g, p, _ in recvs:
            p.wait(2 * CHURN_S + 30)
            out = p.output()[0]
            r = dict(kv_line(out, "mcp-recv: received"))
            r["group"] = g
            r["exit"] = p.p.returncode
            # what went missing after the first datagram
            r["lost_after_first"] = r.get("lost", 0) - max(
                r.get("first_seq", 0), 0)
            r["gap_list"] = [(int(a), int(b)) for a, b in re.findall(
                r"gap stream=\d+ seqs=(\d+)-(\d+)", out)]
            for name, _, _ in CHURNS:
                lo, hi = res[name]["seqs"]
                r["lost_" + name] = sum(
                    b - a + 1 for a, b in r["gap_list"]
                    if a > 0 and lo <= a < hi)
            rl.append(r)
        res["listeners"] = rl
        self.dump(isl, "demand")
        sent = [kv_line(p.output()[0], "mcp-send:") for p in snd]
        res["sent_rate_median"] = statistics.median(
            dict(s).get("rate", 0) for s in sent)
        return res

    def static_phase(self):
        groups = " ".join("%s:%d" % (group(g), PORT)
                          for g in range(1, GROUPS + 1))
        isl = self.start_islands(groups)
        count = int(RATE * (SETTLE_S + WINDOW_S + 30))
        self.senders(count)
        # until A's uplink carries (nearly) all groups: every relay joined
        t0 = time.monotonic()
        start = None
        while time.monotonic() - t0 < 40:
            d = self.window(0.5)
            if d["a->hub"] >= payload(GROUPS, d["t"]) * 0.9:
                start = time.monotonic() - t0
                break
        if start is None:
            log("demand: static flooding never carried the groups: %s" %
                "; ".join("%s: %s" % (k, p.output()[1][-400:].strip())
                          for k, p in isl.items()))
        time.sleep(SETTLE_S)
        res = {"window": self.window(WINDOW_S, isl["gwa"]),
               "carrying_after_s": start}
        self.dump(isl, "static")
        return res

    def one_run(self):
        self.topology()
        try:
            res = {}
            try:
                res["demand"] = self.demand_phase()
            finally:
                stop_all()
            try:
                res["static"] = self.static_phase()
            finally:
                stop_all()
            return res
        finally:
            self.teardown()

    def run(self):
        if os.geteuid() != 0:
            log("demand: needs root (ip netns): not measured")
            return {"skipped": "not root"}
        subprocess.run(["gst-inspect-1.0", "mcastproxy"], env=self.env,
                       capture_output=True)
        R = {"groups": GROUPS, "rate": RATE, "size": SIZE, "scope": SCOPE,
             "listen": {k: v for k, v in LISTEN.items()},
             "churn_groups": len(CHURN_GROUPS),
             "churn_interval_s": CHURN_INTERVAL, "window_s": WINDOW_S,
             "churn_s": CHURN_S, "runs": []}
        for i in range(self.a.runs):
            try:
                res = self.one_run()
            except (RuntimeError, subprocess.CalledProcessError) as e:
                log("demand run %d: %s" % (i + 1, e))
                res = None
            R["runs"].append(res)
            if os.environ.get("MCP_DEMAND_DEBUG"):
                log(json.dumps(res, indent=1, default=str))
            if res:
                s = run_figures(res)
                log("demand run %d: wide-area bytes demand %s static %s "
                    "(%.4f); demand/payload %.3f; churn ops %s; lost after "
                    "first %s" % (i + 1, thousands(s["demand_bytes"]),
                                  thousands(s["static_bytes"]),
                                  s["demand_vs_static"],
                                  s["demand_vs_payload"], s["churn_ops"],
                                  s["lost_after_first"]))
        return R


def kv_line(text, prefix):
    from benchlib import kv, last_line
    return kv(last_line(text, prefix)).items()


# ---- figures -----------------------------------------------------------------

LINKS = ["a->hub", "hub->a", "b->hub", "hub->b", "c->hub", "hub->c"]


def run_figures(res):
    """The figures of one run."""
    d = res["demand"]["window"]
    s = res["static"]["window"]
    nb, nc = len(LISTEN["b"]), len(LISTEN["c"])
    n = nb + nc
    dt, st = d["t"], s["t"]
    need = payload(n + nb + nc, dt)     # A->hub all 10, hub->B, hub->C
    dbytes = sum(d[k] for k in LINKS)
    sbytes = sum(s[k] for k in LINKS) * dt / st   # scaled to demand's window
    ls = res["demand"]["listeners"]
    return {
        "demand_bytes": dbytes,
        "static_bytes": sbytes,
        "payload_10": payload(n, dt),
        "payload_needed": need,
        "demand_vs_payload": dbytes / need,
        "static_vs_payload": sbytes / need,
        "demand_vs_static": dbytes / sbytes,
        "a_hub_ratio": d["a->hub"] / payload(n, dt),
        "hub_b_ratio": d["hub->b"] / payload(nb, dt),
        "hub_c_ratio": d["hub->c"] / payload(nc, dt),
        "static_link_ratio": max(s[k] for k in ("a->hub", "hub->b",
                                                "hub->c")) /
        payload(GROUPS, st),
        "static_a_hub_ratio": s["a->hub"] / payload(GROUPS, st),
        "static_hub_b_ratio": s["hub->b"] / payload(GROUPS, st),
        "static_hub_c_ratio": s["hub->c"] / payload(GROUPS, st),
        "static_hub_a": s["hub->a"] / st,
        # datagrams A's gateway carried up in the static window, as a
        # fraction of those sent, from demand's bytes per datagram
        "static_carried": (s["a->hub"] / st) / (
            d["a->hub"] / (n * RATE * dt) * GROUPS * RATE),
        "sent_a_per_s": s["sent_a"] / st,
        "static_into_b_per_s": s["lan_b"] / st,
        "static_into_c_per_s": s["lan_c"] / st,
        "demand_into_b_per_s": d["lan_b"] / dt,
        "demand_into_c_per_s": d["lan_c"] / dt,
        "demand_sent_a_per_s": d["sent_a"] / dt,
        "cpu_gw_a_demand": d.get("cpu_gw_a_pct"),
        "cpu_gw_a_static": s.get("cpu_gw_a_pct"),
        "churn_ops": res["demand"]["churn"].get("ops", 0),
        "churn_late_ms": res["demand"]["churn"].get("late_max_ms"),
        "churn_window_bytes": sum(res["demand"]["churn_window"][k]
                                  for k in LINKS),
        "churn_window_s": res["demand"]["churn_window"]["t"],
        "lost_after_first": sum(r["lost_after_first"] for r in ls),
        "lost_churn": sum(r["lost_churn"] for r in ls),
        "lost_before_churn": sum(r["lost_after_first"] - r["lost_churn"]
                                 for r in ls),
        "gateways_crashed": sum(1 for v in res["demand"]["gateways_alive"]
                                .values() if not v),
        "listeners_ok": sum(1 for r in ls if r["exit"] == 0),
        "listeners": len(ls),
        "received": sum(r.get("received", 0) for r in ls),
    }


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summary(R):
    runs = [run_figures(r) for r in R.get("runs", []) if r]
    if not runs:
        return {"runs": 0}
    S = {"runs": len(runs), "per_run": runs}
    for k in runs[0]:
        S[k] = med([r[k] for r in runs])
    S["churn_ops_total"] = sum(r["churn_ops"] for r in runs)
    for k in ("lost_churn", "lost_before_churn",
              "gateways_crashed"):
        S[k + "_total"] = sum(r[k] for r in runs)
    S["lost_total"] = sum(r["lost_after_first"] for r in runs)
    S["listeners_ok_total"] = sum(r["listeners_ok"] for r in runs)
    S["listeners_total"] = sum(r["listeners"] for r in runs)
    return S


def num(x, fmt="%.0f"):
    return fmt % x if isinstance(x, (int, float)) else "n/a"


def page(R, S, args, w):
    w("## Demand-driven islands against static flooding\n")
    if R.get("skipped") or not S.get("runs"):
        w("Not measured (%s).\n" % (R.get("skipped") or "every run failed"))
        return
    m = R.get("machine", {})
    if m:
        w("Measured on %s by `tests/bench/run-bench --only demand`, as root; "
          "the load average (1 min) was %.2f at the start and %.2f at the "
          "end.\n" % (m["date"], m["load_start"], m["load_end"]))
    nb, nc = len(R["listen"]["b"]), len(R["listen"]["c"])
    w("A hub and islands A, B, C in network namespaces, as "
      "`tests/integration/demand.sh` builds them (each island a gateway "
      "and a host on a veth LAN; the wide-area links gateway–hub have "
      "multicast off). A's host sends %d groups (`mcp-send`, one per "
      "group), %s datagrams/s of %s bytes each: %s datagrams/s in all. B's "
      "host listens to %d of them, C's to %d (`mcp-recv`, one per group): "
      "%d groups listened to. In each run, on the same namespaces: "
      "**demand**, the gateways with `MCAST_GROUPS=%s` (learned from the "
      "hosts' kernel IGMP reports); **static**, the gateways with the %d "
      "single groups listed (pinned, one `mcastsrc-relay` per group: "
      "today's flooding). Bytes are those of the wide-area links, both "
      "directions, from the counters of the hub's ends, over a %g s window "
      "after the joins settled. Payload is the datagrams' UDP payload at "
      "the nominal rate over the window. Median of %d run%s.\n" % (
          R["groups"], thousands(R["rate"]), thousands(R["size"]),
          thousands(R["groups"] * R["rate"]), nb, nc, nb + nc, R["scope"],
          R["groups"], R["window_s"], S["runs"],
          "" if S["runs"] == 1 else "s"))
    w("| | demand | static |\n|---|---:|---:|")
    w("| wide-area bytes, all links, both directions, per s | %s | %s |" % (
        thousands(S["demand_bytes"] / R["window_s"]),
        thousands(S["static_bytes"] / R["window_s"])))
    w("| … against the payload the listeners need (A→hub %d groups, hub→B "
      "%d, hub→C %d) | %s× | %s× |" % (
          nb + nc, nb, nc, num(S["demand_vs_payload"], "%.3f"),
          num(S["static_vs_payload"], "%.2f")))
    w("| A→hub: bytes / payload of the %d groups listened to | %s× | %s× |"
      % (nb + nc, num(S["a_hub_ratio"], "%.3f"),
         num(S["static_a_hub_ratio"] * R["groups"] / (nb + nc), "%.1f")))
    w("| hub→B: bytes / payload of its %d groups | %s× | %s× |" % (
        nb, num(S["hub_b_ratio"], "%.3f"),
        num(S["static_hub_b_ratio"] * R["groups"] / nb, "%.1f")))
    w("| hub→C: bytes / payload of its %d groups | %s× | %s× |" % (
        nc, num(S["hub_c_ratio"], "%.3f"),
        num(S["static_hub_c_ratio"] * R["groups"] / nc, "%.1f")))
    w("| A's gateway: datagrams carried up / sent (from demand's bytes per "
      "datagram) | 1 | %s |" % num(S["static_carried"], "%.3f"))
    w("| datagrams/s re-multicast into B's LAN "
      "| %s | %s |" % (
        thousands(S["demand_into_b_per_s"]),
        thousands(S["static_into_b_per_s"])))
    w("| datagrams/s re-multicast into C's LAN "
      "| %s | %s |" % (
        thousands(S["demand_into_c_per_s"]),
        thousands(S["static_into_c_per_s"])))
    w("| CPU of A's gateway, %% of a core | %s | %s |" % (
        num(S["cpu_gw_a_demand"], "%.1f"), num(S["cpu_gw_a_static"], "%.1f")))
    w("\nWide-area bytes, demand against static: **%s×** (static carries "
      "%s× the bytes of demand). Static's links each carry all %d groups: "
      "bytes / their payload %s× (A→hub), %s× (hub→B), %s× (hub→C); A's "
      "host sent %s datagrams/s in the static window.\n" % (
          num(S["demand_vs_static"], "%.4f"),
          num(1 / S["demand_vs_static"], "%.1f"), R["groups"],
          num(S["static_a_hub_ratio"], "%.3f"),
          num(S["static_hub_b_ratio"], "%.3f"),
          num(S["static_hub_c_ratio"], "%.3f"),
          thousands(S["sent_a_per_s"])))
    w("### Membership churn\n")
    w("After the window, a listener in B's host joins or leaves a group "
      "every %g s (a UDP socket per group toggling `IP_ADD_MEMBERSHIP` / "
      "`IP_DROP_MEMBERSHIP`, round the groups in turn), while the %d steady "
      "listeners run on (`--allow-gaps 1`; a loss is any datagram missing "
      "after a listener's first, attributed to a window by the sequence "
      "numbers of its gaps), over **%d groups** for %g s.\n" % (
          R["churn_interval_s"], nb + nc, R["churn_groups"], R["churn_s"]))
    w("| | %d groups |\n|---|---:|" % R["churn_groups"])
    w("| churn operations (joins + leaves), all runs | %s |" %
      num(S["churn_ops_total"]))
    w("| churn operations late on their 100 ms schedule, ms (max) | %s |" %
      num(max((r["churn_late_ms"] for r in S["per_run"]
               if r["churn_late_ms"] is not None), default=None), "%.1f"))
    w("| steady datagrams lost, all runs | %s |" %
      num(S["lost_churn_total"]))
    w("| wide-area bytes per s while churning (median) | %s |" %
      thousands(S["churn_window_bytes"] / S["churn_window_s"]))
    w("\nSteady datagrams lost outside the churn windows, all runs: %s. "
      "Processes (hub and gateways) that had died by the end of the churn, "
      "all runs: %s of %d.\n" % (num(S["lost_before_churn_total"]),
                                 num(S["gateways_crashed_total"]),
                                 4 * S["runs"]))


def targets(S):
    if not S.get("runs"):
        return []
    G = TARGETS
    return [
        ("demand: 200 groups, 10 listened: wide-area bytes ≤ %g× payload"
         % G["demand_vs_payload"],
         "%.3f× (links %.3f, %.3f, %.3f); static %.1f×, demand/static %.4f"
         % (S["demand_vs_payload"], S["a_hub_ratio"], S["hub_b_ratio"],
            S["hub_c_ratio"], S["static_vs_payload"],
            S["demand_vs_static"]),
         max(S["demand_vs_payload"], S["a_hub_ratio"], S["hub_b_ratio"],
             S["hub_c_ratio"]) <= G["demand_vs_payload"]),
        ("demand: churn every 100 ms over 50 groups, no loss elsewhere",
         "%d ops, %d lost, %d gateways died" % (
             S["churn_ops_total"], S["lost_churn_total"],
             S["gateways_crashed_total"]),
         S["lost_churn_total"] == 0 and S["gateways_crashed_total"] == 0),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "churn":
        churn(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
              float(sys.argv[5]), float(sys.argv[6]))
    else:
        sys.exit("usage: demand_bench.py churn ADDR FIRST LAST INTERVAL "
                 "SECONDS (the scenario runs from run-bench --only demand)")
