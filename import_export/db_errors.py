"""Naming the column behind an error raised while a row is saved.

The database, the driver or a model field's conversion at save time report a failure of the
whole statement ("integer out of range", "CHECK constraint failed", "Python int too large to
convert to SQLite INTEGER", "“NaN” value must be a decimal number."), often without a column.
When the row's failure can be traced to one column, :func:`locate_save_error` says which, so the
user is told the row *and* the cell to fix. It runs only after a failure, never per row, and
sends no query (on PostgreSQL the transaction is unusable at that point anyway).

How a column is found, first match wins:

1. the driver names it (psycopg's ``diag.column_name``) or the constraint it violated carries
   the column's name (``core_book_price_check``), or the message quotes the column
   (SQLite: ``CHECK constraint failed: positive_int``, ``UNIQUE constraint failed: t.name``);
2. an integer value lies outside the range the database's column type holds
   (``connection.ops.integer_field_range``);
3. one field's own ``to_python`` refuses the value the instance holds (for a ``ValidationError``
   raised during save).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, models

from .results import FAILED_CELL_ATTRIBUTE


def locate_save_error(resource: Any, instance: Any, row: Any, error: BaseException):
    """The exception to report for ``error``, tagged with its column when one can be known.

    A database or driver error is returned itself, tagged like a failed cell (see
    :class:`~import_export.results.Error`); a ``ValidationError`` that belongs to no field
    comes back as a new one keyed by the guilty field, so the row shows up as invalid in that
    column. Without a culprit ``error`` is returned unchanged.
    """
    if getattr(error, FAILED_CELL_ATTRIBUTE, None) is not None:
        return error
    candidates = _imported_model_fields(resource, row)
    if not candidates:
        return error
    if isinstance(error, ValidationError):
        return _keyed_validation_error(error, instance, candidates)
    culprit = _named_in_error(error, candidates) or _out_of_integer_range(
        resource, instance, candidates
    )
    if culprit is None:
        return error
    column, _model_field = culprit
    try:
        setattr(error, FAILED_CELL_ATTRIBUTE, (column, row.get(column)))
    except AttributeError:
        pass
    return error


def _imported_model_fields(resource: Any, row: Any) -> list[tuple[str, models.Field]]:
    """``(column, concrete model field)`` of every imported column the row holds."""
    model = getattr(resource._meta, "model", None)
    if model is None:
        return []
    found = []
    # self.fields, not get_import_fields(): overrides of the latter are called where upstream
    # calls them, and this runs only after a failure.
    for field in resource.fields.values():
        if field.readonly or not field.attribute or field.column_name not in row:
            continue
        try:
            model_field = model._meta.get_field(field.attribute)
        except Exception:
            continue
        if getattr(model_field, "concrete", False) and not model_field.many_to_many:
            found.append((field.column_name, model_field))
    return found


def _named_in_error(error: BaseException, candidates):
    """The candidate whose database column the driver or the message names."""
    cause = error.__cause__ if error.__cause__ is not None else error
    diag = getattr(cause, "diag", None)
    column_name = getattr(diag, "column_name", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    message = str(error)
    # Longest names first, so "positive_int" is not taken for "int".
    for column, model_field in sorted(candidates, key=lambda c: -len(c[1].column)):
        db_column = model_field.column
        if column_name == db_column:
            return column, model_field
        if constraint and f"_{db_column}_" in f"_{constraint}_":
            return column, model_field
        if re.search(rf"(?<![\w]){re.escape(db_column)}(?![\w])", message):
            return column, model_field
    return None


def _out_of_integer_range(resource: Any, instance: Any, candidates):
    """The candidate holding an integer the database's column type cannot store."""
    alias = resource.get_db_connection_name()
    ops = connections[alias].ops
    for column, model_field in candidates:
        if not isinstance(model_field, models.IntegerField):
            continue
        value = getattr(instance, model_field.attname, None)
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        try:
            low, high = ops.integer_field_range(model_field.get_internal_type())
        except KeyError:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            return column, model_field
    return None


def _keyed_validation_error(error: ValidationError, instance: Any, candidates):
    """``error`` keyed by the field whose own conversion refuses the instance's value."""
    if hasattr(error, "error_dict"):
        return error
    for _column, model_field in candidates:
        value = getattr(instance, model_field.attname, None)
        if value is None:
            continue
        try:
            model_field.to_python(value)
        except ValidationError:
            return ValidationError({model_field.name: error.error_list})
        except Exception:
            continue
    return error
