"""Check imported values against their model fields' own constraints, once per import.

Without ``clean_model_instances`` nothing between the widget and the database looks at a value,
so what happens to a bad one depends on the database: PostgreSQL (and MySQL in strict mode) fail
the row, SQLite stores it anyway — and a decimal with too many digits then breaks every later
read of the table with ``InvalidOperation``.  :class:`FieldConstraints` makes the outcome the
same on every database, the one upstream has on PostgreSQL, without the cost of a
``full_clean()`` per row:

* **Text stored as it is** (``CharField`` and its subclasses — ``SlugField``, ``EmailField``,
  ``URLField`` — and the names of ``FileField``/``ImageField``): longer than ``max_length`` is a
  row error (:class:`FieldConstraintError`), as the database's "value too long" is.  A length is
  checked only where the stored value is this text: ``UUIDField`` and ``GenericIPAddressField``
  also have a ``max_length``, but it describes their own storage form, not the imported text.
* **Decimals**: a value with more digits before the decimal point than ``max_digits -
  decimal_places`` allow, once rounded to ``decimal_places`` as the database rounds it, is a row
  error (PostgreSQL's "numeric field overflow").  Extra decimal places are not an error: every
  database rounds them, and upstream imports the rounded value.
* **Values the model field converts** are validated the way Django validates them:
  ``UUIDField`` through its ``to_python()`` (a bad UUID is a validation error, as upstream's
  save reports it), ``GenericIPAddressField`` through ``to_python()`` and its validators (a row
  error, as PostgreSQL's ``inet`` column refuses it).  An empty cell in such a nullable column
  becomes ``None``, so a null exported as an empty cell imports back as null.
* **Choices are not checked**: upstream checks them only in ``full_clean()``
  (``clean_model_instances``), and so does this fork.

Only the columns a row has are checked for storage: a field the row does not set keeps what
the database already holds.  Nothing here queries the database; :func:`constraints_for` builds
the checks for a model and a set of fields once and caches them, so an import plan can hold the
result for the whole import.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import DecimalValidator, MaxLengthValidator
from django.db import DataError, models
from django.db.models.fields.files import FieldFile

from .results import FAILED_CELL_ATTRIBUTE

__all__ = ["FieldConstraintError", "FieldConstraints", "constraints_for"]


class FieldConstraintError(DataError):
    """An imported value that its column cannot store, found before the database is asked.

    A ``DataError`` because that is what PostgreSQL raises for the same value under upstream,
    so ``except DataError`` written for it keeps working; it is not a ``ValidationError``, so
    the import reports the row as an error and rolls back, as it does for the database's error.

    :ivar field_name: the model field's name.
    :ivar validation_error: the ``ValidationError`` with Django's own message and code.
    """

    def __init__(self, field_name: str, column: str, value: Any, error: ValidationError):
        self.field_name = field_name
        self.column = column
        self.validation_error = error
        super().__init__(" ".join(error.messages))
        setattr(self, FAILED_CELL_ATTRIBUTE, (column, value))


#: A check returns None when the value is acceptable, else the ValidationError describing it.
Check = Callable[[Any], "ValidationError | None"]


@dataclass(frozen=True)
class _FieldCheck:
    """The checks of one model field, and where its value lives on the instance."""

    name: str  # the model field's name: the key of its validation errors
    attname: str  # the instance attribute holding the value
    column: str  # the file's column, named in row errors
    empty_to_none: bool  # a nullable converted field: "" means null
    validation_check: Check | None  # failure is a validation error (upstream: ValidationError)
    storage_check: Check | None  # failure is a row error (upstream: the database's error)
    #: With a text-length storage check: its limit, so that a ``str`` within it (nearly every
    #: value) is accepted without calling the check.
    text_limit: int | None = None


class FieldConstraints:
    """The constraint checks for one resource's import fields; see the module docstring.

    Immutable and row-independent: build it once (:func:`constraints_for`) and call it per row.
    """

    def __init__(self, checks: Iterable[_FieldCheck]) -> None:
        self._checks = tuple(checks)
        # Each step runs per row over the checks it needs only.
        self._empty_checks = tuple(check for check in self._checks if check.empty_to_none)
        self._validation_checks = tuple(c for c in self._checks if c.validation_check is not None)
        self._storage_checks = tuple(c for c in self._checks if c.storage_check is not None)

    def __bool__(self) -> bool:
        return bool(self._checks)

    def normalise_empty(self, instance: Any, exclude: Iterable[str] = ()) -> None:
        """Turn ``""`` into ``None`` on nullable fields that store converted values (UUIDs, IP
        addresses): an export writes their null as an empty cell, which they cannot store."""
        if not self._empty_checks:
            return
        skipped = set(exclude)
        for check in self._empty_checks:
            if check.name not in skipped:
                if getattr(instance, check.attname, None) == "":
                    setattr(instance, check.attname, None)

    def validation_errors(
        self, instance: Any, exclude: Iterable[str] = ()
    ) -> dict[str, ValidationError]:
        """``{model field name: ValidationError}`` for values Django itself rejects on save.

        Fields named in ``exclude`` (those whose cell already failed conversion) are skipped.
        """
        errors = {}
        if not self._validation_checks:
            return errors
        skipped = set(exclude)
        for check in self._validation_checks:
            if check.name in skipped:
                continue
            error = _run(check.validation_check, getattr(instance, check.attname, None))
            if error is not None:
                errors[check.name] = error
        return errors

    def check_storable(self, instance: Any, row: Mapping | None = None) -> None:
        """Raise :class:`FieldConstraintError` for the first value its column cannot store.

        With ``row``, only fields whose column the row has are checked (a field the row does
        not set holds what the database already has), and the error names the row's raw cell.
        """
        for check in self._storage_checks:
            if row is not None and check.column not in row:
                continue
            value = getattr(instance, check.attname, None)
            if type(value) is str and check.text_limit is not None:
                if len(value) <= check.text_limit:
                    continue
            error = _run(check.storage_check, value)
            if error is not None:
                cell = value if row is None else row[check.column]
                raise FieldConstraintError(check.name, check.column, cell, error)


def _run(check: Check, value: Any) -> ValidationError | None:
    return None if value is None else check(value)


def constraints_for(
    model: type[models.Model] | None, fields: Mapping[str, Any]
) -> FieldConstraints:
    """The :class:`FieldConstraints` for a resource's ``fields`` (name -> resource Field).

    Read-only fields, fields without an attribute, relation paths, relations and primary keys
    are left out (the widget or the loader deals with those).  Cached on the model and the
    fields' ``(attribute, column name, readonly)``, so repeated imports build nothing.
    """
    if model is None:
        return FieldConstraints(())
    key = tuple(
        (field.attribute, field.column_name, bool(field.readonly)) for field in fields.values()
    )
    return _cached_constraints(model, key)


@lru_cache(maxsize=512)
def _cached_constraints(model: type[models.Model], key: tuple) -> FieldConstraints:
    checks = []
    seen = set()
    for attribute, column, readonly in key:
        model_field = None if readonly else _plain_model_field(model, attribute)
        if model_field is None or model_field.name in seen:
            continue
        seen.add(model_field.name)
        check = _check_for(model_field, column)
        if check is not None:
            checks.append(check)
    return FieldConstraints(checks)


def _plain_model_field(model: type[models.Model], attribute: str | None):
    """The concrete, non-key, non-relation model field ``attribute`` writes, if any."""
    if not attribute or "__" in attribute:
        return None
    try:
        model_field = model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return None
    if not getattr(model_field, "concrete", False) or model_field.is_relation:
        return None
    if model_field.primary_key:
        return None
    return model_field


def _check_for(model_field: models.Field, column: str) -> _FieldCheck | None:
    """The checks one model field needs, or None when it needs none."""
    validation_check = storage_check = text_limit = None
    empty_to_none = False
    if isinstance(model_field, models.UUIDField):
        validation_check = _converts_with(model_field)
        empty_to_none = model_field.null
    elif isinstance(model_field, models.GenericIPAddressField):
        storage_check = _validates_with(model_field)
        empty_to_none = model_field.null
    elif isinstance(model_field, models.DecimalField):
        storage_check = _fits_decimal(model_field)
    elif _stores_text(model_field) and model_field.max_length is not None:
        storage_check = _fits_length(model_field.max_length)
        text_limit = model_field.max_length
    if validation_check is None and storage_check is None and not empty_to_none:
        return None
    return _FieldCheck(
        name=model_field.name,
        attname=model_field.attname,
        column=column,
        empty_to_none=empty_to_none,
        validation_check=validation_check,
        storage_check=storage_check,
        text_limit=text_limit,
    )


def _stores_text(model_field: models.Field) -> bool:
    """Whether the column holds the imported text itself (so its length is the text's)."""
    return isinstance(model_field, (models.CharField, models.FileField, models.FilePathField))


def _fits_length(limit: int) -> Check:
    validator = MaxLengthValidator(limit)

    def check(value: Any) -> ValidationError | None:
        text = value.name if isinstance(value, FieldFile) else value
        if not isinstance(text, str) or len(text) <= limit:
            return None
        try:
            validator(text)
        except ValidationError as error:
            return error
        return None

    return check


def _fits_decimal(model_field: models.DecimalField) -> Check | None:
    """Overflow of the digits before the point, after rounding as the database does."""
    max_digits, places = model_field.max_digits, model_field.decimal_places
    if max_digits is None or places is None:
        return None
    whole_limit = max_digits - places
    # The database rounds half away from zero (PostgreSQL) or half to even (SQLite's
    # converter); the two differ only on ties that can never carry into a new whole digit.
    step = decimal.Decimal(1).scaleb(-places)
    context = decimal.Context(prec=decimal.MAX_PREC, rounding=decimal.ROUND_HALF_UP)

    def check(value: Any) -> ValidationError | None:
        try:
            number = model_field.to_python(value)
        except ValidationError:
            return None  # Django's save reports it, as a validation error, as upstream's does
        if not isinstance(number, decimal.Decimal) or not number.is_finite():
            return None  # NaN and infinity: likewise reported by the save
        if not _overflows(number, whole_limit, step, context):
            return None
        return ValidationError(
            DecimalValidator.messages["max_whole_digits"],
            code="max_whole_digits",
            params={"max": whole_limit, "value": value},
        )

    return check


def _overflows(number: decimal.Decimal, whole_limit: int, step, context) -> bool:
    """Whether ``number`` has more than ``whole_limit`` whole digits once rounded to ``step``.

    Decided from the exponent alone except at the one magnitude where rounding can carry into
    a new digit (99.9996 -> 100.000), so a hostile "1E+999999" costs no huge quantize.
    """
    if number.is_zero():
        return False
    magnitude = number.adjusted()  # whole digits - 1 (negative for pure fractions)
    if magnitude != whole_limit - 1:
        return magnitude >= whole_limit
    return number.quantize(step, context=context).adjusted() >= whole_limit


def _converts_with(model_field: models.Field) -> Check:
    """Django's own conversion, as its save runs it: its ValidationError is the answer."""

    def check(value: Any) -> ValidationError | None:
        try:
            model_field.to_python(value)
        except ValidationError as error:
            return error
        return None

    return check


def _validates_with(model_field: models.Field) -> Check:
    """Django's conversion and the field's validators, as ``full_clean()`` runs them."""

    def check(value: Any) -> ValidationError | None:
        if value == "":
            return None  # stored as null, as upstream stores it
        try:
            converted = model_field.to_python(value)
            for validator in model_field.validators:
                validator(converted)
        except ValidationError as error:
            return error
        return None

    return check
