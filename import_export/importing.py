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

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, router
from django.db.transaction import set_rollback
from django.utils.encoding import force_str

from . import exceptions, field_constraints, import_engine
from .diff import Diff
from .import_engine import (  # noqa: F401 - names importers of this module use
    DuplicateKeyError,
    RowLengthError,
    _atomic,
    _concrete_model_field,
    _connection,
    _is_many_to_many,
    _log,
    _PendingInstances,
    _remember_failed_cell,
    _shared,
    logger,
)
from .instance_loaders import BaseInstanceLoader
from .results import Error, Result, RowResult
from .utils import strip_byte_order_mark_from_headers

#: ``import_id_fields`` value under which a file without an id column is normal (every row new).
DEFAULT_IMPORT_ID_FIELDS = ("id",)


class _NoInstanceLoader(BaseInstanceLoader):
    """Used by a plain ``Resource`` that names no loader: every row starts a new instance."""

    def get_instance(self, row: Mapping) -> None:
        return None


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
        return import_engine.bulk_update_field_names(self)

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
        return import_engine.conversion_failure(self, field, instance, row, kwargs)

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
            import_engine.field_would_change(self, field, instance, original, row)
            for field in self._import_fields()
        )

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
        return import_engine.field_constraints_of(self)

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
        import_engine.flush_queue(
            self,
            self.create_instances,
            lambda objs: import_engine.write_bulk_create(self, objs, batch_size),
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
        import_engine.flush_queue(
            self,
            self.update_instances,
            lambda objs: import_engine.write_bulk_update(self, objs, batch_size),
            using_transactions,
            dry_run,
            raise_errors,
            result,
        )

    def bulk_delete(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        result: Result | None = None,
    ) -> None:
        """Delete the queued instances with one query on their primary keys."""
        import_engine.flush_queue(
            self,
            self.delete_instances,
            lambda objs: self._meta.model.objects.filter(pk__in=[o.pk for o in objs]).delete(),
            using_transactions,
            dry_run,
            raise_errors,
            result,
        )

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
        return import_engine.import_row(self, row, instance_loader, kwargs)

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
        using_transactions = import_engine.decide_transactions(alias, use_transactions, dry_run)
        import_engine.check_batch_size(self)
        strip_byte_order_mark_from_headers(dataset)

        with _atomic(using_transactions, using=alias):
            result = self.import_data_inner(
                dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
            )
            if using_transactions and import_engine.must_roll_back(
                result, dry_run, rollback_on_validation_errors
            ):
                set_rollback(True, using=alias)
        return result

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
        return import_engine.run_import(
            self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, kwargs
        )

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
        import_engine.check_import_id_fields(self, headers)


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
        import_engine.reset_pk_sequence(self)
