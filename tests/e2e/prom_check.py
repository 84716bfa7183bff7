#!/usr/bin/env python3
"""prom_check.py FILE: a strict reader of the Prometheus text exposition
format (0.0.4), for t_49_metrics.sh. Exits 1 with the first problem, else
prints one "name{labels} value" per sample, labels sorted, for the test to
grep.

Checked: every line is a HELP, a TYPE or a sample; names and label names
are valid; label values are quoted with only \\\\, \\" and \\n escaped; each
family's TYPE comes before its samples and its samples are together; a
sample's name belongs to the family last declared (histograms: _bucket,
_sum, _count); values are numbers; counters are not negative; histogram
buckets are cumulative, end with le="+Inf", and equal _count.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def fail(n, msg):
    print(f"line {n}: {msg}")
    sys.exit(1)


def parse_labels(n, s):
    out, i = {}, 0
    while i < len(s):
        m = LABEL.match(s, i)
        if not m:
            fail(n, f"bad label at {s[i:]!r}")
        if m.group(1) in out:
            fail(n, f"label {m.group(1)} twice")
        out[m.group(1)] = m.group(2)
        i = m.end()
        if i < len(s):
            if s[i] != ",":
                fail(n, f"expected ',' in labels at {s[i:]!r}")
            i += 1
    return out


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    if not text.endswith("\n"):
        fail(0, "the exposition must end with a newline")
    types, helps, done, current = {}, set(), set(), None
    hist = {}
    out = []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if not NAME.match(name) or name in helps:
                fail(n, f"bad or repeated HELP for {name}")
            helps.add(name)
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or not NAME.match(parts[2]) or parts[3] not in TYPES:
                fail(n, f"bad TYPE line {line!r}")
            if parts[2] in types:
                fail(n, f"TYPE of {parts[2]} twice")
            if current:
                done.add(current)
            current = parts[2]
            types[current] = parts[3]
            continue
        if line.startswith("#") or not line:
            fail(n, f"unexpected line {line!r}")
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not m:
            fail(n, f"not a sample: {line!r}")
        name, labels, value = m.group(1), parse_labels(n, m.group(3) or ""), m.group(4)
        try:
            v = float(value)
        except ValueError:
            fail(n, f"value {value!r} is not a number")
        family = name
        if current and types[current] == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current + suffix:
                    family = current
        if family != current:
            fail(n, f"sample {name} outside its family (last TYPE: {current})")
        if family in done:
            fail(n, f"samples of {family} are not together")
        if types[family] == "counter" and (v < 0 or math.isnan(v)):
            fail(n, f"counter {name} is {v}")
        if types[family] == "histogram":
            h = hist.setdefault(family, {"buckets": [], "count": None})
            if name.endswith("_bucket"):
                if "le" not in labels:
                    fail(n, "a bucket without le")
                h["buckets"].append((labels["le"], v))
            elif name.endswith("_count"):
                h["count"] = v
        out.append(
            name + "{" + ",".join(f'{k}="{labels[k]}"' for k in sorted(labels)) + "} " + value
        )
    for family, h in hist.items():
        b = h["buckets"]
        if not b or b[-1][0] != "+Inf":
            fail(0, f"{family}: the last bucket is not +Inf")
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            fail(0, f"{family}: buckets are not cumulative")
        if h["count"] != b[-1][1]:
            fail(0, f"{family}: _count is not the +Inf bucket")
    for name in helps:
        if name not in types:
            fail(0, f"HELP for {name} without a TYPE")
    print("\n".join(out))


main()
