#!/usr/bin/env python3
"""Reads what prom-expose (mcp-prom) writes with the Prometheus client's own
parser (prometheus_client.parser, Debian's python3-prometheus-client) and
checks every family, label value and number, hostile ones included.

    prom-check.py PROM_EXPOSE
"""
import math
import re
import subprocess
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit("prom-check: needs the Python module prometheus_client "
             "(Debian: python3-prometheus-client)")

HELP = 'help with \\ a backslash,\na newline, "quotes" and caf\u00e9'

# label values: (bytes given, the value expected after parsing)
HOSTILE = [b"plain", b"", b'"', b"\\", b"\\n", b"\n", b'a"b\\c\nd',
           b'"} 1\nfake_metric 2\n', b"}{,=", b"# HELP x y",
           b"\t tab and spaces ", b"\r carriage", "caf\u00e9 \u20ac".encode(),
           b"\xff", b"\xc3(", b"\xe2\x82", b"ok\xc3\xa9\xff\xfeend",
           b"x" * 2000]

VALUES = [0, -0.0, 1, -1, 1000000, 9007199254740992.0,
          18446744073709551616.0, 1e300, 0.1, 1.0 / 3, 0.1 + 0.2, 2.5e-7,
          -1234.5678, 4294967295.0, math.inf, -math.inf, math.nan]
# how each is written
VALUE_TEXTS = ["0", "0", "1", "-1", "1000000", "9007199254740992",
               "1.8446744073709552e+19", "1e+300", "0.1",
               "0.3333333333333333", "0.30000000000000004", "2.5e-07",
               "-1234.5678", "4294967295", "+Inf", "-Inf", "NaN"]
BOUNDS = [0.001, 0.01, 0.1, 1, 10]
OBSERVATIONS = [0.001, 0.0005, 0.05, 1, 1.5, 10, 11, 1e9, -3]

LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_LINE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{%s(?:,%s)*\})? '
                         r'(?:[-+]?[0-9.e+-]+|[+-]Inf|NaN)$' % (LABEL, LABEL))


def glib_make_valid(raw):
    """g_utf8_make_valid(): U+FFFD for each byte that starts no valid
    sequence."""
    out, i = "", 0
    while i < len(raw):
        for n in (1, 2, 3, 4):
            try:
                ch = raw[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            out += ch
            i += n
            break
        else:
            out += "\ufffd"
            i += 1
    return out


def same(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


def check(cond, what):
    if not cond:
        sys.exit("prom-check: " + what)


def main():
    expose = sys.argv[1]
    text = subprocess.run([expose, HELP.encode()] + HOSTILE, check=True,
                          stdout=subprocess.PIPE).stdout.decode("utf-8")

    # the grammar, line by line, before the parser's own reading
    lines = text.split("\n")
    check(lines[-1] == "", "no final newline")
    for line in lines[:-1]:
        if line.startswith("#"):
            check(re.match(r"# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", line),
                  "bad comment line %r" % line)
        else:
            check(SAMPLE_LINE.match(line), "bad sample line %r" % line)

    families = {f.name: f for f in text_string_to_metric_families(text)}
    check(sorted(families) == ["mcp_test_hostile", "mcp_test_latency_seconds",
                               "mcp_test_plain", "mcp_test_values"],
          "families %s" % sorted(families))

    values = families["mcp_test_values"]
    check(values.type == "gauge", "type of mcp_test_values")
    check(values.documentation == HELP, "help %r" % values.documentation)
    check(len(values.samples) == len(VALUES), "number of values")
    for i, s in enumerate(values.samples):
        check(s.labels == {"index": str(i)}, "labels %r" % s.labels)
        check(same(s.value, VALUES[i]), "value %d: %r, expected %r"
              % (i, s.value, VALUES[i]))
    written = [line.split(" ")[-1] for line in lines
               if line.startswith("mcp_test_values{")]
    check(written == VALUE_TEXTS, "value texts %r" % written)

    hostile = families["mcp_test_hostile"]
    check(hostile.type == "counter", "type of mcp_test_hostile")
    check(hostile.documentation == HELP, "help of mcp_test_hostile")
    check(len(hostile.samples) == len(HOSTILE), "number of hostile samples")
    for i, s in enumerate(hostile.samples):
        expected = glib_make_valid(HOSTILE[i])
        check(s.name == "mcp_test_hostile_total", "name %s" % s.name)
        check(s.labels == {"index": str(i), "value": expected},
              "label value %d: %r, expected %r" % (i, s.labels, expected))
        check(s.value == i, "hostile value %d" % i)

    plain = families["mcp_test_plain"]
    check(plain.documentation == "" and len(plain.samples) == 1
          and plain.samples[0].value == 42 and plain.samples[0].labels == {},
          "mcp_test_plain")

    hist = families["mcp_test_latency_seconds"]
    check(hist.type == "histogram", "type of the histogram")
    check(hist.documentation == HELP, "help of the histogram")
    per_value = {}
    for s in hist.samples:
        per_value.setdefault(s.labels["value"], []).append(s)
    check(len(per_value) == len(HOSTILE), "histograms %d" % len(per_value))
    for i, raw in enumerate(HOSTILE):
        samples = per_value[glib_make_valid(raw)]
        seen = OBSERVATIONS[:i + 1]
        want = []
        for bound in BOUNDS + [math.inf]:
            le = "+Inf" if bound == math.inf else \
                ("%d" % bound if bound == int(bound) else repr(bound))
            want.append(("mcp_test_latency_seconds_bucket", le,
                         float(sum(1 for v in seen if v <= bound))))
        want.append(("mcp_test_latency_seconds_sum", None, float(sum(seen))))
        want.append(("mcp_test_latency_seconds_count", None,
                     float(len(seen))))
        got = [(s.name, s.labels.get("le"), s.value) for s in samples]
        check(got == want, "histogram %d: %r, expected %r" % (i, got, want))
    print("prom-check: %d families, %d samples parsed and as expected"
          % (len(families), sum(len(f.samples) for f in families.values())))


main()
