"""The direction of imports between the stages of dbsynth (docs: DESIGN.md, "Layout"), checked on the source.

Every module of ``dbsynth/`` is parsed with :mod:`ast` (nothing is imported, so a module that fails to import
still gets checked); every ``import`` counts, at the top of a module, inside a function or under
``TYPE_CHECKING``, because each one is a dependency a reader has to follow. Relative imports are resolved
against the importing module's package.

A stage is the first name under ``dbsynth`` (``dbsynth.model.hma`` is in ``model``, ``dbsynth/read.py`` is
``read``). A violation reads ``importer -> imported`` (module names).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import dbsynth

ROOT = Path(dbsynth.__file__).resolve().parent

# Violations that other in-flight work of issue #16 removes. Each pair is tolerated AND must still occur: when
# one is fixed the test fails and names it, so that whoever fixed it deletes the entry (the list only shrinks).
KNOWN: set[tuple[str, str]] = set()

# Modules made callable (``sys.modules[__name__].__class__ = ...``) still present, same contract as KNOWN.
KNOWN_CALLABLE_MODULES: set[str] = set()

# Modules still reading or writing ``DataFrame.attrs[...]`` flags, same contract as KNOWN.
KNOWN_ATTRS: set[str] = set()


@dataclass(frozen=True)
class Import:
    """One dependency found in the source."""

    importer: str
    """The importing module (``dbsynth.model.hma``)."""
    imported: str
    """The imported module: a dbsynth module (``dbsynth.sample.generators``) or a top-level external name
    (``sqlalchemy``)."""
    line: int
    """Where, in the importer's file."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _known_module(name: str) -> str:
    """``name`` if it is a module of dbsynth, else its longest prefix that is (``dbsynth.x.func`` -> ``dbsynth.x``)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _ours(name: str) -> bool:
    return name == "dbsynth" or name.startswith("dbsynth.")


def _imports(name: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if _is_package(path) else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: level 1 is the importer's package, each further dot one package up
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import sub` imports the module pkg.sub when there is one; otherwise a name of pkg
            targets = [f"{stem}.{alias.name}" for alias in node.names] if _ours(stem) else [stem]
        else:
            continue
        for target in targets:
            imported = _known_module(target) if _ours(target) else target.split(".", 1)[0]
            out.append(Import(name, imported, node.lineno))
    return out


IMPORTS = [imp for name, path in MODULES.items() for imp in _imports(name, path)]


def stage(module: str) -> str:
    """``model`` for ``dbsynth.model.hma``; ``dbsynth`` for the package's own ``__init__``; an external name as is."""
    parts = module.split(".")
    return parts[1] if parts[0] == "dbsynth" and len(parts) > 1 else parts[0]


def _internal(imp: Import) -> bool:
    return _ours(imp.imported)


def _leaves() -> set[str]:
    """Neutral leaf modules: modules directly under ``dbsynth/`` (not a stage's package) importing nothing of it."""
    importers = {imp.importer for imp in IMPORTS if _internal(imp) and imp.imported != imp.importer}
    return {m for m, p in MODULES.items() if m.count(".") == 1 and not _is_package(p) and m not in importers}


LEAVES = _leaves()
_ENTRY_POINTS = {"cli", "pytest_plugin", "dbsynth", "pipeline"}


def _violates(imp: Import) -> bool:
    src, dst = stage(imp.importer), stage(imp.imported)
    if src == dst:
        return False
    if src == "model" and dst in {"sample", "synthesizers", "write", "read", "reflect", "pipeline", "config",
                                  "report", "cli", "sqlalchemy"}:
        return True
    if not _internal(imp):
        return False
    if src == "sample" and dst in {"synthesizers", "write", "read", "reflect", "pipeline", "config", "report",
                                   "cli"}:
        return True
    if src in {"read", "write"} and dst in {"model", "sample", "synthesizers"}:
        return True
    if src == "metadata" and dst != "errors" and imp.imported not in LEAVES:
        return True
    if {src, dst} == {"config", "report"}:
        return True
    if src == "rules" and dst in {"write", "read", "pipeline"}:
        return True
    return dst == "pipeline" and src not in _ENTRY_POINTS


def _pairs(found: set[tuple[str, str]], known: set[tuple[str, str]]) -> list[str]:
    messages = [f"{a} -> {b}" for a, b in sorted(found - known)]
    messages += [f"{a} -> {b} no longer happens: delete it from KNOWN" for a, b in sorted(known - found)]
    return messages


def test_the_parser_sees_every_kind_of_import():
    """The walk must see relative, function-level and TYPE_CHECKING imports, or the rules check nothing."""
    found = {(imp.importer, imp.imported) for imp in IMPORTS}
    assert ("dbsynth.report", "dbsynth.report.metrics") in found  # `from . import metrics` inside a function
    assert ("dbsynth.report.checks", "dbsynth.db") in found  # `from ..db import ...`
    assert ("dbsynth.report.checks", "sqlalchemy") in found
    assert ("dbsynth.config", "dbsynth.urls") in found
    assert "dbsynth.properties" in LEAVES and "dbsynth.config" not in LEAVES and "dbsynth.model" not in LEAVES


@pytest.mark.parametrize(("importer", "imported", "bad"), [
    ("dbsynth.model.hma", "dbsynth.sample.engine", True),
    ("dbsynth.model.hma", "dbsynth.read", True),
    ("dbsynth.model.hma", "sqlalchemy", True),
    ("dbsynth.model.hma", "dbsynth.pipeline", True),
    ("dbsynth.model.hma", "dbsynth.metadata.records", False),
    ("dbsynth.model.hma", "numpy", False),
    ("dbsynth.model.store", "dbsynth.synthesizers", True),  # the public classes are passed in, never imported
    ("dbsynth.sample.engine", "dbsynth.synthesizers", True),
    ("dbsynth.synthesizers", "dbsynth.model.hma", False),
    ("dbsynth.synthesizers", "dbsynth.sample.engine", False),
    ("dbsynth.read", "dbsynth.synthesizers", True),
    ("dbsynth.sample.engine", "dbsynth.write", True),
    ("dbsynth.sample.engine", "dbsynth.config", True),
    ("dbsynth.sample.engine", "dbsynth.model.copula", False),
    ("dbsynth.read", "dbsynth.model.source", True),
    ("dbsynth.write.core", "dbsynth.sample", True),
    ("dbsynth.write.core", "dbsynth.read", False),
    ("dbsynth.metadata.graph", "dbsynth.reflect", True),
    ("dbsynth.metadata.graph", "dbsynth.db", True),  # db imports metadata: not a leaf
    ("dbsynth.metadata.graph", "dbsynth.errors", False),
    ("dbsynth.metadata.graph", "dbsynth.properties", False),  # a neutral leaf
    ("dbsynth.config", "dbsynth.report.metrics", True),
    ("dbsynth.report.command", "dbsynth.config", True),
    ("dbsynth.report.command", "dbsynth.urls", False),
    ("dbsynth.rules.checks", "dbsynth.write.ddl", True),
    ("dbsynth.rules.checks", "dbsynth.metadata", False),
    ("dbsynth.report", "dbsynth.pipeline", True),
    ("dbsynth.cli", "dbsynth.pipeline", False),
    ("dbsynth.pytest_plugin", "dbsynth.pipeline", False),
    ("dbsynth", "dbsynth.pipeline", False),
])
def test_each_rule(importer, imported, bad):
    assert _violates(Import(importer, imported, 1)) is bad


def test_imports_follow_the_stages():
    found = {(imp.importer, imp.imported) for imp in IMPORTS if _violates(imp)}
    problems = _pairs(found, KNOWN)
    assert not problems, "imports against the stages (DESIGN.md, Layout):\n" + "\n".join(problems)


# The modules that compose a fit (model) with the sampling engine (sample): the public synthesizers, and the
# pipeline that runs them. Anywhere else a module importing both is a second, hidden facade.
COMPOSERS = {"dbsynth.synthesizers", "dbsynth.pipeline"}


def test_only_the_composers_import_both_model_and_sample():
    stages: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if _internal(imp):
            stages.setdefault(imp.importer, set()).add(stage(imp.imported))
    both = {m for m, s in stages.items() if {"model", "sample"} <= s and stage(m) not in {"model", "sample"}}
    assert both <= COMPOSERS, f"modules importing both model and sample besides {sorted(COMPOSERS)}: " + ", ".join(
        sorted(both - COMPOSERS))
    assert "dbsynth.synthesizers" in both  # the rule sees the one facade it exists for


def _string_imports(tree: ast.AST, prefix: str) -> list[int]:
    """Lines calling ``import_module`` / ``__import__`` (any spelling: ``importlib.import_module``, a bare
    ``import_module``) with a string constant starting with ``prefix``: an import the ``import`` walk above
    cannot see."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        arg = node.args[0]
        if name in {"import_module", "__import__"} and isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                and arg.value.startswith(prefix):
            lines.append(node.lineno)
    return lines


def test_string_imports_are_seen():
    tree = ast.parse("import importlib\nimportlib.import_module('dbsynth.sample.engine')\n"
                     "from importlib import import_module\nimport_module('dbsynth.sample')\n"
                     "import_module('dbsynth.model.hma')\n")
    assert _string_imports(tree, "dbsynth.sample") == [2, 4]


def test_model_never_imports_sample_by_string():
    """``import_module("dbsynth.sample...")`` in model/ is the dependency the import walk cannot see."""
    found = [f"{name}:{line}" for name, path in MODULES.items() if stage(name) == "model"
             for line in _string_imports(ast.parse(path.read_text(encoding="utf-8")), "dbsynth.sample")]
    assert not found, "model/ reaches the sampling stage by a string import: " + ", ".join(found)


def _made_callable(tree: ast.AST) -> bool:
    """``sys.modules[...].__class__ = ...``: a module turned into a callable object."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == "__class__" and isinstance(t.value, ast.Subscript):
                    holder = t.value.value
                    if isinstance(holder, ast.Attribute) and holder.attr == "modules":
                        return True
    return False


def _uses_attrs(tree: ast.AST) -> bool:
    """``x.attrs[...]``: a flag carried in ``DataFrame.attrs`` (read or written)."""
    return any(isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute) and n.value.attr == "attrs"
               for n in ast.walk(tree))


@pytest.mark.parametrize(("check", "known", "what"), [
    (_made_callable, "KNOWN_CALLABLE_MODULES", "made callable (sys.modules[...].__class__ = ...)"),
    (_uses_attrs, "KNOWN_ATTRS", "flags in DataFrame.attrs (.attrs[...])"),
])
def test_no_callable_modules_nor_attrs_flags(check, known, what):
    tolerated = globals()[known]
    found = {name for name, path in MODULES.items() if check(ast.parse(path.read_text(encoding="utf-8")))}
    problems = [f"{m}: {what}" for m in sorted(found - tolerated)]
    problems += [f"{m} is no longer {what}: delete it from {known}" for m in sorted(tolerated - found)]
    assert not problems, "\n".join(problems)
