"""What does not change from one imported row to the next, worked out once per import.

Upstream recomputes the import fields, their widgets and the diff's field list several times
per row.  :class:`ImportPlan` computes them once, before the first row, together with the
decisions the row engine takes from them: which lookups are batched (and why the others are
not), whether a row needs a savepoint of its own, and whether diffs can be rendered lazily.
``ResourceImportMixin.import_data_inner`` builds one and holds it for the duration of the
import; hooks called outside an import (e.g. a direct ``import_row()``) see no plan and work
row by row, as upstream.

The decisions are written for users in ``docs/import_engine.rst``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models.fields import NOT_PROVIDED
from django.utils.encoding import force_str

from . import widgets
from .batched_lookups import (
    BatchedInstanceLoader,
    BatchedRelations,
    instance_batching_blocker,
    relation_batching_blocker,
)
from .diff import Diff, InstanceState
from .error_text import shorten
from .fields import Field
from .utils import keeps_methods

#: Rows read ahead and looked up together when ``Meta.batch_size`` is ``None``.
DEFAULT_IMPORT_BATCH_SIZE = 1000

#: Backends on which a failed statement leaves the transaction usable and changes nothing, so
#: a row that writes one statement needs no savepoint to stay all-or-nothing.  PostgreSQL is
#: not among them: there a failed statement aborts the whole transaction until a rollback.
_STATEMENT_ATOMIC_VENDORS = frozenset({"sqlite"})

#: Steps that run once a row has started writing; a resource overriding one of them may write
#: more than the row's own statement, so its rows keep a savepoint each.
_WRITING_HOOKS = (
    "import_row",
    "save_instance",
    "do_instance_save",
    "delete_instance",
    "save_m2m",
    "before_save_instance",
    "after_save_instance",
    "before_delete_instance",
    "after_delete_instance",
    "after_import_row",
    "for_delete",
)


def _overrides(resource: Any, name: str) -> bool:
    """Whether ``resource``'s class replaces the import mixins' own ``name``."""
    from .importing import ModelResourceImportMixin, ResourceImportMixin

    own = getattr(type(resource), name, None)
    defaults = (
        getattr(ResourceImportMixin, name, None),
        getattr(ModelResourceImportMixin, name, None),
    )
    return all(own is not default for default in defaults)


@dataclass
class ImportPlan:
    """The per-import decisions of the row engine (see the module docstring)."""

    #: The import fields, in import order (``get_import_fields()`` called once).
    fields: list
    #: Whether ``get_import_fields()`` may be answered from :attr:`fields` during the import.
    fields_are_stable: bool
    #: The import fields that are not many-to-many, and those that are.
    plain_fields: list
    m2m_fields: list
    #: Whether lookups are batched at all (``Meta.batch_import_lookups``).
    batched: bool
    batch_size: int
    #: The loader rows are looked up with (a :class:`BatchedInstanceLoader` when batched).
    instance_loader: Any
    relations: BatchedRelations | None
    #: Whether each row runs inside its own savepoint.
    row_savepoint: bool
    #: Captures instances for lazy diffs; ``None`` when diffs are eager or off.
    diff_state: InstanceState | None
    #: Why each lookup that is not batched is done per row (lookup -> reason), for debugging.
    per_row_reasons: dict[str, str] = field(default_factory=dict)
    #: :attr:`plain_fields` paired with whether the row engine may set the field's value
    #: itself (see :meth:`import_plain_fields`); ``None`` when every field goes through
    #: ``import_field()`` (the resource overrides it, or its import fields are not stable).
    direct_fields: list[tuple[Any, bool]] | None = None

    @classmethod
    def build(cls, resource: Any, loader: Any, using_transactions: bool) -> ImportPlan:
        """The plan for one import of ``resource``, whose rows ``loader`` looks up."""
        meta = resource._meta
        stable = not _overrides(resource, "get_import_fields")
        # An overridden get_import_fields() is left to be called where upstream calls it; the
        # plan then decides from every declared field, a superset of what any row imports.
        fields_list = list(resource.get_import_fields() if stable else resource.fields.values())
        m2m = [f for f in fields_list if isinstance(f.widget, widgets.ManyToManyWidget)]
        plain = [f for f in fields_list if f not in m2m]
        batched = bool(getattr(meta, "batch_import_lookups", True))
        reasons: dict[str, str] = {}
        instance_loader, relations = loader, None
        diff_state = cls._diff_state(resource, batched, fields_list, m2m)
        if not batched:
            reasons["*"] = "Meta.batch_import_lookups is False"
        else:
            related = [f.name for f in diff_state.diff_relations] if diff_state is not None else []
            instance_loader = cls._instance_loader(resource, loader, reasons, related)
            relations = cls._relations(resource, fields_list, reasons)
        return cls(
            fields=fields_list,
            fields_are_stable=stable,
            plain_fields=plain,
            m2m_fields=m2m,
            batched=batched,
            batch_size=meta.batch_size or DEFAULT_IMPORT_BATCH_SIZE,
            instance_loader=instance_loader,
            relations=relations,
            row_savepoint=cls._needs_row_savepoint(resource, batched, m2m, using_transactions),
            diff_state=diff_state,
            per_row_reasons=reasons,
            direct_fields=cls._direct_fields(resource, stable, plain) if batched else None,
        )

    @staticmethod
    def _direct_fields(resource: Any, stable: bool, plain: list) -> list | None:
        if not stable or _overrides(resource, "import_field"):
            return None
        if _overrides(resource, "_conversion_failure"):
            return None
        return [(candidate, _sets_cells_as_field_does(candidate)) for candidate in plain]

    def import_plain_fields(self, resource: Any, instance: Any, row: Any, kwargs: dict) -> dict:
        """Import the row's non-many-to-many cells onto ``instance``; the conversion errors
        (attribute -> ``ValidationError``), as ``import_instance()`` collects them.

        What ``import_field()`` → ``Field.save()`` → ``Field.clean()`` do for a field, done
        here without the three calls, for a field that does them as :class:`Field` does
        (:func:`_sets_cells_as_field_does`) and, checked on every row since a hook may change
        it, has a plain attribute (no ``__`` path), is not read-only and whose column the row
        holds: the widget's ``clean()`` (the same arguments), the default for an empty value,
        ``saves_null_values``, then ``setattr``.  Every other field, and every field of a row
        whose keyword arguments would collide with those calls' own parameters, goes through
        ``import_field()`` as before.  Errors are what that path reports: a ``ValueError``
        becomes the cell's validation message, anything else is tagged with its cell and
        propagates.
        """
        from .import_engine import _remember_failed_cell  # import_engine imports this module

        errors = {}
        allowed = not (kwargs.keys() & _CALL_PARAMETERS)
        for import_field, direct in self.direct_fields:
            attribute = import_field.attribute
            column = import_field.column_name
            if not (
                direct
                and allowed
                and attribute
                and "__" not in attribute
                and not import_field.readonly
                and column in row
            ):
                message = resource._conversion_failure(import_field, instance, row, kwargs)
                if message is not None:
                    errors[attribute] = ValidationError(message, code="invalid")
                continue
            try:
                value = import_field.widget.clean(row[column], row=row, **kwargs)
                default = import_field.default
                if default is not NOT_PROVIDED and value in import_field.empty_values:
                    value = default() if callable(default) else default
                if value is None and not import_field.saves_null_values:
                    continue
                setattr(instance, attribute, value)
            except ValueError as error:
                errors[attribute] = ValidationError(shorten(force_str(error)), code="invalid")
            except Exception as error:
                _remember_failed_cell(error, import_field, row)
                raise
        return errors

    @staticmethod
    def _instance_loader(resource: Any, loader: Any, reasons: dict[str, str], related) -> Any:
        blocker = instance_batching_blocker(resource, loader)
        if blocker is not None:
            reasons["instances"] = blocker
            return loader
        return BatchedInstanceLoader(loader, select_related=related)

    @staticmethod
    def _relations(resource: Any, fields_list: list, reasons: dict[str, str]):
        batchable = []
        for candidate in fields_list:
            if not isinstance(
                candidate.widget, (widgets.ForeignKeyWidget, widgets.ManyToManyWidget)
            ):
                continue
            if candidate.readonly or not candidate.attribute:
                continue
            blocker = relation_batching_blocker(resource, candidate)
            if blocker is None:
                batchable.append(candidate)
            else:
                reasons[str(candidate.column_name)] = blocker
        return BatchedRelations(batchable) if batchable else None

    @staticmethod
    def _needs_row_savepoint(resource: Any, batched: bool, m2m: list, using_transactions) -> bool:
        """Whether a failing row could leave part of its writes behind without a savepoint.

        Bulk mode writes no row on its own (as upstream, it has no row savepoints).  A row
        that writes one statement on a backend where a failed statement changes nothing is
        all-or-nothing by itself; a row that may write more (many-to-many values after the
        instance, a multi-table-inheritance model, a resource overriding a writing step) or
        any row on another backend gets its own savepoint, rolled back when the row fails.
        """
        meta = resource._meta
        if not using_transactions or meta.use_bulk:
            return False
        if not batched or m2m or meta.model is None or meta.model._meta.parents:
            return True
        vendor = connections[resource.get_db_connection_name()].vendor
        if vendor not in _STATEMENT_ATOMIC_VENDORS:
            return True
        return any(_overrides(resource, name) for name in _WRITING_HOOKS)

    @staticmethod
    def _diff_state(resource: Any, batched: bool, fields_list: list, m2m: list):
        """The capture for lazy diffs, or ``None`` to keep upstream's eager :class:`Diff`."""
        meta = resource._meta
        if not batched or meta.skip_diff or meta.skip_html_diff or m2m:
            return None
        if resource.get_diff_class() is not Diff or _overrides(resource, "get_import_fields"):
            return None
        return InstanceState.for_fields(meta.model, fields_list)

    # -- rows, batch by batch -------------------------------------------------------------------

    def batches(self, rows: Iterable[tuple[int, Sequence, Any]]) -> Iterator[list]:
        """``rows`` in lists of :attr:`batch_size`, read from the iterator as they are needed
        (one batch is in memory at a time, so a streamed source stays streamed)."""
        size = self.batch_size if self.batched else 1
        batch: list = []
        for item in rows:
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def prefetch(self, rows: Sequence[Any]) -> None:
        """Read what the batch's rows name (relations first: instance keys may use them)."""
        if self.relations is not None:
            self.relations.prefetch(rows)
        if isinstance(self.instance_loader, BatchedInstanceLoader):
            with self.relations_installed():
                self.instance_loader.prefetch(rows)

    def forget_batch(self) -> None:
        """Drop what a failed prefetch may have half read: every lookup goes row by row."""
        if self.relations is not None:
            self.relations.forget()
        if isinstance(self.instance_loader, BatchedInstanceLoader):
            self.instance_loader.forget()

    def forget_written(self, instances: Sequence[Any]) -> None:
        """Instances a bulk write changed after the current batch was read."""
        if isinstance(self.instance_loader, BatchedInstanceLoader):
            self.instance_loader.forget_instances(instances)

    def relations_installed(self):
        """A context in which the batched relation widgets answer from the prefetched batch."""
        return self.relations if self.relations is not None else _NoRelations()


#: Parameter names of ``import_field()``, ``Field.save()`` and ``Field.clean()``: a row whose
#: keyword arguments hold one of them takes those calls (and the error they raise).
_CALL_PARAMETERS = frozenset({"field", "instance", "row", "is_m2m"})


#: ``Field``'s own methods that importing a cell runs, taken when this module is imported: a
#: method replaced later on the class itself (``mock.patch("...Field.save")``) is not these.
_FIELD_CELL_METHODS = {name: vars(Field)[name] for name in ("save", "clean", "_cell")}


def _sets_cells_as_field_does(import_field: Any) -> bool:
    """Whether ``import_field`` imports a cell exactly as :class:`Field` does: none of the
    methods ``Field.save()`` runs is replaced (by a subclass, on the class or on the object)."""
    return isinstance(import_field, Field) and keeps_methods(import_field, _FIELD_CELL_METHODS)


class _NoRelations:
    def __enter__(self) -> _NoRelations:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None
