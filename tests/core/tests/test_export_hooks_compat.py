"""Upstream-era hooks keep their Dataset: when the admin and the export command stream."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from core.admin import BookAdmin, BookResource
from core.models import Author, Book
from import_export.formats import base_formats
from import_export.streaming import in_request_transaction, needs_classic_export

pytestmark = pytest.mark.django_db

BOOK_EXPORT = "/admin/core/book/export/"
CSV_INDEX = str(base_formats.DEFAULT_FORMATS.index(base_formats.CSV))
FIELDS = ("id", "name", "author", "author_email", "published", "price")


def export_post(prefix):
    data = {"format": CSV_INDEX, "resource": "0"}
    data.update({f"{prefix}_{name}": "on" for name in FIELDS})
    return data


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def books():
    ann = Author.objects.create(name="Ann")
    return [
        Book.objects.create(name="Alpha", author=ann, price=Decimal("1.50")),
        Book.objects.create(name="Beta", author=ann),
    ]


class DatasetEditingResource(BookResource):
    """Upstream-era code: after_export edits the Dataset it is given."""

    class Meta(BookResource.Meta):
        pass

    def after_export(self, queryset, dataset, **kwargs):
        dataset.append_col(["extra"] * len(dataset), header="extra")


class StreamingAwareResource(BookResource):
    seen = []

    class Meta(BookResource.Meta):
        stream_after_export = True

    def after_export(self, queryset, dataset, **kwargs):
        self.seen.append(dataset)


def test_which_resources_need_the_classic_export():
    assert not needs_classic_export(BookResource)
    assert needs_classic_export(DatasetEditingResource)
    assert not needs_classic_export(StreamingAwareResource)


def test_admin_exports_a_dataset_editing_resource_the_classic_way(admin_client, books, monkeypatch):
    monkeypatch.setattr(BookAdmin, "resource_classes", [DatasetEditingResource])
    response = admin_client.post(BOOK_EXPORT, export_post("datasetediting" + "resource"))
    assert response.status_code == 200 and not response.streaming
    lines = body(response).decode().splitlines()
    assert lines[0].endswith(",extra") and all(line.endswith(",extra") for line in lines[1:])


def test_admin_streams_a_resource_that_says_after_export_copes(admin_client, books, monkeypatch):
    StreamingAwareResource.seen.clear()
    monkeypatch.setattr(BookAdmin, "resource_classes", [StreamingAwareResource])
    response = admin_client.post(BOOK_EXPORT, export_post("streamingawareresource"))
    assert response.streaming
    assert body(response).count(b"\r\n") == len(books) + 1
    assert StreamingAwareResource.seen == [None]


def test_export_command_gives_after_export_its_dataset(books, tmp_path):
    target = tmp_path / "books.csv"
    call_command(
        "export", "CSV", f"{__name__}.DatasetEditingResource", output=str(target), verbosity=0
    )
    lines = target.read_text().splitlines()
    assert len(lines) == len(books) + 1
    assert all(line.endswith(",extra") for line in lines)


def test_export_command_to_stdout_with_the_classic_path(books):
    out = io.StringIO()
    call_command("export", "CSV", f"{__name__}.DatasetEditingResource", stdout=out)
    assert out.getvalue().splitlines()[0].endswith(",extra")


def test_atomic_requests_export_is_written_before_the_response(admin_client, books, monkeypatch):
    """In an ATOMIC_REQUESTS view the rows must be read before the transaction ends."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    assert in_request_transaction(Book.objects.all())  # the test's own atomic block
    response = admin_client.post(BOOK_EXPORT, export_post("bookresource"))
    assert response.status_code == 200
    assert response.has_header("Content-Length")  # written to a spooled file first
    expected = base_formats.CSV().export_data(BookResource().export(Book.objects.order_by("-pk")))
    assert body(response) == expected.encode()
