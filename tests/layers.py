#!/usr/bin/env python3
"""layers.py BUILD_DIR: the runtime's modules depend on each other in one
direction only.

- Headers: the include graph of runtime/*.h and runtime/include/rp/*.h has
  no cycle.
- Calls: a module is a runtime/NAME.c (or a generated runtime/NAME.re); it
  calls another when its object file needs a symbol the other defines (nm).
  That graph has no cycle either. Calls the other way go through function
  pointers a module is given (the exchange handler, w->start_proxy), which
  is how a lower module reaches a higher one.
- Every runtime header opens with a comment saying what it is for.

Prints TAP-style lines and "N passed, N failed"; with -v the call graph.
"""
import collections
import glob
import os
import re
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build"
verbose = "-v" in sys.argv
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    n = passed + failed + 1
    if ok:
        passed += 1
        print(f"ok {n} - {what}")
    else:
        failed += 1
        print(f"not ok {n} - {what}")
        for line in detail.splitlines()[:12]:
            print(f"#   {line}")


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# ---- headers ------------------------------------------------------------------
headers = glob.glob("runtime/*.h") + glob.glob("runtime/include/rp/*.h")
includes = collections.defaultdict(set)
for h in headers:
    name = os.path.basename(h)
    with open(h) as f:
        text = f.read()
    for inc in re.findall(r'^#include "([A-Za-z0-9_/]+\.h)"', text, re.M):
        includes[name].add(os.path.basename(inc))
    first = text.lstrip()
    check(first.startswith("/*") and name.split(".")[0] in first.split("*/")[0],
          f"{h} opens with a comment naming it and what it owns")
found = cycles(includes)
check(not found, "runtime headers include each other without a cycle",
      "\n".join(" -> ".join(c) for c in found))

# ---- calls --------------------------------------------------------------------
objs = glob.glob(f"{build}/obj/runtime/*.o") + glob.glob(f"{build}/obj/gen/runtime/*.o")
check(len(objs) > 10, f"the runtime's objects are in {build}/obj (make first)")
defined, needs = {}, collections.defaultdict(set)
for o in objs:
    mod = os.path.splitext(os.path.basename(o))[0]
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRV":
            defined[parts[2]] = mod
        elif len(parts) == 2 and parts[0] == "U":
            needs[mod].add(parts[1])
calls = collections.defaultdict(set)
for mod, syms in needs.items():
    for s in syms:
        if s in defined and defined[s] != mod:
            calls[mod].add(defined[s])
found = cycles(calls)
detail = []
for comp in found:
    for a in comp:
        for b in sorted(calls[a] & set(comp)):
            why = sorted(s for s in needs[a] if defined.get(s) == b)
            detail.append(f"{a} -> {b}: {', '.join(why[:4])}")
check(not found, "runtime modules call each other without a cycle", "\n".join(detail))
if verbose:
    for mod in sorted(calls):
        print(f"# {mod} -> {', '.join(sorted(calls[mod]))}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
