"""The package's layers (README, "How the code is laid out"): imports point down only,
and nothing above ``gosub/sources/`` names a particular code host."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gosub"

# Layer of a module (by its dotted name below gosub) → the layers it may import.
# config and the request-scoped leaves (errors, deadline, upstream, metrics): any layer.
LEAVES = {"errors", "deadline", "upstream", "metrics"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "deadline": set(),
    "upstream": set(),
    "metrics": set(),
    "golang": {*LEAVES, "golang"},
    "config": {*LEAVES, "golang"},
    "sources": {*LEAVES, "golang", "config", "sources"},
    "store": {*LEAVES, "golang", "store"},
    "modrepo": {*LEAVES, "golang", "config", "sources", "store"},
    "web": {*LEAVES, "golang", "config", "sources", "store", "modrepo", "web"},
}
TOP = {"settings", "cli", "logs", "pack", "prefill", "__init__", "__main__"}  # may import anything


def _layer(module: str) -> str:
    return module.split(".")[0]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        out.append((".".join(rel.parts), path))
    return out


def _imports(path: Path) -> list[str]:
    """gosub modules imported by ``path`` (dotted, below gosub)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "gosub"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gosub":
                found += [f"gosub.{a.name}" for a in node.names]
            elif node.module.startswith("gosub."):
                found.append(node.module)
    return [name.removeprefix("gosub.") for name in found if name != "gosub"]


@pytest.mark.parametrize("module,path", _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_down(module: str, path: Path) -> None:
    layer = _layer(module)
    if layer in TOP:
        return
    assert layer in ALLOWED, f"{module} is in no layer; add it to README's table and here"
    wrong = [i for i in _imports(path) if _layer(i) not in ALLOWED[layer]]
    assert not wrong, f"gosub.{module} ({layer}) imports {wrong}: imports must point down"


def test_layers_above_sources_name_no_code_host() -> None:
    """Only gosub/sources/ knows which forges exist (its factory chooses)."""
    for module, path in _modules():
        if _layer(module) in ("modrepo", "web", "store", "golang"):
            bad = [i for i in _imports(path) if i.startswith("sources.") and i != "sources.base"]
            assert not bad, f"gosub.{module} imports {bad}; go through gosub.sources"


def test_every_layer_is_a_folder() -> None:
    for layer in ("golang", "sources", "store", "web"):
        assert (PACKAGE / layer / "__init__.py").is_file()
