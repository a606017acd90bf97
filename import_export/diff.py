"""The before/after comparison shown for each imported row (``RowResult.diff``).

Values come from user files, so every fragment is escaped before it is marked safe for a template.
"""

from __future__ import annotations

from typing import Any

from diff_match_patch import diff_match_patch
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.base import ModelState
from django.utils.encoding import force_str
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

_INSERT = diff_match_patch.DIFF_INSERT
_DELETE = diff_match_patch.DIFF_DELETE

# Inline styles rather than classes, so the fragments read the same in the admin, in an e-mail
# or in a log viewer without any stylesheet.
_INSERT_STYLE = "background:#e6ffe6;"
_DELETE_STYLE = "background:#ffe6e6;"


def _export_values(resource: Any, instance: Any) -> list[str]:
    """The instance's value for each import field, as text in the export representation.

    Comparing export representations (not Python values) means the diff shows exactly what a
    person would see in a file; a missing instance (a row that deletes or is skipped) reads as
    empty.
    """
    # During an import the plan answers for get_import_fields() (see ResourceImportMixin).
    import_fields = getattr(resource, "_import_fields", None)
    fields = import_fields() if import_fields is not None else resource.get_import_fields()
    if instance is None:
        return ["" for _ in fields]
    return [force_str(field.export(instance)) for field in fields]


def _fragment_html(operation: int, text: str) -> str:
    escaped = escape(text).replace("\n", "&para;<br>")
    if operation == _INSERT:
        return f'<ins style="{_INSERT_STYLE}">{escaped}</ins>'
    if operation == _DELETE:
        return f'<del style="{_DELETE_STYLE}">{escaped}</del>'
    return f"<span>{escaped}</span>"


#: Setting: the most characters (before and after together) one cell's diff compares.
DIFF_MAX_CHARS_SETTING = "IMPORT_EXPORT_DIFF_MAX_CHARS"
DEFAULT_DIFF_MAX_CHARS = 4000
#: Seconds diff-match-patch may spend on one cell before it settles for a coarser diff.
DIFF_TIMEOUT = 0.1


def _diff_max_chars() -> int:
    value = getattr(settings, DIFF_MAX_CHARS_SETTING, None)
    return DEFAULT_DIFF_MAX_CHARS if value is None else int(value)


def html_diff(before: Any, after: Any) -> SafeString:
    """Escaped HTML that marks what changed between two values, character by character.

    Long text is not compared: a character diff of two long values costs up to a second of
    CPU per cell (a preview of many rows would take minutes), so when both values together
    exceed ``IMPORT_EXPORT_DIFF_MAX_CHARS`` a changed cell just says "changed".
    """
    before, after = force_str(before), force_str(after)
    if before != after and len(before) + len(after) > _diff_max_chars():
        return mark_safe(f'<span class="import-diff-changed">{escape(_("changed"))}</span>')
    matcher = diff_match_patch()
    matcher.Diff_Timeout = DIFF_TIMEOUT
    operations = matcher.diff_main(before, after)
    matcher.diff_cleanupSemantic(operations)
    return mark_safe("".join(_fragment_html(op, text) for op, text in operations))


class Diff:
    """Records an instance's field values before a row is applied and compares them afterwards.

    ``new`` says the instance was created by this row; its "before" values are then only the
    model's defaults, so a changed value is shown as wholly inserted rather than as an edit of a
    default nobody wrote.
    """

    def __init__(self, resource: Any, instance: Any, new: bool) -> None:
        self.left = self._read_field_values(resource, instance)
        self.right: list[str] = []
        self.new = new

    def compare_with(self, resource: Any, instance: Any) -> None:
        """Record the "after" values; ``instance`` is ``None`` when the row deleted it."""
        self.right = self._read_field_values(resource, instance)

    def as_html(self) -> list[SafeString]:
        fragments = []
        for before, after in zip(self.left, self.right):
            if self.new and before != after:
                before = ""
            fragments.append(html_diff(before, after))
        return fragments

    @classmethod
    def _read_field_values(cls, resource: Any, instance: Any) -> list[str]:
        return _export_values(resource, instance)


_NOT_READ = object()


class InstanceState:
    """The few values of an instance that a diff of the import fields reads, kept as a tuple.

    Upstream deep-copies every instance before a row is applied and renders every field twice
    whether or not anyone reads the diff.  A tuple of the fields' stored values (and the related
    objects of foreign keys, so nothing is read from the database later) costs a fraction of
    that; :meth:`rebuild` turns it back into an unsaved instance that exports the same text.
    Only usable when every import field is a plain model field (see :meth:`for_fields`).
    """

    def __init__(self, model: Any, model_fields: list) -> None:
        self.model = model
        self.attnames = tuple(field.attname for field in model_fields)
        self.relations = tuple(field for field in model_fields if field.is_relation)

    @classmethod
    def for_fields(cls, model: Any, fields: list) -> InstanceState | None:
        """The state for ``fields`` of ``model``, or ``None`` when a field reads more than the
        model's own columns (a relation path, a many-to-many, a property or method)."""
        if model is None:
            return None
        model_fields = []
        for field in fields:
            if not field.attribute:
                continue
            if "__" in field.attribute:
                return None
            try:
                model_field = model._meta.get_field(field.attribute)
            except Exception:
                return None
            if not getattr(model_field, "concrete", False) or model_field.many_to_many:
                return None
            if field.attribute not in (model_field.name, model_field.attname):
                return None
            if model_field not in model_fields:
                model_fields.append(model_field)
        return cls(model, model_fields)

    def capture(self, instance: Any) -> tuple:
        values = instance.__dict__
        stored = tuple(
            values[name] if name in values else getattr(instance, name) for name in self.attnames
        )
        return stored, tuple(self._related(instance, field) for field in self.relations)

    @staticmethod
    def _related(instance: Any, field: Any) -> Any:
        cached = field.get_cached_value(instance, default=_NOT_READ)
        if cached is not _NOT_READ:
            return cached
        if getattr(instance, field.attname, None) is None:
            return None
        try:
            return getattr(instance, field.name)
        except ObjectDoesNotExist:
            return None

    def rebuild(self, captured: tuple) -> Any:
        stored, related = captured
        instance = self.model.__new__(self.model)
        instance._state = ModelState()
        instance.__dict__.update(zip(self.attnames, stored))
        for field, value in zip(self.relations, related):
            field.set_cached_value(instance, value)
        return instance


class LazyDiff:
    """A row's diff, rendered by :class:`Diff` only when ``RowResult.diff`` is read.

    Holds the two captured states (``after`` is ``None`` for a deleted row) and renders them
    exactly as an eager :class:`Diff` of the same instances would.
    """

    __slots__ = ("resource", "state", "before", "after", "new")

    def __init__(self, resource: Any, state: InstanceState, before: tuple, new: bool) -> None:
        self.resource = resource
        self.state = state
        self.before = before
        self.after: tuple | None = None
        self.new = new

    def compare_with(self, instance: Any) -> None:
        self.after = None if instance is None else self.state.capture(instance)

    def as_html(self) -> list[SafeString]:
        diff = Diff.__new__(Diff)
        diff.new = self.new
        diff.left = _export_values(self.resource, self.state.rebuild(self.before))
        after = None if self.after is None else self.state.rebuild(self.after)
        diff.right = _export_values(self.resource, after)
        return diff.as_html()
