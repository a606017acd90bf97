"""Bulk mode's writes, as one prepared statement run with ``executemany`` per batch.

Django's ``QuerySet.bulk_update()`` builds a ``CASE WHEN pk=… THEN …`` expression for every
field of every object and compiles it through the ORM: for an import of 14 columns that is
most of the import's time, in Python.  The statement it sends sets each listed column of each
object to the object's current attribute value, prepared by the model field
(``get_db_prep_save``), in rows matched by primary key — no ``save()``, no signals.

:func:`fast_bulk_update` sends the same values with one prepared statement
(``UPDATE t SET a = %s, b = %s WHERE pk = %s``) executed for the whole batch at once through
the DB-API ``executemany``, and returns ``False`` (writing nothing) wherever the result could
differ from ``bulk_update()``, so the caller uses Django's then: a manager or queryset that
overrides ``bulk_update``, a column on another table (multi-table inheritance), an object
without a primary key, or a value that is an expression (``F()``) rather than data.

:func:`fast_bulk_create` does the same for ``bulk_create()`` of objects that already have
their primary key (an import with an id column): Django compiles a multi-row ``INSERT`` per
few dozen objects through the ORM, which is most of a bulk import's database time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, Manager, QuerySet
from django.db.models.fields import NOT_PROVIDED, CharField, IntegerField, TextField

from .utils import keeps_methods


def _is_djangos(model: Any, name: str) -> bool:
    """Whether ``model.objects.<name>`` is Django's own ``QuerySet.<name>``, unreplaced.

    A manager or queryset class overriding it, or a replacement on the manager itself (as a
    test's ``mock.patch("app.models.Book.objects.bulk_create")`` makes), keeps its own.
    """
    manager = getattr(model, "objects", None)
    if not isinstance(manager, Manager) or name in vars(manager):
        return False
    method = getattr(type(manager), name, None)
    if getattr(method, "__wrapped__", None) is not getattr(QuerySet, name):
        return False
    # The manager's method calls the queryset's, which its queryset class may override.
    return getattr(type(manager.get_queryset()), name, None) is getattr(QuerySet, name)


def _uses_django_bulk_update(model: Any) -> bool:
    return _is_djangos(model, "bulk_update")


def _own_table_fields(model: Any, names: Sequence[str]) -> list | None:
    concrete = model._meta.concrete_model
    fields = []
    for name in names:
        field = model._meta.get_field(name)
        if field.model._meta.concrete_model is not concrete or field.primary_key:
            return None
        if not field.concrete or field.many_to_many or getattr(field, "generated", False):
            return None
        fields.append(field)
    return fields


def fast_bulk_update(
    model: Any, objs: Sequence[Any], field_names: Sequence[str], batch_size: int | None
) -> bool:
    """Write ``field_names`` of ``objs`` as ``bulk_update()`` would; ``False`` if it did not.

    :param batch_size: objects per ``executemany`` call, capped as ``bulk_update()`` caps it.
    """
    if not objs or not field_names or not _uses_django_bulk_update(model):
        return False
    fields = _own_table_fields(model, field_names)
    if fields is None or model._meta.parents:
        return False
    alias = router.db_for_write(model)
    connection = connections[alias]
    pk = model._meta.pk
    for obj in objs:
        if obj.pk is None:
            return False
        values = [getattr(obj, field.attname) for field in fields]
        if any(hasattr(value, "resolve_expression") for value in values):
            return False
    for obj in objs:
        # What bulk_update() checks and copies first: unsaved related objects are an error,
        # a related object saved after assignment gives its new primary key.
        obj._prepare_related_fields_for_save(operation_name="bulk_update", fields=fields)
    # The same batches as bulk_update(): a primary key repeated within one batch is written
    # with its first object's values (its CASE takes the first match), across batches the
    # later batch wins.
    largest = connection.ops.bulk_batch_size([pk, pk, *fields], objs)
    size = min(batch_size, largest) if batch_size else largest
    columns = [(field, _unprepared_type(field, connection)) for field in fields]
    batches = []
    for start in range(0, len(objs), size):
        rows, seen = [], set()
        for obj in objs[start : start + size]:
            if obj.pk in seen:
                continue
            seen.add(obj.pk)
            row = []
            for field, unprepared in columns:
                value = getattr(obj, field.attname)
                row.append(
                    value
                    if type(value) is unprepared
                    else field.get_db_prep_save(value, connection)
                )
            row.append(pk.get_db_prep_value(obj.pk, connection))
            rows.append(row)
        batches.append(rows)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    # All batches or none, as bulk_update() does (it runs in one atomic block too).
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        for rows in batches:
            cursor.executemany(sql, rows)
    return True


class _NoType:
    """A type no value has: the "unprepared type" of a field whose values are all prepared."""


#: The methods through which ``Field.get_db_prep_save()`` prepares a value.
_PREPARING_METHODS = ("get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")


def _methods(django_class: type, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(django_class, name) for name in names}


#: Django's own methods, taken when this module is imported: a method replaced later on the
#: class itself (``mock.patch``) is not one of these, so its values are prepared by it.
_DJANGO_PREPARING = {
    django_class: _methods(django_class, _PREPARING_METHODS)
    for django_class in (CharField, TextField, IntegerField)
}
_DJANGO_PRE_SAVE = {"pre_save": Field.pre_save}
_DJANGO_ADAPT_INTEGER = BaseDatabaseOperations.adapt_integerfield_value


def _prepares_as(field: Any, django_class: type) -> bool:
    """Whether ``field`` prepares values with exactly ``django_class``'s methods (a subclass
    that overrides none of them, and no replacement on the class or the field object)."""
    return keeps_methods(field, _DJANGO_PREPARING[django_class])


def _unprepared_type(field: Any, connection: Any) -> type:
    """The type whose values ``field.get_db_prep_save(value, connection)`` returns unchanged,
    so preparing them can be skipped; :class:`_NoType` when there is none known.

    Text fields return a ``str`` as it is (``to_python`` of a ``str`` is the value).  Integer
    fields return an ``int`` as ``int(value)``, the same value, unless the backend adapts
    integers (PostgreSQL wraps them in typed objects): then every value is prepared.
    """
    for django_class in (CharField, TextField):
        if _prepares_as(field, django_class):
            return str
    if _prepares_as(field, IntegerField):
        adapt = getattr(type(connection.ops), "adapt_integerfield_value", None)
        if adapt is _DJANGO_ADAPT_INTEGER:
            return int
    return _NoType


def _plain_attname(field: Any) -> str | None:
    """The attribute ``field.pre_save(obj, add=True)`` returns as it is, or ``None`` when the
    field computes its value (``auto_now``, file fields, a subclass's own ``pre_save``)."""
    if keeps_methods(field, _DJANGO_PRE_SAVE):
        return field.attname
    return None


def _uses_django_bulk_create(model: Any) -> bool:
    return _is_djangos(model, "bulk_create")


def _insertable_fields(model: Any) -> list | None:
    """The columns ``bulk_create()`` inserts, or ``None`` where it does more than insert them
    (database defaults, columns it reads back, another table)."""
    opts = model._meta
    if opts.parents or opts.proxy:
        return None
    if any(field is not opts.pk for field in opts.db_returning_fields):
        return None
    fields = [field for field in opts.concrete_fields if not getattr(field, "generated", False)]
    if any(getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED for field in fields):
        return None
    return fields


def fast_bulk_create(model: Any, objs: Sequence[Any], batch_size: int | None) -> bool:
    """Insert ``objs`` as ``bulk_create()`` would; ``False`` (nothing written) if it did not.

    Only objects that all have their primary key (an import with an id column, UUID keys) are
    written here: each column's ``pre_save(obj, add=True)`` value prepared by the field, one
    prepared ``INSERT`` run with ``executemany`` per ``batch_size`` objects, then the objects
    are marked saved, as ``bulk_create()`` marks them.
    """
    if not objs or not _uses_django_bulk_create(model):
        return False
    fields = _insertable_fields(model)
    if fields is None or any(obj.pk is None for obj in objs):
        return False
    alias = router.db_for_write(model)
    connection = connections[alias]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    columns = [
        (field, _plain_attname(field), _unprepared_type(field, connection)) for field in fields
    ]
    rows = []
    for obj in objs:
        row = []
        for field, attname, unprepared in columns:
            value = field.pre_save(obj, True) if attname is None else getattr(obj, attname)
            if type(value) is unprepared:
                row.append(value)
            elif hasattr(value, "resolve_expression"):
                return False
            else:
                row.append(field.get_db_prep_save(value, connection))
        rows.append(row)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    size = batch_size or len(rows)
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            cursor.executemany(sql, rows[start : start + size])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
    return True
