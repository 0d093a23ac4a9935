"""The layering rules of docs/architecture.md, checked on the sources (ast) and by importing them:

* only ``swift_ocr/families/`` and ``swift_ocr/codecs/`` (and recipes, docs, tests) branch on a model family's name:
  nothing else compares a value with a registered family name, tests membership in a collection of them, keys a dict
  literal or a ``match`` case by one;
* ms-swift (``swift``) is imported at module level only under ``swift_ocr/msswift/``; importing every other module
  leaves ``swift`` out of ``sys.modules``;
* the layers form a line: a module imports (at any depth) only from its own layer or lower ones, nothing but the CLI
  imports ``swift_ocr.cli``, and the module-level imports between swift_ocr modules have no cycle.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

from swift_ocr.families import family_names
from swift_ocr.formats import format_names
from swift_ocr.writers.registry import writer_names

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "swift_ocr"

#: Layers of swift_ocr, lowest first (docs/architecture.md, "Layering rules"). Top-level modules and subpackages.
LAYERS = [
    {"sample", "errors", "images", "io_utils", "progress", "registry", "__init__"},
    {"families"},
    {"codecs", "formats"},
    {"tasks"},
    {"writers"},
    {"convert", "eval", "tiny"},
    {"msswift"},
    {"validate"},
    {"cli", "__main__"},
]
RANK = {name: k for k, layer in enumerate(LAYERS) for name in layer}
#: Layers that never import the application layers, not even inside a function.
LOW = {"formats", "tasks", "families", "codecs", "writers"}
HIGH = {"convert", "msswift", "eval", "validate", "cli"}
#: Where a model family's name may be branched on.
FAMILY_PLACES = {"families", "codecs"}


def _sources() -> Iterator[Tuple[str, Path, ast.Module]]:
    """``(dotted module name, path, parsed source)`` of every module of swift_ocr."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _part(module: str) -> str:
    """The layer unit of a dotted swift_ocr module name: ``swift_ocr.tasks.det`` -> ``tasks``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(tree: ast.Module, module: str, module_level_only: bool) -> Iterator[Tuple[str, int]]:
    """``(imported module, line)`` for every import in ``tree`` (relative imports resolved against ``module``);
    with ``module_level_only``, not those inside a function (class bodies and ``if``/``try`` blocks run at import)."""

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import) and not (module_level_only and in_function):
                for alias in child.names:
                    yield alias.name, child.lineno
            elif isinstance(child, ast.ImportFrom) and not (module_level_only and in_function):
                base = child.module or ""
                if child.level:
                    package = module.split(".")
                    package = package[: len(package) - child.level + (1 if _is_package(module) else 0)]
                    base = ".".join(package + ([base] if base else []))
                yield base, child.lineno
                for alias in child.names:  # `from swift_ocr.eval import metrics` imports a module too
                    yield f"{base}.{alias.name}", child.lineno
            yield from visit(child, nested)

    yield from visit(tree, False)


def _is_package(module: str) -> bool:
    return (REPO / Path(*module.split("."))).is_dir()


def _existing(module: str) -> bool:
    path = REPO / Path(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


# ------------------------------------------------------------------------------------------- family names


def _string_constants(node) -> List[str]:
    """The str constants ``node`` is, or holds as a literal tuple/list/set/frozenset(...) of constants."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("frozenset", "set", "tuple") and node.args:
        return _string_constants(node.args[0])
    return []


def family_branches(tree: ast.Module, source: str, families: Set[str], shared: Set[str]) -> List[Tuple[int, str]]:
    """``(line, snippet)`` of every place in ``tree`` that branches on a family name: a comparison (``==``, ``!=``,
    ``in``, ``not in``) with a family-name constant or a literal collection holding one, a dict literal keyed by
    one, a ``match`` case on one. A name that is also a label format or an output writer (``got``) counts only where
    the other side of the comparison mentions a family (``famil``, ``codec``, ``model``, ``template``, ``arch``):
    ``output_format == "got"`` branches on the writer, not on the family."""
    found = []

    def hit(node, names, other=None):
        names = set(names) & families
        if not names:
            return
        if names <= shared and other is not None:
            text = (ast.get_source_segment(source, other) or "").lower()
            if not any(w in text for w in ("famil", "codec", "model", "template", "arch")):
                return
        found.append((node.lineno, ast.get_source_segment(source, node) or ast.dump(node)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn))
                                                 for op in node.ops):
            operands = [node.left, *node.comparators]
            for k, operand in enumerate(operands):
                others = operands[:k] + operands[k + 1:]
                hit(node, _string_constants(operand), others[0] if len(others) == 1 else None)
        elif isinstance(node, ast.Dict):
            hit(node, [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)])
        elif isinstance(node, ast.MatchValue):
            hit(node, _string_constants(node.value))
    return sorted(found)


def test_family_names_are_branched_on_only_in_families_and_codecs():
    families = set(family_names())
    assert {"got", "internvl", "qwen2_vl", "qwen2_5_vl", "deepseek_ocr"} <= families
    shared = families & (set(format_names()) | set(writer_names()))
    bad = []
    for module, path, tree in _sources():
        if _part(module) in FAMILY_PLACES:
            continue
        for line, snippet in family_branches(tree, path.read_text(encoding="utf-8"), families, shared):
            bad.append(f"{path.relative_to(REPO)}:{line}: {snippet}")
    assert not bad, "branches on a model family name outside families/ and codecs/:\n" + "\n".join(bad)


def test_the_family_branch_check_finds_branches():
    """The check above, on code that does branch on family names (and on code that does not)."""
    src = '''
if family == "internvl": pass
if spec.name in ("qwen2_vl", "qwen2_5_vl"): pass
PROMPTS = {"deepseek_ocr": "x"}
match fam:
    case "got": pass
if args.model_family != "got": pass
if output_format == "got": pass
if fmt in {"got", "icdar"}: pass
x = "internvl" + family
'''
    found = family_branches(ast.parse(src), src, set(family_names()), {"got"})
    assert [line for line, _ in found] == [2, 3, 4, 6, 7]


# ------------------------------------------------------------------------------------------------ ms-swift


def test_ms_swift_is_imported_at_module_level_only_in_msswift():
    bad = []
    for module, path, tree in _sources():
        if _part(module) == "msswift":
            continue
        for imported, line in _imports(tree, module, module_level_only=True):
            if imported == "swift" or imported.startswith("swift."):
                bad.append(f"{path.relative_to(REPO)}:{line}: import {imported}")
    assert not bad, "ms-swift imported at module level outside swift_ocr/msswift/:\n" + "\n".join(bad)


def test_importing_everything_but_msswift_leaves_ms_swift_unloaded():
    modules = [m for m, _, _ in _sources() if _part(m) != "msswift"]
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted(k for k in sys.modules if k == 'swift' or k.startswith('swift.'))))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == []
    assert len(modules) > 50


# -------------------------------------------------------------------------------------------------- layers


def _graph(module_level_only: bool) -> Dict[str, Set[Tuple[str, int]]]:
    graph = {}
    for module, _, tree in _sources():
        graph[module] = {(m, line) for m, line in _imports(tree, module, module_level_only)
                         if m.startswith("swift_ocr") and _existing(m) and m != module}
    return graph


def test_the_import_reader_sees_module_level_and_nested_imports():
    src = "from swift_ocr.cli.main import main\nimport swift_ocr.tasks\ndef f():\n    import swift.llm\n"
    tree = ast.parse(src)
    assert {m for m, _ in _imports(tree, "swift_ocr.tasks.det", True)} == {
        "swift_ocr.cli.main", "swift_ocr.cli.main.main", "swift_ocr.tasks"}
    assert ("swift.llm", 4) in set(_imports(tree, "swift_ocr.tasks.det", False))
    graph = _graph(True)
    assert {m for m, _ in graph["swift_ocr.tasks.det"]} >= {"swift_ocr.tasks.order", "swift_ocr.codecs"}


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(m) for m, _, _ in _sources()}
    assert parts <= set(RANK), parts - set(RANK)


def test_low_layers_never_import_the_application_layers():
    bad = [f"{m} -> {imported} (line {line})" for m, edges in _graph(False).items() if _part(m) in LOW
           for imported, line in edges if _part(imported) in HIGH]
    assert not bad, "\n".join(sorted(bad))


def test_nothing_but_the_cli_imports_the_cli():
    bad = [f"{m} -> {imported} (line {line})" for m, edges in _graph(False).items()
           if _part(m) not in ("cli", "__main__") for imported, line in edges if _part(imported) == "cli"]
    assert not bad, "\n".join(sorted(bad))


def test_module_level_imports_go_down_the_layers_without_cycles():
    graph = _graph(True)
    upward = [f"{m} -> {imported} (line {line})" for m, edges in graph.items() for imported, line in edges
              if RANK[_part(imported)] > RANK[_part(m)]]
    assert not upward, "module-level imports of a higher layer:\n" + "\n".join(sorted(upward))
    # within a layer: no cycle of module-level imports (a package counts as its __init__ module)
    edges = {m: {i for i, _ in e if i in graph} for m, e in graph.items()}
    state: Dict[str, int] = {}
    cycles = []

    def visit(m, path):
        state[m] = 1
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycles.append(" -> ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
