"""Checks the admin import runs on an upload between the preview and the confirm step.

The admin import is two requests, and the second one only gets back what went through the
browser: the stored file's name. Upstream imported (and then deleted) any file of that name in
the temporary storage, so a forged name could import, and delete, a file the user never
uploaded. Here the preview signs what it stored — the user, the model, the stored name and a
digest of the content it previewed — and the confirm step imports only a file that matches a
valid signature. Everything else is refused with a form error and left untouched.

The helpers are small functions the views call, so a view that is reorganised (e.g. to stream
the upload) keeps the same checks by calling them at the same moments:

* :func:`sign_stored_upload` when the preview has stored and read the upload;
* :func:`verify_stored_upload` before the confirm step reads the stored file, and
  :func:`check_stored_digest` once it has;
* :func:`discard_stored_upload` whenever a stored upload will not be confirmed;
* :func:`upload_size_error` when an upload arrives.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

#: Setting: largest upload (in bytes) the admin import accepts; ``None`` (default) for no limit.
MAX_UPLOAD_SIZE_SETTING = "IMPORT_EXPORT_MAX_UPLOAD_SIZE"
#: Setting: seconds a stored upload may wait for its confirm step (default one day).
TMP_STORAGE_MAX_AGE_SETTING = "IMPORT_EXPORT_TMP_STORAGE_MAX_AGE"
DEFAULT_TMP_STORAGE_MAX_AGE = 86400

_SALT = "import_export.admin.confirm_import"


class UploadRejected(Exception):
    """The confirm step refuses the posted file; ``message`` says why, for the form.

    ``discard`` tells whether the stored file is known to be this preview's own (a valid but
    expired signature) and may therefore be removed.
    """

    def __init__(self, message: str, discard: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.discard = discard


@dataclass(frozen=True)
class StoredUploadClaim:
    """What a valid confirm token vouches for: the stored name and its content's digest."""

    name: str
    digest: str


def tmp_storage_max_age() -> int:
    """Seconds a stored upload stays valid (``IMPORT_EXPORT_TMP_STORAGE_MAX_AGE``)."""
    value = getattr(settings, TMP_STORAGE_MAX_AGE_SETTING, None)
    return DEFAULT_TMP_STORAGE_MAX_AGE if value is None else int(value)


def content_digest(data: bytes | str | None) -> str:
    """SHA-256 of what a storage's ``read()`` returned, text encoded as UTF-8.

    The preview and the confirm step both digest what ``read()`` gives back (not the raw
    upload), so text-mode storages that translate newlines or strip a BOM still match.
    """
    return digest_chunks([data])


def digest_chunks(chunks) -> str:
    """The :func:`content_digest` of the concatenation of ``chunks``, read one at a time.

    For views that read the stored upload in pieces: both steps must digest the same
    representation (all bytes, or all text) for the digests to match.
    """
    digest = hashlib.sha256()
    for chunk in chunks:
        if chunk is None:
            continue
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogatepass")
        digest.update(chunk)
    return digest.hexdigest()


def _owner(request: Any, model: Any) -> list[str]:
    user = getattr(request, "user", None)
    user_key = "" if user is None or user.pk is None else str(user.pk)
    return [user_key, model._meta.label_lower]


def sign_stored_upload(request: Any, model: Any, name: str, digest: str) -> str:
    """A token binding the stored upload ``name`` (with ``digest``) to this user and model.

    Signed with ``SECRET_KEY`` and time-stamped, so it cannot be forged, reused by another
    user or for another model, or used after ``IMPORT_EXPORT_TMP_STORAGE_MAX_AGE``.
    """
    return signing.dumps([*_owner(request, model), name, digest], salt=_SALT, compress=False)


def verify_stored_upload(request: Any, model: Any, name: str, token: str | None):
    """The :class:`StoredUploadClaim` of a valid ``token`` for ``name``, else raise.

    Raises :class:`UploadRejected` for a missing, forged, foreign or expired token; only the
    expired one (whose signature proves the file is this preview's) may be discarded.
    """
    if not token:
        raise UploadRejected(_NOT_THIS_PREVIEW)
    try:
        payload = signing.loads(token, salt=_SALT, max_age=tmp_storage_max_age())
    except signing.SignatureExpired:
        payload = _expired_payload(token)
        if payload is not None and _matches(payload, request, model, name):
            raise UploadRejected(_EXPIRED, discard=True) from None
        raise UploadRejected(_NOT_THIS_PREVIEW) from None
    except signing.BadSignature:
        raise UploadRejected(_NOT_THIS_PREVIEW) from None
    if not _matches(payload, request, model, name):
        raise UploadRejected(_NOT_THIS_PREVIEW)
    return StoredUploadClaim(name=name, digest=payload[3])


def check_stored_digest(claim: StoredUploadClaim, data: bytes | str | None) -> None:
    """Raise :class:`UploadRejected` when the stored content is not what the preview read.

    A file replaced under the same name is not the user's upload: it is neither imported nor
    deleted.
    """
    check_claim_digest(claim, content_digest(data))


def check_claim_digest(claim: StoredUploadClaim, digest: str) -> None:
    """Raise :class:`UploadRejected` unless ``digest`` is the one the preview signed.

    For views that digest the stored file in pieces (:func:`digest_chunks`) instead of from one
    ``read()``.
    """
    if digest != claim.digest:
        logger.warning("Stored import file %r changed after its preview; refused.", claim.name)
        raise UploadRejected(_NOT_THIS_PREVIEW)


def discard_stored_upload(tmp_storage: Any) -> None:
    """Remove a stored upload that will not be confirmed; a missing file is no error.

    Called for previews that failed or could not be read and after every confirm attempt
    that read the file, so uploads do not pile up in the temporary storage.
    """
    if getattr(tmp_storage, "name", None) is None:
        return
    try:
        tmp_storage.remove()
    except Exception as error:  # any backend; the clean-up must never hide the real outcome
        logger.info("Could not remove stored import file %r: %r", tmp_storage.name, error)


def sweep_expired_uploads(tmp_storage: Any) -> None:
    """Remove uploads older than ``IMPORT_EXPORT_TMP_STORAGE_MAX_AGE`` from ``tmp_storage``'s area.

    Previews that were never confirmed (the user went away) would otherwise stay forever;
    called when a new upload is stored, so the sweep costs nothing when nobody imports.
    Storages without a ``remove_expired`` method (custom ones) are left alone.
    """
    remove_expired = getattr(tmp_storage, "remove_expired", None)
    if remove_expired is None:
        return
    try:
        remove_expired(tmp_storage_max_age())
    except Exception as error:  # a sweep must never fail the upload that triggered it
        logger.info("Could not remove expired import files: %r", error)


def explain_read_error(error: BaseException) -> str | None:
    """A message safe to show for an unreadable upload, when one is known; else ``None``.

    Only messages this package controls are shown: they never quote the file's content.
    """
    import csv

    from .error_text import shorten
    from .exceptions import ImportExportError

    # A streamed read wraps the csv module's error (as its cause) in a StreamReadError.
    for candidate in (error, error.__cause__):
        if isinstance(candidate, csv.Error) and "field larger than field limit" in str(candidate):
            return _CSV_FIELD_TOO_LONG % {"limit": csv.field_size_limit()}
    if isinstance(error, ImportExportError):
        return shorten(str(error), 300)
    return None


def max_upload_size() -> int | None:
    value = getattr(settings, MAX_UPLOAD_SIZE_SETTING, None)
    return None if value is None else int(value)


def upload_size_error(upload: Any) -> str | None:
    """The form error for an upload over ``IMPORT_EXPORT_MAX_UPLOAD_SIZE``, else ``None``."""
    limit = max_upload_size()
    size = getattr(upload, "size", None)
    if limit is None or size is None or size <= limit:
        return None
    return _TOO_BIG % {"size": filesizeformat(size), "limit": filesizeformat(limit)}


def _matches(payload: Any, request: Any, model: Any, name: str) -> bool:
    return (
        isinstance(payload, list)
        and len(payload) == 4
        and payload[:2] == _owner(request, model)
        and payload[2] == name
    )


def _expired_payload(token: str):
    """The payload of a token whose signature is good but too old (checked without age)."""
    try:
        return signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None


_NOT_THIS_PREVIEW = _(
    "This file was not uploaded in your import preview, or the preview has changed. "
    "Please upload the file again."
)
_EXPIRED = _("The import preview has expired. Please upload the file again.")
_CSV_FIELD_TOO_LONG = _(
    "A cell of the file is longer than the CSV field size limit (%(limit)s characters), "
    "or a quote is not closed."
)
_TOO_BIG = _("The file is too big (%(size)s); the largest file accepted is %(limit)s.")
