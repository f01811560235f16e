#!/usr/bin/env python3
"""Every property and signal an element declares is documented in
docs/elements.md, and every one documented there exists: compares
gst-inspect-1.0's lists for each element with the property and signal
tables of its section (the shared security table counts for the three TCP
elements). Inherited properties of GStreamer's base classes are left
out."""
import re
import subprocess
import sys

ELEMENTS = ["mcastsrc-relay", "tcpsplitsink", "tcpsplitsrc",
            "tcpremcastsink", "tcpmeshrouter", "mcastgateway", "amtrelay",
            "amtsrc"]
SHARED = "Security and liveness"
SHARED_FOR = {"tcpsplitsink", "tcpsplitsrc", "tcpmeshrouter"}
INHERITED = {
    # GstObject
    "name", "parent",
    # GstBaseSrc
    "blocksize", "num-buffers", "typefind", "do-timestamp", "automatic-eos",
    # GstBaseSink
    "sync", "max-lateness", "qos", "async", "ts-offset",
    "enable-last-sample", "last-sample", "render-delay", "throttle-time",
    "max-bitrate", "processing-deadline", "stats",
}


def inspect(element):
    """(properties, signals and actions) that gst-inspect-1.0 lists"""
    out = subprocess.run(["gst-inspect-1.0", element], check=True,
                         capture_output=True, text=True).stdout
    props = out.split("Element Properties:", 1)[1]
    props = re.split(r"\n\S", props, 1)[0]
    signals = set()
    for part in ("Element Signals:", "Element Actions:"):
        if part in out:
            block = re.split(r"\n\S", out.split(part, 1)[1], 1)[0]
            signals |= set(re.findall(r'^  "([a-z][a-z0-9-]*)"', block, re.M))
    # gst-inspect pads names to 20 columns; a longer one is followed by
    # its colon at once ("  last-member-query-interval: ...")
    return ({m.group(1) for m in
             re.finditer(r"^  ([a-z][a-z0-9-]*)\s*:", props, re.M)}
            - INHERITED, signals)


def main():
    doc = open(sys.argv[1], encoding="utf-8").read()
    shared = table_names(section(doc, SHARED))
    failed = 0
    for element in ELEMENTS:
        have, signals = inspect(element)
        text = section(doc, element)
        props_doc = table_names(
            text.split("### Properties", 1)[1].split("\n### ", 1)[0])
        signals_doc = table_names(
            text.split("### Signals", 1)[1].split("\n### ", 1)[0]
            .split("\n`", 1)[0])
        if element in SHARED_FOR:
            props_doc |= shared
        missing = sorted((have - props_doc) | (signals - signals_doc))
        extra = sorted((props_doc - have) | (signals_doc - signals))
        if missing or extra:
            failed += 1
            print(f"FAIL {element}: undocumented {missing}, "
                  f"documented but absent {extra}")
        else:
            print(f"ok   {element}: {len(have)} properties and "
                  f"{len(signals)} signals documented")
    print(f"{len(ELEMENTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


def section(doc, heading):
    """The text of the '## heading...' section."""
    start = doc.index(f"\n## {heading}")
    end = doc.find("\n## ", start + 1)
    return doc[start:end if end > 0 else len(doc)]


def table_names(text):
    """The names in the first column of the tables in text."""
    names = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z][a-z0-9-]*)`",
                                    line.split("|")[1]))
    return names


if __name__ == "__main__":
    sys.exit(main())
