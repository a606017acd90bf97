"""The admin import: upload and dry run, preview, confirm, errors, and the settings."""

import os
import tempfile

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from core.admin import BookAdmin
from core.models import Author, Book, Publisher
from import_export.signals import post_import
from import_export.tmp_storages import CacheStorage, TempFolderStorage

pytestmark = pytest.mark.django_db

BOOK_IMPORT = "/admin/core/book/import/"
BOOK_PROCESS = "/admin/core/book/process_import/"
CSV = "0"  # index of CSV among the default formats
XLSX = "2"


def upload(content: bytes, name: str = "books.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def post_upload(client, content, fmt=CSV, resource="0", name="books.csv", url=BOOK_IMPORT):
    return client.post(
        url, {"format": fmt, "resource": resource, "import_file": upload(content, name)}
    )


def confirm_data(response) -> dict:
    """What the browser posts back from the confirm form on the preview page."""
    form = response.context["confirm_form"]
    return {name: form.initial.get(name, "") for name in form.fields}


@pytest.fixture
def ann():
    return Author.objects.create(name="Ann")


@pytest.fixture
def stored_files(tmp_path_factory, monkeypatch):
    """Send the uploads a test leaves behind on purpose (unconfirmed previews) to a private folder.

    Why not tidy the shared temp dir afterwards: files that appeared there during the test may
    belong to a concurrent run (``tox -p``, a second checkout), and deleting them breaks it.
    """
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("uploads")))


class TestUploadPage:
    def test_get_shows_form_and_fields_of_every_resource(self, admin_client):
        response = admin_client.get(BOOK_IMPORT)
        assert response.status_code == 200
        assert "admin/import_export/import.html" in [t.name for t in response.templates]
        assert response.context["fields_list"] == [
            ("BookResource", ["id", "name", "author", "author_email", "published", "price"]),
            ("Export/Import only book names", ["id", "name"]),
        ]
        html = response.content.decode()
        assert 'enctype="multipart/form-data"' in html
        assert "Export/Import only book names" in html
        assert "import_export/guess_format.js" in html

    def test_change_list_has_import_button(self, admin_client):
        response = admin_client.get("/admin/core/book/")
        assert b'href="/admin/core/book/import/"' in response.content

    def test_missing_file_is_a_form_error(self, admin_client):
        response = admin_client.post(BOOK_IMPORT, {"format": CSV, "resource": "0"})
        assert response.status_code == 200
        assert "import_file" in response.context["form"].errors
        assert "result" not in response.context


class TestDryRunAndConfirm:
    def test_preview_lists_new_and_updated_rows_without_writing(self, admin_client, ann):
        book = Book.objects.create(name="Old name", author=ann)
        content = f"id,name,author\n{book.pk},New name,Ann\n,Fresh,Ann\n".encode()
        response = post_upload(admin_client, content)
        assert response.status_code == 200
        result = response.context["result"]
        assert [row.import_type for row in result.valid_rows()] == ["update", "new"]
        html = response.content.decode()
        assert '<tr class="update">' in html and '<tr class="new">' in html
        assert "1 new, 1 updated, 0 deleted, 0 skipped." in html
        assert 'action="/admin/core/book/process_import/"' in html
        # A dry run writes nothing.
        assert list(Book.objects.values_list("name", flat=True)) == ["Old name"]

    def test_confirm_imports_logs_and_redirects(self, admin_client, ann, admin_user):
        book = Book.objects.create(name="Old name", author=ann)
        content = f"id,name,author\n{book.pk},New name,Ann\n,Fresh,Ann\n".encode()
        preview = post_upload(admin_client, content)
        data = confirm_data(preview)
        stored = TempFolderStorage(name=data["import_file_name"])
        assert os.path.exists(stored.get_full_path())

        signals = []

        def receiver(sender, **kwargs):
            signals.append(kwargs["model"])

        post_import.connect(receiver)
        try:
            response = admin_client.post(BOOK_PROCESS, data)
        finally:
            post_import.disconnect(receiver)

        assert response.status_code == 302
        assert response["Location"] == "/admin/core/book/"
        assert sorted(Book.objects.values_list("name", flat=True)) == ["Fresh", "New name"]
        assert signals == [Book]
        assert not os.path.exists(stored.get_full_path()), "the stored upload is removed"
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert messages == ["Import finished: 1 new, 1 updated, 0 deleted and 0 skipped books."]
        entries = LogEntry.objects.order_by("action_flag")
        fresh = Book.objects.get(name="Fresh")
        assert [(e.action_flag, e.object_id, e.object_repr) for e in entries] == [
            (ADDITION, str(fresh.pk), "Fresh"),
            (CHANGE, str(book.pk), "New name"),
        ]
        assert {e.user_id for e in entries} == {admin_user.pk}
        assert entries[0].change_message == "new through import_export"

    def test_second_resource_is_used_when_chosen(self, admin_client, stored_files):
        response = post_upload(admin_client, b"id,name,author\n,Only name,Nobody\n", resource="1")
        result = response.context["result"]
        assert not result.has_errors(), result.row_errors()
        assert result.diff_headers == ["id", "name"]
        response = admin_client.post(BOOK_PROCESS, confirm_data(response))
        assert response.status_code == 302
        assert Book.objects.get().author is None

    def test_xlsx_upload_round_trip(self, admin_client, stored_files):
        from io import BytesIO

        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["id", "name"])
        sheet.append([None, "From a spreadsheet"])
        buffer = BytesIO()
        workbook.save(buffer)
        response = post_upload(admin_client, buffer.getvalue(), fmt=XLSX, name="b.xlsx")
        assert response.context["confirm_form"] is not None
        admin_client.post(BOOK_PROCESS, confirm_data(response))
        assert Book.objects.get().name == "From a spreadsheet"

    def test_byte_order_mark_is_accepted(self, admin_client, stored_files):
        response = post_upload(admin_client, "\ufeffid,name\n,Bom\n".encode())
        assert response.context["result"].diff_headers[0] == "id"
        admin_client.post(BOOK_PROCESS, confirm_data(response))
        assert Book.objects.get().name == "Bom"


class TestErrorsShownOnPreview:
    def test_validation_errors_listed_per_row_and_field(self, admin_client, stored_files):
        # A bad date is a validation error; a bad number would be a row error, as in upstream.
        content = b"id,name,price,published\n,Ok,1.00,2020-01-01\n,Bad,2.00,notadate\n"
        response = post_upload(admin_client, content)
        result = response.context["result"]
        assert result.has_validation_errors()
        assert "confirm_form" not in response.context
        html = response.content.decode()
        assert "Some rows failed to validate" in html
        invalid = result.invalid_rows[0]
        assert invalid.number == 2
        assert set(invalid.field_specific_errors) == {"published"}
        assert '<td class="row-number">2</td>' in html
        assert "notadate" in html
        assert Book.objects.count() == 0

    def test_row_errors_show_line_number_and_message(self, admin_client, stored_files):
        response = post_upload(admin_client, b"id,name,author\n,A,Nobody\n")
        result = response.context["result"]
        assert result.has_errors()
        html = response.content.decode()
        assert "<h2>Errors</h2>" in html
        line, errors = result.row_errors()[0]
        assert line == 1
        assert f"Line number: 1 - {escape(str(errors[0].error))}" in html
        assert "confirm_form" not in response.context

    def test_traceback_and_row_shown_when_configured(self, admin_client, stored_files):
        original = BookAdmin.import_error_display
        BookAdmin.import_error_display = ("message", "row", "traceback")
        try:
            response = post_upload(admin_client, b"id,name,author\n,A,Nobody\n")
        finally:
            BookAdmin.import_error_display = original
        html = response.content.decode()
        assert 'class="import-error-display-row"' in html
        assert "Traceback" in html

    def test_wrong_format_for_file_is_a_form_error(self, admin_client, stored_files):
        response = post_upload(admin_client, b"id,name\n,A\n", fmt=XLSX)
        errors = response.context["form"].errors["import_file"]
        assert "encountered while trying to read file" in errors[0]
        assert "result" not in response.context

    def test_file_without_rows_is_a_form_error(self, admin_client, stored_files):
        response = post_upload(admin_client, b"id,name\n")
        assert "No valid data to import" in response.context["form"].errors["import_file"][0]

    def test_text_in_wrong_encoding_is_a_form_error(self, admin_client, stored_files):
        response = post_upload(admin_client, "id,name\n,Æsop\n".encode("utf-16"))
        assert (
            "encountered while trying to read file"
            in (response.context["form"].errors["import_file"][0])
        )


class TestConfirmStepSafety:
    def _confirm(self, client, **data):
        payload = {"import_file_name": "x", "original_file_name": "x.csv", "format": CSV}
        payload.update(data)
        return client.post(BOOK_PROCESS, payload)

    def test_path_traversal_cannot_read_outside_temp_dir(self, admin_client, tmp_path):
        secret = tmp_path / "secret.csv"
        secret.write_text("id,name\n,Stolen\n")
        traversal = os.path.relpath(secret, tempfile.gettempdir())
        assert ".." in traversal or os.sep in traversal
        response = self._confirm(admin_client, import_file_name=f"../../../../..{secret}")
        assert response.status_code == 200
        assert "not uploaded in your import preview" in response.content.decode()
        response = self._confirm(admin_client, import_file_name=traversal)
        assert response.status_code == 200
        assert Book.objects.count() == 0
        assert secret.exists()

    def test_name_reduced_to_nothing_is_rejected(self, admin_client):
        response = self._confirm(admin_client, import_file_name="../")
        assert "import_file_name" in response.context["confirm_form"].errors
        assert Book.objects.count() == 0

    def test_traversal_resolves_to_basename_inside_temp_dir(self, admin_client, stored_files):
        """A forged path whose basename is a real stored upload only reaches that upload."""
        preview = post_upload(admin_client, b"id,name\n,Legit\n")
        data = confirm_data(preview)
        data["import_file_name"] = "../../etc/../" + data["import_file_name"]
        response = admin_client.post(BOOK_PROCESS, data)
        assert response.status_code == 302
        assert Book.objects.get().name == "Legit"

    def test_unknown_format_index_is_an_error(self, admin_client):
        response = self._confirm(admin_client, format="99")
        assert "format" in response.context["confirm_form"].errors

    def test_get_is_not_allowed(self, admin_client):
        assert admin_client.get(BOOK_PROCESS).status_code == 405

    def test_missing_stored_file_asks_for_upload_again(self, admin_client, stored_files):
        preview = post_upload(admin_client, b"id,name\n,Gone\n")
        data = confirm_data(preview)
        TempFolderStorage(name=data["import_file_name"]).remove()
        response = admin_client.post(BOOK_PROCESS, data)
        assert "no longer available" in response.content.decode()


class TestSettings:
    def test_skip_confirm_imports_in_one_step(self, admin_client):
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_CONFIRM=True):
            response = post_upload(admin_client, b"id,name\n,Direct\n")
        assert response.status_code == 302
        assert Book.objects.get().name == "Direct"
        assert LogEntry.objects.count() == 1

    def test_skip_confirm_rolls_back_on_validation_error(self, admin_client):
        content = b"id,name,published\n,Fine,2020-01-01\n,Broken,notadate\n"
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_CONFIRM=True):
            response = post_upload(admin_client, content)
        assert response.status_code == 200
        assert response.context["result"].has_validation_errors()
        assert Book.objects.count() == 0

    def test_skip_confirm_attribute(self, admin_client, monkeypatch):
        monkeypatch.setattr(BookAdmin, "skip_import_confirm", True)
        assert post_upload(admin_client, b"id,name\n,Direct\n").status_code == 302

    def test_skip_admin_log_setting_and_attribute(self, admin_client, monkeypatch, stored_files):
        with override_settings(IMPORT_EXPORT_SKIP_ADMIN_LOG=True):
            preview = post_upload(admin_client, b"id,name\n,A\n")
            admin_client.post(BOOK_PROCESS, confirm_data(preview))
        assert LogEntry.objects.count() == 0
        monkeypatch.setattr(BookAdmin, "skip_admin_log", True)
        preview = post_upload(admin_client, b"id,name\n,B\n")
        admin_client.post(BOOK_PROCESS, confirm_data(preview))
        assert Book.objects.count() == 2
        assert LogEntry.objects.count() == 0

    def test_cache_storage_by_dotted_path(self, admin_client):
        with override_settings(
            IMPORT_EXPORT_TMP_STORAGE_CLASS="import_export.tmp_storages.CacheStorage"
        ):
            preview = post_upload(admin_client, b"id,name\n,Cached\n")
            name = confirm_data(preview)["import_file_name"]
            assert CacheStorage(name=name, read_mode="rb").read() == b"id,name\n,Cached\n"
            admin_client.post(BOOK_PROCESS, confirm_data(preview))
            assert CacheStorage(name=name).read() is None
        assert Book.objects.get().name == "Cached"

    def test_import_formats_setting_limits_choices(self, admin_client):
        from import_export.formats.base_formats import CSV as CSVFormat
        from import_export.formats.base_formats import JSON

        with override_settings(IMPORT_FORMATS=[JSON, CSVFormat]):
            response = admin_client.get(BOOK_IMPORT)
        choices = response.context["form"].fields["format"].choices
        assert [label for _, label in choices] == ["---", "json", "csv"]

    def test_import_only_admin_has_no_export(self, admin_client):
        Publisher.objects.create(name="P")
        response = admin_client.get("/admin/core/publisher/")
        assert b"import_link" in response.content
        assert b"export_link" not in response.content
        with pytest.raises(NoReverseMatch):
            reverse("admin:core_publisher_export")
