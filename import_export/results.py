"""What an import reports back: one :class:`RowResult` per row, gathered in a :class:`Result`.

The admin's confirmation page, management commands and user code all read these objects, so the
attribute names and the meaning of each import type are part of the public API.
"""

from __future__ import annotations

import logging
import traceback
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from django.utils.translation import gettext
from tablib import Dataset

from .error_text import shorten_value

logger = logging.getLogger(__name__)

#: Placeholder shown for a diff column the failing row did not have.
MISSING_VALUE = "---"

#: Header of the column that ``Result.failed_dataset`` adds to explain each failed row.
ERROR_COLUMN = "Error"

#: Attribute the import sets on an exception raised while importing one cell:
#: ``(column name, raw value)``.
FAILED_CELL_ATTRIBUTE = "import_export_cell"


def located_message(
    number: int | None,
    column: str | None,
    value: Any,
    message: str,
    show_value: bool = True,
) -> str:
    """``"Row 3, column 'price' (value 'abc'): Enter a number."``, leaving out what is unknown.

    The wording is translated; ``show_value=False`` leaves out the value (a column the row
    does not have).
    """
    place = []
    if number is not None:
        place.append(gettext("Row %(number)s") % {"number": number})
    if column is not None:
        place.append(_cell_place(column, value) if show_value else _column_place(column))
    if not place:
        return str(message)
    return f"{', '.join(place)}: {message}"


def _cell_place(column: str, value: Any) -> str:
    """``column 'x' (value 'y')``, a long value cut short: the row shows it whole already."""
    where = gettext("column '%(column)s' (value %(value)s)")
    return where % {"column": column, "value": repr(shorten_value(value))}


def _column_place(column: str) -> str:
    return gettext("column '%(column)s'") % {"column": column}


class Error:
    """An exception caught while importing, kept with the row (and its number) that caused it.

    Keeping the exception object rather than its message lets callers re-raise it or read the
    traceback later, e.g. when a dry run is shown to a person who then asks for details.
    """

    def __init__(
        self, error: BaseException, row: Mapping | None = None, number: int | None = None
    ) -> None:
        self.error = error
        self.row = row
        self.number = number
        # The import tags an exception raised while converting one cell with that cell.
        cell = getattr(error, FAILED_CELL_ATTRIBUTE, None)
        #: The column whose value caused the error, when the error came from one cell.
        self.column: str | None = cell[0] if cell else None
        #: That column's raw value in the row.
        self.value: Any = cell[1] if cell else None

    def describe(self) -> str:
        """A one-line explanation naming the row, the column and the value where known.

        Uses the error's ``detail`` when it has one (this package's widgets add the lookup that
        failed there, keeping the message itself as upstream wrote it).
        """
        message = getattr(self.error, "detail", None) or str(self.error)
        return located_message(self.number, self.column, self.value, message)

    def __repr__(self) -> str:
        parts = [f"<Error: {self.error!r}"]
        if self.row is not None:
            parts.append(f" at row {self.row}")
        if self.number is not None:
            parts.append(f" at number {self.number}")
        return "".join(parts) + ">"

    @cached_property
    def traceback(self) -> str:
        """The formatted traceback, computed once because formatting walks every frame."""
        error = self.error
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))


#: ``RowResult.row_values`` of a row whose values are not kept (one shared, read-only mapping).
_NO_ROW_VALUES: Mapping = MappingProxyType({})


class RowResult:
    """The outcome of importing one row: what was done, to which object, and what went wrong."""

    IMPORT_TYPE_UPDATE = "update"
    IMPORT_TYPE_NEW = "new"
    IMPORT_TYPE_DELETE = "delete"
    IMPORT_TYPE_SKIP = "skip"
    IMPORT_TYPE_ERROR = "error"
    IMPORT_TYPE_INVALID = "invalid"

    #: The import types of rows that were processed without any error.
    valid_import_types = frozenset(
        [IMPORT_TYPE_NEW, IMPORT_TYPE_UPDATE, IMPORT_TYPE_DELETE, IMPORT_TYPE_SKIP]
    )

    # Slots keep each row's result small (an import of 100,000 rows holds 100,000 of them);
    # a subclass without ``__slots__`` still gets a ``__dict__`` for attributes of its own.
    __slots__ = (
        "_errors",
        "validation_error",
        "_diff",
        "_diff_source",
        "import_type",
        "row_values",
        "object_id",
        "object_repr",
        "instance",
        "_original",
        "_original_source",
        "number",
    )

    def __init__(self) -> None:
        self._errors: list[Error] | None = None
        #: The ``ValidationError`` that made this row invalid, if any.
        self.validation_error: ValidationError | None = None
        self._diff: list[str] | None = None
        #: What renders ``diff`` when it is first read (see :attr:`diff`).
        self._diff_source: Any = None
        #: One of the ``IMPORT_TYPE_*`` constants.
        self.import_type: str | None = None
        #: The raw row, kept only when ``store_row_values`` is set.
        self.row_values: Mapping = _NO_ROW_VALUES
        #: Primary key of the object, used e.g. for admin log entries.
        self.object_id: Any = None
        #: ``str()`` of the object, used e.g. for admin log entries.
        self.object_repr: str | None = None
        #: The imported instance, kept only when ``store_instance`` is set.
        self.instance: Any = None
        self._original: Any = None
        self._original_source: Any = None
        #: 1-based number of the data row in the dataset (set by the import loop).
        self.number: int | None = None

    @property
    def errors(self) -> list[Error]:
        """:class:`Error` objects for exceptions other than validation errors.

        The list is created on first use: most rows have no error, and an empty list per row
        is memory a large import does not need to spend.
        """
        if self._errors is None:
            self._errors = []
        return self._errors

    @errors.setter
    def errors(self, value: list[Error]) -> None:
        self._errors = value

    def has_errors(self) -> bool:
        """Whether the row raised an error, without creating its error list."""
        return bool(self._errors)

    @property
    def diff(self) -> list[str] | None:
        """HTML fragments, one per import field, showing what the row changed.

        Rendered when first read (the admin's preview, a caller) rather than for every row of
        an import nobody looks at; ``None`` with ``skip_diff`` or ``skip_html_diff``.
        """
        source = self._diff_source
        if source is not None:
            self._diff_source = None
            self._diff = source.as_html()
        return self._diff

    @diff.setter
    def diff(self, value: list[str] | None) -> None:
        self._diff_source = None
        self._diff = value

    @property
    def original(self) -> Any:
        """A copy of the instance as it was before an update (made when first read)."""
        source = self._original_source
        if source is not None:
            self._original_source = None
            self._original = source.original()
        return self._original

    @original.setter
    def original(self, value: Any) -> None:
        self._original_source = None
        self._original = value

    def set_lazy_original(self, source: Any) -> None:
        """Have :attr:`original` made by ``source.original()`` when it is first read."""
        self._original = None
        self._original_source = source

    def set_lazy_diff(self, source: Any) -> None:
        """Have :attr:`diff` rendered by ``source.as_html()`` when it is first read."""
        self._diff = None
        self._diff_source = source

    def is_update(self) -> bool:
        return self.import_type == self.IMPORT_TYPE_UPDATE

    def is_new(self) -> bool:
        return self.import_type == self.IMPORT_TYPE_NEW

    def is_delete(self) -> bool:
        return self.import_type == self.IMPORT_TYPE_DELETE

    def is_skip(self) -> bool:
        return self.import_type == self.IMPORT_TYPE_SKIP

    def is_error(self) -> bool:
        return self.import_type == self.IMPORT_TYPE_ERROR

    def is_invalid(self) -> bool:
        return self.import_type == self.IMPORT_TYPE_INVALID

    def is_valid(self) -> bool:
        """True when the row neither raised an error nor failed validation."""
        return self.import_type in self.valid_import_types

    def add_instance_info(self, instance: Any) -> None:
        """Remember the id and text of ``instance`` so a log entry can name it after the fact.

        A broken ``__str__`` on a user model must not turn a successful row into an error, so
        its failure is only logged.
        """
        if instance is None:
            return
        self.object_id = getattr(instance, "pk", None)
        text = _text_of(instance)
        if text is not None:
            self.object_repr = text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.import_type} object_id={self.object_id!r}>"


def _text_of(instance: Any) -> str | None:
    """``str(instance)``, or ``None`` (logged at debug level) when its ``__str__`` fails."""
    try:
        return force_str(instance)
    except Exception as exc:
        # Log text kept word for word (already formatted): callers' log assertions rely on it.
        logger.debug(f"call to force_str() on instance failed: {exc}")
        return None


def _messages_by_field(validation_error: ValidationError) -> dict[str, list[str]]:
    """Turn any ``ValidationError`` into ``{field: [messages]}``.

    An error built from a plain message has no field, so its messages go under Django's
    ``NON_FIELD_ERRORS`` key, the same place a model's ``clean()`` puts them.
    """
    if hasattr(validation_error, "error_dict"):
        return validation_error.message_dict
    return {NON_FIELD_ERRORS: list(validation_error.messages)}


def _has_errors(row_result: RowResult) -> bool:
    checker = getattr(row_result, "has_errors", None)
    return checker() if checker is not None else bool(row_result.errors)


class InvalidRow:
    """A row that failed validation, with its messages grouped by field."""

    def __init__(
        self,
        number: int,
        validation_error: ValidationError,
        values: Sequence,
        row: Mapping | None = None,
        field_columns: Mapping[str, str] | None = None,
    ) -> None:
        self.number = number
        self.error = validation_error
        #: The row's values in the order of ``Result.diff_headers``.
        self.values = values
        #: The whole row as read from the file (column name -> raw value).
        self.row = row if row is not None else {}
        #: Error key (field attribute or model field name) -> the column it came from.
        self.field_columns = dict(field_columns or {})
        self.error_dict = _messages_by_field(validation_error)

    def column_for(self, key: str) -> str:
        """The file column behind an error key, or the key itself when it has no column."""
        return self.field_columns.get(key, key)

    def describe(self) -> list[str]:
        """One line per message, each naming the row, and the column and value if it has one."""
        lines = []
        for key, messages in self.error_dict.items():
            for message in messages:
                if key == NON_FIELD_ERRORS:
                    lines.append(located_message(self.number, None, None, message))
                else:
                    column = self.column_for(key)
                    value = self.row.get(column)
                    lines.append(located_message(self.number, column, value, message))
        return lines

    @property
    def field_specific_errors(self) -> dict[str, list[str]]:
        """Messages that belong to a named field."""
        by_field = dict(self.error_dict)
        by_field.pop(NON_FIELD_ERRORS, None)
        return by_field

    @property
    def non_field_specific_errors(self) -> list[str]:
        """Messages about the row as a whole (e.g. from the model's ``clean()``)."""
        return self.error_dict.get(NON_FIELD_ERRORS, [])

    @property
    def error_count(self) -> int:
        return sum(len(messages) for messages in self.error_dict.values())

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}(row={self.number}, error={self.error!r}, "
            f"error_count={self.error_count})>"
        )


class ErrorRow:
    """A row that raised one or more non-validation errors."""

    def __init__(self, number: int, errors: list[Error]) -> None:
        self.number = number
        self.errors = errors

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(row={self.number}, errors={self.errors!r})>"


def _error_text(error: Any) -> str:
    """The message to put in the failed dataset's error column for an ``Error`` or exception."""
    inner = getattr(error, "error", error)
    return str(inner)


class Result:
    """Everything an import produced: row results, failures, and counts per import type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        #: Errors not tied to one row (a hook failed, a bulk write failed, ...).
        self.base_errors: list[Error] = []
        #: Column names matching each ``RowResult.diff`` entry.
        self.diff_headers: list[str] = []
        #: Row results in dataset order (skipped rows only if ``report_skipped``).
        self.rows: list[RowResult] = []
        self.invalid_rows: list[InvalidRow] = []
        self.error_rows: list[ErrorRow] = []
        #: The failed rows plus an "Error" column, filled when ``collect_failed_rows`` is set.
        self.failed_dataset = Dataset()
        self.totals: OrderedDict[str, int] = OrderedDict(
            (import_type, 0)
            for import_type in (
                RowResult.IMPORT_TYPE_NEW,
                RowResult.IMPORT_TYPE_UPDATE,
                RowResult.IMPORT_TYPE_DELETE,
                RowResult.IMPORT_TYPE_SKIP,
                RowResult.IMPORT_TYPE_ERROR,
                RowResult.IMPORT_TYPE_INVALID,
            )
        )
        self.total_rows = 0
        #: Error key -> column name, so validation messages can name the file's column.
        self.field_columns: dict[str, str] = {}

    def error_messages(self) -> list[str]:
        """Every problem of the import as a readable line naming row, column and value."""
        lines = [error.describe() for error in self.base_errors]
        for error_row in self.error_rows:
            lines.extend(error.describe() for error in error_row.errors)
        for invalid_row in self.invalid_rows:
            lines.extend(invalid_row.describe())
        return lines

    def valid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.import_type in RowResult.valid_import_types]

    def append_row_result(self, row_result: RowResult) -> None:
        self.rows.append(row_result)

    def append_base_error(self, error: Error) -> None:
        self.base_errors.append(error)

    def add_dataset_headers(self, headers: Sequence[str] | None) -> None:
        """Give the failed dataset the input's headers followed by the error column."""
        self.failed_dataset.headers = list(headers or []) + [ERROR_COLUMN]

    def append_failed_row(self, row: Mapping, error: Any) -> None:
        self.failed_dataset.append([*row.values(), _error_text(error)])

    def append_invalid_row(
        self, number: int, row: Mapping, validation_error: ValidationError
    ) -> None:
        # The values follow diff_headers so that a table of invalid rows lines up under them.
        values = tuple(row.get(column, MISSING_VALUE) for column in self.diff_headers)
        self.invalid_rows.append(
            InvalidRow(
                number=number,
                validation_error=validation_error,
                values=values,
                row=row,
                field_columns=self.field_columns,
            )
        )

    def append_error_row(self, number: int, row: Mapping, errors: list[Error]) -> None:
        self.error_rows.append(ErrorRow(number=number, errors=errors))

    def increment_row_result_total(self, row_result: RowResult) -> None:
        if row_result.import_type:
            self.totals[row_result.import_type] += 1

    def row_errors(self) -> list[tuple[int, list[Error]]]:
        """``(row number, errors)`` for every row that raised an error.

        The number is the row's position in the dataset when the import loop recorded it, so it
        stays right even when skipped rows are left out of ``rows``.
        """
        return [
            (row.number if row.number is not None else position, row.errors)
            for position, row in enumerate(self.rows, 1)
            if _has_errors(row)
        ]

    def has_errors(self) -> bool:
        """True if any row, or the import as a whole, raised an error other than validation."""
        return bool(self.base_errors or self.row_errors())

    def has_validation_errors(self) -> bool:
        return bool(self.invalid_rows)

    def __iter__(self) -> Iterator[RowResult]:
        return iter(self.rows)

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind}={count}" for kind, count in self.totals.items())
        return f"<{type(self).__name__} rows={self.total_rows} {counts}>"


#: Setting: the most error and invalid rows a bounded result keeps (the rest are counted).
MAX_ERRORS_SETTING = "IMPORT_EXPORT_IMPORT_MAX_ERRORS"
DEFAULT_MAX_ERRORS = 1000
#: Setting: the most row results a bounded result keeps, for a preview of the first rows.
MAX_ROW_RESULTS_SETTING = "IMPORT_EXPORT_IMPORT_MAX_ROW_RESULTS"
DEFAULT_MAX_ROW_RESULTS = 100


class BoundedResult(Result):
    """A :class:`Result` whose memory does not grow with the number of rows imported.

    It is what :meth:`~import_export.resources.Resource.import_from_stream` returns.  It keeps:

    * ``totals`` and ``total_rows``, for every row;
    * ``base_errors``, all of them (they are not per row);
    * the first ``max_errors`` error rows and invalid rows (``error_rows``, ``invalid_rows``),
      each with its row number, and in ``errors_not_kept`` the number of further rows that
      failed; ``failed_dataset`` (with ``collect_failed_rows``) holds the same failed rows;
    * the first ``max_row_results`` row results (``rows``), for a preview.

    ``row_errors()`` and ``has_errors()`` answer from the kept error rows, not from ``rows``,
    so they are right even when the row results were cut.  ``valid_rows()`` and iteration see
    only the kept row results.
    """

    #: Class defaults; :func:`bounded_result_class` makes subclasses with other values.
    max_errors: int = DEFAULT_MAX_ERRORS
    max_row_results: int = DEFAULT_MAX_ROW_RESULTS
    #: Called with every row result recorded, kept or not (e.g. to write admin log entries).
    row_result_callback: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Failed rows (errors and invalid rows) beyond ``max_errors``, not kept.
        self.errors_not_kept = 0
        #: Row results beyond ``max_row_results``, not kept.
        self.row_results_not_kept = 0

    def _failures_kept(self) -> int:
        return len(self.error_rows) + len(self.invalid_rows)

    def _has_room_for_failure(self) -> bool:
        return self._failures_kept() < self.max_errors

    def append_error_row(self, number: int, row: Mapping, errors: list[Error]) -> None:
        if self._has_room_for_failure():
            super().append_error_row(number, row, errors)
        else:
            self.errors_not_kept += 1

    def append_invalid_row(
        self, number: int, row: Mapping, validation_error: ValidationError
    ) -> None:
        if self._has_room_for_failure():
            super().append_invalid_row(number, row, validation_error)
        else:
            self.errors_not_kept += 1

    def append_failed_row(self, row: Mapping, error: Any) -> None:
        # Called after append_error_row/append_invalid_row for the same row: keep the row
        # when that one was kept, so the two lists describe the same rows.
        if self.errors_not_kept == 0:
            super().append_failed_row(row, error)

    def append_row_result(self, row_result: RowResult) -> None:
        if self.row_result_callback is not None:
            self.row_result_callback(row_result)
        if len(self.rows) < self.max_row_results:
            super().append_row_result(row_result)
        else:
            self.row_results_not_kept += 1

    def row_errors(self) -> list[tuple[int, list[Error]]]:
        return [(error_row.number, error_row.errors) for error_row in self.error_rows]

    def has_errors(self) -> bool:
        # The totals count every row, kept or not.
        return bool(self.base_errors or self.totals.get(RowResult.IMPORT_TYPE_ERROR, 0))

    def has_validation_errors(self) -> bool:
        return bool(self.invalid_rows) or self.totals.get(RowResult.IMPORT_TYPE_INVALID, 0) > 0


def bounded_result_class(
    base: type[Result],
    max_errors: int | None = None,
    max_row_results: int | None = None,
    row_result_callback: Any = None,
) -> type[BoundedResult]:
    """A bounded version of the result class ``base`` (a resource's ``get_result_class()``).

    A resource whose result class adds attributes or methods keeps them: the class returned
    derives from both ``BoundedResult`` and ``base``.  Limits left at ``None`` come from the
    settings ``IMPORT_EXPORT_IMPORT_MAX_ERRORS`` (default 1,000) and
    ``IMPORT_EXPORT_IMPORT_MAX_ROW_RESULTS`` (default 100).
    """
    from django.conf import settings

    if max_errors is None:
        max_errors = getattr(settings, MAX_ERRORS_SETTING, DEFAULT_MAX_ERRORS)
    if max_row_results is None:
        max_row_results = getattr(settings, MAX_ROW_RESULTS_SETTING, DEFAULT_MAX_ROW_RESULTS)
    for name, value in (("max_errors", max_errors), ("max_row_results", max_row_results)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    bases = (BoundedResult,) if issubclass(BoundedResult, base) else (BoundedResult, base)
    attributes = {
        "max_errors": max_errors,
        "max_row_results": max_row_results,
        "row_result_callback": staticmethod(row_result_callback) if row_result_callback else None,
    }
    return type(f"Bounded{base.__name__}", bases, attributes)
