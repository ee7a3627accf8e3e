"""The package's import structure, read from the source (nothing is imported or run).

Two rules, both from issue 35:

- **the student core stands alone**: the modules lessons 00-03 import (and what they import in
  turn) import nothing from ``gan_course.speed``, ``gan_course.bench`` or ``gan_course.teaching``;
  speed-ups and benchmarks build on the core, never the reverse;
- **no cycles**: no module imports, directly or through others, a module that imports it.

Every ``import`` statement counts, at the top of a module or inside a function: a lazy import is
still an arrow, followed the first time that function runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "gan_course"
ROOT = Path(__file__).resolve().parents[1]

# The student core: what lessons 00-03 import, and the modules a student's `make train` runs.
CORE = (
    "gan", "models", "losses", "training", "wgan", "data", "metrics", "plotting", "saving", "presets",
    "callbacks", "ema", "diffaugment", "recipes", "cli", "latent", "explorer", "toys", "zoo",
)
OPTIONAL = ("speed", "bench", "teaching")  # may import the core; the core may not import them


def module_files(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of ``package`` under ``root``."""
    files = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _known(name: str, modules) -> str | None:
    """The longest prefix of ``name`` that is one of ``modules`` (``a.b.func`` -> ``a.b``)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imported_modules(name: str, path: Path, modules) -> set[str]:
    """The package's modules that module ``name`` imports anywhere in its file (functions too)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from ..y import z
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from pkg import sub` imports the submodule when there is one, else a name of pkg.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            targets = [node.args[0].value]  # importlib.import_module("gan_course.x")
        else:
            continue
        found.update(t for t in (_known(target, modules) for target in targets) if t and t != name)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = module_files(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def in_group(module: str, groups) -> bool:
    return any(module == f"{PACKAGE}.{g}" or module.startswith(f"{PACKAGE}.{g}.") for g in groups)


def reach_into(graph, start_groups, forbidden_groups) -> list[list[str]]:
    """One import chain for every arrow from a module of ``start_groups`` (or a module they
    import, at any depth) into ``forbidden_groups``, ending at the forbidden module."""
    starts = sorted(m for m in graph if in_group(m, start_groups))
    paths = {m: [m] for m in starts}
    queue = list(starts)
    chains = []
    while queue:
        module = queue.pop(0)
        for target in sorted(graph[module]):
            if in_group(target, forbidden_groups):
                chains.append(paths[module] + [target])
            elif target not in paths:
                paths[target] = paths[module] + [target]
                queue.append(target)
    return sorted(chains)


def cycles(graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


# --------------------------------------------------------------------------- the rules


def test_the_core_modules_exist():
    graph = import_graph()
    missing = [g for g in CORE if not any(in_group(m, [g]) for m in graph)]
    assert not missing, f"core modules not found (renamed? update CORE): {missing}"


def test_the_student_core_imports_nothing_from_speed_bench_or_teaching():
    chains = reach_into(import_graph(), CORE, OPTIONAL)
    assert not chains, "the core reaches optional packages:\n" + "\n".join(" -> ".join(c) for c in chains)


def test_no_import_cycles_in_the_package():
    found = cycles(import_graph())
    assert not found, "import cycles (lazy imports included):\n" + "\n".join(" <-> ".join(c) for c in found)


# --------------------------------------------------------------------------- the reader itself


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_reader_sees_lazy_relative_and_dynamic_imports(tmp_path):
    root = _write(tmp_path, {
        "__init__.py": "",
        "core.py": "def f():\n    from gan_course.speed import fast\n    return fast\n",
        "other.py": "from . import core\nfrom .core import f\n",
        "dyn.py": "import importlib\nimportlib.import_module('gan_course.bench')\n",
        "speed/__init__.py": "",
        "speed/fast.py": "import gan_course.core\n",
        "bench/__init__.py": "from gan_course.speed.fast import something\n",
    })
    graph = import_graph(root)
    assert graph["gan_course.core"] == {"gan_course.speed.fast"}  # inside a function
    assert graph["gan_course.other"] == {"gan_course.core"}  # relative, module and name
    assert graph["gan_course.dyn"] == {"gan_course.bench"}
    assert graph["gan_course.bench"] == {"gan_course.speed.fast"}  # a name of a module: the module
    assert reach_into(graph, ["core"], ["speed"]) == [["gan_course.core", "gan_course.speed.fast"]]
    assert cycles(graph) == [["gan_course.core", "gan_course.speed.fast"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
