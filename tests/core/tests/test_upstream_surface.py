"""The fork offers every name of django-import-export 4.4.3, with compatible signatures.

``tests/data/upstream_4_4_surface.json`` is written by ``scripts/upstream_surface.py`` from
upstream's source distribution: every module-level name of every module of ``import_export``,
every attribute of every class (private ones included) and every callable's parameters.
Downstream packages import those names, override those methods and borrow private methods by
reference, so each one must exist here, or be listed in ``ALLOWED_GAPS`` with the reason that
``docs/differences.rst`` also gives.

A signature is compatible when every call that works on upstream's works on the fork's: the same
positional parameters in the same order (extra ones only after them, with defaults), the same
keyword-only names (or ``**kwargs``), a default wherever upstream has one, ``*args``/``**kwargs``
where upstream has them, and no new required parameter.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import textwrap
import types
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SURFACE_FILE = Path(__file__).resolve().parents[2] / "data" / "upstream_4_4_surface.json"
DIFFERENCES = Path(__file__).resolve().parents[3] / "docs" / "differences.rst"

#: ``module:qualified.name`` -> why the fork does not offer it as upstream does.  Every entry is
#: also explained in docs/differences.rst (section "Upstream names not offered").
ALLOWED_GAPS: dict[str, str] = {}

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def load_surface() -> dict[str, Any]:
    return json.loads(SURFACE_FILE.read_text(encoding="utf-8"))["modules"]


# ---------------------------------------------------------------------------------------------
# Signatures


def _upstream_parameters(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["parameters"]


def signature_gaps(
    upstream: list[dict[str, Any]], function: Any, bound_receiver: bool = False
) -> list[str]:
    """Why calls valid for ``upstream``'s parameters could fail on ``function`` (empty: none).

    With ``bound_receiver`` the first parameter is the instance or class Python passes itself,
    so its name does not matter (upstream names some class methods' first parameter ``self``).
    """
    try:
        parameters = list(inspect.signature(function, follow_wrapped=True).parameters.values())
    except (TypeError, ValueError) as error:
        return [f"no signature ({error})"]
    ours_positional = [p for p in parameters if p.kind in POSITIONAL]
    ours_by_name = {p.name: p for p in parameters}
    has_var_positional = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    has_var_keyword = any(p.kind is p.VAR_KEYWORD for p in parameters)
    theirs_positional = [
        p for p in upstream if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
    ]
    gaps = []
    for index, theirs in enumerate(theirs_positional):
        if index >= len(ours_positional):
            gaps.append(f"positional parameter {theirs['name']!r} (#{index}) missing")
            continue
        ours = ours_positional[index]
        renamable = theirs["kind"] == "POSITIONAL_ONLY" or (bound_receiver and index == 0)
        if not renamable and ours.name != theirs["name"]:
            gaps.append(f"positional parameter #{index} is {ours.name!r}, not {theirs['name']!r}")
        if theirs["default"] and ours.default is ours.empty:
            gaps.append(f"parameter {ours.name!r} has no default")
    for ours in ours_positional[len(theirs_positional) :]:
        if ours.default is ours.empty:
            gaps.append(f"new required positional parameter {ours.name!r}")
    theirs_names = {p["name"] for p in upstream}
    for ours in parameters:
        if ours.kind is ours.KEYWORD_ONLY and ours.default is ours.empty:
            if ours.name not in theirs_names:
                gaps.append(f"new required keyword parameter {ours.name!r}")
    for theirs in upstream:
        if theirs["kind"] == "VAR_POSITIONAL" and not has_var_positional:
            gaps.append(f"*{theirs['name']} missing")
        elif theirs["kind"] == "VAR_KEYWORD" and not has_var_keyword:
            gaps.append(f"**{theirs['name']} missing")
        elif theirs["kind"] == "KEYWORD_ONLY":
            ours = ours_by_name.get(theirs["name"])
            if ours is None or ours.kind in (ours.POSITIONAL_ONLY, ours.VAR_POSITIONAL):
                if not has_var_keyword:
                    gaps.append(f"keyword parameter {theirs['name']!r} missing")
            elif theirs["default"] and ours.default is ours.empty:
                gaps.append(f"parameter {ours.name!r} has no default")
    return gaps


# ---------------------------------------------------------------------------------------------
# Classes


@cache
def _surface_script() -> types.ModuleType:
    """``scripts/upstream_surface.py``, which recorded upstream's names: its reading of ``self.x``
    assignments is the one the fork's classes are read with."""
    path = Path(__file__).resolve().parents[3] / "scripts" / "upstream_surface.py"
    spec = importlib.util.spec_from_file_location("upstream_surface_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _assigned_self_attributes(klass: type) -> frozenset[str]:
    """Names the methods of ``klass`` (its own body only) assign on ``self``."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):
        return frozenset()
    self_assignments = _surface_script()._self_assignments
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names |= self_assignments(node)
    return frozenset(names)


def has_instance_attribute(klass: type, name: str) -> bool:
    """Whether instances of ``klass`` get ``name``: at class level, as a form field, a
    dataclass field, or by a ``self.<name> = ...`` in a method of a class of its MRO."""
    try:
        inspect.getattr_static(klass, name)
        return True
    except AttributeError:
        pass
    if name in getattr(klass, "base_fields", {}):
        return True
    for base in klass.__mro__:
        if name in getattr(base, "__dataclass_fields__", {}):
            return True
        if name in _assigned_self_attributes(base):
            return True
    return False


def _raw_function(value: Any) -> Any:
    if isinstance(value, staticmethod | classmethod):
        return value.__func__
    return value


def attribute_gaps(klass: type, name: str, entry: dict[str, Any]) -> list[str]:
    """Why ``klass.name`` does not match upstream's entry (empty: it does)."""
    try:
        value = inspect.getattr_static(klass, name)
    except AttributeError:
        if name in getattr(klass, "base_fields", {}):  # a form field Django's metaclass moved
            return []
        return ["missing"]
    kind = entry["kind"]
    if kind == "class":
        if not isinstance(value, type):
            return [f"is {type(value).__name__}, not a class"]
        return class_gaps(value, entry)
    if kind in ("method", "classmethod", "staticmethod"):
        if kind == "classmethod" and not isinstance(value, classmethod):
            return ["is not a classmethod"]
        if kind == "staticmethod" and not isinstance(value, staticmethod):
            return ["is not a staticmethod"]
        if kind == "method" and isinstance(value, staticmethod | classmethod):
            return [f"is a {type(value).__name__}, not a method"]
        function = _raw_function(value)
        if not callable(function):
            return [f"is {type(function).__name__}, not callable"]
        return signature_gaps(_upstream_parameters(entry), function, bound_receiver=True)
    return []  # attribute or property: existing is what downstream code needs


def class_gaps(klass: type, entry: dict[str, Any]) -> list[str]:
    gaps = []
    for name, attribute in entry["attributes"].items():
        gaps += [f".{name}: {gap}" for gap in attribute_gaps(klass, name, attribute)]
    for name in entry["instance_attributes"]:
        if not has_instance_attribute(klass, name):
            gaps.append(f".{name}: instance attribute missing")
    return gaps


def name_gaps(module: types.ModuleType, name: str, entry: dict[str, Any]) -> list[str]:
    if not hasattr(module, name):
        return ["missing"]
    value = getattr(module, name)
    kind = entry["kind"]
    if kind == "class":
        if not isinstance(value, type):
            return [f"is {type(value).__name__}, not a class"]
        return class_gaps(value, entry)
    if kind == "function":
        if not callable(value):
            return [f"is {type(value).__name__}, not callable"]
        return signature_gaps(_upstream_parameters(entry), value)
    return []


def all_module_gaps(module_name: str, names: dict[str, Any]) -> list[tuple[str, str]]:
    """Every gap of one module as ``("module:name.attr", why)`` pairs, allow-listed or not."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return [(module_name, f"module missing ({error})")]
    gaps = []
    for name, entry in names.items():
        for gap in name_gaps(module, name, entry):
            if gap.startswith("."):  # a gap of an attribute: ".attr: why"
                attribute, _, why = gap.partition(": ")
                gaps.append((f"{module_name}:{name}{attribute}", why))
            else:
                gaps.append((f"{module_name}:{name}", gap))
    return gaps


def module_gaps(module_name: str, names: dict[str, Any]) -> list[str]:
    """The gaps of one module that ``ALLOWED_GAPS`` does not explain, as readable lines."""
    return [
        f"{qualified}: {why}"
        for qualified, why in all_module_gaps(module_name, names)
        if qualified not in ALLOWED_GAPS
    ]


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("module_name", sorted(load_surface()))
def test_fork_offers_upstream_names_with_compatible_signatures(module_name):
    assert module_gaps(module_name, load_surface()[module_name]) == []


def test_allow_list_entries_are_real_gaps_and_documented():
    """An entry that is no longer a gap, or that the docs do not explain, is a stale entry."""
    surface = load_surface()
    documented = DIFFERENCES.read_text(encoding="utf-8")
    all_gaps = {
        qualified for module in surface for qualified, _ in all_module_gaps(module, surface[module])
    }
    for qualified, reason in ALLOWED_GAPS.items():
        assert reason.strip(), qualified
        assert qualified in all_gaps, f"{qualified} is no longer a gap: remove it"
        assert qualified.split(":", 1)[1] in documented, f"{qualified} not in differences.rst"


def test_surface_data_covers_the_package():
    """The data file is upstream's whole package, not a fragment (guards a truncated file)."""
    surface = load_surface()
    assert {"import_export.resources", "import_export.admin", "import_export.widgets"} <= set(
        surface
    )
    import_mixin = surface["import_export.admin"]["ImportMixin"]["attributes"]
    assert {"_log_actions", "_create_log_entries", "_create_log_entry"} <= set(import_mixin)


class TestTheCheckerFindsGaps:
    """Controls: the checks above report what they are meant to report."""

    def test_missing_and_renamed_parameters(self):
        upstream = [
            {"name": "self", "kind": "POSITIONAL_OR_KEYWORD", "default": False},
            {"name": "result", "kind": "POSITIONAL_OR_KEYWORD", "default": False},
            {"name": "request", "kind": "POSITIONAL_OR_KEYWORD", "default": True},
            {"name": "kwargs", "kind": "VAR_KEYWORD", "default": False},
        ]

        def renamed(self, outcome, request=None, **kwargs): ...

        def no_default(self, result, request, **kwargs): ...

        def new_required(self, result, request=None, extra=None, *, strict, **kwargs): ...

        def no_kwargs(self, result, request=None): ...

        def compatible(self, result, request=None, more=1, *args, flag=False, **kwargs): ...

        assert signature_gaps(upstream, renamed) == [
            "positional parameter #1 is 'outcome', not 'result'"
        ]
        assert signature_gaps(upstream, no_default) == ["parameter 'request' has no default"]
        assert signature_gaps(upstream, new_required) == ["new required keyword parameter 'strict'"]
        assert signature_gaps(upstream, no_kwargs) == ["**kwargs missing"]
        assert signature_gaps(upstream, compatible) == []

    def test_missing_class_attributes_and_instance_attributes(self):
        class Upstreamish:
            def __init__(self):
                self.kept = 1

            def method(self, value): ...

        entry = {
            "kind": "class",
            "attributes": {
                "method": {
                    "kind": "method",
                    "parameters": [
                        {"name": "self", "kind": "POSITIONAL_OR_KEYWORD", "default": False},
                        {"name": "value", "kind": "POSITIONAL_OR_KEYWORD", "default": False},
                    ],
                },
                "_private": {"kind": "method", "parameters": []},
                "Meta": {"kind": "class", "attributes": {}, "instance_attributes": []},
            },
            "instance_attributes": ["kept", "gone"],
        }
        assert sorted(class_gaps(Upstreamish, entry)) == [
            ".Meta: missing",
            "._private: missing",
            ".gone: instance attribute missing",
        ]
