"""Resource, format and export-response logic shared by the admin and by plain Django views.

The admin classes in :mod:`import_export.admin` and the view mixins at the end of this module build
on these bases. Exports are sent as streamed downloads where that is safe (see
:meth:`BaseExportMixin.build_export_response`): memory stays bounded by one chunk however many
rows are exported, and the first bytes leave before the last row has been read.
"""

from __future__ import annotations

import io
import logging
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.timezone import now
from django.views.generic.edit import FormView

from . import streaming
from .formats import base_formats
from .forms import SelectableFieldsExportForm
from .resources import Resource, modelresource_factory
from .signals import post_export

logger = logging.getLogger(__name__)

#: Bytes gathered before a streamed response hands a chunk to the server.
STREAM_CHUNK_SIZE = 64 * 1024
#: Bytes a binary export (XLSX...) is held in memory before its spool file moves to disk.
SPOOL_MAX_MEMORY = 4 * 1024 * 1024


def _deprecated(message: str, stacklevel: int = 3) -> None:
    """Warn on behalf of the caller's caller (``stacklevel`` counts this function as 1)."""
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel)


def _class_path(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def keeps_native_types(file_format) -> bool:
    """Whether cells keep their Python types (spreadsheets) instead of being rendered as text."""
    from .formats.base_formats import BINARY_FORMATS

    return type(file_format) in BINARY_FORMATS


#: The package's own implementations of the hooks that produce a whole export in memory.
#: A class whose hook is anything else (a user's override, a test's mock) gets the classic,
#: in-memory export, so the customisation is honoured rather than bypassed by streaming.
_STOCK_EXPORT_HOOKS: dict[str, set] = {}


def register_stock_export_hook(name: str, function) -> None:
    """Record ``function`` as this package's own ``name`` hook (see ``_STOCK_EXPORT_HOOKS``)."""
    _STOCK_EXPORT_HOOKS.setdefault(name, set()).add(function)


def _customised(obj: Any, name: str) -> bool:
    hook = getattr(type(obj), name, None)
    return hook is not None and hook not in _STOCK_EXPORT_HOOKS.get(name, ())


#: ``Resource.export`` as the resource module defines it (kept before anyone can patch it).
_STOCK_RESOURCE_EXPORT = vars(Resource)["export"]


class BaseImportExportMixin:
    """Which resources and formats an admin (or view) offers.

    Formats come from the ``IMPORT_EXPORT_FORMATS`` setting (``IMPORT_FORMATS`` and
    ``EXPORT_FORMATS`` narrow them per direction); a subclass may also set ``formats``,
    ``import_formats`` or ``export_formats`` as class attributes.
    """

    resource_class = None
    resource_classes: Sequence[type] = []

    @property
    def formats(self) -> Sequence[type]:
        return getattr(settings, "IMPORT_EXPORT_FORMATS", base_formats.DEFAULT_FORMATS)

    @property
    def export_formats(self) -> Sequence[type]:
        return getattr(settings, "EXPORT_FORMATS", self.formats)

    @property
    def import_formats(self) -> Sequence[type]:
        return getattr(settings, "IMPORT_FORMATS", self.formats)

    def check_resource_classes(self, resource_classes) -> None:
        """Resources are chosen by index, so they must come in something indexable."""
        if resource_classes and not hasattr(resource_classes, "__getitem__"):
            raise Exception(
                "The resource_classes field type must be subscriptable (list, tuple, ...)"
            )

    def _resource_classes_for(self, direction: str, request) -> Sequence[type]:
        legacy = _legacy_single_resource(self, direction)
        if legacy is not None:
            return legacy
        checked = self.get_resource_classes(request)
        self.check_resource_classes(checked)
        return checked

    def get_resource_classes(self, request) -> Sequence[type]:
        """The resource classes on offer: ``resource_classes``, or one made from the model.

        The pre-4.0 ``resource_class`` attribute and ``get_resource_class()`` method still work
        but warn, as upstream does.
        """
        if self.resource_classes and self.resource_class:
            raise Exception("Only one of 'resource_class' and 'resource_classes' can be set")
        if hasattr(self, "get_resource_class"):
            _deprecated(
                "The 'get_resource_class()' method has been deprecated. Please implement the "
                f"new 'get_resource_classes()' method in {_class_path(self)}"
            )
            return [self.get_resource_class()]
        if self.resource_class:
            _deprecated(
                "The 'resource_class' field has been deprecated. Please implement the new "
                f"'resource_classes' field in {_class_path(self)}"
            )
            return [self.resource_class]
        if self.resource_classes:
            return self.resource_classes
        return [modelresource_factory(self.model)]

    def get_resource_kwargs(self, request, *args, **kwargs) -> dict:
        """Keyword arguments for the resource's constructor; override to pass your own."""
        return kwargs

    def get_resource_index(self, form) -> int:
        """The resource index chosen in a validated ``form`` (0 when there is no choice)."""
        cleaned_data = getattr(form, "cleaned_data", None) if form is not None else None
        if not cleaned_data or "resource" not in cleaned_data:
            return 0
        try:
            return int(cleaned_data["resource"] or 0)
        except (TypeError, ValueError):
            return 0


def _legacy_single_resource(mixin: Any, direction: str) -> list[type] | None:
    """The one class named by a pre-4.0 ``get_<direction>_resource_class()`` override, if any.

    Such an override still wins (wrapped in a list), with a warning naming the admin to update.
    """
    old_name = f"get_{direction}_resource_class"
    if not hasattr(mixin, old_name):
        return None
    _deprecated(
        f"The '{old_name}()' method has been deprecated. Please implement "
        f"the new '{old_name}es()' method in {_class_path(mixin)}",
        stacklevel=5,
    )
    return [getattr(mixin, old_name)()]


class BaseImportMixin(BaseImportExportMixin):
    #: Import in one step, without the preview and confirmation page.
    #: The ``IMPORT_EXPORT_SKIP_ADMIN_CONFIRM`` setting does the same for every admin.
    skip_import_confirm = False

    def get_import_resource_classes(self, request) -> Sequence[type]:
        return self._resource_classes_for("import", request)

    def get_import_formats(self) -> list[type]:
        """The import formats whose libraries are installed."""
        return [fmt for fmt in self.import_formats if fmt().can_import()]

    def get_import_resource_kwargs(self, request, **kwargs) -> dict:
        return self.get_resource_kwargs(request, **kwargs)

    def choose_import_resource_class(self, form, request) -> type:
        return self._pick(self.get_import_resource_classes(request), form)

    def is_skip_import_confirm_enabled(self) -> bool:
        return bool(
            getattr(settings, "IMPORT_EXPORT_SKIP_ADMIN_CONFIRM", False)
            or self.skip_import_confirm is True
        )

    def _pick(self, resource_classes: Sequence[type], form) -> type:
        index = self.get_resource_index(form)
        if not 0 <= index < len(resource_classes):
            index = 0
        return resource_classes[index]


class ExportStreamingHttpResponse(StreamingHttpResponse):
    """A streamed download whose ``content`` can still be read in one piece.

    Code written for upstream (tests above all) reads ``response.content`` of an export, which a
    plain ``StreamingHttpResponse`` refuses. Reading it here consumes the stream once and keeps
    the bytes, so the response can still be iterated afterwards.
    """

    @property
    def content(self) -> bytes:
        data = b"".join(self.streaming_content)
        self.streaming_content = [data]
        return data


def _export_into_spool(resource, file_format, queryset, export_kwargs, spool, encoding) -> None:
    """Write the export into ``spool``: binary formats as they are, text in the response's
    encoding (through a text layer that is detached afterwards, leaving the spool open)."""
    if file_format.is_binary():
        resource.export_to_stream(file_format, spool, queryset, **export_kwargs)
        return
    text = io.TextIOWrapper(spool, encoding=encoding, newline="")
    try:
        resource.export_to_stream(file_format, text, queryset, **export_kwargs)
        text.flush()
    finally:
        text.detach()


def _file_chunks(handle) -> Iterator[bytes]:
    """Read an already written file out in chunks and close it, even if the client goes away."""
    try:
        while chunk := handle.read(STREAM_CHUNK_SIZE):
            yield chunk
    finally:
        handle.close()


class BaseExportMixin(BaseImportExportMixin):
    model = None

    #: Export straight away with the first resource and format, without the export form.
    #: The ``IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI`` setting does the same for every admin.
    skip_export_form = False

    #: Like ``skip_export_form``, but only for exports started from the admin action or the
    #: change form (``IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI`` for every admin).
    skip_export_form_from_action = False

    #: Send exports as streamed downloads where the format allows it (this fork's addition).
    #: Set to ``False`` to always build the whole file in memory first, as upstream does.
    export_streaming = True

    def get_export_formats(self) -> list[type]:
        """The export formats whose libraries are installed."""
        return [fmt for fmt in self.export_formats if fmt().can_export()]

    def get_export_resource_classes(self, request) -> Sequence[type]:
        return self._resource_classes_for("export", request)

    def choose_export_resource_class(self, form, request) -> type:
        resource_classes = self.get_export_resource_classes(request)
        index = self.get_resource_index(form)
        if not 0 <= index < len(resource_classes):
            index = 0
        return resource_classes[index]

    def get_export_resource_kwargs(self, request, **kwargs) -> dict:
        return self.get_resource_kwargs(request, **kwargs)

    def get_export_resource_fields_from_form(self, form) -> list[str] | None:
        """Field names ticked in a selectable-fields form; ``None`` means every field."""
        if isinstance(form, SelectableFieldsExportForm):
            return form.get_selected_resource_export_fields() or None
        return None

    def get_data_for_export(self, request, queryset, **kwargs):
        """The export as a ``tablib.Dataset`` (the whole file in memory)."""
        resource, export_kwargs = self._export_resource_and_kwargs(request, kwargs)
        return resource.export(queryset=queryset, **export_kwargs)

    def get_export_filename(self, file_format) -> str:
        """``<Model>-<YYYY-MM-DD>.<extension>``, the download's file name."""
        stamp = now().strftime("%Y-%m-%d")
        return f"{self.model.__name__}-{stamp}.{file_format.get_extension()}"

    def is_skip_export_form_enabled(self) -> bool:
        return bool(
            getattr(settings, "IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI", False)
            or self.skip_export_form is True
        )

    def is_skip_export_form_from_action_enabled(self) -> bool:
        return bool(
            getattr(settings, "IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI", False)
            or self.skip_export_form_from_action is True
        )

    # -- building the download --------------------------------------------------------------

    def _export_resource_and_kwargs(self, request, kwargs: dict) -> tuple[Any, dict]:
        """The resource instance and the keyword arguments of its export call.

        As upstream, every keyword (``export_form``, ``force_native_type``, ...) reaches both the
        resource constructor (through ``get_export_resource_kwargs``) and the export call.
        """
        export_form = kwargs.get("export_form")
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request, **kwargs))
        export_kwargs = dict(kwargs)
        export_kwargs["export_fields"] = self.get_export_resource_fields_from_form(export_form)
        return resource, export_kwargs

    def _uses_classic_export(self) -> bool:
        """Whether a customised hook needs the whole Dataset, which rules out streaming."""
        return _customised(self, "get_data_for_export") or _customised(self, "get_export_data")

    def build_export_response(
        self,
        request,
        file_format,
        queryset,
        filename: str,
        classic_data=None,
        **kwargs,
    ) -> HttpResponse:
        """The download response for ``queryset`` in ``file_format``.

        * text formats that can stream: a streamed response fed row by row from the resource;
        * binary formats (XLSX...): written by ``export_to_stream`` into a spooled temporary
          file (memory up to :data:`SPOOL_MAX_MEMORY`, disk beyond), then streamed;
        * otherwise, or when ``export_streaming`` is off or a hook needs the whole Dataset:
          ``classic_data()`` is called and its result sent in one ``HttpResponse``.

        Everything that can fail before the first byte (resource setup, hooks, headers, the
        first row) runs before this returns, so the caller can still show an error page.
        """
        encoding = kwargs.get("encoding") or settings.DEFAULT_CHARSET
        resource_kwargs = dict(kwargs)
        resource_kwargs["force_native_type"] = keeps_native_types(file_format)
        mode = self._export_mode(request, file_format, resource_kwargs)
        if mode == "text" and streaming.in_request_transaction(queryset):
            # The rows would be read after the view's transaction (ATOMIC_REQUESTS) has ended,
            # when PostgreSQL has closed the cursor: write the file now, send it afterwards.
            mode = "spooled"
        if mode == "text":
            resource, export_kwargs = self._export_resource_and_kwargs(request, resource_kwargs)
            body = streaming.iter_export_chunks(
                resource,
                file_format,
                queryset,
                encoding=encoding,
                chunk_bytes=STREAM_CHUNK_SIZE,
                export_kwargs=export_kwargs,
            )
            response = ExportStreamingHttpResponse(body)
        elif mode == "spooled":
            resource, export_kwargs = self._export_resource_and_kwargs(request, resource_kwargs)
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
            try:
                _export_into_spool(resource, file_format, queryset, export_kwargs, spool, encoding)
            except BaseException:
                spool.close()
                raise
            size = spool.tell()
            spool.seek(0)
            response = ExportStreamingHttpResponse(_file_chunks(spool))
            response["Content-Length"] = str(size)
        else:
            response = _in_memory_response(classic_data(), file_format.get_content_type())
        response["Content-Type"] = file_format.get_content_type()
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _export_mode(self, request, file_format, kwargs: dict) -> str:
        """``"text"``, ``"spooled"`` or ``"classic"``: how this export is produced."""
        if not self.export_streaming or self._uses_classic_export():
            return "classic"
        resource_class = self.choose_export_resource_class(kwargs.get("export_form"), request)
        if getattr(resource_class, "export", None) is not _STOCK_RESOURCE_EXPORT:
            return "classic"  # a resource that customises export() gets exactly that
        if streaming.needs_classic_export(resource_class):
            return "classic"  # its after_export() expects the Dataset, as upstream gave it
        if file_format.is_binary():
            return "spooled"
        can_stream = getattr(file_format, "can_stream", None)
        if can_stream is not None and can_stream():
            return "text"
        return "classic"


register_stock_export_hook("get_data_for_export", BaseExportMixin.get_data_for_export)


class ExportViewMixin(BaseExportMixin):
    """Export support for a ``FormView`` outside the admin (deprecated upstream, kept working)."""

    form_class = SelectableFieldsExportForm

    def get_export_data(self, file_format, queryset, **kwargs):
        """The export rendered by ``file_format`` (``str`` or ``bytes``), all in memory."""
        data = self.get_data_for_export(self.request, queryset, **kwargs)
        return file_format.export_data(data)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs)

    def get_form_kwargs(self):
        # The export form takes the choices it offers as constructor arguments.
        return {
            **super().get_form_kwargs(),
            "formats": self.get_export_formats(),
            "resources": self.get_export_resource_classes(self.request),
        }


register_stock_export_hook("get_export_data", ExportViewMixin.get_export_data)


def _in_memory_response(data, content_type: str) -> HttpResponse:
    """The classic download, built as upstream builds it (``content_type``, then the
    ``mimetype`` keyword of old Django versions when that raises ``TypeError``)."""
    try:
        return HttpResponse(data, content_type=content_type)
    except TypeError:
        return HttpResponse(data, mimetype=content_type)


class ExportViewFormMixin(ExportViewMixin, FormView):
    """A complete export view: render the export form, answer a valid post with the download.

    Deprecated upstream, and kept as upstream wrote it: the file is built in memory.  Set
    ``export_streaming = True`` on the view to stream it as the admin does.
    """

    export_streaming = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        warnings.warn(
            "ExportViewFormMixin is deprecated and will be removed in a future release.",
            DeprecationWarning,
            stacklevel=2,
        )

    def get_export_queryset(self):
        """The rows to export: a django-filter ``FilterSet``'s result if the view has one."""
        if hasattr(self, "get_filterset"):
            return self.get_filterset(self.get_filterset_class()).qs
        return self.get_queryset()

    def form_valid(self, form):
        file_format = self.get_export_formats()[int(form.cleaned_data["format"])]()
        queryset = self.get_export_queryset()
        # As upstream, this deprecated view exports every field of the first resource.
        response = self.build_export_response(
            self.request,
            file_format,
            queryset,
            self.get_export_filename(file_format),
            classic_data=lambda: self.get_export_data(file_format, queryset),
        )
        post_export.send(sender=None, model=self.model)
        return response
