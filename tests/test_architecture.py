"""The package's layers, read from the source with ``ast`` (nothing is imported).

Every module under ``dealersim/`` is parsed; each ``import dealersim...`` / ``from dealersim...
import ...`` (at the top of the file, under ``if TYPE_CHECKING:`` or inside a function) becomes
an edge of the import graph. The tests fail on

* an import cycle (``TYPE_CHECKING`` imports aside: they never run);
* a layer importing from a layer above it, in the order
  base < model < studies < outputs < (dashboard, adapters) < cli; a module may import from its
  own layer; ``dealersim/__init__.py`` may import anything below cli and ``__main__.py`` the cli;
  no module below them imports the top-level ``dealersim`` package;
* an ``import dealersim...`` inside a function or method (imports go at the top of the file),
  unless it is in ``ALLOWED_LOCAL_IMPORTS`` below, the offenders at commit 3fea92a that the
  layering work is removing; and on an entry of that list that no longer matches anything.

Every failure message lists all offenders as ``path:line``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "dealersim"

LAYERS = {"base": 0, "model": 1, "studies": 2, "outputs": 3, "dashboard": 4, "adapters": 4,
          "cli": 5}
TOP = 6  # dealersim/__init__.py and dealersim/__main__.py
LAYER_NAMES = {0: "base", 1: "model", 2: "studies", 3: "outputs", 4: "dashboard/adapters",
               5: "cli", TOP: "dealersim (top level)"}

# ``import dealersim...`` inside a function at commit 3fea92a, keyed by
# (file, enclosing function, imported module) rather than by line, so that edits elsewhere in
# the file do not invalidate it (a failure message shows the line numbers). Shrink only.
ALLOWED_LOCAL_IMPORTS: dict[tuple[str, str, str], str] = {
}


@dataclass(frozen=True)
class Import:
    """One import of a dealersim module found in the source."""

    source: str  # importing module, e.g. "dealersim.cli.run"
    target: str  # imported module, e.g. "dealersim.model.params"
    path: str  # importing file, relative to the repository root
    line: int
    function: str | None  # enclosing function's qualified name, None at module level
    type_checking: bool  # under ``if TYPE_CHECKING:``

    @property
    def where(self) -> str:
        """``path:line``."""
        return f"{self.path}:{self.line}"


def module_name(path: Path) -> str:
    """``dealersim/model/params.py`` -> ``dealersim.model.params`` (packages without __init__)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The dealersim module that ``name`` (a module or a name inside one) refers to."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def is_type_checking(test: ast.expr) -> bool:
    """True for ``if TYPE_CHECKING:`` and ``if typing.TYPE_CHECKING:``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, path: Path, rel: Path | None = None) -> list[Import]:
    """Every import of a dealersim module in one file, with where it sits.

    ``rel`` is the path to report (default: ``path``), for a file read from elsewhere.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = (rel or path).relative_to(ROOT).as_posix()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def targets(node: ast.Import | ast.ImportFrom) -> set[str]:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative import: resolve against the importing package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # ``from dealersim.model import kpis`` imports the module dealersim.model.kpis
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                     for a in node.names]
        return {t for n in names if n.split(".")[0] == "dealersim" and (t := resolve(n))}

    def visit(node: ast.AST, function: str | None, scope: str, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(Import(module, t, rel, child.lineno, function, type_checking)
                             for t in sorted(targets(child)) if t != module)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{scope}{child.name}"
                visit(child, name, f"{name}.", type_checking)
            elif isinstance(child, ast.ClassDef):
                visit(child, function, f"{scope}{child.name}.", type_checking)
            elif isinstance(child, ast.If) and is_type_checking(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), function, scope, True)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), function, scope, type_checking)
            else:
                visit(child, function, scope, type_checking)

    visit(tree, None, "", False)
    return found


IMPORTS = [imp for mod, path in MODULES.items() for imp in imports_of(mod, path)]


def layer(module: str) -> int:
    """The layer of a dealersim module (TOP for the top-level package and __main__)."""
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 and parts[1] in LAYERS else TOP


def test_every_module_has_a_layer():
    """A new top-level module or package must be given a layer here before it is used."""
    strays = sorted(m for m in MODULES
                    if layer(m) == TOP and m not in ("dealersim", "dealersim.__main__"))
    assert not strays, (f"modules outside the layers {sorted(LAYERS)}: {strays}; move them into "
                        "a layer, or add the new layer to LAYERS in tests/test_architecture.py")


def test_the_walk_sees_the_imports():
    """The walk itself: known edges of each kind are found (so an empty graph cannot pass)."""
    edges = {(i.source, i.target, i.function is None, i.type_checking) for i in IMPORTS}
    assert ("dealersim", "dealersim.model.results", True, False) in edges
    assert ("dealersim.__main__", "dealersim.cli.main", True, False) in edges
    assert ("dealersim.model.people.owner", "dealersim.model.dealership", True, True) in edges
    assert len(MODULES) > 40 and len({(i.source, i.target) for i in IMPORTS}) > 100


def test_the_walk_sees_an_import_inside_a_function(tmp_path):
    """The walk finds ``import dealersim...`` inside a (nested) function, with its name."""
    path = ROOT / "dealersim" / "cli" / "_probe_for_the_walk.py"  # a path under the package
    source = ("def outer():\n    def inner():\n        from dealersim.model import params\n"
              "    return inner\n")
    tree_path = tmp_path / "probe.py"
    tree_path.write_text(source)
    found = imports_of("dealersim.cli._probe_for_the_walk", tree_path, rel=path)
    assert [(i.target, i.function) for i in found] == [("dealersim.model.params", "outer.inner")]


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
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
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return cycles


def test_find_cycles_finds_a_planted_cycle():
    """The cycle finder itself, on a small graph with one cycle of three and one chain."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    """No cycle among the imports that run (top-level and inside functions)."""
    edges: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for imp in IMPORTS:
        if not imp.type_checking:
            edges[imp.source].add(imp.target)
            where.setdefault((imp.source, imp.target), imp.where)
    cycles = find_cycles(edges)
    lines = []
    for cycle in cycles:
        members = set(cycle)
        lines.append("cycle among " + ", ".join(cycle) + ": " + ", ".join(
            f"{where[(s, t)]} imports {t}" for s in cycle for t in sorted(edges[s] & members)))
    assert not cycles, f"{len(cycles)} import cycle(s) in dealersim/:\n" + "\n".join(lines)


def test_layers_import_only_from_below():
    """Each module imports only from its own layer or the layers below it."""
    bad = []
    for imp in IMPORTS:
        src, dst = layer(imp.source), layer(imp.target)
        allowed = dst <= src
        if imp.target == "dealersim":  # the top-level package pulls in everything
            allowed = False
        elif imp.source == "dealersim":  # __init__.py: the public face, anything below cli
            allowed = dst < LAYERS["cli"]
        if not allowed:
            bad.append(f"{imp.where}: {imp.source} ({LAYER_NAMES[src]}) imports {imp.target} "
                       f"({LAYER_NAMES[dst]})")
    assert not bad, ("imports from a layer above (order: base < model < studies < outputs < "
                     "dashboard, adapters < cli):\n" + "\n".join(bad))


def local_imports() -> list[Import]:
    """Imports of dealersim modules inside functions."""
    return [imp for imp in IMPORTS if imp.function is not None]


def key(imp: Import) -> tuple[str, str, str]:
    """The allow-list key of an import inside a function."""
    return (imp.path, imp.function or "", imp.target)


def test_imports_at_the_top_of_files():
    """No new ``import dealersim...`` inside a function (the allow-list only shrinks)."""
    new = [f"{i.where} in {i.function}(): {i.target}" for i in local_imports()
           if key(i) not in ALLOWED_LOCAL_IMPORTS]
    assert not new, ("dealersim imports inside functions (move them to the top of the file; "
                     "a cycle that forces one means something belongs in a lower layer):\n"
                     + "\n".join(new))


def test_allow_list_has_no_stale_entries():
    """Every allowed import inside a function still exists: fixed ones leave the list."""
    present = {key(i) for i in local_imports()}
    stale = [f"{path} in {function}(): {target}"
             for (path, function, target) in ALLOWED_LOCAL_IMPORTS
             if (path, function, target) not in present]
    assert not stale, ("fixed, so remove from ALLOWED_LOCAL_IMPORTS in "
                       "tests/test_architecture.py:\n" + "\n".join(stale))


@pytest.mark.parametrize("module", ["dealersim.base.io", "dealersim.base.stats"])
def test_base_imports_no_dealersim_module(module):
    """The base layer stands alone."""
    assert not [i.where for i in IMPORTS if i.source == module]


# ====================================================================== the people report
PEOPLE = PKG / "model" / "people"
REPORTERS = sorted(PEOPLE.glob("*.py")) + [PKG / "model" / "pipeline.py",
                                           PKG / "model" / "renewals.py"]
"""The people, the pipeline and the market's calendar: they report to the books."""


def _is_model(node: ast.expr, aliases: set[str]) -> bool:
    """Whether ``node`` is the model: ``self.model``, ``model`` or a name bound to either."""
    if isinstance(node, ast.Name):
        return node.id in aliases
    return (isinstance(node, ast.Attribute) and node.attr == "model"
            and isinstance(node.value, ast.Name) and node.value.id == "self")


def _model_aliases(function: ast.FunctionDef) -> set[str]:
    """Names that stand for the model inside ``function``: a ``model`` argument, and names
    assigned from ``self.model`` (``m = self.model``, ``m, p = self.model, ...``)."""
    names = {a.arg for a in function.args.args + function.args.kwonlyargs if a.arg == "model"}
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=False))
            for t, v in pairs:
                if isinstance(t, ast.Name) and _is_model(v, names):
                    names.add(t.id)
    return names


def model_writes(source: str, path: str) -> list[str]:
    """``path:line`` of every assignment to an attribute of the model in ``source``."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        aliases = _model_aliases(function)
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(isinstance(t, ast.Attribute) and _is_model(t.value, aliases) for t in flat):
                found.append(f"{path}:{node.lineno}")
    return sorted(set(found))


def test_model_writes_are_found():
    """The check sees every way of writing to the model (and not writes to the agent)."""
    planted = (
        "class A:\n"
        "    def act(self):\n"
        "        m, p = self.model, self.model.params\n"
        "        m.dials += 1\n"
        "        self.model.x = 2\n"
        "        self.count = 3\n"
        "        m.books.dialled(1, 0)\n"
        "def f(model):\n"
        "    model.y, z = 1, 2\n"
    )
    assert model_writes(planted, "x.py") == ["x.py:4", "x.py:5", "x.py:9"]


def test_people_report_to_the_books_and_never_write_the_model():
    """No agent (nor the pipeline or calendar) assigns to an attribute of the model."""
    offenders = [w for path in REPORTERS
                 for w in model_writes(path.read_text(), str(path.relative_to(ROOT)))]
    assert not offenders, "agents write to the model at: " + ", ".join(offenders)
