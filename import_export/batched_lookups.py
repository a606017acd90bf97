"""Batched lookups: the reads an import needs, made once per batch of rows instead of per row.

Importing a row reads the database twice or more: the existing instance (by
``import_id_fields``) and, for each ``ForeignKeyWidget`` / ``ManyToManyWidget`` column, the
related objects.  Upstream builds and runs each of those queries per row.  Here, before the rows
of a batch are imported, one query per kind of lookup fetches everything the batch's cells name;
each row then finds its answer in memory.

The contract is that a batched lookup gives exactly what the per-row lookup would give, or
steps aside:

* An answer is used only when it is certain: a key that matches exactly one object, compared
  the way the database compares (plain text, integer and UUID columns, on backends whose text
  comparison is exact).  Everything else — a key matched by several objects, a cell the model
  field cannot convert, a value absent from the batch (a ``before_import_row`` hook rewrote the
  cell), a key already used by an earlier row of the batch (that row may have created, changed
  or deleted the object) — goes to the per-row lookup, which raises exactly what it always
  raised (``DoesNotExist``, ``MultipleObjectsReturned``, conversion errors) with its own text.
* A batch never answers for a lookup the user customised: an overridden ``get_instance``,
  ``get_or_init_instance``, ``get_queryset`` or instance loader, a widget whose ``clean``,
  ``get_queryset``, ``get_lookup_kwargs`` or ``get_instance_by_lookup_fields`` is overridden,
  natural foreign keys, or a relation to the imported model itself.

:func:`instance_batching_blocker` and :func:`relation_batching_blocker` say why a lookup is not
batched (``None`` when it is); ``docs/import_engine.rst`` lists the same rules for users.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, models
from django.db.models import QuerySet

from . import widgets
from .fields import Field
from .instance_loaders import CachedInstanceLoader, ModelInstanceLoader

#: Backends whose ``=`` / ``IN`` on text is exact (byte for byte with the default collations),
#: so a key missing from a batch's answer is missing from the table too.
EXACT_COMPARISON_VENDORS = frozenset({"sqlite", "postgresql"})

#: Model field types whose values compare in Python exactly as in SQL once ``to_python`` has
#: converted them (dates, floats and decimals do not: time zones, precision and padding differ).
_KEY_FIELD_TYPES = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.UUIDField,
)

#: Fallback when a backend does not say how many parameters one query may hold.
_DEFAULT_MAX_PARAMS = 999


class _Unresolved(Exception):
    """A key that cannot be compared in memory; the row takes the per-row lookup."""


def _overrides(obj: Any, base: type, name: str) -> bool:
    """Whether ``obj``'s class replaces ``base.name`` (instance attributes are not looked at)."""
    return getattr(type(obj), name, None) is not getattr(base, name, None)


def _comparable_field(model_field: Any) -> Any | None:
    """The field whose ``to_python`` gives a key for ``model_field``, if it can be batched."""
    if model_field.is_relation:
        if model_field.many_to_many or model_field.one_to_many:
            return None
        model_field = model_field.target_field
    if not isinstance(model_field, _KEY_FIELD_TYPES):
        return None
    if getattr(model_field, "db_collation", None):
        return None  # a collation of its own may compare case- or accent-insensitively
    return model_field


def _comparable(key_field: Any, value: Any) -> Any:
    """``value`` as ``key_field`` stores it; raises :class:`_Unresolved` when it cannot."""
    if isinstance(value, models.Model):
        value = value.pk
    if value is None or isinstance(value, (bool, float)):
        raise _Unresolved  # IS NULL semantics and float-to-key rounding: leave them to SQL
    try:
        converted = key_field.to_python(value)
    except (ValidationError, ValueError, TypeError) as error:
        raise _Unresolved from error
    if isinstance(converted, str) and converted != str(value):
        raise _Unresolved
    return converted


def _max_params(alias: str) -> int:
    limit = getattr(connections[alias].features, "max_query_params", None)
    return limit or _DEFAULT_MAX_PARAMS


def _chunks(values: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _vendor_is_exact(alias: str) -> bool:
    return connections[alias].vendor in EXACT_COMPARISON_VENDORS


# ---- instances by import_id_fields -------------------------------------------------------------


def instance_batching_blocker(resource: Any, loader: Any) -> str | None:
    """Why existing instances cannot be fetched per batch for ``resource``, or ``None``."""
    from .importing import ResourceImportMixin

    model = resource._meta.model
    if model is None:
        return "the resource has no model"
    if resource._meta.force_init_instance:
        return "force_init_instance: no lookup at all"
    for name in ("get_instance", "get_or_init_instance"):
        if _overrides(resource, ResourceImportMixin, name):
            return f"the resource overrides {name}()"
    from .resources import ModelResource

    if isinstance(resource, ModelResource) and _overrides(resource, ModelResource, "get_queryset"):
        return "the resource overrides get_queryset()"
    if isinstance(loader, CachedInstanceLoader) or not isinstance(loader, ModelInstanceLoader):
        return f"the instance loader is {type(loader).__name__}"
    for name in ("get_instance", "get_queryset", "_id_fields"):
        if _overrides(loader, ModelInstanceLoader, name):
            return f"the instance loader overrides {name}()"
    if not isinstance(loader.get_queryset(), QuerySet):
        return "the queryset is not a QuerySet (e.g. a replaced manager)"
    id_fields = loader._id_fields()
    if not id_fields:
        return "an import_id_fields name is not a resource field"
    for field in id_fields:
        if _key_field_of(model, field.attribute) is None:
            return f"import id field {field.attribute!r} cannot be compared in memory"
    return None


def _key_field_of(model: Any, attribute: str | None) -> Any | None:
    if not attribute or "__" in attribute:
        return None
    try:
        model_field = model._meta.pk if attribute == "pk" else model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return None
    if not getattr(model_field, "concrete", False):
        return None
    return _comparable_field(model_field)


class BatchedInstanceLoader:
    """Stands in for a :class:`ModelInstanceLoader` during a batched import.

    :meth:`prefetch` reads the existing instances of a batch's keys with one query (split only
    where the backend caps query parameters); :meth:`get_instance` answers from it and defers
    to the wrapped loader for every row it cannot answer for certain (see the module docstring).
    Other attributes are read from the wrapped loader, so code that receives this object as
    ``instance_loader`` still finds ``resource`` and ``dataset``.
    """

    def __init__(self, loader: ModelInstanceLoader, select_related: Sequence[str] = ()) -> None:
        self.loader = loader
        #: Foreign keys read with the instances (those a lazy diff captures), so capturing a
        #: row's "before" state costs no query of its own.
        self.select_related = tuple(select_related)
        resource = loader.resource
        self._id_fields = loader._id_fields()
        model = resource._meta.model
        self._key_fields = [_key_field_of(model, field.attribute) for field in self._id_fields]
        self._attnames = [key_field.attname for key_field in self._key_fields]
        self._alias = loader.get_queryset().db
        self._exact_misses = _vendor_is_exact(self._alias)
        self._found: dict[tuple, Any] = {}
        self._queried: set[tuple] = set()
        #: id(row) -> (its id cells, its key), for the rows of the current batch.
        self._row_keys: dict[int, tuple] = {}
        # This package's fields and widgets convert a cell without looking at the rest of the
        # row, so an unchanged cell has an unchanged key; a custom one may read other cells.
        self._keys_depend_on_cells_only = all(
            type(field).clean is Field.clean and type(field.widget).__module__ == widgets.__name__
            for field in self._id_fields
        )
        self._used: set[tuple] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def _key_of(self, row: Mapping) -> tuple:
        """The row's key, as the database would compare it; raises :class:`_Unresolved`."""
        parts = []
        for field, key_field in zip(self._id_fields, self._key_fields):
            if field.column_name not in row:
                raise _Unresolved
            try:
                cleaned = field.clean(row)
            except Exception as error:  # the per-row lookup raises it again, on its row
                raise _Unresolved from error
            parts.append(_comparable(key_field, cleaned))
        return tuple(parts)

    def prefetch(self, rows: Iterable[Mapping]) -> None:
        """Fetch the instances of every key in ``rows`` (one query per parameter-sized chunk)."""
        keys = set()
        self._row_keys = {}
        for row in rows:
            try:
                key = self._key_of(row)
            except _Unresolved:
                continue
            keys.add(key)
            self._row_keys[id(row)] = (self._cells(row), key)
        self._found, self._used = {}, set()
        self._queried = keys
        ambiguous: set[tuple] = set()
        per_query = max(1, _max_params(self._alias) // len(self._attnames))
        for chunk in _chunks(list(keys), per_query):
            filters = {
                f"{attname}__in": list({key[position] for key in chunk})
                for position, attname in enumerate(self._attnames)
            }
            queryset = self.loader.get_queryset().filter(**filters)
            if self.select_related:
                queryset = queryset.select_related(*self.select_related)
            for instance in queryset:
                try:
                    key = self._key_of_instance(instance)
                except _Unresolved:
                    continue
                if key not in keys:
                    continue  # a composite key's parts matched across different rows
                if key in self._found:
                    ambiguous.add(key)
                self._found[key] = instance
        for key in ambiguous:
            # get() would raise MultipleObjectsReturned: the per-row lookup does that itself.
            self._found.pop(key)
            self._queried.discard(key)

    def forget(self) -> None:
        """Answer nothing from the current batch: every row uses the wrapped loader."""
        self._found, self._queried, self._used, self._row_keys = {}, set(), set(), {}

    def forget_instances(self, instances: Iterable[Any]) -> None:
        """Written since the batch was read (a bulk flush): their keys go to the per-row
        lookup, which sees what was written."""
        for instance in instances:
            try:
                self._used.add(self._key_of_instance(instance))
            except _Unresolved:
                continue

    def _key_of_instance(self, instance: Any) -> tuple:
        return tuple(
            _comparable(key_field, getattr(instance, attname))
            for key_field, attname in zip(self._key_fields, self._attnames)
        )

    def _cells(self, row: Mapping) -> tuple:
        return tuple(row.get(field.column_name) for field in self._id_fields)

    def _key_at_lookup(self, row: Mapping) -> tuple:
        """The row's key now: the one computed for the batch if its id cells are the same
        objects as then (no hook rewrote them), else computed again."""
        remembered = self._row_keys.get(id(row)) if self._keys_depend_on_cells_only else None
        if remembered is not None:
            cells, key = remembered
            if all(a is b for a, b in zip(cells, self._cells(row), strict=True)):
                return key
        return self._key_of(row)

    def get_instance(self, row: Mapping) -> Any:
        try:
            key = self._key_at_lookup(row)
        except _Unresolved:
            return self.loader.get_instance(row)
        if key in self._used or key not in self._queried:
            return self.loader.get_instance(row)
        # Later rows with this key see what this row does to it, through the per-row lookup.
        self._used.add(key)
        found = self._found.get(key)
        if found is None and not self._exact_misses:
            return self.loader.get_instance(row)
        return found


# ---- related objects of ForeignKeyWidget / ManyToManyWidget columns ---------------------------

_FOREIGN_KEY_METHODS = (
    "clean",
    "get_queryset",
    "get_lookup_kwargs",
    "get_instance_by_lookup_fields",
)


def relation_batching_blocker(resource: Any, field: Any) -> str | None:
    """Why ``field``'s related objects cannot be fetched per batch, or ``None``."""
    widget = field.widget
    if "clean" in vars(widget):
        return "the widget's clean is replaced on the instance"
    if isinstance(widget, widgets.ManyToManyWidget):
        if _overrides(widget, widgets.ManyToManyWidget, "clean"):
            return "the widget overrides clean()"
    elif isinstance(widget, widgets.ForeignKeyWidget):
        for name in _FOREIGN_KEY_METHODS:
            if _overrides(widget, widgets.ForeignKeyWidget, name):
                return f"the widget overrides {name}()"
        if widget.use_natural_foreign_keys:
            return "natural foreign keys"
    else:
        return "not a relation widget"
    if not isinstance(widget.model._default_manager.all(), QuerySet):
        return "the related model's manager does not give a QuerySet"
    if widget.model is resource._meta.model:
        return "a relation to the imported model itself (rows may create what later rows name)"
    try:
        target = _key_field_of(widget.model, widget.field)
    except AttributeError:
        target = None
    if target is None:
        return f"lookup field {widget.field!r} cannot be compared in memory"
    if not _vendor_is_exact(widget.model._default_manager.db):
        return "the database's text comparison may not be exact"
    return None


class RelatedObjectsBatch:
    """The related objects one relation column of a batch names, fetched with one query.

    While installed (:meth:`install`), the widget's ``clean`` answers from memory for cells
    whose objects were found, exactly one per key, and calls the widget's own ``clean`` for
    every other cell, so a miss raises the model's ``DoesNotExist`` (or
    ``MultipleObjectsReturned``) with the widget's own message.  :meth:`uninstall` restores it.
    """

    def __init__(self, field: Any) -> None:
        self.field = field
        self.widget = field.widget
        self.column = field.column_name
        self.many = isinstance(self.widget, widgets.ManyToManyWidget)
        self.key_field = _key_field_of(self.widget.model, self.widget.field)
        self.alias = self.widget.model._default_manager.db
        self._by_key: dict[Any, list[Any]] = {}
        self._queried: set = set()
        self._position: dict[int, int] = {}

    # -- reading a batch -----------------------------------------------------------------------

    def _keys_in_cell(self, value: Any) -> list | None:
        """The lookup values one cell names (``None`` when the cell cannot be batched)."""
        if widgets._is_blank(value):
            return [] if self.many else None
        if not self.many:
            return [value]
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return [int(value)]
        if isinstance(value, (list, tuple, set)):
            return [item for item in value if not widgets._is_blank(item)]
        parts = [part.strip() for part in str(value).split(self.widget.separator)]
        return [part for part in parts if part]

    def prefetch(self, rows: Iterable[Mapping]) -> None:
        keys = set()
        for row in rows:
            if self.column not in row:
                continue
            for raw in self._keys_in_cell(row[self.column]) or ():
                try:
                    keys.add(_comparable(self.key_field, raw))
                except (_Unresolved, TypeError):
                    continue
        self._queried = keys
        self._by_key = {}
        self._position: dict[int, int] = {}
        read = self._reader()
        queryset = self._base_queryset()
        for chunk in _chunks(list(keys), _max_params(self.alias)):
            lookup = {f"{self.widget.field}__in": list(chunk)}
            for instance in queryset.filter(**lookup):
                try:
                    key = _comparable(self.key_field, read(instance))
                except _Unresolved:
                    continue
                self._by_key.setdefault(key, []).append(instance)
                self._position[id(instance)] = len(self._position)

    def forget(self) -> None:
        self._by_key, self._queried, self._position = {}, set(), {}

    def _base_queryset(self):
        if self.many:
            return self.widget.model._default_manager.all()
        return self.widget.get_queryset(None, None)

    def _reader(self) -> Callable[[Any], Any]:
        attname = self.key_field.attname
        if self.widget.field == "pk":
            return lambda instance: instance.pk
        return lambda instance: getattr(instance, attname)

    # -- answering -----------------------------------------------------------------------------

    def install(self) -> None:
        original = type(self.widget).clean.__get__(self.widget)
        answer = self._answer_many if self.many else self._answer_one

        def clean(value: Any, row: Mapping | None = None, **kwargs: Any) -> Any:
            return answer(original, value, row, kwargs)

        self.widget.clean = clean

    def uninstall(self) -> None:
        self.widget.__dict__.pop("clean", None)

    def _lookup(self, raw: Any) -> list | None:
        """The objects ``raw`` names, or ``None`` when the batch cannot say for certain."""
        try:
            key = _comparable(self.key_field, raw)
            if key not in self._queried:
                return None
        except (_Unresolved, TypeError):  # TypeError: an unhashable cell
            return None
        return self._by_key.get(key, [])

    def _answer_one(self, original, value, row, kwargs) -> Any:
        if widgets._is_blank(value):
            return original(value, row=row, **kwargs)
        matches = self._lookup(value)
        if not matches or len(matches) != 1:
            return original(value, row=row, **kwargs)
        return matches[0].pk if self.widget.key_is_id else matches[0]

    def _answer_many(self, original, value, row, kwargs) -> Any:
        # The widget builds its queryset (and raises what it raises); the batch only fills in
        # the objects that queryset would read, so iterating it costs no query.
        queryset = original(value, row=row, **kwargs)
        raw_keys = self._keys_in_cell(value)
        if raw_keys is None:
            return queryset
        found = []
        for raw in raw_keys:
            matches = self._lookup(raw)
            if matches is None:
                return queryset
            found.extend(matches)
        # In the order the batch query read them, which is the order of the widget's own query.
        unique = {id(instance): instance for instance in found}
        ordered = sorted(unique.values(), key=lambda instance: self._position[id(instance)])
        queryset._result_cache = ordered
        queryset._prefetch_done = True
        return queryset


class BatchedRelations:
    """Every batched relation column of an import, prefetched and installed batch by batch."""

    def __init__(self, fields: Sequence[Any]) -> None:
        self.batches = [RelatedObjectsBatch(field) for field in fields]

    def prefetch(self, rows: Sequence[Mapping]) -> None:
        for batch in self.batches:
            batch.prefetch(rows)

    def forget(self) -> None:
        for batch in self.batches:
            batch.forget()

    def __enter__(self) -> BatchedRelations:
        for batch in self.batches:
            batch.install()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for batch in self.batches:
            batch.uninstall()
