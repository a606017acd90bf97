"""The temporary stores that carry an upload from the dry run to the confirmed import."""

import os
import tempfile

import pytest
from django.core.cache import cache
from django.test import override_settings

from import_export.tmp_storages import (
    BaseStorage,
    CacheStorage,
    MediaStorage,
    TempFolderStorage,
    safe_storage_name,
)

CSV_BYTES = "id,name\n1,Æsop\n".encode()


@pytest.mark.parametrize(
    "given, expected",
    [
        ("abc.csv", "abc.csv"),
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("..", None),
        ("", None),
        (None, None),
        ("dir/", None),
    ],
)
def test_safe_storage_name_keeps_only_last_component(given, expected):
    assert safe_storage_name(given) == expected


def test_base_storage_methods_must_be_implemented():
    storage = BaseStorage(name="x")
    for method in (storage.read, storage.remove):
        with pytest.raises(NotImplementedError):
            method()
    with pytest.raises(NotImplementedError):
        storage.save(b"")


class TestTempFolderStorage:
    def test_round_trip_in_text_mode_decodes_with_encoding(self):
        storage = TempFolderStorage(encoding="utf-8", read_mode="r")
        storage.save(CSV_BYTES)
        try:
            assert storage.name.startswith(TempFolderStorage.PREFIX)
            again = TempFolderStorage(name=storage.name, encoding="utf-8", read_mode="r")
            assert again.read() == "id,name\n1,Æsop\n"
        finally:
            storage.remove()
        assert not os.path.exists(storage.get_full_path())

    def test_round_trip_in_binary_mode(self):
        storage = TempFolderStorage(read_mode="rb")
        storage.save(CSV_BYTES)
        try:
            assert TempFolderStorage(name=storage.name, read_mode="rb").read() == CSV_BYTES
        finally:
            storage.remove()

    def test_saving_text_encodes_it(self):
        storage = TempFolderStorage(read_mode="rb", encoding="latin-1")
        storage.save("Æ")
        try:
            assert storage.read() == "Æ".encode("latin-1")
        finally:
            storage.remove()

    def test_traversal_name_is_confined_to_temp_dir(self):
        storage = TempFolderStorage(name="../../../../etc/passwd")
        assert storage.name == "passwd"
        folder = os.path.realpath(tempfile.gettempdir())
        assert storage.get_full_path() == os.path.join(folder, "passwd")

    def test_full_path_without_name_is_an_error(self):
        with pytest.raises(ValueError, match="save"):
            TempFolderStorage().get_full_path()

    def test_reading_missing_file_raises(self):
        storage = TempFolderStorage(name="django-import-export-does-not-exist")
        with pytest.raises(FileNotFoundError):
            storage.read()


class TestCacheStorage:
    def test_round_trip_and_remove(self):
        storage = CacheStorage(read_mode="rb")
        storage.save(CSV_BYTES)
        key = CacheStorage.CACHE_PREFIX + storage.name
        assert cache.get(key) == CSV_BYTES
        assert CacheStorage(name=storage.name, read_mode="rb").read() == CSV_BYTES
        storage.remove()
        assert cache.get(key) is None

    def test_data_comes_back_as_saved_whatever_the_mode(self):
        """As upstream: the text format decodes the bytes, not the cache."""
        storage = CacheStorage(read_mode="r", encoding="utf-8")
        storage.save(CSV_BYTES)
        try:
            assert storage.read() == CSV_BYTES
        finally:
            storage.remove()

    def test_traversal_name_is_reduced(self):
        assert CacheStorage(name="../x/y").name == "y"

    def test_missing_entry_reads_none(self):
        assert CacheStorage(name="never-saved").read() is None


class TestMediaStorage:
    @pytest.fixture(autouse=True)
    def media_root(self, tmp_path):
        with override_settings(MEDIA_ROOT=str(tmp_path)):
            yield tmp_path

    def test_round_trip_is_binary_and_inside_media_folder(self, media_root):
        storage = MediaStorage(read_mode="r", encoding="utf-8")
        assert storage.read_mode == "rb"
        storage.save(CSV_BYTES)
        on_disk = media_root / "django-import-export" / storage.name
        assert on_disk.read_bytes() == CSV_BYTES
        assert MediaStorage(name=storage.name).read() == CSV_BYTES
        storage.remove()
        assert not on_disk.exists()

    def test_custom_folder_and_no_folder(self, media_root):
        assert MediaStorage(name="a", MEDIA_FOLDER="up").get_full_path() == os.path.join("up", "a")
        assert MediaStorage(name="a", MEDIA_FOLDER=None).get_full_path() == "a"

    def test_uses_import_export_storage_alias_when_configured(self, media_root, tmp_path_factory):
        other = tmp_path_factory.mktemp("ie_store")
        storages = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            },
            "import_export": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(other)},
            },
        }
        with override_settings(STORAGES=storages):
            storage = MediaStorage()
            storage.save(b"abc")
        assert (other / "django-import-export" / storage.name).read_bytes() == b"abc"

    def test_traversal_name_is_reduced(self):
        assert MediaStorage(name="../../secret").get_full_path() == os.path.join(
            "django-import-export", "secret"
        )
