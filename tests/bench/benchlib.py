"""benchlib — what the benchmark's scenarios share: children in their own
process groups (CPU and memory from /proc), waiting for files and
listening ports, the tools' summary lines, free ports, and number
formatting. Used by run-bench and gateway_bench.py."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fill_line(line, subst):
    """line with its placeholders (whole words: G, P, ...) from subst."""
    keys = sorted(subst, key=len, reverse=True)
    return re.sub(r"\b(%s)\b" % "|".join(keys), lambda m: subst[m.group(1)],
                  line)


def thousands(x):
    """12,345 (a rate or a count, in prose)."""
    return "{:,.0f}".format(x)


# ---- processes ------------------------------------------------------------

class Proc:
    """A child in its own process group, killed at the end."""

    live = []

    def __init__(self, argv, env=None, name=None):
        self.argv = argv
        self.name = name or os.path.basename(argv[0])
        self.out = tempfile.TemporaryFile(mode="w+")
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=self.err,
                                  env=env, start_new_session=True)
        Proc.live.append(self)

    @property
    def pid(self):
        return self.p.pid

    def cpu_ticks(self):
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            return None

    def rss_kib(self, key="VmRSS"):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def alive(self):
        return self.p.poll() is None

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(3) is None:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        if self in Proc.live:
            Proc.live.remove(self)

    def output(self):
        self.out.seek(0)
        self.err.seek(0)
        return self.out.read(), self.err.read()


def stop_all():
    for p in list(Proc.live):
        p.stop()


def kv(line):
    """'tool: a=1 b=x' -> {'a': 1, 'b': 'x'} (numbers as int/float)."""
    out = {}
    for k, v in re.findall(r"(\w+)=(\S+)", line):
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def last_line(text, prefix):
    lines = [l for l in text.splitlines() if l.startswith(prefix)]
    return lines[-1] if lines else ""


def wait_file(path, timeout, procs=()):
    """Waits for a file another process writes; False on timeout or when
    one of procs died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        for p in procs:
            if not p.alive():
                return False
        time.sleep(0.02)
    return False


def wait_listen(ports, timeout, procs=()):
    """Waits until something listens on every TCP port of ports (read from
    /proc, without connecting: a connection would count as a client)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        listening = set()
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                for line in open(name).readlines()[1:]:
                    f = line.split()
                    if f[3] == "0A":
                        listening.add(int(f[1].rsplit(":", 1)[1], 16))
            except OSError:
                pass
        if all(p in listening for p in ports):
            return True
        if any(not p.alive() for p in procs):
            return False
        time.sleep(0.02)
    return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _proc_stat(pid):
    """(ppid, utime + stime, cutime + cstime) of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[1]), int(fields[11]) + int(fields[12]),
                int(fields[13]) + int(fields[14]))
    except (OSError, IndexError, ValueError):
        return None


def descendants(pid):
    """pid and every live process below it."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_ticks(pid):
    """CPU ticks (user + system) of a process and all its children: the
    live ones, and those it has reaped (cutime), so that a server that
    forks a process per client is charged for all of them."""
    total = 0
    for i, p in enumerate(descendants(pid)):
        st = _proc_stat(p)
        if st:
            total += st[1] + (st[2] if i == 0 else 0)
    return total


def tree_uss_kib(pid):
    """Private dirty memory (KiB: pages this process wrote and no other
    maps: heap, stacks, buffers) of a process and its live children,
    summed. Shared libraries do not count, nor pages a forked child still
    shares with its parent, so a server that forks a process per client
    is charged once for what they share."""
    total = 0
    for p in descendants(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Private_Dirty:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total
