"""mcastproxy — runs every recipe of docs/cookbook.md as written there and
checks what arrived (see that page's "How the recipes are tested").

Usage (inside tests/netns-run): cookbook.py [RECIPE...]
Environment: MCASTPROXY_BUILD, the build tree.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ["MCASTPROXY_BUILD"]
DOC = os.path.join(TOP, "docs", "cookbook.md")
HOST = "relay-a.example.net"
HOST_ADDRESS = "203.0.113.5"
PLAYER_BUFFERS = 50
READY_SECONDS = 20      # a line's readiness; polled, never slept on
PLAYER_SECONDS = 30     # the last line of a recipe, all of it
# frames a decoder may let go at the player's EOS (see check_player)
DRAIN = 8
WORK = None
ELEMENT = re.compile(r"^[a-z][a-z0-9_-]*$")


def recipes(path):
    """{name: [command text, ...]} of the blocks marked <!-- recipe: NAME -->."""
    found = {}
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^<!-- recipe: ([a-z0-9-]+) -->$", lines[i])
        i += 1
        if not m:
            continue
        if lines[i] != "```sh":
            sys.exit("cookbook: recipe %s: no ```sh block after its marker" % m.group(1))
        i += 1
        cmds, cur = [], ""
        while lines[i] != "```":
            line = lines[i].strip()
            i += 1
            if not line or (line.startswith("#") and not cur):
                continue
            cur += line
            if cur.endswith("\\"):
                cur = cur[:-1] + " "
                continue
            cmds.append(cur)
            cur = ""
        found[m.group(1)] = cmds
    return found


class Command:
    """One recipe line, changed only as docs/cookbook.md says under "How
    the recipes are tested"."""

    def __init__(self, text, ports, output):
        self.text = text
        self.output = output
        self.background = text.endswith("&")
        args = shlex.split(text.rstrip("&").strip())
        self.env = {}
        while "=" in args[0] and re.match(r"^[A-Z_][A-Z0-9_]*=", args[0]):
            k, v = args.pop(0).split("=", 1)
            self.env[k] = self.path(v)
        args = [a.replace(HOST, "127.0.0.1").replace(HOST_ADDRESS, "127.0.0.1")
                for a in args]
        args[0] = self.path(args[0])
        self.listeners = []     # (auto name, port written in the recipe)
        self.callers = []       # bus message that says a caller is up
        self.gst = args[0] == "gst-launch-1.0"
        if self.gst:
            args = ["gst-launch-1.0", "-v", "-m"] + self.rewrite(args[1:], ports)
        self.args = args

    @staticmethod
    def path(a):
        return os.path.join(BUILD, a[len("build/"):]) if a.startswith("build/") else a

    def rewrite(self, args, ports):
        result, counts = [], {}
        cur = None
        for a in args + ["!"]:
            if ELEMENT.match(a):
                result += self.element(cur, ports)
                n = counts.get(a, 0)
                counts[a] = n + 1
                cur = ["%s%d" % (a, n), a]
            elif cur is not None and re.match(r"^[a-z][a-z0-9_-]*=", a):
                cur.append(a)
            else:
                result += self.element(cur, ports) + [a]
                cur = None
        return result[:-1]

    def element(self, e, ports):
        """One element's tokens, rewritten; E is [auto name, name, props...]."""
        if e is None:
            return []
        auto, name, tok = e[0], e[1], e[1:]
        props = dict(t.split("=", 1) for t in tok[1:])
        listener = (name == "tcpsplitsink" and props.get("mode") != "caller") or \
            (name == "tcpsplitsrc" and props.get("mode") == "listener")
        if listener:
            self.listeners.append((auto, props.get("port")))
            return [t if not t.startswith("port=") else "port=0" for t in tok]
        if name in ("tcpsplitsink", "tcpsplitsrc"):
            port = props.get("port")
            self.callers.append("mcastproxy-connected" if name == "tcpsplitsrc"
                                else "mcastproxy-client-added")
            if port in ports:
                return [t if not t.startswith("port=") else "port=%s" % ports[port] for t in tok]
            return tok
        if name == "tcpremcastsink":
            return tok + ["loop=true"]
        if name in ("autoaudiosink", "autovideosink"):
            # identity passes eos-after - 1 buffers, then sends EOS
            return ["identity", "eos-after=%d" % (PLAYER_BUFFERS + 1), "!",
                    "filesink", "location=" + self.output]
        return tok


def wait_log(log, proc, pattern, seconds=READY_SECONDS):
    """Until LOG matches PATTERN (a regex); the match, or None."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with open(log, errors="replace") as f:
            m = re.search(pattern, f.read())
        if m:
            return m
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def run_recipe(name, texts, work):
    """Runs one recipe; returns (player's output, its exit status, the
    background processes as (Command, Popen, log))."""
    ports, procs = {}, []
    env = dict(os.environ)
    for i, text in enumerate(texts):
        cmd = Command(text, ports, os.path.join(work, name + ".out"))
        log = os.path.join(work, "%s-%d.log" % (name, i))
        print("  $ " + shlex.join(cmd.args), flush=True)
        out = open(log, "w")
        p = subprocess.Popen(cmd.args, stdout=out, stderr=subprocess.STDOUT,
                             env=dict(env, **cmd.env), start_new_session=True)
        out.close()
        if not cmd.background:
            try:
                rc = p.wait(timeout=PLAYER_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                rc = "timeout"
            return open(log, errors="replace").read(), rc, procs
        procs.append((cmd, p, log))
        # ready: listeners show their port, callers are connected, the
        # pipeline plays, a program says so
        waits = []
        for auto, port in cmd.listeners:
            m = wait_log(log, p, r"[:/]%s: current-port = ([1-9][0-9]*)" % auto)
            if not m:
                raise RuntimeError("%s never printed its current-port" % auto)
            ports[port] = m.group(1)
        waits += [re.escape(c) for c in cmd.callers]
        if cmd.gst and not waits:
            waits.append("Setting pipeline to PLAYING")
        if cmd.args[0].endswith("embed-relay"):
            waits.append("embed-relay: ready")
        for w in waits:
            if not wait_log(log, p, w):
                raise RuntimeError("line %d never showed '%s':\n%s" % (i + 1, w, open(log).read()[-2000:]))
    raise RuntimeError("the recipe has no foreground line")


def stop(procs):
    for _, p, _ in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for _, p, _ in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def sink_caps(out):
    m = re.findall(r"GstFileSink:filesink0\.GstPad:sink: caps = (.*)", out)
    return m[-1] if m else ""


def check_player(name, out, rc, caps_want, size=None, frame=None):
    """The player ended on its own (identity's EOS after PLAYER_BUFFERS
    buffers) with caps CAPS_WANT (regexes), and got SIZE bytes; or, behind a
    decoder, whole frames of FRAME bytes, at least PLAYER_BUFFERS of them
    and at most DRAIN more (at EOS the decoder drains the frames it holds,
    and they pass). Returns a list of problems and what it got."""
    bad = []
    if rc != 0 or "Got EOS from element" not in out:
        bad.append("the player did not end on EOS (exit %s)" % rc)
    got = os.path.getsize(os.path.join(WORK, name + ".out"))
    if size is not None and got != size:
        bad.append("the player got %d bytes, not %d" % (got, size))
    if frame is not None:
        if got % frame or not PLAYER_BUFFERS <= got // frame <= PLAYER_BUFFERS + DRAIN:
            bad.append("the player got %d bytes: not %d to %d frames of %d bytes"
                       % (got, PLAYER_BUFFERS, PLAYER_BUFFERS + DRAIN, frame))
        got = "%d frames, %d bytes" % (got // frame, got)
    caps = sink_caps(out)
    for c in caps_want:
        if not re.search(c, caps):
            bad.append("player caps '%s' lack %s" % (caps, c))
    return bad, got


def check_rtp(out, rc, procs):
    # RTP L16 packets of 1388 and 660 bytes by turns: 25 of audiotestsrc's
    # 1024-sample buffers (2048 bytes), unless a packet went missing
    bad, got = check_player("rtp", out, rc, [r"^audio/x-raw", r"rate=\(int\)44100",
                                             r"channels=\(int\)1"], 25 * 2048)
    return bad, "50 buffers, %d bytes of 44.1 kHz mono audio" % got


def video_player(name, out, rc, width, height):
    """check_player for a player of decoded I420 frames of WIDTHxHEIGHT."""
    return check_player(name, out, rc, [r"^video/x-raw", r"width=\(int\)%d" % width,
                                        r"height=\(int\)%d" % height],
                        frame=width * height * 3 // 2)


def check_mpegts(out, rc, procs):
    bad, got = video_player("mpegts", out, rc, 320, 240)
    # what tsdemux exposed, as h264parse took it
    if not re.search(r"GstH264Parse:h264parse0\.GstPad:sink: caps = video/x-h264", out):
        bad.append("tsdemux exposed no H.264 stream")
    # the relay's caps came across in the mpx handshake
    if not re.search(r"GstTcpSplitSrc:tcpsplitsrc0\.GstPad:src: caps = video/mpegts, "
                     r"systemstream=\(boolean\)true, packetsize=\(int\)188$", out, re.M):
        bad.append("tcpsplitsrc did not get the relay's caps")
    return bad, "caps from the relay, H.264 demuxed; 320x240 I420: %s" % got


def check_transcode(out, rc, procs):
    bad, got = video_player("transcode", out, rc, 320, 180)
    parsed = re.findall(r"GstH264Parse:h264parse0\.GstPad:src: caps = (video/x-h264.*)", out)
    if not parsed or not re.search(r"width=\(int\)320, height=\(int\)180", parsed[-1]):
        bad.append("the re-multicast is not H.264 at 320x180: %s" % (parsed[-1:] or "no caps"))
    # the transcoder (the recipe's third line) decoded 640x360
    tlog = open(procs[2][2], errors="replace").read()
    if not re.search(r"GstVideoScale:videoscale0\.GstPad:sink: caps = video/x-raw.*"
                     r"width=\(int\)640, height=\(int\)360", tlog):
        bad.append("the transcoder did not decode 640x360")
    return bad, "640x360 in, H.264 320x180 out; played 320x180 I420: %s" % got


def check_srt(out, rc, procs):
    # island B's group has no other way in than the SRT leg
    bad, got = video_player("srt", out, rc, 320, 240)
    return bad, "over SRT: 320x240 I420: %s" % got


def check_amt(out, rc, procs):
    # island B's group has no other way in than the AMT tunnel
    bad, got = video_player("amt", out, rc, 320, 240)
    return bad, "through AMT: 320x240 I420: %s" % got


def check_embed(out, rc, procs):
    bad = []
    if rc != 0 or not re.search(r"^mcp-send: sent=200 bytes=263200 ", out, re.M):
        bad.append("mcp-send: exit %s: %s" % (rc, out.strip()))
    _, p, log = procs[0]
    try:
        erc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        erc = "still running"
    text = open(log, errors="replace").read()
    if erc != 0:
        bad.append("embed-relay exit %s" % erc)
    for line in ("mcastsrc-relay-stats: datagrams-received=200 bytes-received=263200",
                 "tcpsplitsink-stats: datagrams-sent=200 bytes-in=263200",
                 "tcpsplitsrc-stats: datagrams-received=200 bytes-received=263200",
                 "fakesink: buffers=200"):
        if not re.search("^" + re.escape(line) + "$", text, re.M):
            bad.append("embed-relay did not print '%s'" % line)
    for sig in (r"^embed-relay: client-added 127\.0\.0\.1:\d+ \(mpx\)$",
                r"^embed-relay: connected 127\.0\.0\.1:\d+ \(mpx\)$"):
        if not re.search(sig, text, re.M):
            bad.append("embed-relay printed no %s" % sig)
    if bad:
        bad.append("embed-relay printed:\n" + text)
    return bad, "exit %s; 200 datagrams, 263200 bytes at each element" % erc


CHECKS = {"rtp": check_rtp, "mpegts": check_mpegts, "transcode": check_transcode,
          "srt": check_srt, "amt": check_amt, "embed": check_embed}


# what the recipes need beyond the plugin, and the Debian package of each
NEEDED = {"rtpjitterbuffer": "gstreamer1.0-plugins-good", "rtpL16pay": "gstreamer1.0-plugins-good",
          "mpegtsmux": "gstreamer1.0-plugins-bad", "tsdemux": "gstreamer1.0-plugins-bad",
          "h264parse": "gstreamer1.0-plugins-bad", "srtsink": "gstreamer1.0-plugins-bad",
          "srtsrc": "gstreamer1.0-plugins-bad", "x264enc": "gstreamer1.0-plugins-ugly",
          "avdec_h264": "gstreamer1.0-libav"}


def main():
    missing = [e for e in NEEDED
               if subprocess.run(["gst-inspect-1.0", "--exists", e]).returncode != 0]
    if missing:
        print("FAIL: the recipes need %s (%s; ./run deps installs them)"
              % (", ".join(missing), ", ".join(sorted({NEEDED[e] for e in missing}))))
        return 1
    found = recipes(DOC)
    if sorted(found) != sorted(CHECKS):
        print("FAIL: docs/cookbook.md has recipes %s; this test checks %s"
              % (sorted(found), sorted(CHECKS)))
        return 1
    only = sys.argv[1:] or list(found)
    failed = 0
    global WORK
    with tempfile.TemporaryDirectory(prefix="mcastproxy-cookbook.") as work:
        WORK = work
        for name in only:
            start = time.monotonic()
            print("recipe %s:" % name, flush=True)
            procs = []
            try:
                out, rc, procs = run_recipe(name, found[name], work)
                bad, what = CHECKS[name](out, rc, procs)
                if bad and name != "embed":
                    bad.append("player output (end):\n" + out[-3000:])
            except RuntimeError as e:
                bad, what = [str(e)], ""
            finally:
                stop(procs)
            secs = time.monotonic() - start
            if bad:
                failed += 1
                print("FAIL: %s (%.1f s)\n  %s" % (name, secs, "\n  ".join(bad)))
            else:
                print("PASS: %s: %s (%.1f s)" % (name, what, secs))
    print("%d passed, %d failed" % (len(only) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
