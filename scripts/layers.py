#!/usr/bin/env python3
"""The plugin's layering, read from what the compiler produced.

For every object file of plugin/ (the core library and the adapter), `nm`
says which symbols the file defines and which it uses; a file that uses a
symbol another file defines calls down to it. From that file-level call graph
this prints the floors (a file's floor is one above the highest floor it
calls; files that call no other file are floor 0) and fails when

  - files call each other in a circle (then no floors exist), or
  - a file outside plugin/adapter/ uses a symbol of the broker or of
    libmosquitto (mosquitto_*): only the adapter may talk to the broker.

Usage: scripts/layers.py [BUILD_DIR]     (default: build; run ninja first)
Ends with "N passed, N failed" (one check each: no circle, broker symbols
only in the adapter).
"""
import collections
import glob
import os
import re
import subprocess
import sys

BROKER_SYMBOL = re.compile(r'^mosquitto_')


def source_of(obj):
    """build/plugin/librcpt_core.a.p/core_pending.c.o -> plugin/core/pending.c"""
    name = os.path.basename(obj)[:-len('.o')]
    folder, _, rest = name.partition('_')
    return 'plugin/%s/%s' % (folder, rest)


def symbols(obj):
    out = subprocess.run(['nm', obj], check=True, capture_output=True, text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'U':
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in 'TDBRC' and parts[1].isupper():
            defined.add(parts[2])
    return defined, used


def strongly_connected(graph):
    """Tarjan's algorithm: lists of files that reach each other."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else 'build'
    objects = sorted(glob.glob(os.path.join(build, 'plugin', '*.p', '*.o')))
    if not objects:
        print('layers: no object files under %s/plugin: build first (ninja -C %s)' % (build, build))
        print('0 passed, 1 failed')
        return 1

    defined_by, uses = {}, {}
    for obj in objects:
        src = source_of(obj)
        defined, used = symbols(obj)
        uses[src] = used
        for sym in defined:
            defined_by[sym] = src

    graph = {src: set() for src in uses}
    calls = collections.defaultdict(set)     # (from, to) -> symbols, for the report
    broker_outside = []
    for src, used in uses.items():
        for sym in used:
            to = defined_by.get(sym)
            if to and to != src:
                graph[src].add(to)
                calls[(src, to)].add(sym)
            elif to is None and BROKER_SYMBOL.match(sym) and not src.startswith('plugin/adapter/'):
                broker_outside.append((src, sym))

    passed = failed = 0
    circles = [g for g in strongly_connected(graph) if len(g) > 1]
    if circles:
        failed += 1
        for group in circles:
            print('layers: these files call each other in a circle: %s' % ', '.join(group))
            for a in group:
                for b in group:
                    if (a, b) in calls:
                        print('    %s -> %s (%s)' % (a, b, ', '.join(sorted(calls[(a, b)]))))
    else:
        passed += 1
        floor = {}

        def floor_of(v):
            if v not in floor:
                floor[v] = 1 + max((floor_of(w) for w in graph[v]), default=-1)
            return floor[v]

        for v in graph:
            floor_of(v)
        for f in range(max(floor.values()) + 1):
            files = sorted(os.path.relpath(v, 'plugin') for v in graph if floor[v] == f)
            print('floor %d: %s' % (f, '  '.join(files)))

    if broker_outside:
        failed += 1
        for src, sym in sorted(broker_outside):
            print('layers: %s uses the broker symbol %s: only plugin/adapter/ may' % (src, sym))
    else:
        passed += 1
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
