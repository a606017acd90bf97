"""Import and export for the Django admin: mixins for ``ModelAdmin`` and ready-made admins.

Every view and action checks its permission itself (:meth:`ImportMixin.has_import_permission`,
:meth:`ExportMixin.has_export_permission`) and answers 403 when it is missing; the templates only
hide the buttons. The import is two requests (upload with a dry run, then confirm); the file waits
in a temporary storage in between and the confirm step only ever gets a bare file name back.
"""

from __future__ import annotations

import logging
import warnings
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import FieldError, PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .admin_streaming import (
    LogEntryWriter,
    open_stored_file,
    save_upload_in_chunks,
    stored_file_digest,
)
from .exceptions import StreamingError
from .formats.base_formats import BINARY_FORMATS  # noqa: F401 - upstream's name, kept
from .formats.streaming.reading import ImportLimitExceeded
from .forms import ConfirmImportForm, ImportForm, SelectableFieldsExportForm
from .mixins import (
    BaseExportMixin,
    BaseImportMixin,
    keeps_native_types,
    register_stock_export_hook,
)
from .results import RowResult
from .signals import post_export, post_import
from .stream_import import needs_classic_import
from .tmp_storages import TempFolderStorage
from .upload_safety import (
    UploadRejected,
    check_claim_digest,
    discard_stored_upload,
    explain_read_error,
    sign_stored_upload,
    sweep_expired_uploads,
    verify_stored_upload,
)

logger = logging.getLogger(__name__)

#: Admin log action recorded for each kind of imported row; other kinds are not logged.
LOG_ACTION_FOR_IMPORT_TYPE = {
    RowResult.IMPORT_TYPE_NEW: ADDITION,
    RowResult.IMPORT_TYPE_UPDATE: CHANGE,
    RowResult.IMPORT_TYPE_DELETE: DELETION,
}


def _log_entry(user_pk, instance, action_flag, change_message) -> LogEntry:
    """The ``LogEntry`` Django 5.1's ``log_actions()`` would write for ``instance``."""
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=False)
    return LogEntry(
        user_id=user_pk,
        content_type_id=content_type.pk,
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        action_flag=action_flag,
        change_message=str(change_message),
    )


def _has_model_permission(request, model, setting_name: str) -> bool:
    """Whether the user holds the permission the setting names for this model (or no setting).

    The setting holds an action such as ``"import"`` or ``"view"``; the permission checked is
    ``<app_label>.<action>_<model_name>``, as Django names its own.
    """
    action = getattr(settings, setting_name, None)
    if action is None:
        return True
    meta = model._meta
    return request.user.has_perm(f"{meta.app_label}.{get_permission_codename(action, meta)}")


def _finished_cleanly(result) -> bool:
    """Whether an import result has neither row errors nor validation errors."""
    return not (result.has_errors() or result.has_validation_errors())


def _fields_list(resources) -> list:
    """``(display name, visible column names)`` per resource instance, for the field help box."""
    listing = []
    for resource in resources:
        columns = [field.column_name for field in resource.get_user_visible_fields()]
        listing.append((resource.get_display_name(), columns))
    return listing


# Both messages keep upstream's msgids, so existing translations still apply.
_UNREADABLE_UPLOAD = _(
    "%(exc_name)s encountered while trying to read file. "
    "Ensure you have chosen the correct format for the file."
)
_GONE = _("The uploaded file is no longer available. Please upload it again.")
_NOTHING_TO_IMPORT = _(
    "No valid data to import. Ensure your file has the correct headers or data for import."
)


class ImportExportMixinBase:
    """Puts the import/export buttons on the change list without losing a custom template.

    A ``change_list_template`` the admin already had becomes the template the import/export one
    extends (``ie_base_change_list_template``), so other apps' change list customisations stay.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_change_list_template()

    def init_change_list_template(self) -> None:
        own = getattr(self, "change_list_template", None)
        self.ie_base_change_list_template = own or "admin/change_list.html"
        ours = getattr(self, "import_export_change_list_template", None)
        try:
            self.change_list_template = ours or self.ie_base_change_list_template
        except AttributeError:
            # A subclass made change_list_template a read-only property: it stays in charge.
            logger.warning("failed to assign change_list_template attribute")

    def get_model_info(self) -> tuple[str, str]:
        return (self.model._meta.app_label, self.model._meta.model_name)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["ie_base_change_list_template"] = self.ie_base_change_list_template
        return super().changelist_view(request, extra_context)

    def _changelist_url(self) -> str:
        return reverse(
            "admin:{}_{}_changelist".format(*self.get_model_info()),
            current_app=self.admin_site.name,
        )

    def _render(self, request, template_name, context):
        """A template response bound to this admin site (its URL namespace)."""
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [template_name], context=context)

    def _page_context(self, request, title) -> dict:
        context = dict(self.admin_site.each_context(request))
        context.update({"title": title, "opts": self.model._meta})
        return context


class ImportMixin(BaseImportMixin, ImportExportMixinBase):
    """Adds the import pages to a ``ModelAdmin``: upload and preview, then confirm."""

    #: Change list template carrying the "Import" button.
    import_export_change_list_template = "admin/import_export/change_list_import.html"
    #: Template of the upload, preview and error page.
    import_template_name = "admin/import_export/import.html"
    #: Form of the upload step.
    import_form_class = ImportForm
    #: Form of the confirm step.
    confirm_form_class = ConfirmImportForm
    #: Encoding of uploaded text files (``utf-8-sig`` also accepts a byte-order mark).
    from_encoding = "utf-8-sig"
    #: What to show of each row error: any of ``"message"``, ``"row"``, ``"traceback"``.
    import_error_display = ("message",)
    #: ``None`` follows the ``IMPORT_EXPORT_SKIP_ADMIN_LOG`` setting.
    skip_admin_log = None
    #: ``None`` follows ``IMPORT_EXPORT_TMP_STORAGE_CLASS`` (a class or its dotted path).
    tmp_storage_class = None
    #: Whether the dry run and the confirm step read the stored upload as a stream
    #: (``Resource.import_from_stream``) when the resource and this admin allow it.
    stream_import = True

    # -- configuration -------------------------------------------------------------------------

    def get_skip_admin_log(self) -> bool:
        if self.skip_admin_log is None:
            return bool(getattr(settings, "IMPORT_EXPORT_SKIP_ADMIN_LOG", False))
        return self.skip_admin_log

    def get_tmp_storage_class(self) -> type:
        storage_class = self.tmp_storage_class
        if storage_class is None:
            storage_class = getattr(settings, "IMPORT_EXPORT_TMP_STORAGE_CLASS", TempFolderStorage)
        if isinstance(storage_class, str):
            storage_class = import_string(storage_class)
        return storage_class

    def get_tmp_storage_class_kwargs(self) -> dict:
        """Extra keyword arguments for the temporary storage (e.g. ``MEDIA_FOLDER``)."""
        return {}

    def has_import_permission(self, request) -> bool:
        """``IMPORT_EXPORT_IMPORT_PERMISSION_CODE`` decides; without it anyone with admin access."""
        return _has_model_permission(request, self.model, "IMPORT_EXPORT_IMPORT_PERMISSION_CODE")

    def _check_import_permission(self, request) -> None:
        """Views refuse (403) on their own: hidden buttons are no protection."""
        if not self.has_import_permission(request):
            raise PermissionDenied

    def get_urls(self):
        info = self.get_model_info()
        return [
            path(
                "process_import/",
                self.admin_site.admin_view(self.process_import),
                name="{}_{}_process_import".format(*info),
            ),
            path(
                "import/",
                self.admin_site.admin_view(self.import_action),
                name="{}_{}_import".format(*info),
            ),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["has_import_permission"] = self.has_import_permission(request)
        return super().changelist_view(request, extra_context)

    # -- forms -------------------------------------------------------------------------------

    def create_import_form(self, request):
        """The upload form; see the ``get_import_form_*`` methods to customise it."""
        form_class = self.get_import_form_class(request)
        return form_class(
            self.get_import_formats(),
            self.get_import_resource_classes(request),
            **self.get_import_form_kwargs(request),
        )

    def get_import_form_class(self, request):
        return self.import_form_class

    def get_import_form_kwargs(self, request) -> dict:
        initial = self.get_import_form_initial(request)
        return dict(data=request.POST or None, files=request.FILES or None, initial=initial)

    def get_import_form_initial(self, request) -> dict:
        return {}

    def create_confirm_form(self, request, import_form=None):
        """The confirm form: built from the upload form's data, or bound to the confirm post."""
        form_class = self.get_confirm_form_class(request)
        return form_class(**self.get_confirm_form_kwargs(request, import_form))

    def get_confirm_form_class(self, request):
        return self.confirm_form_class

    def get_confirm_form_kwargs(self, request, import_form=None) -> dict:
        # Coming from the upload step, the posted data belongs to the upload form.
        bound = import_form is None
        return {
            "data": (request.POST or None) if bound else None,
            "files": (request.FILES or None) if bound else None,
            "initial": self.get_confirm_form_initial(request, import_form),
        }

    def get_confirm_form_initial(self, request, import_form) -> dict:
        if import_form is None:
            return {}
        upload = import_form.cleaned_data["import_file"]
        return {
            "import_file_name": upload.tmp_storage_name,
            "import_file_token": getattr(upload, "tmp_storage_token", ""),
            "original_file_name": upload.name,
            "format": import_form.cleaned_data["format"],
            "resource": import_form.cleaned_data.get("resource", ""),
        }

    def get_import_data_kwargs(self, **kwargs) -> dict:
        """Keyword arguments for ``import_data``: what the view was given, less the form."""
        kwargs.pop("form", None)
        return kwargs

    def get_import_context_data(self, **kwargs) -> dict:
        return self.get_context_data(**kwargs)

    def get_context_data(self, **kwargs) -> dict:
        return {}

    # -- reading the upload ------------------------------------------------------------------

    def _input_format(self, index):
        """The chosen import format instance, or ``None`` for an index not on offer."""
        formats = self.get_import_formats()
        try:
            position = int(index)
        except (TypeError, ValueError):
            return None
        if not 0 <= position < len(formats):
            return None
        input_format = formats[position]()
        if not input_format.is_binary():
            input_format.encoding = self.from_encoding
        return input_format

    def _tmp_storage(self, input_format, name=None):
        encoding = None if input_format.is_binary() else self.from_encoding
        return self.get_tmp_storage_class()(
            name=name,
            encoding=encoding,
            read_mode=input_format.get_read_mode(),
            **self.get_tmp_storage_class_kwargs(),
        )

    def write_to_tmp_storage(self, import_file, input_format):
        """Keep the upload for the confirm step; returns the storage (its ``name`` is the key)."""
        tmp_storage = self._tmp_storage(input_format)
        save_upload_in_chunks(tmp_storage, import_file.chunks())
        sweep_expired_uploads(tmp_storage)
        return tmp_storage

    def add_data_read_fail_error_to_form(self, form, e) -> None:
        """Name the exception's type (its message may quote the file's content).

        Errors whose message this package wrote and knows to be safe (a YAML alias bomb, a CSV
        cell over the field size limit) add that explanation as a second message.
        """
        form.add_error("import_file", _UNREADABLE_UPLOAD % {"exc_name": repr(type(e).__name__)})
        explanation = explain_read_error(e)
        if explanation:
            form.add_error("import_file", explanation)

    def _read_dataset(self, form, input_format, load_bytes):
        """The upload as a Dataset, or ``None`` once the form says why it cannot be imported.

        ``load_bytes`` fetches the raw content; failing to fetch it and failing to parse it are
        reported alike, since to the user both mean "wrong file or wrong format".
        """
        try:
            dataset = input_format.create_dataset(load_bytes())
        except Exception as exc:  # any storage backend, any parser
            logger.info("Could not read an uploaded import file: %r", exc)
            self.add_data_read_fail_error_to_form(form, exc)
            return None
        if dataset:
            return dataset
        form.add_error("import_file", _NOTHING_TO_IMPORT)
        return None

    # -- the import views --------------------------------------------------------------------

    def import_action(self, request, **kwargs):
        """Upload step: show the form; on a valid post, dry-run the file and show a preview.

        When the dry run finds no error, the file is kept in temporary storage and the page
        carries a confirm form that names it. With ``skip_import_confirm`` the file is imported
        at once instead (all or nothing: any error rolls the import back).
        """
        self._check_import_permission(request)
        context = self.get_import_context_data()
        import_form = self.create_import_form(request)
        resources = None
        if request.POST and import_form.is_valid():
            input_format = self._input_format(import_form.cleaned_data["format"])
            import_file = import_form.cleaned_data["import_file"]
            if self.is_skip_import_confirm_enabled():
                response = self._import_in_one_step(
                    request, import_form, input_format, import_file, context, **kwargs
                )
                if response is not None:
                    return response
            else:
                resources = self._dry_run(
                    request, import_form, input_format, import_file, context, **kwargs
                )
        if resources is None:
            res_kwargs = self.get_import_resource_kwargs(request, form=import_form, **kwargs)
            resources = [
                resource_class(**res_kwargs)
                for resource_class in self.get_import_resource_classes(request)
            ]
        context.update(self._page_context(request, _("Import")))
        context["form"] = import_form
        context["media"] = self.media + import_form.media
        context["fields_list"] = _fields_list(resources)
        context["import_error_display"] = self.import_error_display
        return self._render(request, self.import_template_name, context)

    def _import_in_one_step(self, request, import_form, input_format, import_file, context, **kw):
        """Import straight from the upload; the redirect on success, ``None`` to show errors.

        Without a preview there is nobody to decide about a partly valid file, so any
        validation error rolls the whole import back.
        """
        all_or_nothing = {
            **kw,
            "raise_errors": False,
            "rollback_on_validation_errors": True,
            "file_name": import_file.name,
        }
        if self._streams_import(import_form, request):
            import_file.seek(0)
            try:
                result = self._import_stream_logged(
                    request, import_form, input_format, import_file, **all_or_nothing
                )
            except StreamingError as exc:
                self._add_stream_read_error(import_form, exc)
                return None
            if _finished_cleanly(result):
                return self.process_result(result, request)
            context["result"] = result
            return None
        dataset = self._read_dataset(
            import_form, input_format, lambda: b"".join(import_file.chunks())
        )
        if dataset is None:
            return None
        result = self.process_dataset(dataset, import_form, request, **all_or_nothing)
        if _finished_cleanly(result):
            return self.process_result(result, request)
        context["result"] = result
        return None

    def _dry_run(self, request, import_form, input_format, import_file, context, **kwargs):
        """Store the upload, import it with ``dry_run=True`` and put the result in ``context``.

        Returns the resources whose fields the page lists (the one used), or ``None`` when the
        file could not be read and the page should list every resource.
        """
        stored = self.write_to_tmp_storage(import_file, input_format)
        # The confirm form's initial data (get_confirm_form_initial) names the stored copy.
        import_file.tmp_storage_name = stored.name
        try:
            outcome = self._dry_run_stored(
                request, import_form, input_format, stored, import_file, kwargs
            )
        except BaseException:
            discard_stored_upload(stored)
            raise
        if outcome is None:
            discard_stored_upload(stored)
            return None
        resource, result = outcome
        context["result"] = result
        if _finished_cleanly(result):
            # Only this user's confirm of this very content may import the stored file.
            import_file.tmp_storage_token = sign_stored_upload(
                request, self.model, stored.name, stored_file_digest(stored)
            )
            context["confirm_form"] = self.create_confirm_form(request, import_form=import_form)
        else:
            # No confirm step follows a preview with errors: nothing will read the file again.
            discard_stored_upload(stored)
        return [resource]

    def _run_import(self, dataset, form, request, view_kwargs, *, file_name, **fixed):
        """Build the resource the form chose and feed it ``dataset``: ``(resource, result)``.

        The dry run of the upload step and the real import of the confirm step differ only in
        ``fixed`` (``dry_run`` and friends); both ask the same hooks for their keyword
        arguments, so overriding a hook changes the preview and the import alike.
        """
        resource_kwargs = self.get_import_resource_kwargs(request, form=form, **view_kwargs)
        resource = self.choose_import_resource_class(form, request)(**resource_kwargs)
        data_kwargs = self.get_import_data_kwargs(request=request, form=form, **view_kwargs)
        if not fixed.get("dry_run", False):
            # Admin log entries are written from each row's object.
            data_kwargs["retain_instance_in_row_result"] = True
        import_kwargs = {"file_name": file_name, "user": request.user, **fixed, **data_kwargs}
        if isinstance(dataset, _StoredStream):
            return resource, dataset.import_into(resource, **import_kwargs)
        return resource, resource.import_data(dataset, **import_kwargs)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """Confirm step: import the stored file for real, then go back to the change list.

        Only a file this user's own preview stored is imported: the confirm form carries a
        signed token binding the stored name and its content's digest to the user and model
        (:mod:`import_export.upload_safety`). A missing, forged or foreign token, or a file
        changed since the preview, gets a form error and the file is left alone. A file that
        was read is removed afterwards, whether the import succeeded, failed or raised. An
        import that fails shows its errors instead of a success message.
        """
        self._check_import_permission(request)
        confirm_form = self.create_confirm_form(request)
        if confirm_form.is_valid():
            input_format = self._input_format(confirm_form.cleaned_data["format"])
            if input_format is None:
                confirm_form.add_error("format", _("Select a valid format."))
            else:
                tmp_storage = self._tmp_storage(
                    input_format, name=confirm_form.cleaned_data["import_file_name"]
                )
                response = self._confirm_stored_upload(
                    request, confirm_form, tmp_storage, input_format, kwargs
                )
                if response is not None:
                    return response
        context = self._page_context(request, _("Import"))
        context.update({"confirm_form": confirm_form, "errors": confirm_form.errors})
        return self._render(request, self.import_template_name, context)

    def _confirm_stored_upload(self, request, confirm_form, tmp_storage, input_format, kwargs):
        """Import the stored upload if this user's preview stored it; the response or ``None``.

        ``None`` means the form now says why nothing was imported.
        """
        token = confirm_form.cleaned_data.get("import_file_token") or request.POST.get(
            "import_file_token"
        )
        try:
            claim = verify_stored_upload(request, self.model, tmp_storage.name, token)
        except UploadRejected as rejected:
            if rejected.discard:
                discard_stored_upload(tmp_storage)
            confirm_form.add_error(None, rejected.message)
            return None
        try:
            check_claim_digest(claim, stored_file_digest(tmp_storage))
        except UploadRejected as rejected:
            confirm_form.add_error(None, rejected.message)
            return None
        except (OSError, ValueError) as exc:
            logger.warning("Stored import file %r unreadable: %s", tmp_storage.name, exc)
            confirm_form.add_error(None, _GONE)
            return None
        try:
            result = self._import_stored_upload(
                request, confirm_form, tmp_storage, input_format, kwargs
            )
        finally:
            # Read (or tried): it is not imported twice, whatever the outcome.
            discard_stored_upload(tmp_storage)
        if result is None:
            return None
        if result.has_errors():
            return self._render_failed_confirm(request, result)
        return self.process_result(result, request)

    def _render_failed_confirm(self, request, result):
        """The import page listing why the confirmed import failed.

        With transactions (the default) the failed import was rolled back as a whole.
        """
        messages.error(request, _("The import failed; see the errors below."))
        form_class = self.get_import_form_class(request)
        import_form = form_class(
            self.get_import_formats(),
            self.get_import_resource_classes(request),
            initial=self.get_import_form_initial(request),
        )
        resources = [cls() for cls in self.get_import_resource_classes(request)]
        context = self.get_import_context_data()
        context.update(self._page_context(request, _("Import")))
        context.update(
            {
                "form": import_form,
                "media": self.media + import_form.media,
                "fields_list": _fields_list(resources),
                "import_error_display": self.import_error_display,
                "result": result,
            }
        )
        return self._render(request, self.import_template_name, context)

    def _import_stored_upload(self, request, confirm_form, tmp_storage, input_format, kwargs):
        """Import the (verified) stored upload for real: the result, or ``None`` with the
        reason added to the form."""
        if self._streams_import(confirm_form, request):
            return self._stream_confirm(request, confirm_form, tmp_storage, input_format, **kwargs)
        dataset = self._read_stored_dataset(confirm_form, tmp_storage, input_format)
        if dataset is None:
            return None
        return self.process_dataset(dataset, confirm_form, request, **kwargs)

    def _dry_run_stored(self, request, import_form, input_format, stored, import_file, kwargs):
        """Dry-run the stored upload, streamed or as a Dataset: ``(resource, result)``, or
        ``None`` once the form says why the file cannot be imported."""
        if self._streams_import(import_form, request):
            return self._stream_dry_run(
                request, import_form, input_format, stored, import_file, **kwargs
            )
        dataset = self._read_dataset(import_form, input_format, stored.read)
        if dataset is None:
            return None
        return self._run_import(
            dataset,
            import_form,
            request,
            kwargs,
            dry_run=True,
            file_name=import_file.name,
            raise_errors=False,
        )

    # -- streamed dry run and confirm (see admin_streaming) ---------------------------------

    def _streams_import(self, form, request) -> bool:
        """Whether this import reads the stored upload as a stream.

        Not when this admin overrides a method that is handed the Dataset
        (``process_dataset``), nor when the resource's hooks may need one
        (:func:`~import_export.stream_import.needs_classic_import`).
        """
        if not self.stream_import:
            return False
        if type(self).process_dataset is not ImportMixin.process_dataset:
            return False
        return not needs_classic_import(self.choose_import_resource_class(form, request))

    def _stream_dry_run(self, request, import_form, input_format, stored, import_file, **kwargs):
        """The dry run of ``_dry_run``, reading the stored upload as it imports it.

        The preview shows the first ``IMPORT_EXPORT_IMPORT_MAX_ROW_RESULTS`` rows and the
        errors the bounded result keeps (``IMPORT_EXPORT_IMPORT_MAX_ERRORS``).
        """
        try:
            with open_stored_file(stored) as source:
                resource, result = self._run_import(
                    _StoredStream(input_format, source),
                    import_form,
                    request,
                    kwargs,
                    dry_run=True,
                    file_name=import_file.name,
                    raise_errors=False,
                )
        except (StreamingError, OSError, ValueError) as exc:
            self._add_stream_read_error(import_form, exc)
            return None
        if result.total_rows == 0 and not result.has_errors():
            import_form.add_error("import_file", _NOTHING_TO_IMPORT)
            return None
        return resource, result

    def _add_stream_read_error(self, form, exc) -> None:
        logger.info("Could not read an uploaded import file: %r", exc)
        if isinstance(exc, ImportLimitExceeded):
            form.add_error("import_file", str(exc))  # names the limit, quotes nothing
        else:
            # Name the parser's own error (UnicodeDecodeError...), as the classic path does.
            self.add_data_read_fail_error_to_form(form, exc.__cause__ or exc)

    def _stream_confirm(self, request, confirm_form, tmp_storage, input_format, **kwargs):
        """Import the stored upload for real as a stream; the result, or ``None`` with the
        reason added to the form.

        Admin log entries are written in batches as rows are imported (the bounded result
        keeps only the first row results), inside the import's transaction.
        """
        try:
            source = open_stored_file(tmp_storage)
        except (OSError, ValueError) as exc:
            logger.warning("Stored import file %r unreadable: %s", tmp_storage.name, exc)
            confirm_form.add_error(None, _GONE)
            return None
        try:
            with source:
                return self._import_stream_logged(
                    request, confirm_form, input_format, source, **kwargs
                )
        except StreamingError as exc:
            confirm_form.add_error(
                None, _("The stored file could not be read: %(error)s") % {"error": exc}
            )
            return None

    def _import_stream_logged(self, request, form, input_format, source, **kwargs):
        """``process_dataset`` on the stream ``source``, writing the admin log entries in
        batches as rows are imported (the bounded result keeps only the first row results);
        the result is marked so that ``generate_log_entries`` does not write them again."""
        log_writer = None
        if not self.get_skip_admin_log():
            content_type_id = ContentType.objects.get_for_model(self.model).pk
            log_writer = LogEntryWriter(
                lambda row: self._log_entry(row, request, content_type_id),
                LOG_ACTION_FOR_IMPORT_TYPE,
            )
        stream = _StoredStream(input_format, source, row_result_callback=log_writer)
        result = self.process_dataset(stream, form, request, **kwargs)
        rolled_back = result.has_errors() or (
            kwargs.get("rollback_on_validation_errors") and result.has_validation_errors()
        )
        if log_writer is not None and not rolled_back:
            log_writer.flush()  # the earlier batches were rolled back with the import
        result.log_entries_written = True
        return result

    def _read_stored_dataset(self, confirm_form, tmp_storage, input_format):
        """The stored upload as a Dataset, or ``None`` with the reason added to the form."""
        try:
            data = tmp_storage.read()
        except (OSError, ValueError) as exc:
            logger.warning("Stored import file %r unreadable: %s", tmp_storage.name, exc)
            data = None
        if data is None:
            confirm_form.add_error(None, _GONE)
            return None
        try:
            return input_format.create_dataset(data)
        except Exception as exc:
            confirm_form.add_error(
                None,
                _("The stored file could not be read: %(error)s")
                % {"error": explain_read_error(exc) or type(exc).__name__},
            )
            return None

    def process_dataset(self, dataset, form, request, **kwargs):
        """Import ``dataset`` for real (not a dry run) with the resource chosen in ``form``.

        The name recorded for the file is the caller's ``file_name`` when given (one-step
        import), else the original upload name the confirm form carried through.
        """
        file_name = kwargs.pop("file_name", None)
        if file_name is None:
            file_name = form.cleaned_data.get("original_file_name")
        _resource, result = self._run_import(
            dataset, form, request, kwargs, dry_run=False, file_name=file_name
        )
        return result

    def process_result(self, result, request):
        """After a real import: log entries, a success message, the signal, then redirect."""
        self.generate_log_entries(result, request)
        self.add_success_message(result, request)
        post_import.send(sender=None, model=self.model)
        return HttpResponseRedirect(self._changelist_url())

    def generate_log_entries(self, result, request) -> None:
        """Record the imported rows in the admin log, unless ``get_skip_admin_log()``.

        Goes through ``_log_actions`` → ``_create_log_entries`` → ``_create_log_entry``, as
        upstream does, so packages that copy those methods onto their own admin classes (or
        override one of them) get the same entries.
        """
        if self.get_skip_admin_log() or getattr(result, "log_entries_written", False):
            # A streamed import wrote its entries in batches as its rows were imported.
            return
        self._log_actions(result, request)

    def _log_actions(self, result, request) -> None:
        """Group the rows' instances by import type and log them as ``request.user``."""
        rows: dict[str, list] = {}
        for row in result:
            rows.setdefault(row.import_type, []).append(row.instance)
        self._create_log_entries(request.user.pk, rows)

    def _create_log_entries(self, user_pk, rows) -> None:
        """Log each group of instances (``{import_type: [instance, ...]}``) with its action.

        Only new, updated and deleted rows are logged; skipped, invalid and error rows are not.
        """
        for import_type, instances in rows.items():
            action_flag = LOG_ACTION_FOR_IMPORT_TYPE.get(import_type)
            if action_flag is not None:
                self._create_log_entry(user_pk, instances, import_type, action_flag)

    def _create_log_entry(self, user_pk, rows, import_type, action_flag) -> None:
        """Write one ``LogEntry`` per instance in ``rows`` (a list of model instances).

        The change message is "<import type> through import_export", as upstream writes it.
        Django 5.1+ writes the entries with ``LogEntry.objects.log_actions()``; older versions,
        which lack it, get the same rows from one ``bulk_create``.
        """
        if not rows:
            return
        change_message = _("%s through import_export") % import_type
        log_actions = getattr(LogEntry.objects, "log_actions", None)
        if log_actions is not None:
            log_actions(
                user_pk,
                rows,
                action_flag,
                change_message=change_message,
                single_object=len(rows) == 1,
            )
            return
        LogEntry.objects.bulk_create(
            _log_entry(user_pk, instance, action_flag, change_message) for instance in rows
        )

    def _log_entry(self, row, request, content_type_id) -> LogEntry:
        return LogEntry(
            user_id=request.user.pk,
            content_type_id=content_type_id,
            object_id=str(row.object_id) if row.object_id is not None else None,
            object_repr=(row.object_repr or "")[:200],
            action_flag=LOG_ACTION_FOR_IMPORT_TYPE[row.import_type],
            change_message=_("%s through import_export") % row.import_type,
        )

    def add_success_message(self, result, request) -> None:
        totals = result.totals
        messages.success(
            request,
            _("Import finished: {} new, {} updated, {} deleted and {} skipped {}.").format(
                totals[RowResult.IMPORT_TYPE_NEW],
                totals[RowResult.IMPORT_TYPE_UPDATE],
                totals[RowResult.IMPORT_TYPE_DELETE],
                totals[RowResult.IMPORT_TYPE_SKIP],
                self.model._meta.verbose_name_plural,
            ),
        )


class _StoredStream:
    """The stored upload handed to ``_run_import`` in place of a Dataset: the import then
    reads it with ``import_from_stream``."""

    def __init__(self, input_format, source, **stream_options):
        self.input_format = input_format
        self.source = source
        self.stream_options = stream_options

    def import_into(self, resource, **import_kwargs):
        return resource.import_from_stream(
            self.input_format, self.source, **self.stream_options, **import_kwargs
        )


class _ExportItemsField(forms.MultipleChoiceField):
    """Primary keys of the rows an admin action picked, checked against the model's key type.

    Unlike a plain choice field it needs no list of every key in the table; the export then
    filters the (permission-limited) export queryset by these keys, so unknown keys select
    nothing.
    """

    def __init__(self, pk_field, **kwargs):
        super().__init__(widget=forms.MultipleHiddenInput, required=False, **kwargs)
        self.pk_field = pk_field

    def valid_value(self, value) -> bool:
        try:
            self.pk_field.to_python(value)
        except Exception:
            return False
        return True


#: Name of the hidden field carrying a "select all" selection from the action to the export view.
SELECTION_FIELD = "export_selection"
#: Salt of the selection's signature, so that no other signed value of the site passes for one.
_SELECTION_SALT = "import_export.admin.export_selection"
_SELECTION_INVALID = _(
    "This selection cannot be exported: it was changed, or made by another user or on another "
    "model. Select the rows again on the change list."
)
_SELECTION_EXPIRED = _("This selection has expired. Select the rows again on the change list.")


def _canonical_query(query) -> str:
    """A change list query string with its parameters in one fixed order.

    The signed selection and the export form's address then compare equal whatever order the
    browser or a proxy kept the parameters in.
    """
    return urlencode(sorted((name, value) for name, values in query.lists() for value in values))


def _selection_claims(request, model) -> dict:
    """What a "select all" selection stands for: this user, this model, this change list query."""
    return {
        "user": str(request.user.pk),
        "model": model._meta.label_lower,
        "query": _canonical_query(request.GET),
    }


def _selection_field() -> forms.CharField:
    return forms.CharField(widget=forms.HiddenInput, required=False)


def _selects_across(request) -> bool:
    """Whether the change list's "Select all N" was used (Django's ``select_across`` flag)."""
    return forms.BooleanField(required=False).to_python(request.POST.get("select_across", ""))


class ExportMixin(BaseExportMixin, ImportExportMixinBase):
    """Adds the export page to a ``ModelAdmin``; change list filters and search apply."""

    #: Change list template carrying the "Export" button.
    import_export_change_list_template = "admin/import_export/change_list_export.html"
    #: Template of the export page.
    export_template_name = "admin/import_export/export.html"
    #: Encoding of text exports; ``None`` means ``DEFAULT_CHARSET``.
    to_encoding = None
    #: Form of the export page; :class:`~import_export.forms.ExportForm` has no field choice.
    export_form_class = SelectableFieldsExportForm
    #: Seconds during which the export form of a "select all" selection may be submitted.
    export_selection_max_age = 60 * 60

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_action),
                name="{}_{}_export".format(*self.get_model_info()),
            ),
        ] + super().get_urls()

    def has_export_permission(self, request) -> bool:
        """``IMPORT_EXPORT_EXPORT_PERMISSION_CODE`` decides; without it anyone with admin access."""
        return _has_model_permission(request, self.model, "IMPORT_EXPORT_EXPORT_PERMISSION_CODE")

    def _check_export_permission(self, request) -> None:
        """Every export path refuses (403) by itself, whichever view or action reached it."""
        if not self.has_export_permission(request):
            raise PermissionDenied

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["has_export_permission"] = self.has_export_permission(request)
        return super().changelist_view(request, extra_context)

    def get_export_queryset(self, request):
        """The change list's queryset with its filters, search and ordering, not paginated.

        Override to narrow what may be exported (e.g. per tenant); every export path, the
        action's included, starts from this queryset.
        """
        list_display = list(self.get_list_display(request))
        if self.get_actions(request):
            list_display = ["action_checkbox", *list_display]
        changelist_class = self.get_changelist(request)

        class ExportChangeList(changelist_class):
            def get_filters_params(self, params=None):
                # Django adds _changelist_filters to change form links; it filters nothing.
                return {
                    name: value
                    for name, value in super().get_filters_params(params).items()
                    if name != "_changelist_filters"
                }

            def get_results(self, request):
                # Counting and paginating are for the page, not for an export.
                pass

        changelist = ExportChangeList(
            request=request,
            model=self.model,
            list_display=list_display,
            list_display_links=self.get_list_display_links(request, list_display),
            list_filter=self.get_list_filter(request),
            date_hierarchy=self.date_hierarchy,
            search_fields=self.get_search_fields(request),
            list_select_related=self.get_list_select_related(request),
            list_per_page=self.list_per_page,
            list_max_show_all=self.list_max_show_all,
            list_editable=self.list_editable,
            model_admin=self,
            sortable_by=self.sortable_by,
            search_help_text=self.search_help_text,
        )
        try:
            return changelist.queryset
        except AttributeError:  # a custom ChangeList that does not keep its queryset
            return changelist.get_queryset(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """The whole export rendered by ``file_format`` (``str`` or ``bytes``)."""
        self._check_export_permission(request)
        data = self.get_data_for_export(
            request, queryset, force_native_type=keeps_native_types(file_format), **kwargs
        )
        export_data = file_format.export_data(data)
        encoding = kwargs.get("encoding")
        if encoding and isinstance(export_data, str):
            export_data = export_data.encode(encoding)
        return export_data

    def get_export_context_data(self, **kwargs) -> dict:
        return self.get_context_data(**kwargs)

    def get_context_data(self, **kwargs) -> dict:
        return {}

    def get_export_form_class(self):
        return self.export_form_class

    def get_export_filename(self, request, queryset, file_format) -> str:
        return super().get_export_filename(file_format)

    def get_valid_export_item_pks(self, request):
        """Deprecated: narrow ``get_export_queryset()`` instead."""
        self._warn_valid_export_item_pks_deprecated()
        return self.model.objects.all().values_list("pk", flat=True)

    def _warn_valid_export_item_pks_deprecated(self) -> None:
        warnings.warn(
            f"The 'get_valid_export_item_pks()' method in {type(self).__module__}."
            f"{type(self).__qualname__} is deprecated and will be removed in a future release",
            DeprecationWarning,
            stacklevel=3,
        )

    def _export_items_field(self, request):
        """The hidden field carrying an action's selected keys back to the export view.

        An override of the deprecated ``get_valid_export_item_pks`` is honoured.  Otherwise the
        keys are checked by type instead of against every key of the table, but the
        deprecation warning upstream gives on every action export is still given.
        """
        if type(self).get_valid_export_item_pks is not _STOCK_VALID_EXPORT_ITEM_PKS:
            pks = self.get_valid_export_item_pks(request)
            return forms.MultipleChoiceField(
                widget=forms.MultipleHiddenInput,
                required=False,
                choices=[(pk, pk) for pk in pks],
            )
        self._warn_valid_export_item_pks_deprecated()
        return _ExportItemsField(self.model._meta.pk)

    def export_action(self, request):
        """The export page: show the form; on a valid post answer with the download."""
        self._check_export_permission(request)
        try:
            queryset = self.get_export_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(f"{self._changelist_url()}?{ERROR_FLAG}=1")
        formats = self.get_export_formats()
        if self.is_skip_export_form_enabled():
            return self._do_file_export(formats[0](), request, queryset)

        form = self.get_export_form_class()(
            formats, self.get_export_resource_classes(request), data=request.POST or None
        )
        if request.POST and "export_items" in request.POST:
            form.fields["export_items"] = self._export_items_field(request)
        if request.POST and SELECTION_FIELD in request.POST:
            form.fields[SELECTION_FIELD] = _selection_field()
        if form.is_valid() and self._check_posted_selection(request, form):
            response = self._export_posted_form(request, form, formats, queryset)
            if response is not None:
                return response
        return self._render(
            request, self.export_template_name, self.init_request_context_data(request, form)
        )

    def _check_posted_selection(self, request, form) -> bool:
        """Whether a selection posted back by the export action may be exported now.

        A selection (the action's keys or its signed "select all") is the change list's rows, so
        the user must still be allowed to see the change list (403 otherwise). A signed
        selection must be this user's, for this model and this change list query, and not
        expired; if not, the form shows why and nothing is exported.
        """
        from_action = "export_items" in form.changed_data or SELECTION_FIELD in form.fields
        if from_action and not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if SELECTION_FIELD not in form.fields:
            return True
        error = self._selection_error(request, form.cleaned_data.get(SELECTION_FIELD) or "")
        if error is not None:
            form.add_error(None, error)
            return False
        return True

    def _sign_export_selection(self, request) -> str:
        """The token standing for "every row of this change list query" for this user.

        It holds no keys, only the user, the model and the change list's query string; the
        export view re-evaluates that query through :meth:`get_export_queryset`, so the file
        has the rows the change list selects when the file is made, whatever their number.
        """
        return signing.dumps(_selection_claims(request, self.model), salt=_SELECTION_SALT)

    def _selection_error(self, request, token: str):
        """Why the signed selection ``token`` cannot be exported by this request, or ``None``."""
        try:
            claims = signing.loads(
                token, salt=_SELECTION_SALT, max_age=self.export_selection_max_age
            )
        except signing.SignatureExpired:
            return _SELECTION_EXPIRED
        except signing.BadSignature:
            return _SELECTION_INVALID
        if claims != _selection_claims(request, self.model):
            return _SELECTION_INVALID
        return None

    def _export_posted_form(self, request, form, formats, queryset):
        """The download the valid export form asks for, or ``None`` after flashing why not.

        Keys posted back by the action narrow the queryset; a bad field choice or value
        (``ValueError``/``FieldError``) becomes an error message on the redisplayed form.
        """
        chosen_format = formats[int(form.cleaned_data["format"])]
        if "export_items" in form.changed_data:
            queryset = queryset.filter(pk__in=form.cleaned_data["export_items"])
        try:
            return self._do_file_export(chosen_format(), request, queryset, export_form=form)
        except (ValueError, FieldError) as exc:
            # Where the fork's error says more than upstream's did, the page shows upstream's
            # text and the log keeps the details.
            shown = getattr(exc, "upstream_message", None)
            if shown is not None:
                logger.warning("Export failed: %s", exc)
            messages.error(request, str(shown if shown is not None else exc))
            return None

    def init_request_context_data(self, request, form) -> dict:
        context = self.get_export_context_data()
        context.update(self._page_context(request, _("Export")))
        context["form"] = form
        context["fields_list"] = _fields_list(
            resource_class(**self.get_export_resource_kwargs(request))
            for resource_class in self.get_export_resource_classes(request)
        )
        return context

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """The download: streamed where possible (see ``build_export_response``)."""
        self._check_export_permission(request)
        options = {"encoding": self.to_encoding, "export_form": export_form}
        response = self.build_export_response(
            request,
            file_format,
            queryset,
            self.get_export_filename(request, queryset, file_format),
            # Only called when the export cannot stream (an overridden hook, an unstreamable
            # format): then the whole file is rendered the classic way.
            classic_data=lambda: self.get_export_data(file_format, request, queryset, **options),
            **options,
        )
        post_export.send(sender=None, model=self.model)
        return response


register_stock_export_hook("get_export_data", ExportMixin.get_export_data)
#: Only a replaced (deprecated) ``get_valid_export_item_pks`` is called: the stock one would
#: load every key of the table just to validate a selection.
_STOCK_VALID_EXPORT_ITEM_PKS = ExportMixin.get_valid_export_item_pks


class ImportExportMixin(ImportMixin, ExportMixin):
    """Import and export pages together."""

    import_export_change_list_template = "admin/import_export/change_list_import_export.html"


class ImportExportModelAdmin(ImportExportMixin, admin.ModelAdmin):
    """A ``ModelAdmin`` with import and export."""


class ExportActionMixin(ExportMixin):
    """Export as an admin action on the selected rows, and from an object's change form."""

    #: Change form template carrying the "Export" button.
    change_form_template = "admin/import_export/change_form.html"
    #: Whether the change form shows the "Export" button (for users allowed to export).
    show_change_form_export = True

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["show_change_form_export"] = bool(
            self.show_change_form_export and self.has_export_permission(request)
        )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def response_change(self, request, obj):
        if "_export-item" in request.POST:
            queryset = self.get_export_queryset(request).filter(pk=obj.pk)
            return self.export_admin_action(request, queryset)
        return super().response_change(request, obj)

    def export_admin_action(self, request, queryset):
        """Export the selected rows: straight away, or through the export form."""
        self._check_export_permission(request)
        formats = self.get_export_formats()
        if self.is_skip_export_form_from_action_enabled():
            return self._do_file_export(formats[0](), request, queryset)
        if _selects_across(request):
            return self._render_export_form(request, *self._select_all_form(request, formats))
        export_items = list(queryset.values_list("pk", flat=True))
        form = self.get_export_form_class()(
            formats=formats,
            resources=self.get_export_resource_classes(request),
            initial={"export_items": export_items},
        )
        form.fields["export_items"] = forms.MultipleChoiceField(
            widget=forms.MultipleHiddenInput,
            required=False,
            choices=[(str(pk), str(pk)) for pk in export_items],
        )
        return self._render_export_form(request, form, len(export_items))

    def _select_all_form(self, request, formats):
        """The export form of a "Select all N" selection, and N.

        Instead of one hidden field per row (which a large table takes past Django's
        ``DATA_UPLOAD_MAX_NUMBER_FIELDS``) the form carries one signed token, and posts to the
        export view with the change list's query string: the export view re-evaluates that query.
        """
        form = self.get_export_form_class()(
            formats=formats,
            resources=self.get_export_resource_classes(request),
            initial={SELECTION_FIELD: self._sign_export_selection(request)},
        )
        form.fields[SELECTION_FIELD] = _selection_field()
        return form, self.get_export_queryset(request).count()

    def _render_export_form(self, request, form, selected_count: int):
        """The export page reached from the action (or the change form), posting to the export
        view with the change list's filters."""
        context = self.init_request_context_data(request, form)
        context["export_selected_count"] = selected_count
        # The action posts to the change list; the form must post to the export view, keeping
        # the change list's filters so the export queryset is the one the rows were picked from.
        export_url = reverse("{}:{}_{}_export".format(self.admin_site.name, *self.get_model_info()))
        if request.GET:
            export_url += "?" + urlencode(request.GET)
        context["export_url"] = export_url
        return self._render(request, self.export_template_name, context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_export_permission(request):
            return actions
        # Django's action triple: (function, name, description).
        name = "export_admin_action"
        description = _("Export selected %(verbose_name_plural)s")
        actions[name] = (type(self).export_admin_action, name, description)
        return actions


class ExportActionModelAdmin(ExportActionMixin, admin.ModelAdmin):
    """A ``ModelAdmin`` exporting through an action and the change form."""


class ImportExportActionModelAdmin(ImportMixin, ExportActionModelAdmin):
    """A ``ModelAdmin`` with import, and export through an action and the change form."""
