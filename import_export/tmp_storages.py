"""Where an uploaded import file waits between the dry run and the confirmed import.

The admin import is two requests: the first uploads and previews, the second (the confirm step)
imports. The file must survive in between, and the confirm step only gets back a *name* that went
through the browser. That name is untrusted input, so every storage here reduces it to a bare
file name and keeps it inside its own area; a name like ``../../etc/passwd`` can never escape.

Uploads whose confirm step never comes are removed once they are older than
``IMPORT_EXPORT_TMP_STORAGE_MAX_AGE`` seconds (one day by default): ``remove_expired`` sweeps a
storage's own area (the admin calls it whenever it stores a new upload) and the cache storage
lets entries expire after that time.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from datetime import UTC
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile

logger = logging.getLogger(__name__)


def safe_storage_name(name: str | None) -> str | None:
    """Return ``name`` reduced to its last path component, or ``None`` when there is none.

    Both separators are stripped whatever the platform, because the name may have been written by
    a browser on another operating system (or by an attacker who tries both).
    """
    if name is None:
        return None
    base = os.path.basename(str(name).replace("\\", "/"))
    if base in ("", ".", ".."):
        return None
    return base


def _as_bytes(data: bytes | str, encoding: str | None) -> bytes:
    """Storages keep bytes, so text read back can be decoded with the encoding it was given."""
    if isinstance(data, str):
        return data.encode(encoding or "utf-8")
    return bytes(data)


class BaseStorage:
    """Interface of a temporary store: ``save(data)``, ``read()`` and ``remove()``.

    Keyword arguments: ``name`` (the key of an existing entry; a new one is made on ``save`` when
    absent), ``read_mode`` (``"r"`` to get text back, ``"rb"`` for bytes) and ``encoding`` (used to
    decode in text mode).
    """

    def __init__(self, **kwargs):
        self.name = safe_storage_name(kwargs.get("name"))
        self.read_mode = kwargs.get("read_mode", "r")
        self.encoding = kwargs.get("encoding")

    def save(self, data):
        """Store ``data`` (bytes or text) under ``name``, choosing a fresh name if there is none."""
        raise NotImplementedError

    def read(self):
        """The stored content, as text or bytes depending on ``read_mode``."""
        raise NotImplementedError

    def remove(self):
        """Delete the stored content once the confirmed import no longer needs it."""
        raise NotImplementedError

    def remove_expired(self, max_age: float) -> int:
        """Remove this storage's entries older than ``max_age`` seconds; how many were removed.

        The default removes nothing (a storage that cannot list its entries, or lets them
        expire by itself, as the cache does).
        """
        return 0

    def _claim_random_name(self) -> str:
        """The entry's name, inventing an unguessable one for a first save."""
        if self.name is None:
            self.name = uuid4().hex
        return self.name


class TempFolderStorage(BaseStorage):
    """Keeps the file in the system temporary directory (the default; fine for one server)."""

    PREFIX = "django-import-export-"

    def save(self, data):
        with self._open(mode="wb") as handle:
            handle.write(_as_bytes(data, self.encoding))

    def read(self):
        with self._open(mode=self.read_mode) as handle:
            return handle.read()

    def _open(self, mode="r"):
        """Open the stored file in ``mode``; a storage without a name first creates its file.

        The new file gets an unguessable name in the temporary directory (only its base name
        is kept in ``name``). Text modes use ``encoding``.
        """
        if self.name is None:
            with tempfile.NamedTemporaryFile(prefix=self.PREFIX, delete=False) as handle:
                self.name = os.path.basename(handle.name)
        encoding = None if "b" in mode else self.encoding
        return open(self.get_full_path(), mode, encoding=encoding)

    def remove(self):
        os.remove(self.get_full_path())

    def remove_expired(self, max_age: float) -> int:
        """Remove files of this storage (named ``PREFIX...``) not modified for ``max_age`` s.

        Only regular files carrying this storage's prefix are considered, never a symlink or
        another program's file in the shared temporary directory.
        """
        deadline = time.time() - max_age
        removed = 0
        with os.scandir(tempfile.gettempdir()) as entries:
            for entry in entries:
                if not entry.name.startswith(self.PREFIX):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < deadline:
                        os.remove(entry.path)
                        removed += 1
                except OSError:  # removed meanwhile by another process, or not ours to remove
                    continue
        return removed

    def get_full_path(self) -> str:
        """Absolute path of the file; refuses any name that would resolve outside the temp dir."""
        if self.name is None:
            raise ValueError("This temporary storage has no file name yet; call save() first.")
        folder = os.path.realpath(tempfile.gettempdir())
        path = os.path.realpath(os.path.join(folder, self.name))
        if os.path.dirname(path) != folder:
            raise ValueError(f"Temporary file name {self.name!r} points outside {folder}.")
        return path


class CacheStorage(BaseStorage):
    """Keeps the file in Django's cache, which suits several servers sharing one cache.

    Mind the cache's value size limit (memcached refuses values over 1 MB by default).
    """

    CACHE_LIFETIME = 86400
    CACHE_PREFIX = "django-import-export-"

    def save(self, data):
        self._claim_random_name()
        cache.set(self._key(), data, self._lifetime())

    def _lifetime(self) -> int:
        """``IMPORT_EXPORT_TMP_STORAGE_MAX_AGE`` when set, else ``CACHE_LIFETIME``."""
        from .upload_safety import TMP_STORAGE_MAX_AGE_SETTING

        configured = getattr(settings, TMP_STORAGE_MAX_AGE_SETTING, None)
        return self.CACHE_LIFETIME if configured is None else int(configured)

    def read(self):
        # Handed back exactly as saved (bytes from an upload); text formats decode them.
        return cache.get(self._key())

    def remove(self):
        cache.delete(self._key())

    def _key(self) -> str:
        return self.CACHE_PREFIX + (self.name or "")


class MediaStorage(BaseStorage):
    """Keeps the file in a Django storage backend (S3 and the like through django-storages).

    The backend is ``STORAGES["import_export"]`` when the project defines one, the default
    storage otherwise. Files go into the ``MEDIA_FOLDER`` keyword (``"django-import-export"``).
    Reading is always binary because remote backends do not promise text mode.
    """

    _storage = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.read_mode = "rb"
        self.MEDIA_FOLDER = kwargs.get("MEDIA_FOLDER", "django-import-export")
        self._configure_storage()

    def _configure_storage(self):
        # A fresh handler reads STORAGES as it is now, not as it was first read.
        from django.core.files.storage import StorageHandler

        handler = StorageHandler()
        alias = "import_export" if "import_export" in handler.backends else "default"
        self._storage = handler[alias]

    def save(self, data):
        self._claim_random_name()
        content = ContentFile(_as_bytes(data, self.encoding))
        self._storage.save(self.get_full_path(), content)

    def read(self):
        stored = self._storage.open(self.get_full_path(), mode=self.read_mode)
        try:
            return stored.read()
        finally:
            stored.close()

    def remove(self):
        self._storage.delete(self.get_full_path())

    def remove_expired(self, max_age: float) -> int:
        """Remove files of ``MEDIA_FOLDER`` not modified for ``max_age`` seconds.

        Only with a ``MEDIA_FOLDER`` (the folder is this storage's own); backends that cannot
        list or date their files are left as they are.
        """
        if not self.MEDIA_FOLDER:
            return 0
        from datetime import datetime, timedelta

        deadline = datetime.now(UTC) - timedelta(seconds=max_age)
        try:
            _folders, files = self._storage.listdir(self.MEDIA_FOLDER)
        except (OSError, NotImplementedError):
            return 0
        removed = 0
        for file_name in files:
            path = os.path.join(self.MEDIA_FOLDER, file_name)
            try:
                modified = self._storage.get_modified_time(path)
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=UTC)
                if modified < deadline:
                    self._storage.delete(path)
                    removed += 1
            except (OSError, NotImplementedError) as error:
                logger.info("Could not check stored import file %r: %r", path, error)
        return removed

    def get_full_path(self) -> str:
        if self.name is None:
            raise ValueError("This temporary storage has no file name yet; call save() first.")
        if self.MEDIA_FOLDER is None:
            return self.name
        return os.path.join(self.MEDIA_FOLDER, self.name)
