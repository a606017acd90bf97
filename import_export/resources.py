"""Resources: how objects map to rows of a file, for export and import.

The public names are django-import-export's: :class:`Resource`, :class:`ModelResource` and
:func:`modelresource_factory`.  This module holds what export and import share (fields, ordering,
widgets for model fields) and the export entry points; the import methods live in
:mod:`import_export.importing`, the per-export rendering in :mod:`import_export.export_plan`, and
the format writers in :mod:`import_export.formats.streaming`.

Three ways to export, one rendering path:

* :meth:`Resource.export` builds a ``tablib.Dataset`` (upstream behaviour, memory grows with rows);
* :meth:`Resource.export_iter` yields one row (a list of cells) per object, lazily;
* :meth:`Resource.export_to_stream` writes a format to a file-like object as rows are read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from copy import deepcopy
from typing import IO, Any
from warnings import warn

import tablib
from django.db import connections  # noqa: F401 - code written for upstream patches it here
from django.db.models import ForeignKey, QuerySet
from django.db.models import fields as django_fields
from django.utils.encoding import force_str

from . import exceptions, widgets  # noqa: F401 - ``import_export.resources.exceptions``, as upstream
from .declarative import DeclarativeMetaclass, ModelDeclarativeMetaclass
from .diff import Diff  # noqa: F401 - public name: ``from import_export.resources import Diff``
from .export_plan import ExportPlan
from .fields import Field
from .importing import (
    ModelResourceImportMixin,
    ResourceImportMixin,
    logger,  # noqa: F401 - patched as ``import_export.resources.logger``
)
from .results import Error, Result, RowResult  # noqa: F401 - public names upstream re-exports
from .streaming import ProgressCallback, resolve_format, write_rows
from .utils import (
    atomic_if_using_transaction,  # noqa: F401 - patched here by upstream code
    get_related_model,
)

#: Rows read from the database at a time when neither ``Meta.chunk_size`` nor the setting says.
DEFAULT_CHUNK_SIZE = 100


def has_natural_foreign_key(model) -> bool:
    """Whether ``model`` can be referred to by natural key (both halves of the protocol exist)."""
    return hasattr(model, "natural_key") and hasattr(model.objects, "get_by_natural_key")


class Resource(ResourceImportMixin, metaclass=DeclarativeMetaclass):
    """Maps objects to rows and back; subclass it and declare fields on it.

    Keyword arguments given to the constructor are accepted so subclasses can take their own
    settings (for example the request user) without overriding ``__init__`` signatures.
    """

    def __init__(self, **kwargs):
        # ``fields`` on the class is the declaration; each instance gets its own copy so that
        # changing a field on one resource never leaks into another.
        self.fields = deepcopy(self.fields)

    # -- configuration shared by export and import ------------------------------------------

    def get_chunk_size(self) -> int:
        """Rows fetched from the database at a time: ``Meta.chunk_size`` or the setting."""
        if self._meta.chunk_size is not None:
            return self._meta.chunk_size
        from django.conf import settings

        return getattr(settings, "IMPORT_EXPORT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)

    def get_fields(self, **kwargs) -> list[Field]:
        """All fields, in declaration order (deprecated upstream; kept for old code)."""
        warn(
            "The 'get_fields()' method is deprecated and will be removed in a future release",
            DeprecationWarning,
            stacklevel=2,
        )
        return list(self.fields.values())

    def get_field_name(self, field: Field) -> str:
        """The name under which ``field`` is declared on this resource."""
        for field_name, candidate in self.fields.items():
            if candidate == field:
                return field_name
        raise AttributeError(f"Field {field} does not exists in {self.__class__} resource")

    def get_user_visible_fields(self) -> list[Field]:
        """Fields offered to a person choosing what to import or export."""
        return self.get_import_fields()

    def get_export_order(self) -> tuple[str, ...]:
        """Field names in export order: ``export_order``, then ``fields``, then the rest."""
        return self._get_ordered_field_names("export_order")

    def _get_ordered_field_names(self, order_field: str) -> tuple[str, ...]:
        """Names in the order ``Meta.<order_field>`` then ``Meta.fields`` give, then the rest."""
        explicit = tuple(getattr(self._meta, order_field) or ()) + tuple(self._meta.fields or ())
        order = list(dict.fromkeys(explicit))
        listed = set(order)
        for field_name, field in self.fields.items():
            if field_name not in listed and field.column_name not in listed:
                order.append(field_name)
        return tuple(order)

    def _select_field(self, target_field_name: str) -> Field | None:
        """A field by declared name or, failing that, by column name (warns when neither)."""
        field = self.fields.get(target_field_name)
        if field is not None:
            return field
        for field in self.fields.values():
            if field.column_name == target_field_name:
                return field
        warn(f"cannot identify field for export with name '{target_field_name}'", stacklevel=2)
        return None

    # -- export hooks ------------------------------------------------------------------------

    def before_export(self, queryset, **kwargs) -> None:
        """Called once before an export reads its queryset (which may still be ``None``)."""

    def after_export(self, queryset, dataset, **kwargs) -> None:
        """Called once after the last row; ``dataset`` is ``None`` for the streaming exports."""

    def filter_export(self, queryset, **kwargs):
        """Return the queryset to export; override to narrow it."""
        return queryset

    def export_field(self, field: Field, instance, **kwargs) -> Any:
        """One exported cell: the dehydrate method's value if there is one, else the field's."""
        dehydrate = self._dehydrate_callable(field)
        if dehydrate is None:
            return field.export(instance, **kwargs)
        return dehydrate(instance)

    def _dehydrate_callable(self, field: Field):
        """The callable computing ``field``'s cell: its ``dehydrate_method`` when that is a
        callable, else the resource method it names (``dehydrate_<name>`` by default), if any."""
        name_or_callable = field.get_dehydrate_method(self.get_field_name(field))
        if callable(name_or_callable):
            return name_or_callable
        return getattr(self, name_or_callable, None)

    def get_export_fields(self, selected_fields=None) -> list[Field]:
        """The fields to export, in export order, limited to ``selected_fields`` when given."""
        allowed = selected_fields or self.fields
        named = (self._select_field(name) for name in self.get_export_order() if name in allowed)
        return [field for field in named if field is not None]

    def export_resource(self, instance, selected_fields=None, **kwargs) -> list[Any]:
        """The exported row of one object.

        Exports render rows through an :class:`ExportPlan`, which does the same without looking
        the fields up again per row; this method is kept for code that calls or overrides it (the
        plan then calls the override for every row).
        """
        fields = self.get_export_fields(selected_fields)
        return [self.export_field(field, instance, **kwargs) for field in fields]

    def get_export_headers(self, selected_fields=None) -> list[str]:
        """Column headers of an export."""
        return [
            force_str(field.column_name)
            for field in self.get_export_fields(selected_fields)
            if field
        ]

    def iter_queryset(self, queryset) -> Iterator[Any]:
        """Yield the objects to export, reading a QuerySet in chunks of :meth:`get_chunk_size`.

        ``QuerySet.iterator(chunk_size=...)`` streams rows (server-side cursors on PostgreSQL) and,
        since Django 4.1, runs the queryset's ``prefetch_related`` once per chunk.  Other iterables
        (lists, generators) are yielded as they are.
        """
        if isinstance(queryset, QuerySet):
            yield from queryset.iterator(chunk_size=self.get_chunk_size())
        else:
            yield from queryset

    # -- export entry points -----------------------------------------------------------------

    def get_export_plan(self, **kwargs) -> ExportPlan:
        """The plan rendering this export's rows: built once, used for every row."""
        return ExportPlan(self, kwargs.get("export_fields"), kwargs)

    def _prepare_export(self, queryset, kwargs: dict) -> tuple[ExportPlan, Any]:
        """Run ``before_export``, resolve and filter the queryset, build the plan."""
        self.before_export(queryset, **kwargs)
        if queryset is None:
            queryset = self.get_queryset()
        queryset = self.filter_export(queryset, **kwargs)
        return self.get_export_plan(**kwargs), queryset

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        """Export to a ``tablib.Dataset`` held in memory (the classic, upstream-compatible path).

        ``export_fields`` (a list of field names) limits the columns; other keyword arguments are
        passed to the hooks and to the widgets' ``render`` (e.g. ``force_native_type=True``).
        """
        plan, queryset = self._prepare_export(queryset, kwargs)
        dataset = tablib.Dataset(headers=plan.headers)
        for row in plan.read_rows(queryset):
            dataset.append(row)
        self.after_export(queryset, dataset, **kwargs)
        return dataset

    def export_iter(self, queryset=None, **kwargs) -> Iterator[list[Any]]:
        """Lazily yield one exported row (a list of cells) per object, headers excluded.

        The rows are those :meth:`export` would append to its Dataset, in the same order; the
        headers are :meth:`get_export_headers`.  Nothing runs until iteration starts:
        ``before_export`` is called on the first ``next()``, ``after_export`` (with
        ``dataset=None``) after the last row.  The queryset is read in chunks and no reference to
        a yielded row is kept, so memory does not grow with the number of rows.
        """
        plan, queryset = self._prepare_export(queryset, kwargs)
        yield from plan.read_rows(queryset)
        self.after_export(queryset, None, **kwargs)

    def export_to_stream(
        self,
        format,
        file: IO,
        queryset=None,
        *,
        progress: ProgressCallback | None = None,
        **kwargs,
    ) -> int:
        """Write the export in ``format`` to ``file`` as rows are read; return the rows written.

        ``format`` is a name (``"csv"``, ``"json"``, ``"xlsx"``...), a Format class or instance.
        ``file`` may be a text or a binary file-like object (bytes are encoded with the format's
        encoding).  The output is the same as ``format.export_data(self.export(queryset))``; XLS
        and ODS, whose libraries cannot write incrementally, are buffered (see the docs).
        ``progress``, if given, is called with the running row count every chunk of rows.  If an
        error interrupts the export the document is not closed (no closing bracket, no zip
        directory): write to a temporary file and rename it to publish only complete exports.
        """
        file_format = resolve_format(format)
        plan, queryset = self._prepare_export(queryset, kwargs)
        writer = file_format.get_stream_writer(file, plan.headers)
        rows = plan.read_rows(queryset)
        count = write_rows(writer, rows, progress=progress, every=self.get_chunk_size())
        self.after_export(queryset, None, **kwargs)
        return count

    def import_from_stream(
        self,
        format,
        file: IO,
        *,
        progress: ProgressCallback | None = None,
        **kwargs,
    ) -> Result:
        """Import ``file`` in ``format`` as its rows are read, in bounded memory.

        ``format`` is a name (``"csv"``, ``"json"``, ``"xlsx"``...), a Format class or instance;
        ``file`` a text or binary file-like object.  The keyword arguments are those of
        :meth:`import_data` (``dry_run``, ``raise_errors``, ``use_transactions``,
        ``collect_failed_rows``, ``rollback_on_validation_errors`` and the hooks' own), plus
        ``max_row_results`` and ``max_errors`` for the returned
        :class:`~import_export.results.BoundedResult`.  The database ends as after
        ``import_data(format.create_dataset(file.read()))``, in one transaction.  ``progress``,
        if given, is called with the running count of rows read.  ``before_import`` and
        ``after_import`` get a :class:`~import_export.stream_import.StreamedDataset` (headers,
        rows readable only by the import); see :doc:`/streaming` for the details.
        """
        from .stream_import import import_from_stream

        return import_from_stream(self, format, file, progress=progress, **kwargs)

    @classmethod
    def get_display_name(cls) -> str:
        """The name shown to people choosing a resource (``Meta.name`` or the class name)."""
        return getattr(cls._meta, "name", None) or cls.__name__


class ModelResource(ModelResourceImportMixin, Resource, metaclass=ModelDeclarativeMetaclass):
    """A resource whose fields are generated from a Django model (``Meta.model``)."""

    DEFAULT_RESOURCE_FIELD = Field

    #: Widget for each Django field type: a widget class, or the name of a classmethod
    #: building one from the model field.
    WIDGETS_MAP: dict[str, Any] = {
        "ManyToManyField": "get_m2m_widget",
        "OneToOneField": "get_fk_widget",
        "ForeignKey": "get_fk_widget",
        "CharField": widgets.CharWidget,
        "DecimalField": widgets.DecimalWidget,
        "DateTimeField": widgets.DateTimeWidget,
        "DateField": widgets.DateWidget,
        "TimeField": widgets.TimeWidget,
        "DurationField": widgets.DurationWidget,
        "FloatField": widgets.FloatWidget,
        "IntegerField": widgets.IntegerWidget,
        "PositiveIntegerField": widgets.IntegerWidget,
        "BigIntegerField": widgets.IntegerWidget,
        "PositiveBigIntegerField": widgets.IntegerWidget,
        "PositiveSmallIntegerField": widgets.IntegerWidget,
        "SmallIntegerField": widgets.IntegerWidget,
        "SmallAutoField": widgets.IntegerWidget,
        "AutoField": widgets.IntegerWidget,
        "BigAutoField": widgets.IntegerWidget,
        "NullBooleanField": widgets.BooleanWidget,
        "BooleanField": widgets.BooleanWidget,
        "JSONField": widgets.JSONWidget,
    }

    @classmethod
    def get_m2m_widget(cls, field) -> Callable[..., widgets.Widget]:
        """Widget factory for a many-to-many model field."""
        return functools.partial(widgets.ManyToManyWidget, model=get_related_model(field))

    @classmethod
    def get_fk_widget(cls, field) -> Callable[..., widgets.Widget]:
        """Widget factory for a foreign key or one-to-one model field."""
        model = get_related_model(field)
        natural = cls._meta.use_natural_foreign_keys and has_natural_foreign_key(model)
        return functools.partial(
            widgets.ForeignKeyWidget, model=model, use_natural_foreign_keys=natural
        )

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        """The widget class (or factory) for a Django model field, by its type or its bases."""
        internal_type = (
            f.get_internal_type() if callable(getattr(f, "get_internal_type", None)) else ""
        )
        candidates = [internal_type] + [base.__name__ for base in type(f).__mro__]
        for name in candidates:
            widget = cls.WIDGETS_MAP.get(name)
            if widget is not None:
                return getattr(cls, widget)(f) if isinstance(widget, str) else widget
        if _is_array_field(f):
            return widgets.SimpleArrayWidget
        return default

    @classmethod
    def widget_kwargs_for_field(cls, field_name: str, django_field) -> dict[str, Any]:
        """Widget arguments from ``Meta.widgets``, plus blank-friendly settings for CharFields."""
        widget_kwargs = dict((cls._meta.widgets or {}).get(field_name, {}))
        if isinstance(django_field, django_fields.CharField) and django_field.blank:
            widget_kwargs.update({"coerce_to_string": True, "allow_blank": True})
        return widget_kwargs

    @classmethod
    def field_from_django_field(cls, field_name: str, django_field, readonly: bool) -> Field:
        """A resource Field for a model field.

        A plain foreign key is read and written through its ``<name>_id`` attribute, so export
        and import need no query for it, unless natural keys or a custom widget want the object.
        """
        widget_class = cls.widget_from_django_field(django_field)
        widget_kwargs = cls.widget_kwargs_for_field(field_name, django_field)
        attribute = field_name
        customised = bool(cls._meta.widgets and field_name in cls._meta.widgets)
        if (
            isinstance(django_field, ForeignKey)
            and "__" not in field_name
            and not cls._meta.use_natural_foreign_keys
            and not customised
        ):
            attribute += "_id"
            widget_kwargs["key_is_id"] = True
        return cls.DEFAULT_RESOURCE_FIELD(
            attribute=attribute,
            column_name=field_name,
            widget=widget_class(**widget_kwargs),
            readonly=readonly,
            default=django_field.default,
        )

    def get_queryset(self):
        """All objects of the model; override to limit what is exported by default."""
        return self._meta.model.objects.all()


def _is_array_field(django_field) -> bool:
    try:
        from django.contrib.postgres.fields import ArrayField
    except ImportError:  # psycopg is not installed
        return False
    return isinstance(django_field, ArrayField)


def modelresource_factory(
    model,
    resource_class=ModelResource,
    meta_options: dict | None = None,
    custom_fields: dict[str, Field] | None = None,
    dehydrate_methods: dict[str, Callable] | None = None,
):
    """Build a ModelResource class for ``model`` at run time.

    ``meta_options`` become the ``Meta`` class, ``custom_fields`` declared fields, and each
    ``dehydrate_methods[name]`` (a function of the object) the resource's ``dehydrate_<name>``.
    """
    custom_fields = dict(custom_fields or {})
    for name, field in custom_fields.items():
        if not isinstance(field, Field):
            raise ValueError(
                f"custom_fields['{name}'] must be a Field instance, got {type(field).__name__}"
            )
    attrs: dict[str, Any] = {"Meta": type("Meta", (), {**(meta_options or {}), "model": model})}
    attrs.update(custom_fields)
    for name, function in (dehydrate_methods or {}).items():
        if not callable(function):
            raise ValueError(
                f"dehydrate_methods['{name}'] must be callable, got {type(function).__name__}"
            )
        attrs[f"dehydrate_{name}"] = _as_method(function)
    return ModelDeclarativeMetaclass(f"{model.__name__}Resource", (resource_class,), attrs)


def _as_method(function: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap a function of the object so it can sit on a resource class as a method."""

    def method(self, obj):
        return function(obj)

    return method


__all__ = [
    "Resource",
    "ModelResource",
    "modelresource_factory",
    "Diff",
]
