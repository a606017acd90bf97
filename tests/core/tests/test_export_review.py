"""Regression tests from an adversarial review of the streaming export core.

Each test pins a case where an optimised or streamed export used to differ from the classic,
unoptimised export (or to leak a database cursor), and asserts the behaviour it should have.
"""

import pytest

from core.models import Author
from import_export import fields, resources
from import_export.formats.streaming import StreamWriteError
from import_export.streaming import iter_export_chunks


class NameResource(resources.Resource):
    name = fields.Field(attribute="name", column_name="name")


def test_chunks_close_the_rows_when_the_first_row_cannot_be_written(db):
    # The first row is written while iter_export_chunks primes the export.  When that fails
    # (here: text the response encoding cannot hold), the row source must be closed at once,
    # not when the garbage collector gets to it: the exception's traceback keeps the suspended
    # export, and with it a server-side cursor on PostgreSQL, alive for as long as the caller
    # holds the exception.
    closed = []

    def authors():
        try:
            yield Author(name="Grüße €")
            yield Author(name="plain")
        finally:
            closed.append(True)

    with pytest.raises(StreamWriteError, match="row 1") as raised:
        iter_export_chunks(NameResource(), "csv", authors(), encoding="latin-1")
    assert raised.value is not None  # the traceback is still held here
    assert closed == [True]
