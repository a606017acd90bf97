"""docs/faq.rst's snippets (core/manual/faq.py) do what the answers say."""

import io
import subprocess
import uuid

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from core.manual import faq
from core.models import Book, PulpDomain
from import_export import resources

pytestmark = pytest.mark.django_db


def test_the_fork_is_recognised_and_upstream_is_not():
    assert faq.running_the_streaming_fork() is True
    assert faq.installed_version() == faq.import_export.__version__
    upstream = "/tmp/upstream-venv/bin/python"
    try:
        probe = subprocess.run(
            [
                upstream,
                "-P",  # not the checkout's import_export from the working directory
                "-c",
                "from import_export import resources; "
                "print(hasattr(resources.Resource, 'export_to_stream'))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        pytest.skip("upstream's venv is not on this machine")
    assert probe.stdout.strip() == "False"


def test_the_fast_resource_imports_in_bulk():
    existing = Book.objects.create(name="old")
    rows = tablib.Dataset(
        [existing.pk, "renamed", "1.00"],
        *[["", f"book {n}", ""] for n in range(50)],
        headers=["id", "name", "price"],
    )
    result = faq.FastBookResource().import_data(rows, raise_errors=True)
    assert (result.totals["new"], result.totals["update"]) == (50, 1)
    assert Book.objects.count() == 51
    existing.refresh_from_db()
    assert existing.name == "renamed"


def test_skip_row_leaves_the_drafts_out():
    rows = tablib.Dataset(["", "draft one"], ["", "final"], headers=["id", "name"])
    result = faq.SkipDraftsResource().import_data(rows, raise_errors=True)
    assert (result.totals["skip"], result.totals["new"]) == (1, 1)
    assert list(Book.objects.values_list("name", flat=True)) == ["final"]


def test_skip_unchanged_skips_rows_that_change_nothing_and_does_not_report_them():
    same = Book.objects.create(name="same")
    other = Book.objects.create(name="other")
    rows = tablib.Dataset([same.pk, "same"], [other.pk, "other 2"], headers=["id", "name"])
    result = faq.SkipUnchangedResource().import_data(rows, raise_errors=True)
    assert (result.totals["skip"], result.totals["update"]) == (1, 1)
    assert [row.object_id for row in result.rows] == [other.pk]


def test_uuid_primary_keys_update_by_key_and_new_rows_get_their_key_or_a_new_one():
    main = PulpDomain.objects.create(name="main")
    exported = faq.DomainResource().export()
    assert exported.dict == [{"pulp_id": str(main.pk), "name": "main", "description": ""}]
    given = uuid.uuid4()
    rows = tablib.Dataset(
        [str(main.pk), "main", "changed"],
        [str(given), "other", ""],
        ["", "third", ""],
        headers=["pulp_id", "name", "description"],
    )
    result = faq.DomainResource().import_data(rows, raise_errors=True)
    assert (result.totals["update"], result.totals["new"]) == (1, 2)
    main.refresh_from_db()
    assert main.description == "changed"
    assert PulpDomain.objects.get(name="other").pk == given
    assert isinstance(PulpDomain.objects.get(name="third").pk, uuid.UUID)


def test_csv_for_excel_starts_with_a_byte_order_mark_and_imports_back(tmp_path):
    Book.objects.create(name="Ünïcode")
    path = tmp_path / "books.csv"
    assert faq.export_csv_for_excel(path) == 1
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,")
    Book.objects.all().delete()
    result = resources.modelresource_factory(Book)().import_from_stream(
        "csv", io.BytesIO(data), raise_errors=True
    )
    assert result.totals["new"] == 1
    assert Book.objects.get().name == "Ünïcode"


def test_formula_escaping_defuses_cells(settings):
    Book.objects.create(name="=HYPERLINK(1)")
    Book.objects.create(name="@SUM(A1)")
    resource = resources.modelresource_factory(Book, meta_options={"fields": ("name",)})()
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    streamed = io.StringIO()
    resource.export_to_stream("csv", streamed, queryset=Book.objects.order_by("pk"))
    assert streamed.getvalue().splitlines() == ["name", "HYPERLINK(1)", "'@SUM(A1)"]


def test_a_big_export_goes_to_an_xlsx_file(tmp_path):
    Book.objects.bulk_create(Book(name=f"book {n}") for n in range(250))
    path = tmp_path / "books.xlsx"
    assert faq.export_every_book(path) == 250
    sheet = openpyxl.load_workbook(path, read_only=True).active
    assert sum(1 for _ in sheet.rows) == 251


def test_an_upload_over_the_limit_is_a_form_error(settings):
    from import_export.formats.base_formats import CSV
    from import_export.forms import ImportForm

    settings.IMPORT_EXPORT_MAX_UPLOAD_SIZE = 10
    upload = SimpleUploadedFile("books.csv", b"id,name\n,a book with a long name\n")
    form = ImportForm(
        formats=[CSV],
        resources=[faq.SkipDraftsResource],
        data={"format": "0", "resource": "0"},
        files={"import_file": upload},
    )
    assert not form.is_valid()
    assert "import_file" in form.errors


@override_settings(ROOT_URLCONF="core.manual.testing_resources")
def test_the_export_button_exports_the_filtered_change_list(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "b@example.com", "pw"))
    Book.objects.create(name="Dune", imported=True)
    Book.objects.create(name="Emma", imported=False)
    response = client.post(
        reverse("admin:core_book_export") + "?imported__exact=1",
        {"format": "0", "resource": "0", "bookresource_name": "on"},
    )
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content).decode() == "name\r\nDune\r\n"
