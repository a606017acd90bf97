"""A failed export leaves no temporary file behind (issue 13, finding 6, export part).

openpyxl's write-only sheet keeps its rows in a temporary file (``openpyxl.*``) that it deletes
when the workbook is saved, or at interpreter exit; in a server process that is never.
"""

import io
import tempfile

import openpyxl
import pytest

from core.models import Author
from import_export import resources
from import_export.formats import base_formats
from import_export.formats.streaming.xlsx import XLSXStreamWriter

#: Past the 1,000 rows held back to measure column widths, in either order (the admin's change
#: list reads newest first): by then the sheet's temporary file exists.
ROWS = 2200
FAILING_ROW = 1100


class AuthorResource(resources.ModelResource):
    class Meta:
        model = Author
        fields = ("id", "name")


class FailsAtRow(AuthorResource):
    def dehydrate_name(self, author):
        if author.name == f"author {FAILING_ROW}":
            raise ValueError("row cannot be rendered")
        return author.name


@pytest.fixture
def private_tempdir(tmp_path, monkeypatch):
    """Temporary files of this test go to a folder of its own, so they can be counted."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.fixture
def authors(db):
    Author.objects.bulk_create(Author(name=f"author {number}") for number in range(1, ROWS + 1))


def openpyxl_files(folder):
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("openpyxl."))


def test_failed_streamed_xlsx_export_removes_openpyxl_temporary_file(private_tempdir, authors):
    with pytest.raises(ValueError, match="row cannot be rendered"):
        FailsAtRow().export_to_stream("xlsx", io.BytesIO(), Author.objects.order_by("pk"))
    assert openpyxl_files(private_tempdir) == []


def test_control_the_sheet_file_exists_while_rows_are_written(private_tempdir):
    writer = XLSXStreamWriter(io.BytesIO(), ["a"], width_sample_rows=1)
    writer.start()
    writer.write_row(["x"])
    writer.write_row(["y"])
    assert len(openpyxl_files(private_tempdir)) == 1  # what the clean-up has to remove
    writer.abort()
    assert openpyxl_files(private_tempdir) == []
    writer.abort()  # a second call is harmless


def test_successful_export_also_leaves_nothing(private_tempdir, authors):
    target = io.BytesIO()
    AuthorResource().export_to_stream("xlsx", target, Author.objects.order_by("pk"))
    assert openpyxl.load_workbook(io.BytesIO(target.getvalue())).active.max_row == ROWS + 1
    assert openpyxl_files(private_tempdir) == []


def test_failed_admin_xlsx_download_leaves_no_temporary_file(
    private_tempdir, authors, admin_client, monkeypatch
):
    from core.admin import AuthorAdmin

    monkeypatch.setattr(AuthorAdmin, "resource_classes", [FailsAtRow])
    xlsx = [fmt.__name__ for fmt in base_formats.DEFAULT_FORMATS].index("XLSX")
    data = {"format": str(xlsx), "resource": "0", "failsatrow_id": "on", "failsatrow_name": "on"}
    response = admin_client.post("/admin/core/author/export/", data)
    assert response.status_code == 200 and not response.streaming  # the form, with the error
    assert "ow cannot be rendered" in response.content.decode()
    assert list(private_tempdir.iterdir()) == []
