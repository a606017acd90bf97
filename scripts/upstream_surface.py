"""Record the public *and private* surface of an upstream django-import-export release.

Why: the fork is a drop-in for 4.4, and downstream packages use more than the documented API:
they import module-level helpers, subclass and override methods, and borrow private methods by
reference (``_log_actions = ImportMixin._log_actions``).  A name or a parameter that goes missing
breaks them at import time or at the first call.  This script turns upstream's source into data
that ``tests/core/tests/test_upstream_surface.py`` checks the fork against.

What it does: downloads the release's source distribution with ``pip download --no-deps
--no-binary :all:`` into a temporary folder (deleted afterwards; nothing of upstream is kept),
parses every module of the ``import_export`` package with :mod:`ast` (nothing is imported or
executed) and writes, for every module:

- every module-level name: classes, functions, assignments, and names re-exported from the
  package itself (``from .widgets import Widget``).  Imports of other libraries are left out:
  they are upstream's implementation, not its API;
- for every class (nested classes included): every attribute its body defines (methods,
  properties, class attributes, nested classes) and every ``self.<name>`` its methods assign,
  single-underscore names included;
- for every callable: its parameters in order, each with its kind (as :mod:`inspect` names
  them) and whether it has a default.

Only names and signatures are written, never code, docstrings or values.

Usage::

    python scripts/upstream_surface.py              # -> tests/data/upstream_4_4_surface.json
    python scripts/upstream_surface.py --version 4.4.3 --output FILE
    python scripts/upstream_surface.py --source DIR # an extracted sdist or package folder
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "tests" / "data" / "upstream_4_4_surface.json"
PACKAGE = "import_export"

# ---------------------------------------------------------------------------------------------
# Fetching the source


def download_sdist(version: str, target: Path) -> Path:
    """Download the sdist of ``django-import-export==version`` into ``target``; return its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(target),
            f"django-import-export=={version}",
        ],
        check=True,
    )
    archives = sorted(target.glob("*.tar.gz"))
    if len(archives) != 1:
        raise SystemExit(f"expected one sdist in {target}, found {archives}")
    return archives[0]


def extract_package(archive: Path, target: Path) -> Path:
    """Extract ``archive`` under ``target`` and return its ``import_export`` package folder."""
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    candidates = sorted(target.glob(f"*/{PACKAGE}/__init__.py"))
    if not candidates:
        raise SystemExit(f"no {PACKAGE}/ package in {archive}")
    return candidates[0].parent


def find_package(source: Path) -> Path:
    """``source`` may be the package folder itself or a folder that holds it."""
    if (source / "__init__.py").exists() and source.name == PACKAGE:
        return source
    if (source / PACKAGE / "__init__.py").exists():
        return source / PACKAGE
    raise SystemExit(f"{source} holds no {PACKAGE} package")


# ---------------------------------------------------------------------------------------------
# Reading signatures


def _parameter(name: str, kind: str, has_default: bool) -> dict[str, Any]:
    return {"name": name, "kind": kind, "default": has_default}


def signature_of(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[dict[str, Any]]:
    """The parameters of ``function`` in order, with inspect's kind names and default flags."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    first_default = len(positional) - len(arguments.defaults)
    parameters = []
    for index, argument in enumerate(positional):
        kind = "POSITIONAL_ONLY" if index < len(arguments.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        parameters.append(_parameter(argument.arg, kind, index >= first_default))
    if arguments.vararg:
        parameters.append(_parameter(arguments.vararg.arg, "VAR_POSITIONAL", False))
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        parameters.append(_parameter(argument.arg, "KEYWORD_ONLY", default is not None))
    if arguments.kwarg:
        parameters.append(_parameter(arguments.kwarg.arg, "VAR_KEYWORD", False))
    return parameters


def _decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)  # property.setter -> "setter", functools.cached_property...
    return names


#: Python makes these class methods without a decorator (``__new__`` is a static method).
IMPLICIT_CLASSMETHODS = ("__init_subclass__", "__class_getitem__")


def describe_function(
    function: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool
) -> dict[str, Any]:
    """A function's kind (function, method, classmethod, staticmethod, property) and parameters."""
    decorators = _decorator_names(function)
    if in_class and decorators & {"property", "cached_property", "setter", "deleter"}:
        return {"kind": "property"}
    if not in_class:
        kind = "function"
    elif "classmethod" in decorators or function.name in IMPLICIT_CLASSMETHODS:
        kind = "classmethod"
    elif "staticmethod" in decorators or function.name == "__new__":
        kind = "staticmethod"
    else:
        kind = "method"
    return {"kind": kind, "parameters": signature_of(function)}


# ---------------------------------------------------------------------------------------------
# Reading names


def _assigned_names(node: ast.stmt) -> list[str]:
    """Names bound by an assignment statement (tuples unpacked)."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    else:
        return []
    names = []
    for target in targets:
        elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
        names += [element.id for element in elements if isinstance(element, ast.Name)]
    return names


def _self_assignments(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Attribute names a method assigns on its first parameter (``self.x = ...``)."""
    if not (function.args.posonlyargs or function.args.args):
        return set()
    receiver = [*function.args.posonlyargs, *function.args.args][0].arg
    names = set()
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            for element in elements:
                if (
                    isinstance(element, ast.Attribute)
                    and isinstance(element.value, ast.Name)
                    and element.value.id == receiver
                ):
                    names.add(element.attr)
    return names


def describe_class(node: ast.ClassDef) -> dict[str, Any]:
    """Every attribute a class body defines, and the instance attributes its methods assign."""
    attributes: dict[str, Any] = {}
    instance_attributes: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            described = describe_function(item, in_class=True)
            # A property's setter repeats the name: keep the first (the getter's) entry.
            if not (described["kind"] == "property" and item.name in attributes):
                attributes[item.name] = described
            if described["kind"] in ("method", "property"):
                instance_attributes |= _self_assignments(item)
        elif isinstance(item, ast.ClassDef):
            attributes[item.name] = describe_class(item)
        else:
            for name in _assigned_names(item):
                attributes.setdefault(name, {"kind": "attribute"})
    instance_attributes -= set(attributes)
    return {
        "kind": "class",
        "bases": [ast.unparse(base) for base in node.bases],
        "attributes": dict(sorted(attributes.items())),
        "instance_attributes": sorted(instance_attributes),
    }


def _internal_import(node: ast.ImportFrom) -> bool:
    return node.level > 0 or (node.module or "").split(".")[0] == PACKAGE


def describe_module(tree: ast.Module) -> dict[str, Any]:
    """Every module-level name of a parsed module (see the module docstring for the rules)."""
    names: dict[str, Any] = {}

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.ClassDef):
                names[node.name] = describe_class(node)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names[node.name] = describe_function(node, in_class=False)
            elif isinstance(node, ast.ImportFrom) and _internal_import(node):
                for alias in node.names:
                    if alias.name != "*":
                        names.setdefault(alias.asname or alias.name, {"kind": "import"})
            elif isinstance(node, ast.If | ast.Try):
                # Names bound under ``if``/``try`` at module level are still module names.
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(node.orelse)
                visit(getattr(node, "finalbody", []))
            else:
                for name in _assigned_names(node):
                    names.setdefault(name, {"kind": "attribute"})

    visit(tree.body)
    return dict(sorted(names.items()))


def module_name(package: Path, path: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_surface(package: Path) -> dict[str, Any]:
    modules = {}
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[module_name(package, path)] = describe_module(tree)
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="4.4.3")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--source", type=Path, help="use this source instead of downloading")
    options = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ie-upstream-surface-") as work:
        if options.source:
            package = find_package(options.source)
        else:
            archive = download_sdist(options.version, Path(work) / "dist")
            package = extract_package(archive, Path(work) / "src")
        surface = {
            "about": (
                f"Names and signatures of django-import-export {options.version}'s "
                f"{PACKAGE} package, written by scripts/upstream_surface.py. Data only."
            ),
            "version": options.version,
            "modules": read_surface(package),
        }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(surface, indent=1) + "\n", encoding="utf-8")
    count = sum(len(names) for names in surface["modules"].values())
    print(f"{options.output}: {len(surface['modules'])} modules, {count} module-level names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
