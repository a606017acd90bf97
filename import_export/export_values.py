"""Reading exported columns with ``values_list()`` instead of building model instances.

Building a model instance (and a related one per ``select_related`` join) costs more than
rendering a dozen cells.  When every exported column is a plain path to a database column,
rendered by one of this package's own widgets, the values the widgets would receive can be read
straight from ``values_list()``: same values, same order, no instances.

The rule is strict so the rows cannot differ from the instance path:

* the resource overrides none of ``export_resource``, ``export_field``, ``iter_queryset``, and
  no column has a dehydrate method;
* each field is a plain :class:`~import_export.fields.Field` (``get_value`` and ``export`` not
  overridden) and its widget's ``render`` is this package's own;
* each attribute path follows single-valued relations only (foreign keys with a database
  constraint, so that a join never drops a row) and ends on a concrete column, or on a foreign
  key rendered by a (non natural-key) ``ForeignKeyWidget``;
* every model the path reads loads its instances plainly, so an attribute holds exactly the
  column's value: no override of ``from_db()`` or ``__init__()``, no ``post_init`` receiver,
  and Django's own descriptor on each attribute read (a custom field's descriptor, such as a
  file field's, may hand out something else);
* the queryset is a plain model QuerySet: no ``values()``, ``distinct()``, annotations,
  aggregation, ``extra()``, unions or ``prefetch_related``;
* the queryset's ordering fixes the order of every row: it includes the primary key or a unique
  non-null column.  Without that, the database may return the rows of the narrower
  ``values_list()`` query in another order than the instance query (SQLite reads a covering
  index, PostgreSQL picks another join or sort), and "the same rows in the same order" would
  hold only by chance.

Anything else uses model instances.  ``Meta.optimize_export_queries = False`` switches it off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from inspect import getattr_static
from typing import Any

from django.db.models import F, Model, OrderBy, QuerySet, signals
from django.db.models.fields.related_descriptors import (
    ForeignKeyDeferredAttribute,
    ForwardManyToOneDescriptor,
    ForwardOneToOneDescriptor,
    ReverseOneToOneDescriptor,
)
from django.db.models.fields.reverse_related import OneToOneRel
from django.db.models.query_utils import DeferredAttribute

from .fields import Field

ValueCell = Callable[[tuple], Any]


def is_builtin_render(widget: Any) -> bool:
    """Whether the widget's ``render`` is one of this package's, whose behaviour is known."""
    render = getattr(type(widget), "render", None)
    return getattr(render, "__module__", None) == "import_export.widgets"


def _is_plain_field(field: Field) -> bool:
    cls = type(field)
    return cls.get_value is Field.get_value and cls.export is Field.export


#: Django's descriptors of column attributes and of single-valued relations: an instance
#: attribute behind one of them holds exactly what the database returned.
_COLUMN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)
_RELATION_DESCRIPTORS = (
    ForwardManyToOneDescriptor,
    ForwardOneToOneDescriptor,
    ReverseOneToOneDescriptor,
)


def _loads_plainly(model) -> bool:
    """Whether instances of ``model`` hold the loaded values untouched.

    ``values_list()`` skips ``from_db()``, ``__init__()`` and the ``post_init`` signal, so a
    model that changes values in any of them must be read as instances.
    """
    return (
        model.from_db.__func__ is Model.from_db.__func__
        and model.__init__ is Model.__init__
        and not signals.post_init.has_listeners(model)
    )


def _has_plain_descriptor(model, attribute: str, kinds: tuple[type, ...]) -> bool:
    """Whether ``model.<attribute>`` is one of Django's own descriptors of the given kinds.

    Exact types: a subclass (a file field's descriptor, a custom field's) may hand out
    something else than the column's value.  An attribute name that is not a descriptor at
    all (a reverse relation's query name that differs from its accessor) fails too.
    """
    try:
        descriptor = getattr_static(model, attribute)
    except AttributeError:
        return False
    return type(descriptor) in kinds


def _single_valued_step(model, name: str):
    """The related model reached through ``name`` if it is a single-valued relation, else None."""
    try:
        django_field = model._meta.get_field(name)
    except Exception:
        return None
    if not _has_plain_descriptor(model, name, _RELATION_DESCRIPTORS):
        return None
    if isinstance(django_field, OneToOneRel):
        return django_field.related_model
    if (
        getattr(django_field, "concrete", False)
        and (django_field.many_to_one or django_field.one_to_one)
        and getattr(django_field, "attname", None) != name
        and django_field.db_constraint
    ):
        # Without a database constraint the key may point at nothing: the instance reads
        # that as None, but the join would drop the row (or give a value of None).
        return django_field.related_model
    return None


def _column_at_end(model, name: str) -> str | None:
    """``"column"`` if ``name`` is a concrete non-relation column (or an ``_id`` attname),
    ``"relation"`` if it is a forward foreign key / one-to-one, ``None`` otherwise."""
    if name == "pk":
        plain_pk = getattr_static(model, "pk", None) is vars(Model)["pk"]
        pk_column = model._meta.pk.attname
        return "column" if plain_pk and _column_at_end(model, pk_column) == "column" else None
    try:
        django_field = model._meta.get_field(name)
    except Exception:
        return None
    if not getattr(django_field, "concrete", False):
        return None
    if not django_field.is_relation or (
        getattr(django_field, "attname", None) == name and django_field.name != name
    ):
        return "column" if _has_plain_descriptor(model, name, _COLUMN_DESCRIPTORS) else None
    if (
        (django_field.many_to_one or django_field.one_to_one)
        and django_field.db_constraint
        and _has_plain_descriptor(model, name, _RELATION_DESCRIPTORS)
    ):
        return "relation"
    return None


def _walk(model, parts: list[str]) -> tuple[Any, str | None]:
    """Follow all but the last part through single-valued relations; classify the last one."""
    current = model
    for name in parts[:-1]:
        if not _loads_plainly(current):
            return None, None
        current = _single_valued_step(current, name)
        if current is None:
            return None, None
    if not _loads_plainly(current):
        return None, None
    return current, _column_at_end(current, parts[-1])


class ValueColumns:
    """The ``values_list()`` paths of an export and one cell renderer per exported column."""

    def __init__(self, paths: list[str], cells: list[ValueCell]):
        self.paths = paths
        self.cells = cells

    @classmethod
    def build(
        cls, model, fields: list[Field], render_kwargs: dict[str, Any]
    ) -> ValueColumns | None:
        """The value columns for ``fields``, or None when one of them needs an instance."""
        paths: list[str] = []
        cells: list[ValueCell] = []
        for field in fields:
            cell = _column_cell(model, field, len(paths), paths, render_kwargs)
            if cell is None:
                return None
            cells.append(cell)
        return cls(paths, cells)

    def rows(self, value_rows: Iterable[tuple]) -> Iterator[list[Any]]:
        cells = self.cells
        return render_each(lambda values: [cell(values) for cell in cells], value_rows)


def render_each(render: Callable[[Any], list[Any]], source: Iterable) -> Iterator[list[Any]]:
    """Yield ``render(item)`` for each item of ``source``, closing ``source`` however it ends.

    The source is a chain of generators ending in a database cursor.  Closing it here, when a
    row fails to render or the consumer stops early, releases the cursor at once; left to the
    garbage collector, a PostgreSQL server-side cursor may be closed much later, in the middle
    of another query on the same connection.
    """
    try:
        for item in source:
            yield render(item)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _column_cell(
    model, field: Field, index: int, paths: list[str], kwargs: dict[str, Any]
) -> ValueCell | None:
    """Append the paths one column reads to ``paths`` and return its renderer (or None)."""
    widget = field.widget
    parts = list(field.attribute_path)
    if not parts or not _is_plain_field(field) or not is_builtin_render(widget):
        return None
    _, kind = _walk(model, parts)
    render = widget.render
    if kind == "column":
        paths.append("__".join(parts))
        return lambda values: render(values[index], **kwargs)
    if kind == "relation" and _renders_related_column(model, parts, widget):
        paths.append("__".join(parts))
        paths.append("__".join(parts + widget.field.split("__")))
        empty = render(None, **kwargs)
        return lambda values: empty if values[index] is None else values[index + 1]
    return None


def _renders_related_column(model, parts: list[str], widget: Any) -> bool:
    """Whether the widget renders a column of the related object (a plain ForeignKeyWidget)."""
    from .widgets import ForeignKeyWidget

    if not isinstance(widget, ForeignKeyWidget) or widget.use_natural_foreign_keys:
        return False
    if widget.key_is_id or not isinstance(widget.field, str):
        return False
    related, _ = _walk(model, parts + ["pk"])
    if related is None:
        return False
    target, kind = _walk(related, widget.field.split("__"))
    return kind == "column"


def can_read_values(queryset: Any) -> bool:
    """Whether ``values_list()`` on this queryset selects the same rows in the same order."""
    if not isinstance(queryset, QuerySet):
        return False
    query = queryset.query
    return not (
        queryset._fields is not None
        or queryset._prefetch_related_lookups
        or query.distinct
        or query.combinator
        or query.group_by is not None
        or query.annotations
        or query.extra
        or not has_total_ordering(queryset)
    )


def has_total_ordering(queryset: QuerySet) -> bool:
    """Whether the queryset's ordering leaves no two rows tied: one of its terms is the primary
    key or a unique non-null column of the queryset's model."""
    query = queryset.query
    if query.order_by:
        ordering = query.order_by
    elif query.default_ordering:
        ordering = queryset.model._meta.ordering
    else:
        ordering = ()
    return any(_is_unique_term(queryset.model, term) for term in ordering)


def _is_unique_term(model, term: Any) -> bool:
    """Whether one ``order_by`` term is the pk or a unique non-null column (not ``"?"``)."""
    if isinstance(term, OrderBy) and isinstance(term.expression, F):
        term = term.expression.name
    if isinstance(term, F):
        term = term.name
    if not isinstance(term, str):
        return False
    name = term.removeprefix("-")
    if name == "pk":
        return True
    try:
        django_field = model._meta.get_field(name)
    except Exception:
        return False
    if django_field.is_relation and name != getattr(django_field, "attname", None):
        return False  # ordering by a relation sorts by the related model's own ordering
    return bool(
        getattr(django_field, "concrete", False)
        and (django_field.primary_key or (django_field.unique and not django_field.null))
    )
