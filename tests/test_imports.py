"""The package's shape: dependencies point one way, no import cycle, no module too long to read.

Layers, lowest first (a module may import its own package and lower layers only):

    config_groups                          the config groups' schemas (config re-exports them)
    labels, config, artifacts, system,     shared by everything
    version
    data, models                           sources -> pairs; base models, tokens, model folders
    eval                                   metrics, reports, calibration, capabilities, baselines
    document                               a claim against a whole document (pure aggregation)
    infer                                  StanceClassifier and its backends
    train                                  the recipe
    serve                                  the HTTP service around a loaded model
    runs                                   the library side of the scripts
    cli, __init__, __main__                entry points
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "stancekit"
LAYERS = [
    {"config_groups"},
    {"labels", "config", "artifacts", "system", "version"},
    {"data", "models"},
    {"eval"},
    {"document"},
    {"infer"},
    {"train"},
    {"serve"},
    {"runs"},
    {"cli", "__init__", "__main__"},
]
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The stancekit modules an ``import``/``from ... import`` statement loads."""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = package[: len(package) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("stancekit"):
        return []
    known = modules()
    # `from .x import y` where y is a submodule loads that submodule; `from .x import name` loads x.
    submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
    names = [a.name for a in node.names if f"{target}.{a.name}" not in known]
    found = submodules + ([target] if names or not submodules else [])
    # A module's own enclosing packages are initialised before it runs: importing them adds no edge.
    return [m for m in found if not module.startswith(m + ".")]


def imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported stancekit module, line, at module level?) for every import statement in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    for node in tree.body:  # `if TYPE_CHECKING:` blocks hold annotations only: nothing is imported at run time
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            top |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = resolve(module, path, node)
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("stancekit")]
        else:
            continue
        out += [(name, node.lineno, id(node) in top) for name in names]
    return out


def layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else "__init__"
    for i, names in enumerate(LAYERS):
        if part in names:
            return i
    raise AssertionError(f"{module}: in no layer; add its package to LAYERS (and the README's module map)")


def graph() -> dict[str, set[str]]:
    return {m: {name for name, _, _ in imports(m, p)} for m, p in modules().items()}


def test_every_module_is_in_a_layer_and_imports_only_downwards():
    wrong = []
    for module, path in modules().items():
        for name, line, _ in imports(module, path):
            if name == "stancekit" or name.split(".")[1:2] == module.split(".")[1:2]:
                continue  # the package itself (its version) or a sibling in the same package
            # Entry points may use each other (__main__ runs cli); every other layer imports strictly downwards.
            if layer(name) > layer(module) or layer(name) == layer(module) < len(LAYERS) - 1:
                wrong.append(f"{path.relative_to(SRC.parent)}:{line} imports {name}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt in edges and not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if not state.get(node):
            visit(node)


def test_no_function_level_import_of_our_own_modules():
    """A function-level import of a stancekit module usually hides a cycle; the lazy public names of
    ``stancekit/__init__.py`` (so that ``import stancekit.labels`` stays light) are the one exception."""
    hidden = [
        f"{path.relative_to(SRC.parent)}:{line} imports {name}"
        for module, path in modules().items()
        if module != "stancekit"
        for name, line, at_top in imports(module, path)
        if not at_top
    ]
    assert not hidden, "\n".join(hidden)


def test_no_module_is_too_long_to_read():
    long = {module: n for module, p in modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def test_the_walker_sees_a_cycle_and_a_wrong_way_import(tmp_path, monkeypatch):
    """The checks above must be able to fail: a made-up package with a cycle and an upward import."""
    fake = tmp_path / "stancekit"
    (fake / "data").mkdir(parents=True)
    (fake / "train").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "labels.py").write_text("from .data import a\n")
    (fake / "data" / "__init__.py").write_text("")
    (fake / "data" / "a.py").write_text("from ..train import b\n")
    (fake / "train" / "__init__.py").write_text("")
    (fake / "train" / "b.py").write_text("from ..data import a\n\ndef f():\n    from .. import labels\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    with pytest.raises(AssertionError, match="stancekit/labels.py:1 imports stancekit.data.a"):
        test_every_module_is_in_a_layer_and_imports_only_downwards()
    with pytest.raises(pytest.fail.Exception, match="import cycle: stancekit.data.a -> stancekit.train.b"):
        test_no_import_cycle()
    with pytest.raises(AssertionError, match="train/b.py:4 imports stancekit.labels"):
        test_no_function_level_import_of_our_own_modules()
