"""The export plan: everything about an export that does not change from one row to the next.

Upstream django-import-export asks the resource for its export fields, their names and their
dehydrate methods again for every row.  An :class:`ExportPlan` works them out once per export and
keeps one small callable per column, so the per-row work is only the rendering that really varies.
The classic ``Resource.export()`` and the streaming paths (``export_iter``, ``export_to_stream``)
all render rows through a plan; they differ only in where the rows go.

The plan also knows which relations the exported columns follow, so that it can add
``select_related`` / ``prefetch_related`` to the queryset and avoid one query per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.db.models.fields.reverse_related import ForeignObjectRel, OneToOneRel

from .export_values import (
    ValueColumns,
    can_read_values,
    has_total_ordering,
    is_builtin_render,
    render_each,
)
from .fields import Field
from .widgets import RenderContext

if TYPE_CHECKING:
    from .resources import Resource

Cell = Callable[[Any], Any]


def _overrides(resource: Resource, method_name: str) -> bool:
    """Whether the resource's class replaces the base ``Resource`` implementation of a method."""
    from .resources import Resource

    return getattr(type(resource), method_name) is not getattr(Resource, method_name)


class ExportPlan:
    """Fields, headers and per-column renderers of one export, computed once.

    ``selected_fields`` is the ``export_fields`` selection (names) or ``None`` for all fields;
    ``render_kwargs`` are the keyword arguments of the export call, handed to dehydration and to
    widgets exactly as the classic export hands them (for example ``force_native_type``).
    Hooks a resource overrides (``export_resource``, ``export_field``) are honoured: the plan then
    calls them per row instead of its precomputed renderers, so upstream code keeps working.
    """

    def __init__(
        self,
        resource: Resource,
        selected_fields: Iterable[str] | None = None,
        render_kwargs: dict[str, Any] | None = None,
    ):
        self.resource = resource
        self.selected_fields = selected_fields
        self.render_kwargs = dict(render_kwargs or {})
        # This package's widgets accept a render context: the language's number formats and the
        # time zone, looked up once here instead of once per cell.
        self.builtin_render_kwargs = {**self.render_kwargs, "render_context": RenderContext()}
        self.fields: list[Field] = list(resource.get_export_fields(selected_fields))
        self.headers: list[str] = list(resource.get_export_headers(selected_fields=selected_fields))
        self._row_renderer = self._build_row_renderer()

    # -- reading ---------------------------------------------------------------------------

    def read_rows(self, queryset: Any) -> Iterator[list[Any]]:
        """The rendered rows of ``queryset``, read the cheapest way that gives the same rows.

        Plain column exports are read with ``values_list()`` (see
        :mod:`import_export.export_values`); everything else through the resource's
        ``iter_queryset``, one model instance at a time, with the joins and prefetches the
        columns need (:meth:`optimize_queryset`).  ``Meta.optimize_export_queries = False``
        reads the queryset exactly as given.
        """
        if not _overrides(self.resource, "iter_queryset"):
            # Upstream's ordering lived in its iter_queryset; an override replaces it there too.
            queryset = _in_export_order(queryset)
        if not self.resource._meta.optimize_export_queries:
            return self.rows(self.resource.iter_queryset(queryset))
        columns = self.value_columns(queryset)
        if columns is not None:
            values = queryset.values_list(*columns.paths)
            return columns.rows(self.resource.iter_queryset(values))
        return self.rows(self.resource.iter_queryset(self.optimize_queryset(queryset)))

    def value_columns(self, queryset: Any) -> ValueColumns | None:
        """The ``values_list()`` reading of this export, or None when instances are needed.

        Paths are resolved on the queryset's own model: a resource may be given a queryset of
        a subclass of its ``Meta.model``.
        """
        if (
            not isinstance(queryset, QuerySet)
            or not can_read_values(queryset)
            or self._has_custom_rendering()
            or _overrides(self.resource, "iter_queryset")
        ):
            return None
        return ValueColumns.build(queryset.model, self.fields, self.builtin_render_kwargs)

    def _has_custom_rendering(self) -> bool:
        """Whether some column is rendered by resource code the plan cannot see through."""
        if _overrides(self.resource, "export_resource") or _overrides(
            self.resource, "export_field"
        ):
            return True
        return any(self.dehydrate_callable(field) is not None for field in self.fields)

    # -- rendering ---------------------------------------------------------------------------

    def render_row(self, obj: Any) -> list[Any]:
        """The exported cells of one object, in header order."""
        return self._row_renderer(obj)

    def rows(self, objects: Iterable[Any]) -> Iterator[list[Any]]:
        """Render each object as it is read; nothing is kept once a row has been yielded."""
        return render_each(self._row_renderer, objects)

    def _build_row_renderer(self) -> Callable[[Any], list[Any]]:
        if _overrides(self.resource, "export_resource"):
            return self._delegate_to_export_resource
        cells = [self._cell_renderer(field) for field in self.fields]
        return lambda obj: [cell(obj) for cell in cells]

    def _delegate_to_export_resource(self, obj: Any) -> list[Any]:
        return self.resource.export_resource(
            obj, selected_fields=self.selected_fields, **self.render_kwargs
        )

    def _cell_renderer(self, field: Field) -> Cell:
        """One callable per column: dehydrate method, overridden ``export_field``, or the field."""
        resource, kwargs = self.resource, self.render_kwargs
        if _overrides(resource, "export_field"):
            return lambda obj: resource.export_field(field, obj, **kwargs)
        dehydrate = self.dehydrate_callable(field)
        if dehydrate is not None:
            return dehydrate
        if type(field).export is Field.export and is_builtin_render(field.widget):
            get_value, render = field.get_value, field.widget.render
            builtin_kwargs = self.builtin_render_kwargs
            return lambda obj: render(get_value(obj), **builtin_kwargs)
        if kwargs:
            export = field.export
            return lambda obj: export(obj, **kwargs)
        return field.export

    def dehydrate_callable(self, field: Field) -> Cell | None:
        """The resource's ``dehydrate_<name>`` (or the field's ``dehydrate_method``), if any."""
        return self.resource._dehydrate_callable(field)

    # -- queries -----------------------------------------------------------------------------

    def optimize_queryset(self, queryset: Any) -> Any:
        """Add the joins and prefetches the exported columns need, keeping everything else.

        The caller's filters, ordering, ``select_related`` and ``prefetch_related`` are kept;
        relations are only added, and joined only when the ordering has no ties (else
        prefetched).  Querysets that cannot take them (``values()``, unions, deferred fields,
        anything that is not a QuerySet) are returned unchanged.
        """
        if not _can_add_relations(queryset):
            return queryset
        joins, prefetches = self.relation_lookups(queryset.model)
        if queryset.query.select_related is True:
            # A bare select_related() follows non-null keys only; naming paths now would drop
            # those implicit joins, so the relations it skips are prefetched per chunk instead.
            prefetches = joins + prefetches
        elif not has_total_ordering(queryset):
            # Rows the ordering leaves tied (all of them, when there is none) come back in
            # whatever order the database's plan gives, and a join gives it another plan
            # (PostgreSQL's hash join lists them by the joined table).  Prefetching leaves
            # the caller's query, and so its order, as it is.
            prefetches = joins + prefetches
        elif joins:
            queryset = queryset.select_related(*joins)
        prefetches = [p for p in prefetches if p not in _prefetched_paths(queryset)]
        if prefetches:
            queryset = queryset.prefetch_related(*prefetches)
        return queryset

    def relation_lookups(self, model) -> tuple[list[str], list[str]]:
        """``(select_related paths, prefetch_related paths)`` followed by the plan's columns.

        Only columns rendered by the field itself are considered: what a dehydrate method or an
        overridden hook reads cannot be known, and is left to the caller's queryset.
        """
        if _overrides(self.resource, "export_resource") or _overrides(
            self.resource, "export_field"
        ):
            return [], []
        joins: list[str] = []
        prefetches: list[str] = []
        for field in self.fields:
            if field is None or self.dehydrate_callable(field) is not None:
                continue
            join, prefetch = _lookups_for_path(model, _rendered_path(field))
            if join and join not in joins:
                joins.append(join)
            if prefetch and prefetch not in prefetches:
                prefetches.append(prefetch)
        return joins, prefetches


def _rendered_path(field: Field) -> list[str]:
    """The attribute path a field's export reads, extended by a ForeignKeyWidget's own ``field``."""
    path = list(field.attribute_path)
    widget_field = getattr(field.widget, "field", None)
    if path and isinstance(widget_field, str) and hasattr(field.widget, "model"):
        path.extend(widget_field.split("__"))
    return path


def _find_field(model, name: str):
    """A model field by name or attname, or a reverse relation by its accessor name."""
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        for relation in model._meta.related_objects:
            if relation.get_accessor_name() == name:
                return relation
    return None


def _lookups_for_path(model, path: list[str]) -> tuple[str | None, str | None]:
    """The select_related path and the prefetch_related path an attribute path needs.

    Single-valued relations are joined as long as the database guarantees that the related
    row exists; from the first key without a constraint on, the path is prefetched instead,
    because a join would drop (or empty) the rows whose key points at nothing.
    """
    joined: list[str] = []
    prefetched: list[str] = []
    current = model
    for name in path:
        django_field = _find_field(current, name)
        if django_field is None or not django_field.is_relation:
            break
        if getattr(django_field, "attname", None) == name and django_field.name != name:
            break  # the raw ``<fk>_id`` column: no join needed
        if django_field.many_to_many or django_field.one_to_many:
            accessor = (
                django_field.get_accessor_name()
                if isinstance(django_field, ForeignObjectRel)
                else django_field.name
            )
            prefetched.append(accessor)
            break
        if not _is_joinable(django_field):
            break
        if prefetched or not _is_enforced(django_field):
            prefetched.append(name)
        else:
            joined.append(name)
        current = django_field.related_model
    return _join(joined), _join(joined + prefetched) if prefetched else None


def _join(parts: list[str]) -> str | None:
    return "__".join(parts) if parts else None


def _is_joinable(django_field) -> bool:
    """Forward FK / one-to-one fields and reverse one-to-one relations can be select_related."""
    if isinstance(django_field, OneToOneRel):
        return True
    return bool(
        getattr(django_field, "concrete", False)
        and (django_field.many_to_one or django_field.one_to_one)
        and django_field.related_model is not None
    )


def _is_enforced(django_field) -> bool:
    """Whether the database guarantees the related row of a joinable relation exists.

    A ``ForeignKey(db_constraint=False)`` may point at a deleted row: reading it raises
    ``DoesNotExist`` (exported as empty), while a join would drop or empty the row.
    """
    return isinstance(django_field, OneToOneRel) or getattr(django_field, "db_constraint", True)


def _in_export_order(queryset: Any) -> Any:
    """The queryset in a stable order: the caller's, or the primary key's when it has none.

    * A queryset that prefetches without ``order_by()``: upstream 4.4 read it page by page
      ordered by primary key (in place of ``Meta.ordering``); ordering it so keeps those rows
      in upstream's order.  Prefetches the plan adds itself do not count: they are decided
      after this, as upstream never had them.
    * A queryset with no ordering at all: SQL then promises no order, and the order the
      database picks may change with the query the export runs (a join, a narrower
      ``values_list()``).  Reading it by primary key makes the export repeatable and lets the
      cheaper readings give exactly the rows, in exactly the order, of the plain one.
    Sliced querysets and unions cannot be reordered and are read as given.
    """
    if not isinstance(queryset, QuerySet):
        return queryset
    query = queryset.query
    if query.combinator or query.is_sliced:
        return queryset
    if queryset._prefetch_related_lookups and not query.order_by:
        return queryset.order_by("pk")
    if not queryset.ordered:
        return queryset.order_by("pk")
    return queryset


def _can_add_relations(queryset: Any) -> bool:
    if not isinstance(queryset, QuerySet):
        return False
    query = queryset.query
    if queryset._fields is not None or query.combinator:
        return False
    deferred_names, defer = query.deferred_loading
    return not deferred_names and defer


def _prefetched_paths(queryset: QuerySet) -> set[str]:
    paths = set()
    for lookup in queryset._prefetch_related_lookups:
        paths.add(lookup.prefetch_to if isinstance(lookup, Prefetch) else lookup)
    return paths
