"""The import engine: the private machinery behind ``Resource.import_data()``.

:mod:`import_export.importing` keeps the public surface (``ResourceImportMixin``: every hook,
every entry point, every name upstream 4.4 has); this module holds what runs them, so that the
mixin reads as the list of things a user may override and this module as how an import works:

* the dataset steps (``before_import``/``after_import`` in the import's transaction, the loader);
* the batch loop (:func:`import_rows`): rows read once, in order, batch by batch; the batch's
  lookups prefetched (:mod:`import_export.batched_lookups`), each row all-or-nothing, duplicate
  keys detected, bulk queues flushed as they fill, every row result recorded;
* the bulk queues' writes (:func:`flush_queue`, :func:`write_bulk_create`, ...);
* the per-row pipeline behind ``import_row`` (:func:`import_row_into`): hooks, diff, save or
  delete.

``import_data(dataset)`` and ``import_from_stream`` (:mod:`import_export.stream_import`) both
arrive here; only where the rows come from differs. Every function takes the resource first and
calls its hooks and borrowed methods (``import_row``, ``bulk_create``, ...) through it, so a
subclass overriding any of them sees exactly the calls upstream makes.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connections
from django.db.transaction import TransactionManagementError, set_rollback
from django.utils.encoding import force_str
from django.utils.translation import gettext as _

from . import exceptions, field_constraints
from .bulk_writes import fast_bulk_create, fast_bulk_update
from .db_errors import locate_save_error
from .diff import LazyDiff
from .error_text import shorten, shorten_validation_error
from .import_plan import ImportPlan
from .results import FAILED_CELL_ATTRIBUTE, Result, RowResult
from .utils import atomic_if_using_transaction

#: Named after the module upstream logs the import from, so logging configured for
#: django-import-export (``"import_export.resources"``) keeps applying to this fork.
logger = logging.getLogger("import_export.resources")
logger.addHandler(logging.NullHandler())

_RESOURCES_MODULE = "import_export.resources"


def _shared(name: str, fallback: Any) -> Any:
    """``import_export.resources.<name>`` if that module defines it, else ``fallback``.

    Upstream runs the import inside ``resources.py``, so code and tests written for it patch
    names there (``mock.patch("import_export.resources.connections")``, ``...logger``,
    ``...deepcopy``, ``...Diff``, ``...atomic_if_using_transaction``). Looking those names up
    in that module at call time, rather than binding them here at import time, is what lets
    such a patch reach the import code that now lives in this module. The lookup is lazy
    because ``resources.py`` imports this module.
    """
    return getattr(sys.modules.get(_RESOURCES_MODULE), name, fallback)


def _log() -> logging.Logger:
    return _shared("logger", logger)


def _deepcopy(value: Any) -> Any:
    return _shared("deepcopy", deepcopy)(value)


def _atomic(using_transactions: bool, using: str):
    """``atomic_if_using_transaction``, reached through ``resources`` (see :func:`_shared`)."""
    return _shared("atomic_if_using_transaction", atomic_if_using_transaction)(
        using_transactions, using=using
    )


def _connection(alias: str):
    return _shared("connections", connections)[alias]


class RowLengthError(exceptions.ImportExportError):
    """A data row has a different number of cells than the file has headers.

    Pairing such a row's cells with the headers would silently shift or drop values, so a
    resource whose ``Meta.reject_ragged_rows`` is True reports the row instead of importing it.
    """


class DuplicateKeyError(exceptions.ImportExportError):
    """A row repeats the ``import_id_fields`` values of an earlier row of the same file.

    Without this check the second row silently updates the object the first one just wrote,
    and only one of the two versions survives; a resource whose
    ``Meta.reject_duplicate_import_ids`` is True reports the second row instead.
    """


def _row_length_error(number: int, headers: Sequence, values: Sequence) -> RowLengthError:
    return RowLengthError(
        f"Row {number} has {len(values)} cells but the file has {len(headers)} headers "
        f"({', '.join(map(str, headers))}); fill in the missing cells or remove the extra ones."
    )


def _overrides_method(resource: Any, name: str) -> bool:
    """Whether ``resource``'s class replaces ``ResourceImportMixin``'s own ``name``."""
    from .importing import ResourceImportMixin  # importing imports this module

    return getattr(type(resource), name, None) is not getattr(ResourceImportMixin, name, None)


def _clear_failed_statement_mark(alias: str) -> None:
    """Let the import go on after a row's single failed statement, without a savepoint.

    Django marks the enclosing transaction for rollback when a save fails inside it. The plan
    leaves a row without a savepoint only where a failed statement changed nothing (SQLite) and
    the row wrote nothing else, so the transaction holds exactly what the earlier rows wrote.
    """
    connection = _connection(alias)
    if connection.in_atomic_block and connection.needs_rollback:
        set_rollback(False, using=alias)


def _is_many_to_many(field: Any) -> bool:
    """Whether a resource field writes a many-to-many relation (saved after the instance)."""
    from . import widgets  # the widgets module imports nothing from here; late import keeps
    # this module importable on its own for the results/loader tests.

    return isinstance(field.widget, widgets.ManyToManyWidget)


def _remember_failed_cell(error: BaseException, field: Any, row: Mapping) -> None:
    """Tag ``error`` with the column and value being imported, unless an inner step already did.

    Keeping the original exception (instead of wrapping it) lets callers still catch e.g.
    ``Author.DoesNotExist``, while :class:`~import_export.results.Error` can name the cell.
    """
    if getattr(error, FAILED_CELL_ATTRIBUTE, None) is not None:
        return
    column = field.column_name
    try:
        setattr(error, FAILED_CELL_ATTRIBUTE, (column, row.get(column)))
    except AttributeError:  # an exception type with __slots__: nothing to attach to
        pass


class _PendingInstances:
    """A resource's list of instances waiting for the next bulk operation (``use_bulk``).

    Created on first use, so that a resource whose own ``__init__`` does not call ``super()``
    still has it; assigning replaces it, as with a plain attribute.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.key = f"_{name}"

    def __get__(self, resource, owner=None):
        if resource is None:
            return self
        return resource.__dict__.setdefault(self.key, [])

    def __set__(self, resource, value: list) -> None:
        resource.__dict__[self.key] = value


def _concrete_model_field(model: Any, attribute: str | None):
    """The concrete, non-primary-key, non-many-to-many model field ``attribute`` writes, if any."""
    if model is None or not attribute or "__" in attribute:
        return None
    try:
        model_field = model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return None
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return None
    if model_field.primary_key:
        return None
    return model_field


# ---- the dataset steps and the batch loop -------------------------------------------------


def run_dataset_step(resource, step, result, raise_errors, using_transactions) -> bool:
    """Run a whole-dataset hook in the import's transaction; whether it succeeded.

    Its exception belongs to no row, so it becomes a base error of ``result`` (raised
    as ``ImportError`` with ``raise_errors``).
    """
    try:
        with _atomic(using_transactions, using=resource.get_db_connection_name()):
            step()
    except Exception as error:
        resource.handle_import_error(result, error, raise_errors)
        return False
    return True


def prepare_import(resource, dataset, result, raise_errors, using_transactions, kwargs):
    """Run ``before_import``, check the id columns and build the loader.

    Returns ``None`` (after recording the error) when any of that fails: importing rows
    that cannot be matched to existing objects would create duplicates.
    """
    before_ok = run_dataset_step(
        resource,
        lambda: resource.before_import(dataset, **kwargs),
        result,
        raise_errors,
        using_transactions,
    )
    if not before_ok:
        return None
    try:
        resource._check_import_id_fields(dataset.headers)
        return resource.get_instance_loader_class()(resource, dataset)
    except Exception as error:
        resource.handle_import_error(result, error, raise_errors)
        return None


def import_rows(
    resource, plan, dataset, headers, result, raise_errors, collect_failed_rows, kwargs
) -> int:
    """Import every row of ``dataset``, reading it once, in order, batch by batch.

    Before a batch's first row, :meth:`ImportPlan.prefetch` reads what its rows look up;
    the rows are then imported one by one, hooks in upstream's order. Returns the number
    of rows read.
    """
    dry_run = kwargs["dry_run"]
    using_transactions = kwargs["using_transactions"]
    seen_keys: dict[tuple, int] = {}
    numbered = (
        (number, values, OrderedDict(zip(headers, values)))
        for number, values in enumerate(dataset, 1)
    )
    consumed = 0
    for batch in plan.batches(numbered):
        prefetch(resource, plan, batch)
        with plan.relations_installed():
            for number, values, row in batch:
                consumed = number
                # Hooks get copies (**kwargs); only this loop writes to the dict.
                kwargs["row_number"] = number
                row_result = import_row_in_transaction(
                    resource, plan, row, values, headers, kwargs, seen_keys
                )
                row_result.number = number
                if resource._meta.use_bulk:
                    flush_full_batches(resource, result, dry_run, raise_errors, using_transactions)
                record_row_result(
                    resource, result, row_result, number, row, collect_failed_rows, raise_errors
                )
    return consumed


def prefetch(resource, plan, batch) -> None:
    """Read the batch's lookups; on any failure the batch's rows look up one by one (the
    failure, if it is theirs, then surfaces on the row that causes it)."""
    if not plan.batched:
        return
    try:
        # Where rows need savepoints (a failed statement aborts the transaction), so do
        # the batch's reads: a failed read must not break the rows that follow.
        with _atomic(plan.row_savepoint, using=resource.get_db_connection_name()):
            plan.prefetch([row for _, _, row in batch])
    except Exception:
        _log().debug("batched lookups failed; this batch looks up row by row", exc_info=True)
        plan.forget_batch()


def import_row_in_transaction(resource, plan, row, values, headers, kwargs, seen_keys):
    """Import one row, all or nothing: in a savepoint where the plan asks for one, and
    otherwise (one statement on a backend where a failed statement changes nothing) by
    clearing the rollback mark a failed save leaves on the import's transaction."""
    alias = resource.get_db_connection_name()
    with _atomic(plan.row_savepoint, using=alias):
        row_result = import_one_row(
            resource, row, values, headers, plan.instance_loader, kwargs, seen_keys
        )
        if row_result.has_errors():
            if plan.row_savepoint:
                # Undo this row's partial writes and keep the transaction usable for the
                # rows that follow (PostgreSQL refuses every query after an error).
                set_rollback(True, using=alias)
            elif kwargs["using_transactions"]:
                _clear_failed_statement_mark(alias)
    return row_result


def import_one_row(resource, row, values, headers, instance_loader, kwargs, seen_keys) -> RowResult:
    number = kwargs["row_number"]
    if resource._meta.reject_ragged_rows and len(values) != len(headers):
        return failed_row_result(resource, _row_length_error(number, headers, values), row, kwargs)
    duplicate = duplicate_key_error(resource, row, number, seen_keys)
    if duplicate is not None:
        return failed_row_result(resource, duplicate, row, kwargs)
    return resource.import_row(row, instance_loader, **kwargs)


def duplicate_key_error(resource, row, number, seen_keys) -> DuplicateKeyError | None:
    """The error for a row whose id cells repeat an earlier row's, remembering new keys.

    Raw cell text is compared (stripped), so the check costs no conversion; rows without
    a complete key are new objects and cannot collide.
    """
    if not resource._meta.reject_duplicate_import_ids or resource._meta.force_init_instance:
        return None
    columns = id_columns(resource)
    if not columns or any(column not in row for column in columns):
        return None
    key = tuple(force_str(row[column]).strip() for column in columns)
    if any(part in ("", "None") for part in key):
        return None
    first = seen_keys.setdefault(key, number)
    if first == number:
        return None
    shown = ", ".join(f"{column}={part!r}" for column, part in zip(columns, key))
    error = DuplicateKeyError(
        f"Row {number} has the same key as row {first} ({shown}); "
        "each record may appear only once in a file."
    )
    setattr(error, FAILED_CELL_ATTRIBUTE, (columns[0], row[columns[0]]))
    return error


def id_columns(resource) -> list[str]:
    names = list(resource.get_import_id_fields())
    if any(name not in resource.fields for name in names):
        return []
    return [resource.fields[name].column_name for name in names]


def failed_row_result(resource, error: BaseException, row, kwargs) -> RowResult:
    row_result = resource.get_row_result_class()()
    attach_row_error(resource, row_result, error, row, kwargs)
    return row_result


def flush_full_batches(resource, result, dry_run, raise_errors, using_transactions) -> None:
    """Write each bulk queue that reached ``batch_size``, so memory stays bounded."""
    batch_size = resource._meta.batch_size
    if batch_size is None:
        return
    alias = resource.get_db_connection_name()
    # (queue attribute, writer, whether the writer takes batch_size); bulk_delete does not.
    queues = (
        ("create_instances", resource.bulk_create, True),
        ("update_instances", resource.bulk_update, True),
        ("delete_instances", resource.bulk_delete, False),
    )
    for queue_name, write, takes_batch_size in queues:
        if len(getattr(resource, queue_name)) < batch_size:
            continue
        extra = {"batch_size": batch_size} if takes_batch_size else {}
        written = list(getattr(resource, queue_name))
        with _atomic(using_transactions, using=alias):
            write(using_transactions, dry_run, raise_errors, result=result, **extra)
        plan = resource.__dict__.get("_import_plan")
        if plan is not None:
            # Rows of the current batch read before this write must not trust that read.
            plan.forget_written(written)


def flush_leftovers(resource, result, dry_run, raise_errors, using_transactions) -> None:
    """Write what the queues still hold after the last row, in one transaction block."""
    with _atomic(using_transactions, using=resource.get_db_connection_name()):
        for write in (resource.bulk_create, resource.bulk_update, resource.bulk_delete):
            write(using_transactions, dry_run, raise_errors, result=result)


def record_row_result(
    resource, result, row_result, number, row, collect_failed_rows, raise_errors
) -> None:
    result.increment_row_result_total(row_result)
    # failed_row_cause: what the failed-rows dataset shows; raised_cause: what ImportError
    # carries (for error rows, the last error, which is the one that stopped the row).
    if row_result.has_errors():
        result.append_error_row(number, row, row_result.errors)
        failed_row_cause, raised_cause = row_result.errors[0], row_result.errors[-1].error
    elif row_result.validation_error:
        result.append_invalid_row(number, row, row_result.validation_error)
        failed_row_cause = raised_cause = row_result.validation_error
    else:
        failed_row_cause = raised_cause = None
    if failed_row_cause is not None:
        if collect_failed_rows:
            result.append_failed_row(row, failed_row_cause)
        if raise_errors:
            raise exceptions.ImportError(raised_cause, number=number, row=row) from raised_cause
    if not row_result.is_skip() or resource._meta.report_skipped:
        result.append_row_result(row_result)


# ---- the bulk queues ----------------------------------------------------------------------


def write_bulk_create(resource, objs: list, batch_size: int | None) -> None:
    """``bulk_create()``'s inserts, as one prepared statement per batch where that writes
    exactly the same (see :mod:`import_export.bulk_writes`), else Django's."""
    if not fast_bulk_create(resource._meta.model, objs, batch_size):
        resource._meta.model.objects.bulk_create(objs, batch_size=batch_size)


def write_bulk_update(resource, objs: list, batch_size: int | None) -> None:
    """``bulk_update()``'s writes, sent as one prepared statement per batch where that
    writes exactly the same (see :mod:`import_export.bulk_writes`), else Django's."""
    model = resource._meta.model
    names = resource.get_bulk_update_fields()
    if not fast_bulk_update(model, objs, names, batch_size):
        model.objects.bulk_update(objs, names, batch_size=batch_size)


def flush_queue(resource, queue, write, using_transactions, dry_run, raise_errors, result) -> None:
    """Run one bulk write on ``queue`` and empty it, whether or not the write succeeded.

    A failed batch cannot be pinned to one row, so it is recorded as an import-wide error.
    """
    if not queue or not resource._bulk_writes_allowed(using_transactions, dry_run):
        return
    try:
        write(list(queue))
    except Exception as error:
        resource.handle_import_error(result, error, raise_errors)
    finally:
        queue.clear()


# ---- one row: the pipeline behind import_row() ---------------------------------------------


def attach_row_error(resource, row_result: RowResult, error, row, kwargs) -> None:
    """Turn ``row_result`` into an error result carrying ``error`` (with its row number)."""
    row_result.import_type = RowResult.IMPORT_TYPE_ERROR
    error_result_class = resource.get_error_result_class()
    row_result.errors.append(error_result_class(error, row=row, number=kwargs.get("row_number")))


def import_row_into(resource, row_result, row, instance_loader, kwargs) -> None:
    resource.before_import_row(row, **kwargs)
    instance, new = resource.get_or_init_instance(instance_loader, row)
    resource.after_init_instance(instance, new, row, **kwargs)
    row_result.import_type = RowResult.IMPORT_TYPE_NEW if new else RowResult.IMPORT_TYPE_UPDATE

    diff, original = start_diff(resource, instance, new)
    if resource.for_delete(row, instance):
        delete_row(resource, row_result, instance, new, row, kwargs)
        after = None
    else:
        save_row(resource, row_result, instance, new, original, row, kwargs)
        after = instance
        if diff is not None and not new:
            if isinstance(diff, LazyDiff):
                row_result.set_lazy_original(diff)
            else:
                row_result.original = original

    if diff is not None:
        finish_diff(resource, row_result, diff, after)
    resource.after_import_row(row, row_result, **kwargs)


def start_diff(resource, instance: Any, new: bool) -> tuple[Any, Any]:
    """``(diff, original)`` for a row about to be applied; both ``None`` with skip_diff.

    Within a planned import whose fields allow it, the diff is a :class:`LazyDiff` (a
    tuple of the instance's values, rendered when ``RowResult.diff`` is read, which also
    makes ``RowResult.original`` when that is read); an original is built now only for a
    ``skip_row`` that compares with it. Otherwise, as upstream: a deep copy and an eager
    ``get_diff_class()`` diff.
    """
    if resource._meta.skip_diff:
        return None, None
    plan = resource.__dict__.get("_import_plan")
    state = plan.diff_state if plan is not None else None
    if state is None:
        original = _deepcopy(instance)
        return resource.get_diff_class()(resource, original, new), original
    diff = LazyDiff(resource, state, state.capture(instance, share=True), new)
    # skip_row() compares with the original; only build one when it may look at it.
    wanted = resource._meta.skip_unchanged or _overrides_method(resource, "skip_row")
    return diff, diff.original() if wanted else None


def finish_diff(resource, row_result: RowResult, diff: Any, after: Any) -> None:
    if isinstance(diff, LazyDiff):
        diff.compare_with(after)
        row_result.set_lazy_diff(diff)
        return
    diff.compare_with(resource, after)
    if not resource._meta.skip_html_diff:
        row_result.diff = diff.as_html()


def stores_instance(resource, kwargs) -> bool:
    # retain_instance_in_row_result is the keyword older callers (the admin) pass.
    return bool(resource._meta.store_instance or kwargs.get("retain_instance_in_row_result"))


def delete_row(resource, row_result, instance, new, row, kwargs) -> None:
    if new:
        # Nothing to delete: the row names an object that does not exist.
        row_result.import_type = RowResult.IMPORT_TYPE_SKIP
        return
    row_result.import_type = RowResult.IMPORT_TYPE_DELETE
    row_result.add_instance_info(instance)
    if stores_instance(resource, kwargs):
        # Deleting clears the primary key; the copy keeps it for the caller.
        row_result.instance = _deepcopy(instance)
    resource.delete_instance(instance, row, **kwargs)


def save_row(resource, row_result, instance, new, original, row, kwargs) -> None:
    conversion_errors = apply_row_values(resource, instance, row, kwargs)
    if resource.skip_row(instance, original, row, conversion_errors):
        row_result.import_type = RowResult.IMPORT_TYPE_SKIP
    else:
        validate_and_write(resource, instance, new, row, conversion_errors, kwargs)
    row_result.add_instance_info(instance)
    if stores_instance(resource, kwargs):
        row_result.instance = instance


def apply_row_values(resource, instance: Any, row: Mapping, kwargs) -> dict:
    """Set the row's values on ``instance``; the cells that failed, as an error dict.

    Failed cells do not stop the row here: ``skip_row`` and ``validate_instance`` get
    them, so the user sees conversion and model errors together.
    """
    try:
        resource.import_instance(instance, row, **kwargs)
    except ValidationError as error:
        return error.update_error_dict({})
    return {}


def validate_and_write(resource, instance, new, row, conversion_errors, kwargs) -> None:
    # validate_instance raises when anything is wrong, so nothing below runs for a bad row.
    resource.validate_instance(instance, conversion_errors)
    # Only the row's own cells: a value it does not touch is what the database already holds.
    resource._field_constraints().check_storable(instance, row)
    try:
        resource.save_instance(instance, new, row, **kwargs)
    except (DatabaseError, OverflowError, ValidationError) as error:
        located = locate_save_error(resource, instance, row, error)
        if located is error:
            raise
        raise located from error
    resource.save_m2m(instance, row, **kwargs)


# ---- the rest of the whole-import steps and checks ----------------------------------------


def conversion_failure(resource, field: Any, instance: Any, row: Mapping, kwargs) -> str | None:
    """Import one field; the text of a conversion problem (``ValueError``) or ``None``.

    Anything else is not a bad cell but a failure of the row, and propagates, marked with
    the cell it happened on.
    """
    try:
        resource.import_field(field, instance, row, **kwargs)
    except ValueError as error:
        return shorten(force_str(error))
    except Exception as error:
        _remember_failed_cell(error, field, row)
        raise
    return None


def field_would_change(resource, field: Any, instance: Any, original: Any, row: Mapping) -> bool:
    if not _is_many_to_many(field):
        return field.get_value(instance) != field.get_value(original)
    # A many-to-many column the file lacks is left alone, so it cannot change anything.
    return field.column_name in row and m2m_would_change(resource, field, original, row)


def m2m_would_change(resource, field: Any, original: Any, row: Mapping) -> bool:
    # The row's related objects are not on the instance yet (they are saved after it), so
    # they are read from the row.
    wanted = Counter(related.pk for related in field.clean(row))
    if getattr(original, "pk", None) is None:
        current: Counter = Counter()
    else:
        current = Counter(related.pk for related in field.get_value(original).all())
    return wanted != current


def database_supports_transactions(alias: str) -> bool:
    return bool(getattr(_connection(alias).features, "supports_transactions", False))


def must_roll_back(result: Result, dry_run: bool, rollback_on_validation_errors: bool):
    return (
        dry_run
        or result.has_errors()
        or (rollback_on_validation_errors and result.has_validation_errors())
    )


def check_batch_size(resource) -> None:
    batch_size = resource._meta.batch_size
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"Meta.batch_size must be a positive integer or None, got {batch_size!r}.")


def error_key_columns(resource) -> dict[str, str]:
    """Map every key a row's validation errors may use to the column a person sees.

    Conversion errors are keyed by field attribute (``author_id``), model validation errors
    by model field name (``author``); both should name the file's column. Every declared
    field is mapped (a lookup table may hold more than one import uses), read from
    ``resource.fields`` so that an overridden ``get_import_fields()`` runs exactly where
    upstream runs it.
    """
    columns: dict[str, str] = {}
    for field in resource.fields.values():
        if not field.attribute or not field.column_name:
            continue
        columns.setdefault(field.attribute, field.column_name)
        model_field = _concrete_model_field(resource._meta.model, field.attribute)
        if model_field is not None:
            columns.setdefault(model_field.name, field.column_name)
    return columns


def run_import(
    resource, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, kwargs
) -> Any:
    """The body of ``import_data_inner()``: the result's frame, the dataset steps around the batch
    loop, the plan installed on the resource while the rows run and the last bulk writes.

    ``kwargs`` is the dict every hook receives (as ``**kwargs``); ``dry_run`` and
    ``using_transactions`` are added to it here, as upstream does.
    """
    result = resource.get_result_class()()
    result.diff_headers = resource.get_diff_headers()
    result.total_rows = len(dataset)
    result.field_columns = error_key_columns(resource)

    kwargs.update({"dry_run": dry_run, "using_transactions": using_transactions})
    instance_loader = prepare_import(
        resource, dataset, result, raise_errors, using_transactions, kwargs
    )
    if instance_loader is None:
        return result
    headers = list(dataset.headers or [])
    if collect_failed_rows:
        result.add_dataset_headers(headers)

    plan = ImportPlan.build(resource, instance_loader, using_transactions)
    resource.__dict__["_import_plan"] = plan
    try:
        # Counted while reading, so a streamed dataset (whose length is known only at its
        # end) reports the rows it really had; before_import() may also have changed them.
        result.total_rows = import_rows(
            resource, plan, dataset, headers, result, raise_errors, collect_failed_rows, kwargs
        )
    finally:
        del resource.__dict__["_import_plan"]

    if resource._meta.use_bulk:
        flush_leftovers(resource, result, dry_run, raise_errors, using_transactions)
    run_dataset_step(
        resource,
        lambda: resource.after_import(dataset, result, **kwargs),
        result,
        raise_errors,
        using_transactions,
    )
    return result


# ---- checks and small helpers ---------------------------------------------------------------


def check_import_id_fields(resource, headers) -> None:
    """The checks of ``_check_import_id_fields()`` (see its docstring)."""
    if resource._uses_default_import_id_fields():
        return
    # The wording of both messages is upstream's: code written for django-import-export
    # compares them (e.g. to tell a configuration error from a bad file).
    id_field_names = list(resource.get_import_id_fields())
    unknown = [name for name in id_field_names if name not in resource.fields]
    if unknown:
        raise exceptions.FieldError(
            _(
                "The following fields are declared in 'import_id_fields' but are not "
                "present in the resource fields: %s"
            )
            % ", ".join(unknown)
        )
    present = set(headers or [])
    missing = [
        resource.fields[name].column_name
        for name in id_field_names
        if resource.fields[name].column_name not in present
    ]
    if missing:
        raise exceptions.FieldError(
            _(
                "The following fields are declared in 'import_id_fields' but are not "
                "present in the file headers: %s"
            )
            % ", ".join(map(str, missing))
        )


def import_row(resource, row, instance_loader, kwargs) -> RowResult:
    """The body of ``import_row()``: the row result, with the row's failure recorded on it.

    A ``ValidationError`` makes the row invalid (the import goes on); any other exception
    becomes the row's error, with its row number.
    """
    row_result = resource.get_row_result_class()()
    if resource._meta.store_row_values:
        row_result.row_values = row
    try:
        import_row_into(resource, row_result, row, instance_loader, kwargs)
    except ValidationError as invalid:
        # Bad values: reported per cell, the import goes on.
        row_result.validation_error = shorten_validation_error(invalid)
        row_result.import_type = RowResult.IMPORT_TYPE_INVALID
    except Exception as error:
        # A TransactionManagementError only echoes an earlier row's failure on a broken
        # transaction; logging it again for every row would bury the cause.
        if not isinstance(error, TransactionManagementError):
            _log().debug(error, exc_info=True)
        attach_row_error(resource, row_result, error, row, kwargs)
    return row_result


def bulk_update_field_names(resource) -> list[str]:
    """The body of ``get_bulk_update_fields()`` (see its docstring)."""
    id_fields = set(resource.get_import_id_fields())
    model = resource._meta.model
    names = []
    for name, field in resource.fields.items():
        if name in id_fields or field.readonly or not field.attribute:
            continue
        model_field = _concrete_model_field(model, field.attribute)
        if model_field is not None and model_field.name not in names:
            names.append(model_field.name)
    return names


def field_constraints_of(resource) -> field_constraints.FieldConstraints:
    """The body of ``_field_constraints()`` (see its docstring)."""
    current = tuple(resource.fields.values())
    remembered = resource.__dict__.get("_field_constraints_memo")
    if remembered is not None and remembered[0] == current:
        return remembered[1]
    constraints = field_constraints.constraints_for(resource._meta.model, resource.fields)
    resource.__dict__["_field_constraints_memo"] = (current, constraints)
    return constraints


def reset_pk_sequence(resource) -> None:
    """Reset the primary key sequence of ``Meta.model``, where the backend has one."""
    connection = _connection(resource.get_db_connection_name())
    statements = connection.ops.sequence_reset_sql(no_style(), [resource._meta.model])
    if not statements:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def decide_transactions(alias: str, use_transactions: bool, dry_run: bool) -> bool:
    """Whether the import runs in a transaction: when asked to, or for a dry run, where the
    database has them; asking for one on a database without them is a configuration error."""
    has_transactions = database_supports_transactions(alias)
    if use_transactions and not has_transactions:
        raise ImproperlyConfigured(
            f"Transactions were requested for this import but the database '{alias}' "
            "does not support them; set use_transactions=False (or Meta.use_transactions, "
            "or IMPORT_EXPORT_USE_TRANSACTIONS) to import without one."
        )
    return bool((use_transactions or dry_run) and has_transactions)
