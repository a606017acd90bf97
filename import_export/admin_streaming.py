"""Helpers that let the admin import read uploads as streams instead of whole in memory.

The admin import stores the upload between the dry run and the confirm step and, classically,
reads it back whole (``tmp_storage.read()``) into a Dataset twice.  These helpers:

* write the upload to the temporary storage chunk by chunk (:func:`save_upload_in_chunks`);
* open the stored file as a binary stream (:func:`open_stored_file`) for
  ``Resource.import_from_stream``;
* write the admin log entries of a streamed import in batches as its rows are imported
  (:class:`LogEntryWriter`), since its bounded result keeps only the first row results.

Only the storages of this package are streamed, and only when a subclass does not override the
method concerned; any other storage gets its usual ``save(data)`` / ``read()`` calls, so custom
storages keep working (with the memory use they always had).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from .tmp_storages import BaseStorage, MediaStorage, TempFolderStorage
from .upload_safety import digest_chunks

#: Log entries gathered before one ``bulk_create``.
LOG_ENTRY_BATCH = 1000


#: The storages' own methods as this package defines them, taken when this module is imported,
#: so that a subclass override or a test's ``mock.patch`` of them is seen as "not ours".
_OWN_METHODS = {
    (cls, name): vars(cls)[name]
    for cls in (TempFolderStorage, MediaStorage)
    for name in ("save", "read")
}


def _own_method(storage: BaseStorage, name: str, cls: type) -> bool:
    """Whether ``storage`` is a ``cls`` whose method ``name`` is still the one of ``cls``."""
    return isinstance(storage, cls) and getattr(type(storage), name) is _OWN_METHODS[(cls, name)]


def save_upload_in_chunks(storage: BaseStorage, chunks: Iterable[bytes]) -> None:
    """Store the upload given as ``chunks`` (``UploadedFile.chunks()``) without joining them.

    The temporary folder storage writes each chunk to its file; the media storage hands the
    chunks to its Django storage backend as a file; any other storage gets ``save(data)``.
    """
    if _own_method(storage, "save", TempFolderStorage):
        _save_to_temp_folder(storage, chunks)
    elif _own_method(storage, "save", MediaStorage):
        storage._claim_random_name()
        storage._storage.save(storage.get_full_path(), _ChunkFile(chunks))
    else:
        storage.save(b"".join(chunks))


def _save_to_temp_folder(storage: TempFolderStorage, chunks: Iterable[bytes]) -> None:
    if storage.name is None:
        with tempfile.NamedTemporaryFile(prefix=storage.PREFIX, delete=False) as handle:
            storage.name = os.path.basename(handle.name)
            for chunk in chunks:
                handle.write(chunk)
        return
    with open(storage.get_full_path(), "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


class _ChunkFile(io.RawIOBase):
    """Chunks seen as a readable binary file, for ``Storage.save()``."""

    def __init__(self, chunks: Iterable[bytes]):
        super().__init__()
        self._chunks = iter(chunks)
        self._pending = b""
        self.name = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def chunks(self, chunk_size: int | None = None):
        while data := self.read(chunk_size or 64 * 1024):
            yield data


def open_stored_file(storage: BaseStorage) -> IO[bytes]:
    """The stored upload as a binary file, to be closed by the caller.

    Raises ``OSError`` (or ``ValueError`` for a name the storage refuses) when the file is gone.
    """
    if _own_method(storage, "read", TempFolderStorage):
        return open(storage.get_full_path(), "rb")
    if _own_method(storage, "read", MediaStorage):
        return storage._storage.open(storage.get_full_path(), mode="rb")
    data = storage.read()
    if data is None:
        raise OSError(f"The stored file {storage.name!r} is gone.")
    if isinstance(data, str):
        data = data.encode(storage.encoding or "utf-8")
    return io.BytesIO(data)


#: Bytes read at a time when a stored upload is digested.
DIGEST_CHUNK = 1 << 16


def stored_file_digest(storage: BaseStorage) -> str:
    """The :func:`~import_export.upload_safety.digest_chunks` digest of the stored upload's
    bytes, read a chunk at a time.

    The preview signs it and the confirm step compares it before importing, whichever way each
    step then reads the file (streamed or as a Dataset), so both digest the same bytes.
    """
    with open_stored_file(storage) as source:
        return digest_chunks(iter(lambda: source.read(DIGEST_CHUNK), b""))


class LogEntryWriter:
    """Writes one admin ``LogEntry`` per new, updated or deleted row, a batch at a time.

    Called with each row result as the import records it (see ``row_result_callback`` of
    ``import_from_stream``), it keeps at most :data:`LOG_ENTRY_BATCH` entries before writing
    them with one ``bulk_create``; :meth:`flush` writes the rest.  The entries are those
    ``ImportMixin.generate_log_entries`` writes for the classic import.
    """

    def __init__(self, make_entry, action_for_import_type: dict):
        self._make_entry = make_entry
        self._actions = action_for_import_type
        self._pending: list[Any] = []

    def __call__(self, row_result) -> None:
        if row_result.import_type not in self._actions:
            return
        self._pending.append(self._make_entry(row_result))
        if len(self._pending) >= LOG_ENTRY_BATCH:
            self.flush()

    def flush(self) -> None:
        from django.contrib.admin.models import LogEntry

        if self._pending:
            LogEntry.objects.bulk_create(self._pending)
            self._pending = []
