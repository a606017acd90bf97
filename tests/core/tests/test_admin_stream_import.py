"""The admin import streams the stored upload: chunked storage, a dry run that previews the first
rows with every error, a confirm step that reads the file again, log entries in batches."""

import tempfile
from unittest import mock

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from core.models import Book
from import_export import admin_streaming, resources
from import_export.tmp_storages import CacheStorage, TempFolderStorage

pytestmark = pytest.mark.django_db

BOOK_IMPORT = "/admin/core/book/import/"
BOOK_PROCESS = "/admin/core/book/process_import/"
CSV = "0"


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("uploads")))


def books_csv(count, bad=()):
    # A date that does not parse is a validation error (an invalid row), as upstream; text in
    # a number column would fail the row instead.
    lines = ["id,name,published"]
    for number in range(1, count + 1):
        lines.append(f",Book {number},{'not a date' if number in bad else '2024-01-31'}")
    return ("\r\n".join(lines) + "\r\n").encode()


def post_upload(client, content, resource="0"):
    upload = SimpleUploadedFile("books.csv", content)
    return client.post(BOOK_IMPORT, {"format": CSV, "resource": resource, "import_file": upload})


def confirm_data(response):
    form = response.context["confirm_form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def test_a_large_csv_goes_through_dry_run_preview_and_confirm(admin_client):
    count = 2000
    original = resources.Resource.import_from_stream
    with mock.patch.object(
        resources.Resource, "import_from_stream", autospec=True, side_effect=original
    ) as streamed:
        preview = post_upload(admin_client, books_csv(count))
        assert streamed.call_count == 1
        result = preview.context["result"]
        assert result.total_rows == count and result.totals["new"] == count
        assert len(result.rows) == 100  # the preview shows the first rows only
        assert Book.objects.count() == 0
        html = preview.content.decode()
        assert "Book 100<" in html and "Book 101<" not in html

        done = admin_client.post(BOOK_PROCESS, confirm_data(preview), follow=True)
        assert streamed.call_count == 2
    assert done.status_code == 200
    assert Book.objects.count() == count
    # One log entry per imported row, though the result kept only 100 row results.
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == count
    assert "Import finished: 2000 new" in done.content.decode()


def test_the_dry_run_lists_every_error_of_the_file(admin_client):
    bad = {5, 1500, 1999}
    response = post_upload(admin_client, books_csv(2000, bad=bad))
    result = response.context["result"]
    assert [row.number for row in result.invalid_rows] == sorted(bad)
    assert "confirm_form" not in response.context
    html = response.content.decode()
    for number in bad:
        assert f"Book {number}" in html


def test_the_upload_is_stored_in_chunks_never_joined(admin_client):
    chunks = []
    real_save = admin_streaming._save_to_temp_folder

    def spy(storage, pieces):
        return real_save(storage, (chunks.append(len(piece)) or piece for piece in pieces))

    with mock.patch.object(admin_streaming, "_save_to_temp_folder", spy):
        response = post_upload(admin_client, books_csv(3))
    assert chunks and response.context["result"].totals["new"] == 3


def test_a_storage_that_overrides_save_gets_the_whole_upload():
    class OwnStorage(TempFolderStorage):
        def save(self, data):
            self.saved = data
            super().save(data)

    storage = OwnStorage()
    admin_streaming.save_upload_in_chunks(storage, iter([b"id,", b"name\r\n"]))
    assert storage.saved == b"id,name\r\n"
    with admin_streaming.open_stored_file(storage) as handle:
        assert handle.read() == b"id,name\r\n"
    storage.remove()


def test_open_stored_file_reads_other_storages_through_their_read():
    storage = CacheStorage(read_mode="rb")
    storage.save(b"id,name\r\n")
    with admin_streaming.open_stored_file(storage) as handle:
        assert handle.read() == b"id,name\r\n"
    storage.remove()
    with pytest.raises(OSError):
        admin_streaming.open_stored_file(storage)


@override_settings(IMPORT_EXPORT_IMPORT_MAX_ROWS=10)
def test_a_file_over_the_row_limit_is_a_form_error_naming_the_limit(admin_client):
    response = post_upload(admin_client, books_csv(11))
    errors = response.context["form"].errors["import_file"]
    assert "more than 10 data rows" in errors[0]
    assert Book.objects.count() == 0


def test_an_empty_file_has_nothing_to_import(admin_client):
    response = post_upload(admin_client, b"")
    assert response.context["form"].errors["import_file"]
    assert "result" not in response.context


def test_a_stored_file_that_is_gone_is_reported_at_confirm(admin_client):
    preview = post_upload(admin_client, books_csv(2))
    data = confirm_data(preview)
    TempFolderStorage(name=data["import_file_name"]).remove()
    response = admin_client.post(BOOK_PROCESS, data)
    assert "no longer available" in response.content.decode()
    assert Book.objects.count() == 0


@override_settings(IMPORT_EXPORT_SKIP_ADMIN_CONFIRM=True)
def test_the_one_step_import_streams_the_upload_and_logs_every_row(admin_client):
    response = post_upload(admin_client, books_csv(1200))
    assert response.status_code == 302
    assert Book.objects.count() == 1200
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 1200


@override_settings(IMPORT_EXPORT_SKIP_ADMIN_CONFIRM=True)
def test_the_one_step_import_rolls_back_a_file_with_an_invalid_row(admin_client):
    response = post_upload(admin_client, books_csv(1200, bad={1100}))
    assert response.status_code == 200
    assert [row.number for row in response.context["result"].invalid_rows] == [1100]
    assert Book.objects.count() == 0
    assert not LogEntry.objects.exists()


def test_a_file_in_the_wrong_encoding_names_the_decoding_error(admin_client):
    response = post_upload(admin_client, "id,name,price\r\n,Caf\xe9,1\r\n".encode("cp1252"))
    (message,) = response.context["form"].errors["import_file"]
    assert "'UnicodeDecodeError' encountered while trying to read file" in message
