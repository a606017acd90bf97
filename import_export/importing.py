"""The import half of a resource: turning dataset rows into saved, updated or deleted objects.

:class:`ResourceImportMixin` holds every import method of ``Resource`` and
:class:`ModelResourceImportMixin` the ones that need a Django model; ``resources.py`` mixes them
in, so ``Resource.import_data()`` and every hook below are reached through the resource classes.

The order of the hooks and the meaning of each keyword argument follow django-import-export 4.4,
because user resources override them:

``before_import`` → for each row: ``before_import_row`` → ``after_init_instance`` →
(``before_save_instance`` → ``after_save_instance`` | ``before_delete_instance`` →
``after_delete_instance``) → ``after_import_row`` → ``after_import``.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from copy import deepcopy
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.db.transaction import TransactionManagementError, set_rollback
from django.utils.encoding import force_str
from django.utils.translation import gettext as _

from . import exceptions, field_constraints
from .bulk_writes import fast_bulk_create, fast_bulk_update
from .db_errors import locate_save_error
from .diff import Diff, LazyDiff
from .error_text import shorten, shorten_validation_error
from .import_plan import ImportPlan
from .instance_loaders import BaseInstanceLoader
from .results import FAILED_CELL_ATTRIBUTE, Error, Result, RowResult
from .utils import atomic_if_using_transaction, strip_byte_order_mark_from_headers

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


#: ``import_id_fields`` value under which a file without an id column is normal (every row new).
DEFAULT_IMPORT_ID_FIELDS = ("id",)


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


class _NoInstanceLoader(BaseInstanceLoader):
    """Used by a plain ``Resource`` that names no loader: every row starts a new instance."""

    def get_instance(self, row: Mapping) -> None:
        return None


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


def _row_length_error(number: int, headers: Sequence, values: Sequence) -> RowLengthError:
    return RowLengthError(
        f"Row {number} has {len(values)} cells but the file has {len(headers)} headers "
        f"({', '.join(map(str, headers))}); fill in the missing cells or remove the extra ones."
    )


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


class ResourceImportMixin:
    """Every import method of :class:`~import_export.resources.Resource`."""

    #: New instances waiting for ``bulk_create``.
    create_instances = _PendingInstances()
    #: Changed instances waiting for ``bulk_update``.
    update_instances = _PendingInstances()
    #: Instances waiting for the bulk delete.
    delete_instances = _PendingInstances()

    # ---- the classes an import builds; overridable to customise reporting -----------------

    @classmethod
    def get_result_class(cls) -> type[Result]:
        return Result

    @classmethod
    def get_row_result_class(cls) -> type[RowResult]:
        return RowResult

    @classmethod
    def get_error_result_class(cls) -> type[Error]:
        return Error

    @classmethod
    def get_diff_class(cls) -> type[Diff]:
        return _shared("Diff", Diff)

    def get_instance_loader_class(self) -> type[BaseInstanceLoader]:
        """``Meta.instance_loader_class``; a resource without a model and without a loader
        treats every row as new."""
        return self._meta.instance_loader_class or _NoInstanceLoader

    # ---- configuration -------------------------------------------------------------------------

    @classmethod
    def get_db_connection_name(cls) -> str:
        """The database alias the import's transaction runs on (``Meta.using_db`` or the router)."""
        if cls._meta.using_db is not None:
            return cls._meta.using_db
        model = cls._meta.model
        if model is None:
            return DEFAULT_DB_ALIAS
        return router.db_for_write(model)

    def get_use_transactions(self) -> bool:
        """``Meta.use_transactions``, else the ``IMPORT_EXPORT_USE_TRANSACTIONS`` setting (True)."""
        if self._meta.use_transactions is not None:
            return self._meta.use_transactions
        return getattr(settings, "IMPORT_EXPORT_USE_TRANSACTIONS", True)

    def get_import_id_fields(self) -> Sequence[str]:
        """``Meta.import_id_fields``; when left at the default ``["id"]`` on a model whose
        primary key has another name (e.g. ``catid``), that primary key's field instead, so
        re-importing an export updates records rather than failing on every row."""
        declared = self._meta.import_id_fields
        if not self._uses_default_import_id_fields() or "id" in self.fields:
            return declared
        model = self._meta.model
        pk_name = model._meta.pk.name if model is not None else None
        if pk_name in self.fields:
            return [pk_name]
        return declared

    def _uses_default_import_id_fields(self) -> bool:
        return tuple(self._meta.import_id_fields) == DEFAULT_IMPORT_ID_FIELDS

    def get_import_order(self) -> tuple[str, ...]:
        """Field names in import order: ``Meta.import_order``, then ``Meta.fields``, then the
        remaining fields in declaration order."""
        return self._get_ordered_field_names("import_order")

    def get_import_fields(self) -> list:
        """The fields an import reads, in import order.

        A name in ``import_order`` or ``Meta.fields`` may be a field's column name instead of
        its attribute name in the resource.
        """
        fields = []
        for name in self.get_import_order():
            field = self.fields.get(name) or self._field_by_column_name(name)
            if field is not None and field not in fields:
                fields.append(field)
        return fields

    def _field_by_column_name(self, column_name: str):
        for field in self.fields.values():
            if field.column_name == column_name:
                return field
        return None

    def _import_fields(self) -> list:
        """``get_import_fields()``, answered from the import plan while an import runs.

        An overridden ``get_import_fields()`` is still called every time, as upstream does,
        since it may depend on state that changes between rows.
        """
        plan = self.__dict__.get("_import_plan")
        if plan is not None and plan.fields_are_stable:
            return plan.fields
        return self.get_import_fields()

    def _plain_and_m2m_fields(self) -> tuple[list, list]:
        plan = self.__dict__.get("_import_plan")
        if plan is not None and plan.fields_are_stable:
            return plan.plain_fields, plan.m2m_fields
        fields = self.get_import_fields()
        m2m = [f for f in fields if _is_many_to_many(f)]
        return [f for f in fields if f not in m2m], m2m

    def get_diff_headers(self) -> list[str]:
        """Headers of the diff columns: the column names of the import fields."""
        return [force_str(field.column_name) for field in self.get_import_fields()]

    def get_bulk_update_fields(self) -> list[str]:
        """Names of the model fields ``bulk_update`` writes.

        The id fields identify the rows and cannot be updated by ``bulk_update``; read-only,
        many-to-many and relation-path fields are not columns of this model's table.
        """
        id_fields = set(self.get_import_id_fields())
        model = self._meta.model
        names = []
        for name, field in self.fields.items():
            if name in id_fields or field.readonly or not field.attribute:
                continue
            model_field = _concrete_model_field(model, field.attribute)
            if model_field is not None and model_field.name not in names:
                names.append(model_field.name)
        return names

    # ---- finding or creating the instance for a row -----------------------------------------

    def init_instance(self, row: Mapping | None = None) -> Any:
        """A new, unsaved object for ``row``; :class:`ModelResourceImportMixin` builds a model."""
        raise NotImplementedError(
            f"{type(self).__name__} has no model: override init_instance() to create objects."
        )

    def get_instance(self, instance_loader: BaseInstanceLoader, row: Mapping) -> Any:
        """The existing object for ``row``, or ``None`` when the row lacks an id column."""
        id_field_names = list(self.get_import_id_fields())
        if any(name not in self.fields for name in id_field_names):
            # Only the default ["id"] gets here (other names are checked before any row): a
            # resource without an "id" field has nothing to look existing objects up by.
            return None
        id_fields = [self.fields[name] for name in id_field_names]
        if any(field.column_name not in row for field in id_fields):
            return None
        try:
            return instance_loader.get_instance(row)
        except Exception as error:
            if len(id_fields) == 1:
                _remember_failed_cell(error, id_fields[0], row)
            raise

    def get_or_init_instance(self, instance_loader: BaseInstanceLoader, row: Mapping):
        """``(instance, is_new)``: the existing object if there is one, else a new one.

        ``force_init_instance`` skips the lookup altogether (files known to hold new records).
        """
        found = None
        if not self._meta.force_init_instance:
            found = self.get_instance(instance_loader, row)
        return (found, False) if found else (self.init_instance(row), True)

    # ---- writing values onto the instance ---------------------------------------------------

    def import_field(self, field: Any, instance: Any, row: Mapping, is_m2m: bool = False, **kwargs):
        """Set one field of ``instance`` from ``row``; fields without an attribute or whose
        column the file lacks are left alone, so partial files update only what they hold."""
        if not field.attribute:
            why_not = "field attribute is not defined"
        elif field.column_name not in row:
            why_not = f"column name '{field.column_name}' is not present in row"
        else:
            field.save(instance, row, is_m2m, **kwargs)
            return
        # Log text kept word for word (already formatted): callers' log assertions rely on it.
        _log().debug(f"skipping field '{field}' - {why_not}")

    def import_instance(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Import every non-many-to-many field, collecting value errors of all of them.

        A ``ValueError`` from a widget means the cell could not be converted; gathering them
        into one ``ValidationError`` tells the user about every bad cell of the row at once.
        Any other exception stops the row, tagged with the cell it came from.
        """
        plan = self.__dict__.get("_import_plan")
        if plan is not None and plan.direct_fields is not None:
            errors = plan.import_plain_fields(self, instance, row, kwargs)
            if errors:
                raise ValidationError(errors)
            return
        plain_fields, _ = self._plain_and_m2m_fields()
        errors = {}
        for field in plain_fields:
            message = self._conversion_failure(field, instance, row, kwargs)
            if message is not None:
                errors[field.attribute] = ValidationError(message, code="invalid")
        if errors:
            raise ValidationError(errors)

    def _conversion_failure(self, field: Any, instance: Any, row: Mapping, kwargs) -> str | None:
        """Import one field; the text of a conversion problem (``ValueError``) or ``None``.

        Anything else is not a bad cell but a failure of the row, and propagates, marked with
        the cell it happened on.
        """
        try:
            self.import_field(field, instance, row, **kwargs)
        except ValueError as error:
            return shorten(force_str(error))
        except Exception as error:
            _remember_failed_cell(error, field, row)
            raise
        return None

    def import_obj(self, obj: Any, data: Mapping, dry_run: bool, **kwargs) -> None:
        warnings.warn(
            "import_obj() is deprecated; call import_instance(instance, row, **kwargs).",
            DeprecationWarning,
            stacklevel=2,
        )
        # Only an explicit True is forwarded; other values leave kwargs as they came.
        forwarded = {**kwargs, "dry_run": True} if dry_run is True else kwargs
        self.import_instance(obj, data, **forwarded)

    def save_m2m(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Write the many-to-many fields, which needs the instance to be saved first.

        Nothing is written in bulk mode (the instances have no primary key yet) nor in a dry
        run without a transaction to roll it back.
        """
        if self._meta.use_bulk or self._writes_are_suppressed(kwargs):
            return
        _, m2m_fields = self._plain_and_m2m_fields()
        for field in m2m_fields:
            try:
                self.import_field(field, instance, row, True, **kwargs)
            except Exception as error:
                _remember_failed_cell(error, field, row)
                raise

    # ---- deciding what to do with a row -------------------------------------------------------

    def for_delete(self, row: Mapping, instance: Any) -> bool:
        """Override to return True for rows that should delete their instance."""
        return False

    def skip_row(
        self,
        instance: Any,
        original: Any,
        row: Mapping,
        import_validation_errors: Mapping | None = None,
    ) -> bool:
        """Whether to leave the row out: by default only when ``skip_unchanged`` is set and
        the row would change none of the import fields.

        Without a diff (``skip_diff``) there is no original to compare with, and a row with
        validation errors is never skipped so that its errors are reported.
        """
        if not self._meta.skip_unchanged or self._meta.skip_diff or import_validation_errors:
            return False
        return not any(
            self._field_would_change(field, instance, original, row)
            for field in self._import_fields()
        )

    def _field_would_change(self, field: Any, instance: Any, original: Any, row: Mapping) -> bool:
        if not _is_many_to_many(field):
            return field.get_value(instance) != field.get_value(original)
        # A many-to-many column the file lacks is left alone, so it cannot change anything.
        return field.column_name in row and self._m2m_would_change(field, original, row)

    def _m2m_would_change(self, field: Any, original: Any, row: Mapping) -> bool:
        # The row's related objects are not on the instance yet (they are saved after it), so
        # they are read from the row.
        wanted = Counter(related.pk for related in field.clean(row))
        if getattr(original, "pk", None) is None:
            current: Counter = Counter()
        else:
            current = Counter(related.pk for related in field.get_value(original).all())
        return wanted != current

    def validate_instance(
        self,
        instance: Any,
        import_validation_errors: Mapping | None = None,
        validate_unique: bool = True,
    ) -> None:
        """Raise one ``ValidationError`` holding the conversion errors of the row and, when
        ``clean_model_instances`` is set, those of the model's ``full_clean()``.

        Fields that already failed conversion are excluded from ``full_clean()`` so that each
        bad cell is reported once, with the clearer conversion message. Values their column
        cannot store are checked after this, on the row's columns only (see
        :mod:`import_export.field_constraints`).
        """
        errors = dict(import_validation_errors or {})
        constraints = self._field_constraints()
        constraints.normalise_empty(instance, exclude=errors)
        if self._meta.clean_model_instances:
            try:
                instance.full_clean(exclude=errors.keys(), validate_unique=validate_unique)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        else:
            for name, error in self._text_length_errors(instance).items():
                errors.setdefault(name, error)
        if errors:
            raise ValidationError(errors)

    def _field_constraints(self) -> field_constraints.FieldConstraints:
        """The model-field checks for this resource's fields, built once and cached.

        Remembered on the instance for as long as it has the same field objects, so a row
        costs one tuple comparison; :func:`~import_export.field_constraints.constraints_for`
        shares the checks between instances of the same resource.
        """
        current = tuple(self.fields.values())
        remembered = self.__dict__.get("_field_constraints_memo")
        if remembered is not None and remembered[0] == current:
            return remembered[1]
        constraints = field_constraints.constraints_for(self._meta.model, self.fields)
        self.__dict__["_field_constraints_memo"] = (current, constraints)
        return constraints

    def _text_length_errors(self, instance: Any) -> dict[str, ValidationError]:
        """Validation errors Django's own save would raise for the row's values (a bad UUID).

        Kept under its old name as the call point of :mod:`~import_export.field_constraints`;
        too-long text is no longer reported here but as a row error, as the database reports
        it. The declared fields are read from ``self.fields``, not ``get_import_fields()``, so
        that an override of the latter is called as often as upstream calls it.
        """
        return self._field_constraints().validation_errors(instance)

    # ---- persisting ---------------------------------------------------------------------------

    def save_instance(self, instance: Any, is_create: bool, row: Mapping, **kwargs) -> None:
        """Save (or, in bulk mode, queue) ``instance`` between the save hooks."""
        self.before_save_instance(instance, row, **kwargs)
        if self._meta.use_bulk:
            (self.create_instances if is_create else self.update_instances).append(instance)
        elif not self._writes_are_suppressed(kwargs):
            self.do_instance_save(instance, is_create)
        self.after_save_instance(instance, row, **kwargs)

    def do_instance_save(self, instance: Any, is_create: bool) -> None:
        """Write one instance; override for e.g. ``update_or_create`` semantics.

        A new row is inserted with ``force_insert`` so that it can never overwrite an existing
        record whose key the loader did not find (e.g. outside a filtered ``get_queryset()``):
        that case fails with an ``IntegrityError`` reported on the row.
        """
        instance.save(force_insert=is_create)

    def delete_instance(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Delete (or, in bulk mode, queue) ``instance`` between the delete hooks."""
        self.before_delete_instance(instance, row, **kwargs)
        if self._meta.use_bulk:
            self.delete_instances.append(instance)
        elif not self._writes_are_suppressed(kwargs):
            instance.delete()
        self.after_delete_instance(instance, row, **kwargs)

    def _bulk_writes_allowed(self, using_transactions: bool, dry_run: bool) -> bool:
        # A dry run writes only when a transaction will undo it.
        return using_transactions or not dry_run

    def bulk_create(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Result | None = None,
    ) -> None:
        """Insert the queued new instances with one ``bulk_create``."""
        self._flush(
            self.create_instances,
            lambda objs: self._write_bulk_create(objs, batch_size),
            using_transactions,
            dry_run,
            raise_errors,
            result,
        )

    def bulk_update(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Result | None = None,
    ) -> None:
        """Write the queued changed instances with one ``bulk_update``."""
        self._flush(
            self.update_instances,
            lambda objs: self._write_bulk_update(objs, batch_size),
            using_transactions,
            dry_run,
            raise_errors,
            result,
        )

    def _write_bulk_create(self, objs: list, batch_size: int | None) -> None:
        """``bulk_create()``'s inserts, as one prepared statement per batch where that writes
        exactly the same (see :mod:`import_export.bulk_writes`), else Django's."""
        if not fast_bulk_create(self._meta.model, objs, batch_size):
            self._meta.model.objects.bulk_create(objs, batch_size=batch_size)

    def _write_bulk_update(self, objs: list, batch_size: int | None) -> None:
        """``bulk_update()``'s writes, sent as one prepared statement per batch where that
        writes exactly the same (see :mod:`import_export.bulk_writes`), else Django's."""
        model = self._meta.model
        names = self.get_bulk_update_fields()
        if not fast_bulk_update(model, objs, names, batch_size):
            model.objects.bulk_update(objs, names, batch_size=batch_size)

    def bulk_delete(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        result: Result | None = None,
    ) -> None:
        """Delete the queued instances with one query on their primary keys."""
        self._flush(
            self.delete_instances,
            lambda objs: self._meta.model.objects.filter(pk__in=[o.pk for o in objs]).delete(),
            using_transactions,
            dry_run,
            raise_errors,
            result,
        )

    def _flush(self, queue, write, using_transactions, dry_run, raise_errors, result) -> None:
        """Run one bulk write on ``queue`` and empty it, whether or not the write succeeded.

        A failed batch cannot be pinned to one row, so it is recorded as an import-wide error.
        """
        if not queue or not self._bulk_writes_allowed(using_transactions, dry_run):
            return
        try:
            write(list(queue))
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
        finally:
            queue.clear()

    # ---- hooks (all no-ops by default) --------------------------------------------------------

    def before_import(self, dataset, **kwargs) -> None:
        """Called once before any row, inside the import's transaction; may alter ``dataset``."""

    def after_import(self, dataset, result: Result, **kwargs) -> None:
        """Called once after every row (and every bulk write)."""

    def before_import_row(self, row: Mapping, **kwargs) -> None:
        """Called first for each row; may alter ``row`` in place."""

    def after_import_row(self, row: Mapping, row_result: RowResult, **kwargs) -> None:
        """Called last for each row that raised nothing."""

    def after_init_instance(self, instance: Any, new: bool, row: Mapping, **kwargs) -> None:
        """Called once the row's instance was found (``new`` False) or created (``new`` True)."""

    def after_import_instance(self, instance: Any, new: bool, row_number=None, **kwargs) -> None:
        warnings.warn(
            "after_import_instance() is deprecated; override "
            "after_init_instance(instance, new, row, **kwargs).",
            DeprecationWarning,
            stacklevel=2,
        )
        # The old hook had no row; the new one receives None for it.
        number = {} if row_number is None else {"row_number": row_number}
        self.after_init_instance(instance, new, None, **kwargs, **number)

    def before_save_instance(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Called before an instance is saved (or queued in bulk mode)."""

    def after_save_instance(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Called after an instance is saved (or queued in bulk mode)."""

    def before_delete_instance(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Called before an instance is deleted (or queued in bulk mode)."""

    def after_delete_instance(self, instance: Any, row: Mapping, **kwargs) -> None:
        """Called after an instance is deleted (or queued in bulk mode)."""

    # ---- one row ------------------------------------------------------------------------------

    def handle_import_error(
        self, result: Result | None, error: BaseException, raise_errors: bool = False
    ) -> None:
        """Record an error that belongs to the whole import, and raise it if asked to."""
        _log().debug(error, exc_info=error)
        if result is not None:
            result.append_base_error(self.get_error_result_class()(error))
        if raise_errors:
            raise exceptions.ImportError(error) from error

    def import_row(self, row: Mapping, instance_loader: BaseInstanceLoader, **kwargs) -> RowResult:
        """Import one row and report what happened; never raises for a bad row.

        ``kwargs`` carries ``dry_run``, ``using_transactions`` and ``row_number`` (1-based), plus
        whatever the caller passed to ``import_data``; every hook receives them.
        """
        row_result = self.get_row_result_class()()
        if self._meta.store_row_values:
            row_result.row_values = row
        try:
            self._import_row_into(row_result, row, instance_loader, kwargs)
        except ValidationError as invalid:
            # Bad values: reported per cell, the import goes on.
            row_result.validation_error = shorten_validation_error(invalid)
            row_result.import_type = RowResult.IMPORT_TYPE_INVALID
        except Exception as error:
            # A TransactionManagementError only echoes an earlier row's failure on a broken
            # transaction; logging it again for every row would bury the cause.
            if not isinstance(error, TransactionManagementError):
                _log().debug(error, exc_info=True)
            self._attach_row_error(row_result, error, row, kwargs)
        return row_result

    def _attach_row_error(self, row_result: RowResult, error, row, kwargs) -> None:
        """Turn ``row_result`` into an error result carrying ``error`` (with its row number)."""
        row_result.import_type = RowResult.IMPORT_TYPE_ERROR
        error_result_class = self.get_error_result_class()
        row_result.errors.append(
            error_result_class(error, row=row, number=kwargs.get("row_number"))
        )

    def _import_row_into(self, row_result, row, instance_loader, kwargs) -> None:
        self.before_import_row(row, **kwargs)
        instance, new = self.get_or_init_instance(instance_loader, row)
        self.after_init_instance(instance, new, row, **kwargs)
        row_result.import_type = RowResult.IMPORT_TYPE_NEW if new else RowResult.IMPORT_TYPE_UPDATE

        diff, original = self._start_diff(instance, new)
        if self.for_delete(row, instance):
            self._delete_row(row_result, instance, new, row, kwargs)
            after = None
        else:
            self._save_row(row_result, instance, new, original, row, kwargs)
            after = instance
            if diff is not None and not new:
                if isinstance(diff, LazyDiff):
                    row_result.set_lazy_original(diff)
                else:
                    row_result.original = original

        if diff is not None:
            self._finish_diff(row_result, diff, after)
        self.after_import_row(row, row_result, **kwargs)

    def _start_diff(self, instance: Any, new: bool) -> tuple[Any, Any]:
        """``(diff, original)`` for a row about to be applied; both ``None`` with skip_diff.

        Within a planned import whose fields allow it, the diff is a :class:`LazyDiff` (a
        tuple of the instance's values, rendered when ``RowResult.diff`` is read, which also
        makes ``RowResult.original`` when that is read); an original is built now only for a
        ``skip_row`` that compares with it. Otherwise, as upstream: a deep copy and an eager
        ``get_diff_class()`` diff.
        """
        if self._meta.skip_diff:
            return None, None
        plan = self.__dict__.get("_import_plan")
        state = plan.diff_state if plan is not None else None
        if state is None:
            original = _deepcopy(instance)
            return self.get_diff_class()(self, original, new), original
        diff = LazyDiff(self, state, state.capture(instance, share=True), new)
        # skip_row() compares with the original; only build one when it may look at it.
        wanted = self._meta.skip_unchanged or _overrides_method(self, "skip_row")
        return diff, diff.original() if wanted else None

    def _finish_diff(self, row_result: RowResult, diff: Any, after: Any) -> None:
        if isinstance(diff, LazyDiff):
            diff.compare_with(after)
            row_result.set_lazy_diff(diff)
            return
        diff.compare_with(self, after)
        if not self._meta.skip_html_diff:
            row_result.diff = diff.as_html()

    def _stores_instance(self, kwargs) -> bool:
        # retain_instance_in_row_result is the keyword older callers (the admin) pass.
        return bool(self._meta.store_instance or kwargs.get("retain_instance_in_row_result"))

    def _delete_row(self, row_result, instance, new, row, kwargs) -> None:
        if new:
            # Nothing to delete: the row names an object that does not exist.
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            return
        row_result.import_type = RowResult.IMPORT_TYPE_DELETE
        row_result.add_instance_info(instance)
        if self._stores_instance(kwargs):
            # Deleting clears the primary key; the copy keeps it for the caller.
            row_result.instance = _deepcopy(instance)
        self.delete_instance(instance, row, **kwargs)

    def _save_row(self, row_result, instance, new, original, row, kwargs) -> None:
        conversion_errors = self._apply_row_values(instance, row, kwargs)
        if self.skip_row(instance, original, row, conversion_errors):
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
        else:
            self._validate_and_write(instance, new, row, conversion_errors, kwargs)
        row_result.add_instance_info(instance)
        if self._stores_instance(kwargs):
            row_result.instance = instance

    def _apply_row_values(self, instance: Any, row: Mapping, kwargs) -> dict:
        """Set the row's values on ``instance``; the cells that failed, as an error dict.

        Failed cells do not stop the row here: ``skip_row`` and ``validate_instance`` get
        them, so the user sees conversion and model errors together.
        """
        try:
            self.import_instance(instance, row, **kwargs)
        except ValidationError as error:
            return error.update_error_dict({})
        return {}

    def _validate_and_write(self, instance, new, row, conversion_errors, kwargs) -> None:
        # validate_instance raises when anything is wrong, so nothing below runs for a bad row.
        self.validate_instance(instance, conversion_errors)
        # Only the row's own cells: a value it does not touch is what the database already holds.
        self._field_constraints().check_storable(instance, row)
        try:
            self.save_instance(instance, new, row, **kwargs)
        except (DatabaseError, OverflowError, ValidationError) as error:
            located = locate_save_error(self, instance, row, error)
            if located is error:
                raise
            raise located from error
        self.save_m2m(instance, row, **kwargs)

    # ---- the whole dataset --------------------------------------------------------------------

    def import_data(
        self,
        dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs,
    ) -> Result:
        """Import every row of a ``tablib.Dataset`` and return a :class:`Result`.

        With transactions (the default where the database has them) the whole import is one
        atomic block, rolled back for a dry run, for any row error, and, when
        ``rollback_on_validation_errors`` is set, for any invalid row. ``raise_errors`` raises
        :class:`~import_export.exceptions.ImportError` at the first failing row instead of
        reporting it. ``collect_failed_rows`` fills ``Result.failed_dataset``. Other keyword
        arguments reach every hook.
        """
        if use_transactions is None:
            use_transactions = self.get_use_transactions()
        alias = self.get_db_connection_name()
        has_transactions = self._database_supports_transactions(alias)
        if use_transactions and not has_transactions:
            raise ImproperlyConfigured(
                f"Transactions were requested for this import but the database '{alias}' "
                "does not support them; set use_transactions=False (or Meta.use_transactions, "
                "or IMPORT_EXPORT_USE_TRANSACTIONS) to import without one."
            )
        using_transactions = bool((use_transactions or dry_run) and has_transactions)
        self._check_batch_size()
        strip_byte_order_mark_from_headers(dataset)

        with _atomic(using_transactions, using=alias):
            result = self.import_data_inner(
                dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
            )
            if using_transactions and self._must_roll_back(
                result, dry_run, rollback_on_validation_errors
            ):
                set_rollback(True, using=alias)
        return result

    @staticmethod
    def _database_supports_transactions(alias: str) -> bool:
        return bool(getattr(_connection(alias).features, "supports_transactions", False))

    @staticmethod
    def _must_roll_back(result: Result, dry_run: bool, rollback_on_validation_errors: bool):
        return (
            dry_run
            or result.has_errors()
            or (rollback_on_validation_errors and result.has_validation_errors())
        )

    def _check_batch_size(self) -> None:
        batch_size = self._meta.batch_size
        if batch_size is None:
            return
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(
                f"Meta.batch_size must be a positive integer or None, got {batch_size!r}."
            )

    def import_data_inner(
        self,
        dataset,
        dry_run: bool,
        raise_errors: bool,
        using_transactions: bool,
        collect_failed_rows: bool,
        **kwargs,
    ) -> Result:
        """The body of :meth:`import_data`, run inside its transaction (if any)."""
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        result.field_columns = self._error_key_columns()

        kwargs.update({"dry_run": dry_run, "using_transactions": using_transactions})
        instance_loader = self._prepare_import(
            dataset, result, raise_errors, using_transactions, kwargs
        )
        if instance_loader is None:
            return result
        headers = list(dataset.headers or [])
        if collect_failed_rows:
            result.add_dataset_headers(headers)

        plan = ImportPlan.build(self, instance_loader, using_transactions)
        self.__dict__["_import_plan"] = plan
        try:
            # Counted while reading, so a streamed dataset (whose length is known only at its
            # end) reports the rows it really had; before_import() may also have changed them.
            result.total_rows = self._import_rows(
                plan, dataset, headers, result, raise_errors, collect_failed_rows, kwargs
            )
        finally:
            del self.__dict__["_import_plan"]

        if self._meta.use_bulk:
            self._flush_leftovers(result, dry_run, raise_errors, using_transactions)
        self._run_dataset_step(
            lambda: self.after_import(dataset, result, **kwargs),
            result,
            raise_errors,
            using_transactions,
        )
        return result

    def _import_rows(
        self, plan, dataset, headers, result, raise_errors, collect_failed_rows, kwargs
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
            self._prefetch(plan, batch)
            with plan.relations_installed():
                for number, values, row in batch:
                    consumed = number
                    # Hooks get copies (**kwargs); only this loop writes to the dict.
                    kwargs["row_number"] = number
                    row_result = self._import_row_in_transaction(
                        plan, row, values, headers, kwargs, seen_keys
                    )
                    row_result.number = number
                    if self._meta.use_bulk:
                        self._flush_full_batches(result, dry_run, raise_errors, using_transactions)
                    self._record_row_result(
                        result, row_result, number, row, collect_failed_rows, raise_errors
                    )
        return consumed

    def _prefetch(self, plan, batch) -> None:
        """Read the batch's lookups; on any failure the batch's rows look up one by one (the
        failure, if it is theirs, then surfaces on the row that causes it)."""
        if not plan.batched:
            return
        try:
            # Where rows need savepoints (a failed statement aborts the transaction), so do
            # the batch's reads: a failed read must not break the rows that follow.
            with _atomic(plan.row_savepoint, using=self.get_db_connection_name()):
                plan.prefetch([row for _, _, row in batch])
        except Exception:
            _log().debug("batched lookups failed; this batch looks up row by row", exc_info=True)
            plan.forget_batch()

    def _import_row_in_transaction(self, plan, row, values, headers, kwargs, seen_keys):
        """Import one row, all or nothing: in a savepoint where the plan asks for one, and
        otherwise (one statement on a backend where a failed statement changes nothing) by
        clearing the rollback mark a failed save leaves on the import's transaction."""
        alias = self.get_db_connection_name()
        with _atomic(plan.row_savepoint, using=alias):
            row_result = self._import_one_row(
                row, values, headers, plan.instance_loader, kwargs, seen_keys
            )
            if row_result.has_errors():
                if plan.row_savepoint:
                    # Undo this row's partial writes and keep the transaction usable for the
                    # rows that follow (PostgreSQL refuses every query after an error).
                    set_rollback(True, using=alias)
                elif kwargs["using_transactions"]:
                    _clear_failed_statement_mark(alias)
        return row_result

    def _run_dataset_step(self, step, result, raise_errors, using_transactions) -> bool:
        """Run a whole-dataset hook in the import's transaction; whether it succeeded.

        Its exception belongs to no row, so it becomes a base error of ``result`` (raised
        as ``ImportError`` with ``raise_errors``).
        """
        try:
            with _atomic(using_transactions, using=self.get_db_connection_name()):
                step()
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
            return False
        return True

    def _prepare_import(self, dataset, result, raise_errors, using_transactions, kwargs):
        """Run ``before_import``, check the id columns and build the loader.

        Returns ``None`` (after recording the error) when any of that fails: importing rows
        that cannot be matched to existing objects would create duplicates.
        """
        before_ok = self._run_dataset_step(
            lambda: self.before_import(dataset, **kwargs), result, raise_errors, using_transactions
        )
        if not before_ok:
            return None
        try:
            self._check_import_id_fields(dataset.headers)
            return self.get_instance_loader_class()(self, dataset)
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)
            return None

    def _import_one_row(
        self, row, values, headers, instance_loader, kwargs, seen_keys
    ) -> RowResult:
        number = kwargs["row_number"]
        if self._meta.reject_ragged_rows and len(values) != len(headers):
            return self._failed_row_result(_row_length_error(number, headers, values), row, kwargs)
        duplicate = self._duplicate_key_error(row, number, seen_keys)
        if duplicate is not None:
            return self._failed_row_result(duplicate, row, kwargs)
        return self.import_row(row, instance_loader, **kwargs)

    def _duplicate_key_error(self, row, number, seen_keys) -> DuplicateKeyError | None:
        """The error for a row whose id cells repeat an earlier row's, remembering new keys.

        Raw cell text is compared (stripped), so the check costs no conversion; rows without
        a complete key are new objects and cannot collide.
        """
        if not self._meta.reject_duplicate_import_ids or self._meta.force_init_instance:
            return None
        columns = self._id_columns()
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

    def _id_columns(self) -> list[str]:
        names = list(self.get_import_id_fields())
        if any(name not in self.fields for name in names):
            return []
        return [self.fields[name].column_name for name in names]

    def _failed_row_result(self, error: BaseException, row, kwargs) -> RowResult:
        row_result = self.get_row_result_class()()
        self._attach_row_error(row_result, error, row, kwargs)
        return row_result

    def _flush_full_batches(self, result, dry_run, raise_errors, using_transactions) -> None:
        """Write each bulk queue that reached ``batch_size``, so memory stays bounded."""
        batch_size = self._meta.batch_size
        if batch_size is None:
            return
        alias = self.get_db_connection_name()
        # (queue attribute, writer, whether the writer takes batch_size); bulk_delete does not.
        queues = (
            ("create_instances", self.bulk_create, True),
            ("update_instances", self.bulk_update, True),
            ("delete_instances", self.bulk_delete, False),
        )
        for queue_name, write, takes_batch_size in queues:
            if len(getattr(self, queue_name)) < batch_size:
                continue
            extra = {"batch_size": batch_size} if takes_batch_size else {}
            written = list(getattr(self, queue_name))
            with _atomic(using_transactions, using=alias):
                write(using_transactions, dry_run, raise_errors, result=result, **extra)
            plan = self.__dict__.get("_import_plan")
            if plan is not None:
                # Rows of the current batch read before this write must not trust that read.
                plan.forget_written(written)

    def _flush_leftovers(self, result, dry_run, raise_errors, using_transactions) -> None:
        """Write what the queues still hold after the last row, in one transaction block."""
        with _atomic(using_transactions, using=self.get_db_connection_name()):
            for write in (self.bulk_create, self.bulk_update, self.bulk_delete):
                write(using_transactions, dry_run, raise_errors, result=result)

    def _record_row_result(
        self, result, row_result, number, row, collect_failed_rows, raise_errors
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
        if not row_result.is_skip() or self._meta.report_skipped:
            result.append_row_result(row_result)

    def _error_key_columns(self) -> dict[str, str]:
        """Map every key a row's validation errors may use to the column a person sees.

        Conversion errors are keyed by field attribute (``author_id``), model validation errors
        by model field name (``author``); both should name the file's column. Every declared
        field is mapped (a lookup table may hold more than one import uses), read from
        ``self.fields`` so that an overridden ``get_import_fields()`` runs exactly where
        upstream runs it.
        """
        columns: dict[str, str] = {}
        for field in self.fields.values():
            if not field.attribute or not field.column_name:
                continue
            columns.setdefault(field.attribute, field.column_name)
            model_field = _concrete_model_field(self._meta.model, field.attribute)
            if model_field is not None:
                columns.setdefault(model_field.name, field.column_name)
        return columns

    # ---- checks and small helpers ---------------------------------------------------------------

    def _is_using_transactions(self, kwargs: Mapping) -> bool:
        return kwargs.get("using_transactions", False)

    def _is_dry_run(self, kwargs: Mapping) -> bool:
        return kwargs.get("dry_run", False)

    def _writes_are_suppressed(self, kwargs: Mapping) -> bool:
        """A dry run without a transaction must not write at all, since nothing could undo it."""
        return self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs)

    def _check_import_id_fields(self, headers: Sequence[str] | None) -> None:
        """Fail early, naming the columns, when ``import_id_fields`` cannot be matched.

        Without its id columns every row would look new, so an import meant to update records
        would duplicate them instead. The default ``["id"]`` is exempt: a file without ids is
        the normal way to add new records.
        """
        if self._uses_default_import_id_fields():
            return
        # The wording of both messages is upstream's: code written for django-import-export
        # compares them (e.g. to tell a configuration error from a bad file).
        id_field_names = list(self.get_import_id_fields())
        unknown = [name for name in id_field_names if name not in self.fields]
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
            self.fields[name].column_name
            for name in id_field_names
            if self.fields[name].column_name not in present
        ]
        if missing:
            raise exceptions.FieldError(
                _(
                    "The following fields are declared in 'import_id_fields' but are not "
                    "present in the file headers: %s"
                )
                % ", ".join(map(str, missing))
            )


class ModelResourceImportMixin:
    """Import methods that need ``Meta.model``; mixed into ``ModelResource``."""

    def init_instance(self, row: Mapping | None = None) -> Any:
        """A new, unsaved instance of ``Meta.model``."""
        return self._meta.model()

    def after_import(self, dataset, result: Result, **kwargs) -> None:
        """Reset the model's primary key sequence after rows with explicit ids were inserted.

        On PostgreSQL (and others with sequences) inserting explicit ids leaves the sequence
        behind, so the next ordinary ``save()`` would collide with an imported id.
        """
        super().after_import(dataset, result, **kwargs)
        if self._is_dry_run(kwargs) or not result.totals.get(RowResult.IMPORT_TYPE_NEW):
            return
        connection = _connection(self.get_db_connection_name())
        statements = connection.ops.sequence_reset_sql(no_style(), [self._meta.model])
        if not statements:
            return
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _overrides_method(resource: Any, name: str) -> bool:
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
