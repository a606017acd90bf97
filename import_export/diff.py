"""The before/after comparison shown for each imported row (``RowResult.diff``).

Values come from user files, so every fragment is escaped before it is marked safe for a template.
"""

from __future__ import annotations

import uuid
from typing import Any

from diff_match_patch import diff_match_patch
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
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

#: How many distinct combinations of related objects an import's diffs share at most.
_MAX_SHARED_RELATED = 10_000


class InstanceState:
    """An instance's stored values as one tuple, cheap to take and turned back into an instance.

    Upstream deep-copies every instance before a row is applied (the row's ``original``) and
    renders every import field twice for the diff, whether or not anyone reads either.  Here a
    row keeps a tuple of the model's column values and its cached related objects (the foreign
    keys the diff shows are read when the state is taken, so nothing is read from the database
    later, even after a dry run was rolled back); :meth:`rebuild` makes an instance of them
    again, which exports the same text and holds the same values as the copy would have.
    Identical states (the fresh instances of new rows) are kept once.  Only usable when every
    import field is a plain model field (see :meth:`for_fields`).
    """

    def __init__(self, model: Any, diff_fields: list) -> None:
        self.model = model
        concrete = model._meta.concrete_fields
        self.attnames = tuple(field.attname for field in concrete)
        self._not_read = (_NOT_READ,) * len(self.attnames)  # the default of each attname
        self.diff_attnames = frozenset(field.attname for field in diff_fields)
        self.diff_relations = tuple(field for field in diff_fields if field.is_relation)
        self._last: tuple | None = None
        self._related_tuples: dict[tuple, tuple] = {}

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

    def capture(self, instance: Any, share: bool = False) -> tuple:
        """The state of ``instance``; with ``share``, the previous shared state instead when
        every value is the very same object (fresh instances of new rows are kept once)."""
        values = instance.__dict__
        if not values.keys() >= self.diff_attnames:
            for name in self.diff_attnames:
                if name not in values:
                    getattr(instance, name)  # a deferred column the diff shows: load it now
        stored = tuple(map(values.get, self.attnames, self._not_read))
        cache = instance._state.fields_cache
        for field in self.diff_relations:
            name = _cache_name(field)
            if name not in cache:
                cache = {**cache, name: self._related(instance, field)}
        # The "after" states name the objects the batch resolved, shared by many rows; the
        # "before" related objects are the instance's own (and are replaced by the "after"
        # ones when the row did not change them, see LazyDiff.compare_with).
        items = tuple(cache.items()) if cache else ()
        related = items if share or not items else self._related_tuple(items)
        state = (stored, related, instance._state.adding, instance._state.db)
        if not share:
            return state
        last = self._last
        if last is not None and _same_objects(last, state):
            return last
        self._last = state
        # A copy: the state kept for sharing must not be the one a row may later rewrite.
        return (*state,)

    def _related_tuple(self, items: tuple) -> tuple:
        """``items`` (cache name, related object), kept once per distinct combination: rows
        naming the same related objects share the tuple (up to a bounded number of them)."""
        key = tuple((name, id(value)) for name, value in items)
        shared = self._related_tuples.get(key)
        if shared is not None:
            return shared
        if len(self._related_tuples) < _MAX_SHARED_RELATED:
            self._related_tuples[key] = items
        return items

    @staticmethod
    def _related(instance: Any, field: Any) -> Any:
        if getattr(instance, field.attname, None) is None:
            return None
        try:
            return getattr(instance, field.name)
        except ObjectDoesNotExist:
            return None

    def rebuild(self, captured: tuple) -> Any:
        stored, cache, adding, db = captured
        instance = self.model.__new__(self.model)
        instance._state = ModelState()
        instance._state.adding, instance._state.db = adding, db
        instance.__dict__.update(
            (name, value) for name, value in zip(self.attnames, stored) if value is not _NOT_READ
        )
        if cache:
            instance._state.fields_cache = dict(cache)
        return instance


#: Types whose equal values render the same text (not floats: -0.0; not decimals: 1.50 vs 1.5;
#: not datetimes: time zones), so an unchanged value may be kept once for both states.
_PLAIN_VALUE_TYPES = (str, int, bool, uuid.UUID, type(None))


_PLAIN_VALUE_TYPE_SET = frozenset(_PLAIN_VALUE_TYPES)


def _same_value(before: Any, after: Any) -> bool:
    if before is after:
        return True
    if type(before) is not type(after):
        return False
    if isinstance(before, Model):
        # The same row of the same table, read twice (with the instance, and for the column).
        return before.pk is not None and before.pk == after.pk and not before._state.adding
    return isinstance(before, _PLAIN_VALUE_TYPES) and before == after


def _reuse_equal_values(before: tuple, after: tuple) -> tuple:
    """``before`` holding ``after``'s objects wherever the values are the same, so a row that
    changed little keeps little of its own (the "before" values read from the database are
    freed)."""
    stored_before, related_before, *rest = before
    stored_after, related_after, *_ = after
    # Most values are the very object of the other state, or equal text/numbers: those are
    # answered here; the rest by _same_value.
    stored = tuple(
        b
        if a is b
        or (type(a) is type(b) and type(a) in _PLAIN_VALUE_TYPE_SET and a == b)
        or _same_value(a, b)
        else a
        for a, b in zip(stored_before, stored_after, strict=True)
    )
    after_related = dict(related_after)
    related = tuple(
        (name, after_related[name])
        if name in after_related and _same_value(value, after_related[name])
        else (name, value)
        for name, value in related_before
    )
    if related == related_before and all(x is y for x, y in zip(related, related_before)):
        related = related_before
    return (stored, related, *rest)


def _cache_name(field: Any) -> str:
    # ``cache_name`` since Django 5.1, ``get_cache_name()`` before.
    name = getattr(field, "cache_name", None)
    return name if isinstance(name, str) else field.get_cache_name()


def _same_objects(left: tuple, right: tuple) -> bool:
    (left_values, left_cache, *left_rest), (right_values, right_cache, *right_rest) = left, right
    return (
        left_rest == right_rest
        and len(left_cache) == len(right_cache)
        and all(a is b for a, b in zip(left_values, right_values))
        and all(a[0] == b[0] and a[1] is b[1] for a, b in zip(left_cache, right_cache))
    )


class LazyDiff:
    """A row's diff, rendered by :class:`Diff` only when ``RowResult.diff`` is read.

    Holds the two captured states (``after`` is ``None`` for a deleted row) and renders them
    exactly as an eager :class:`Diff` of the same instances would.
    """

    __slots__ = ("resource", "state", "before", "after", "new")

    def __init__(self, resource: Any, state: InstanceState, before: tuple, new: bool) -> None:
        # ``before`` comes from ``state.capture(instance, share=True)``.
        self.resource = resource
        self.state = state
        self.before = before
        self.after: tuple | None = None
        self.new = new

    def compare_with(self, instance: Any) -> None:
        if instance is None:
            self.after = None
            return
        self.after = self.state.capture(instance)
        if self.before is not self.state._last:  # a shared state is left as it is
            self.before = _reuse_equal_values(self.before, self.after)

    def original(self) -> Any:
        """The instance as it was before the row was applied (``RowResult.original``)."""
        return self.state.rebuild(self.before)

    def as_html(self) -> list[SafeString]:
        diff = Diff.__new__(Diff)
        diff.new = self.new
        diff.left = _export_values(self.resource, self.state.rebuild(self.before))
        after = None if self.after is None else self.state.rebuild(self.after)
        diff.right = _export_values(self.resource, after)
        return diff.as_html()
