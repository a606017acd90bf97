"""Name resolution shared by the ``export`` and ``import`` management commands.

A command line names things with strings: a resource as a dotted path or as
``app_label.ModelName``, a format as a class name, a dotted path or (for imports) implicitly
through the file's extension.  These helpers turn such strings into objects and, when they
cannot, raise :class:`~django.core.management.base.CommandError` with a message that says what
was tried, so the person at the terminal knows what to type instead.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .resources import Resource, modelresource_factory

BASE_FORMATS_MODULE = "import_export.formats.base_formats"


class CommandFailed(CommandError, SystemExit):
    """The command ran but did not succeed (rows with errors, binary data for a terminal).

    It is a ``CommandError``, so ``manage.py`` prints it and exits with ``returncode``; it is
    also a ``SystemExit``, because django-import-export 4.4 ended these cases with
    ``sys.exit(1)`` and code calling the commands through ``call_command`` may catch that.
    """

    def __init__(self, *args: Any, returncode: int = 1) -> None:
        super().__init__(*args, returncode=returncode)
        # SystemExit's own __init__ is skipped by the MRO; without this, ``code`` would be None,
        # which an interpreter exiting on this exception would report as success.
        self.code = returncode


def _default_formats() -> list[type]:
    # Imported on use, so that a formats module that fails to import (a broken optional
    # back-end) surfaces as the error of the command that needs a format, not of every import.
    from .formats.base_formats import DEFAULT_FORMATS

    return list(DEFAULT_FORMATS)


def get_resource_class(model_or_resource_class: str) -> type:
    """The Resource class named by a dotted path, or a model resource built for a model.

    Accepted: ``"myapp.resources.BookResource"``, ``"myapp.Book"`` (app label and model name),
    and also ``"myapp.models.Book"`` (a dotted path to a model class).
    """
    imported = _import_or_none(model_or_resource_class)
    if imported is not None:
        return _as_resource_class(imported, model_or_resource_class)
    model = _model_or_none(model_or_resource_class)
    if model is not None:
        return _resource_for_model(model)
    raise CommandError(
        _("Cannot import '%(name)s' as a resource class or model.")
        % {"name": model_or_resource_class}
    )


def _import_or_none(dotted_path: str) -> Any:
    try:
        return import_string(dotted_path)
    except ImportError:
        return None


def _model_or_none(label: str) -> type[models.Model] | None:
    """The model named ``app_label.ModelName``, or None when there is none by that name."""
    if label.count(".") != 1:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _resource_for_model(model: type[models.Model]) -> type:
    return modelresource_factory(model)


def _as_resource_class(imported: Any, name: str) -> type:
    """Accept a Resource class as it is, and a model class by building a resource for it."""

    if isinstance(imported, type) and issubclass(imported, Resource):
        return imported
    if isinstance(imported, type) and issubclass(imported, models.Model):
        return _resource_for_model(imported)
    raise CommandError(
        _(
            "'%(name)s' is a %(type)s, not a Resource class or a model; give a dotted path to "
            "a Resource subclass or 'app_label.ModelName'."
        )
        % {"name": name, "type": type(imported).__name__}
    )


def get_format_class(format_name: str | None, file_name: str | None, encoding: str | None = None):
    """A format *instance* chosen by name or, when no name is given, by the file's name.

    Despite the name (kept from django-import-export 4.4) this returns an instance, so the
    encoding travels with it.  A name may be a dotted path to a format class or the name of a
    class in ``import_export.formats.base_formats`` in any letter case (``csv``, ``XLSX``).
    """
    if format_name:
        format_class = _format_class_by_name(format_name)
    else:
        format_class = _format_class_for_file(file_name)
    return format_class(encoding=encoding)


def _format_class_by_name(format_name: str) -> type:
    fallback = f"{BASE_FORMATS_MODULE}.{format_name}"
    for candidate in (format_name, fallback, f"{BASE_FORMATS_MODULE}.{format_name.upper()}"):
        imported = _import_or_none(candidate)
        if imported is not None:
            return imported
    # Upstream's message; the known formats are listed in the command's --help.
    raise CommandError(
        _("Cannot import '%(name)s' or '%(fallback)s' format class.")
        % {"name": format_name, "fallback": fallback}
    )


def _format_class_for_file(file_name: str | None) -> type:
    """Pick the format from the file's MIME type, then from its extension."""
    if not file_name or file_name == "-":
        raise CommandError(_("Reading from standard input needs --format (e.g. --format CSV)."))
    mimetype, compression = mimetypes.guess_type(file_name)
    if compression:
        raise CommandError(
            _(
                "'%(file)s' looks %(compression)s-compressed; decompress it first, or pipe the "
                "decompressed data in with '-' and --format."
            )
            % {"file": file_name, "compression": compression}
        )
    by_mimetype = mime_type_format_mapping().get(mimetype) if mimetype else None
    if by_mimetype is not None:
        return by_mimetype
    by_extension = _format_class_for_extension(os.path.splitext(file_name)[1])
    if by_extension is not None:
        return by_extension
    if not mimetype:
        raise CommandError(
            _("Cannot determine MIME type for '%(file)s'.  Please specify format with --format.")
            % {"file": file_name}
        )
    raise CommandError(
        _("Cannot find format for MIME type '%(mimetype)s'. Please specify format with --format.")
        % {"mimetype": mimetype}
    )


def _format_class_for_extension(extension: str) -> type | None:
    wanted = extension.lstrip(".").lower()
    if not wanted:
        return None
    for format_class in _default_formats():
        if format_class().get_extension().lower() == wanted:
            return format_class
    return None


def mime_type_format_mapping() -> dict[str, type]:
    """Content type -> format class for the default formats (first one wins on a clash)."""
    mapping: dict[str, type] = {}
    for format_class in _default_formats():
        mapping.setdefault(format_class.CONTENT_TYPE, format_class)
    return mapping


def get_default_format_names() -> str:
    """The class names of the default formats, comma separated, for help and error texts."""
    return ", ".join(format_class.__name__ for format_class in _default_formats())


def __getattr__(name: str) -> Any:
    # ``MIME_TYPE_FORMAT_MAPPING`` is a module constant in django-import-export 4.4; it is built
    # on first access here so that importing this module does not import the format back-ends.
    # ``DEFAULT_FORMATS`` (upstream imports it here) is looked up lazily for the same reason.
    if name == "MIME_TYPE_FORMAT_MAPPING":
        return mime_type_format_mapping()
    if name == "DEFAULT_FORMATS":
        from .formats.base_formats import DEFAULT_FORMATS

        return DEFAULT_FORMATS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
