#!/usr/bin/env python3
"""Import cycles between sibling modules of src/ (ARCHITECTURE.md: "no import cycles").

Every `crate::a::b…` and `super::…` path in a file is resolved to the deepest module it names;
a reference from module A to module B is an edge between the children of their lowest common
ancestor that contain A and B (a reference to an ancestor, e.g. a `mod.rs` re-export, is not
one). Prints each cycle (strongly connected component) and exits 1 if there is any.
"""
import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"


def module_of(path):
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


files = {}
for path in SRC.rglob("*.rs"):
    if "tests" in path.relative_to(SRC).parts or path.name == "tests.rs":
        continue  # tests may reach anywhere
    files[module_of(path)] = path
modules = set(files)


def deepest(parts):
    best = ()
    for i in range(1, len(parts) + 1):
        if tuple(parts[:i]) in modules:
            best = tuple(parts[:i])
    return best


PATH = re.compile(r"\b((?:crate|super)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)")
edges = {}
for module, path in files.items():
    text = path.read_text()
    # Code only: drop comments (doc links are not imports) and unit-test modules.
    text = re.sub(r"//[^\n]*", "", text)
    text = text.split("#[cfg(test)]")[0]
    # A file `foo.rs` with children is the module `foo`; `super` is its parent.
    for match in PATH.finditer(text):
        parts = match.group(1).split("::")
        if parts[0] == "crate":
            target = deepest(parts[1:])
        else:
            base = list(module)
            while parts and parts[0] == "super":
                base = base[:-1]
                parts = parts[1:]
            target = deepest(base + parts)
        common = 0
        while common < min(len(module), len(target)) and module[common] == target[common]:
            common += 1
        if common == len(target) or common == len(module):
            continue  # an ancestor or a descendant
        a, b = module[: common + 1], target[: common + 1]
        edges.setdefault(a, set()).add(b)

# Tarjan's strongly connected components.
index, low, stack, on, cycles = {}, {}, [], set(), []


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted("::".join(c) for c in component))


sys.setrecursionlimit(10000)
for v in list(edges):
    if v not in index:
        visit(v)
for cycle in cycles:
    print("import cycle:", " <-> ".join(cycle))
sys.exit(1 if cycles else 0)
