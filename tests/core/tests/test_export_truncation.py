"""A streamed admin download that fails half-way must not look complete (issue 13, finding 2).

The tests run the admin under real WSGI servers on 127.0.0.1: the point is what the client
receives, which Django's test client cannot show.
"""

import http.client
import json
import logging

import pytest
from django.test import override_settings

from core.admin import BookAdmin, BookResource
from core.models import Book
from import_export import mixins as export_mixins
from import_export.formats import base_formats

from .live_servers import get, session_cookie_for, waitress_server, wsgiref_server

BOOK_COUNT = 300
FAILING_ROW = 201
EXPORT_URL = "/admin/core/book/export/"


class FailsAtRow(BookResource):
    """Renders rows normally until data row ``FAILING_ROW`` (the change list: newest first)."""

    def dehydrate_name(self, book):
        if book.name == f"Book {BOOK_COUNT - FAILING_ROW:04d}":
            raise ValueError("this row cannot be rendered")
        return book.name


@pytest.fixture
def live_export(transactional_db, admin_user, monkeypatch):
    """Books committed for the server's thread, small chunks, the export form skipped."""
    Book.objects.bulk_create(Book(name=f"Book {index:04d}") for index in range(BOOK_COUNT))
    monkeypatch.setattr(export_mixins, "STREAM_CHUNK_SIZE", 1024)
    with override_settings(IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI=True):
        yield session_cookie_for(admin_user)


def test_a_failure_after_the_first_chunk_reaches_the_client_as_a_failed_transfer(
    live_export, monkeypatch, caplog
):
    monkeypatch.setattr(BookAdmin, "resource_classes", [FailsAtRow])
    with caplog.at_level(logging.ERROR, logger="import_export.streaming"):
        with waitress_server() as port:
            response = get(port, EXPORT_URL, live_export)
            assert response.status == 200
            assert response.getheader("Transfer-Encoding") == "chunked"
            with pytest.raises(http.client.IncompleteRead) as truncated:
                response.read()
    # The header and at least the first row had been sent (on SQLite the rest of the export is
    # rendered into a spool before more is sent, so the failure comes before anything else).
    received = truncated.value.partial
    assert received.startswith(b"id,name,") and received.count(b"\r\n") >= 2
    (record,) = [r for r in caplog.records if r.name == "import_export.streaming"]
    message = record.getMessage()
    assert f"{FailsAtRow.__module__}.{FailsAtRow.__qualname__}" in message
    assert f"data row {FAILING_ROW} " in message
    assert (record.resource, record.row) == (f"{FailsAtRow.__module__}.FailsAtRow", FAILING_ROW)
    assert record.exc_info[0] is ValueError


def test_the_same_download_without_a_failure_completes(live_export):
    with waitress_server() as port:
        response = get(port, EXPORT_URL, live_export)
        body = response.read()
    assert response.status == 200
    assert body.count(b"\r\n") == BOOK_COUNT + 1  # the header and every row


def test_under_runserver_a_failed_json_download_is_left_unterminated(live_export, monkeypatch):
    """What runserver can signal: wsgiref's bodies end when the connection closes, so the HTTP
    exchange looks complete; only the document itself (no closing ``]``) shows the failure."""
    monkeypatch.setattr(BookAdmin, "resource_classes", [FailsAtRow])
    monkeypatch.setattr(BookAdmin, "export_formats", [base_formats.JSON], raising=False)
    with wsgiref_server() as port:
        response = get(port, EXPORT_URL, live_export)
        received = response.read()  # no error: close-delimited bodies cannot say "incomplete"
    assert response.status == 200 and response.getheader("Content-Length") is None
    assert received.startswith(b"[") and received.count(b'"Book ') >= 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(received)
