#!/usr/bin/env python3
"""The daemon's include graph, module by module, and its cycles.

A module is a .c/.h pair (daemon/sched/trial.c and .h are "sched/trial").
An edge A -> B means A's .c or .h includes B's header. Prints the edges,
then every cycle found (strongly connected components of more than one
module), then the layer edges (serve, sched, proc, wire, search, store) that point
upward. Exit status 1 when there is a cycle.

    python3 scripts/include-graph.py [--dot | --tap] [ROOT]

--tap checks the shape issue 13 set, as a TAP test (tests/meson.build):
no cycle, no upward layer edge, no daemon .c file over MAX_FILE_LINES
lines and no function over MAX_FUNC_LINES lines.
"""
import os
import re
import sys

INC = re.compile(r'^\s*#\s*include\s+"daemon/([^"]+)\.h"', re.M)
MAX_FILE_LINES = 800
MAX_FUNC_LINES = 80
LAYERS = ["serve", "sched", "proc", "wire", "search", "store"]   # top to bottom


def modules(root):
    mods = {}
    base = os.path.join(root, "daemon")
    for d, _, files in os.walk(base):
        for f in files:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(d, f[:-2]), base)
                mods.setdefault(rel, []).append(os.path.join(d, f))
    return mods


def edges(mods):
    g = {m: set() for m in mods}
    for m, paths in mods.items():
        for p in paths:
            with open(p, encoding="utf-8") as fh:
                for dep in INC.findall(fh.read()):
                    if dep != m:
                        g[m].add(dep)
    return g


def sccs(g):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def layer(m):
    top = m.split("/")[0]
    return LAYERS.index(top) if top in LAYERS else -1


def long_functions(path):
    """Functions of a C file whose body (from the line of its opening brace
    in column 0 to its closing one) is longer than MAX_FUNC_LINES."""
    out = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if line.startswith("{") and i > 0:
            start = i
        elif line.startswith("}") and start is not None:
            if i - start + 1 > MAX_FUNC_LINES:
                j = start - 1
                while j > 0 and "(" not in lines[j]:
                    j -= 1
                name = (lines[j].split("(")[0].split() or ["?"])[-1]
                out.append((name, i - start + 1))
            start = None
    return out


def tap(root, g):
    checks = []
    cycles = sccs(g)
    checks.append(("no include cycle among the daemon's modules",
                   [" <-> ".join(c) for c in cycles]))
    up = [f"{m} -> {d}" for m in g for d in g[m]
          if layer(m) >= 0 and layer(d) >= 0 and layer(d) < layer(m)]
    checks.append(("no module includes a layer above its own", sorted(up)))
    big, longf = [], []
    for paths in modules(root).values():
        for p in paths:
            if not p.endswith(".c"):
                continue
            with open(p, encoding="utf-8") as fh:
                n = fh.read().count("\n")
            rel = os.path.relpath(p, root)
            if n > MAX_FILE_LINES:
                big.append(f"{rel}: {n} lines")
            longf += [f"{rel}: {f} {k} lines" for f, k in long_functions(p)]
    checks.append((f"no daemon .c file over {MAX_FILE_LINES} lines", sorted(big)))
    checks.append((f"no daemon function over {MAX_FUNC_LINES} lines",
                   sorted(longf)))
    print(f"1..{len(checks)}")
    bad = 0
    for i, (name, faults) in enumerate(checks, 1):
        print(("not ok" if faults else "ok") + f" {i} - {name}")
        for f in faults:
            print(f"#   {f}")
        bad += bool(faults)
    return 1 if bad else 0


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    g = edges(modules(root))
    if "--tap" in sys.argv:
        return tap(root, g)
    if "--dot" in sys.argv:
        print("digraph daemon {")
        for m in sorted(g):
            for d in sorted(g[m]):
                print(f'  "{m}" -> "{d}";')
        print("}")
        return 0
    for m in sorted(g):
        print(f"{m} -> {', '.join(sorted(g[m])) or '-'}")
    cycles = sccs(g)
    print(f"\ncycles: {len(cycles)}")
    for c in cycles:
        print("  " + " <-> ".join(c))
    up = [(m, d) for m in g for d in g[m]
          if layer(m) >= 0 and layer(d) >= 0 and layer(d) < layer(m)]
    print(f"upward layer edges: {len(up)}")
    for m, d in sorted(up):
        print(f"  {m} -> {d}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
