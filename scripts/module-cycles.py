#!/usr/bin/env python3
"""Fails when the crate's top-level modules import each other, directly or through a chain.

Reads src/**/*.rs, maps each file to its module path (src/a/b.rs and src/a/b/mod.rs are
`a::b`), collects the `crate::…` paths each file names (in `use` statements, `pub use`, and
paths in code, including grouped `use crate::{a, b::c}`), and builds two graphs:

- the top-level graph: module `a` (src/a.rs or src/a/) depends on `b` when a file of `a` names
  `crate::b`;
- inside each protocol directory (oauth1/, oauth2/, oidc/): the same between its submodules.

Leaves everyone may import (lib.rs's re-exports, `error`) are not nodes. `src/dev/` is ignored.
Prints every cycle found and exits 1; prints a summary and exits 0 otherwise.
Usage: scripts/module-cycles.py [SRC_DIR]   (stdlib only)
"""
import os
import re
import sys

LEAVES = {"error"}
IGNORED_TOP = {"dev"}
NESTED = {"oauth1", "oauth2", "oidc"}


def module_path(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel == ["lib"]:
        return []
    return rel


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Line comments (doc comments too) and string literals hold prose, not paths.
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def expand_group(prefix, body):
    """`crate::{a, b::{c, d}}` -> ["a", "b::c", "b::d"] (only the leading segments matter)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(body + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            item = body[start:i].strip()
            start = i + 1
            if not item:
                continue
            m = re.match(r"([\w:]*?)::\{(.*)\}$", item, flags=re.S)
            if m:
                out.extend(expand_group(prefix + m.group(1).split("::"), m.group(2)))
            else:
                out.append(prefix + [s for s in re.split(r"\s*::\s*", item.split(" as ")[0]) if s])
    return out


def references(text, here):
    """Absolute module paths (lists of segments) a file names."""
    refs = []
    text = strip_comments(text)
    for m in re.finditer(r"\bcrate\s*::\s*\{", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        refs.extend(expand_group([], text[m.end(): i - 1]))
    for m in re.finditer(r"\bcrate((?:\s*::\s*\w+)+)", text):
        refs.append([s for s in re.split(r"\s*::\s*", m.group(1)) if s])
    # `super::x` inside a nested module: relative to the parent.
    for m in re.finditer(r"\bsuper((?:\s*::\s*\w+)+)", text):
        segs = [s for s in re.split(r"\s*::\s*", m.group(1)) if s]
        parent = here[:-1]
        while segs and segs[0] == "super":
            parent, segs = parent[:-1], segs[1:]
        if segs and segs[0] != "{":
            refs.append(parent + segs)
    return refs


def find_cycles(graph):
    cycles, seen = [], set()
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    cycles.append(cycle)
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [])
    return cycles


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    src = os.path.normpath(src)
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                files[path] = module_path(src, path)
    top = {}
    nested = {n: {} for n in NESTED}
    for path, here in sorted(files.items()):
        if not here or here[0] in IGNORED_TOP:
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for ref in references(text, here):
            if not ref:
                continue
            a, b = here[0], ref[0]
            if b in LEAVES or b in IGNORED_TOP or b == a or b in ("self", "super"):
                pass
            elif any(m and m[0] == b for m in files.values()):
                top.setdefault(a, set()).add(b)
            if a in NESTED and b == a and len(here) > 1 and len(ref) > 1:
                x, y = here[1], ref[1]
                if x != y and any(m[:2] == [a, y] for m in files.values()):
                    nested[a].setdefault(x, set()).add(y)
    failed = False
    for cycle in find_cycles(top):
        failed = True
        print("cycle between top-level modules: " + " -> ".join(cycle))
    for parent, graph in sorted(nested.items()):
        for cycle in find_cycles(graph):
            failed = True
            print(f"cycle inside {parent}/: " + " -> ".join(cycle))
    if failed:
        return 1
    edges = sum(len(v) for v in top.values())
    print(f"module-cycles: no cycle ({len(top)} top-level modules, {edges} edges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
