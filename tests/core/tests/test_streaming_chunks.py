"""``iter_export_chunks``: an export as byte chunks for a streamed HTTP response."""

import pytest

from core.models import Author
from import_export import resources
from import_export.formats import base_formats
from import_export.streaming import ChunkSink, iter_export_chunks


class AuthorResource(resources.ModelResource):
    class Meta:
        model = Author
        fields = ("id", "name")


@pytest.fixture
def authors(db):
    return Author.objects.bulk_create(Author(name=f'Author «{i}», "quoted"') for i in range(300))


class TestChunkSink:
    def test_gathers_and_forgets(self):
        sink = ChunkSink("utf-8")
        sink.write("a,b\r\n")
        sink.write(b"raw")
        assert sink.size == 8
        assert sink.take() == b"a,b\r\nraw"
        assert sink.take() == b"" and sink.size == 0

    def test_presents_itself_as_text(self):
        from import_export.formats.streaming.base import is_text_stream

        assert is_text_stream(ChunkSink("utf-8"))

    def test_byte_order_mark_written_once(self):
        sink = ChunkSink("utf-16")
        sink.write("a")
        sink.write("b")
        assert sink.take() == "ab".encode("utf-16")


@pytest.mark.parametrize("format_class", [base_formats.CSV, base_formats.JSON, base_formats.HTML])
def test_chunks_join_to_the_classic_export(authors, format_class):
    chunks = list(iter_export_chunks(AuthorResource(), format_class(), chunk_bytes=512))
    expected = format_class().export_data(AuthorResource().export()).encode("utf-8")
    assert b"".join(chunks) == expected
    assert len(chunks) > 5
    assert max(len(chunk) for chunk in chunks[:-1]) < 512 + 200  # about chunk_bytes each


def test_first_row_is_rendered_before_the_iterator_is_returned(authors):
    rendered = []

    class Recording(AuthorResource):
        def dehydrate_name(self, author):
            rendered.append(author.pk)
            return author.name

    chunks = iter_export_chunks(Recording(), "csv", chunk_bytes=10**6)
    assert len(rendered) == 1
    first = next(chunks)
    assert first.startswith(b"id,name\r\n") and first.count(b"\r\n") == 2
    list(chunks)
    assert len(rendered) == len(authors)


def test_errors_before_the_first_row_surface_at_the_call(authors):
    class Broken(AuthorResource):
        def before_export(self, queryset, **kwargs):
            raise RuntimeError("no export today")

    with pytest.raises(RuntimeError, match="no export today"):
        iter_export_chunks(Broken(), "csv")


def test_an_error_after_the_first_chunk_aborts_the_stream(authors):
    class FailsLater(AuthorResource):
        def dehydrate_name(self, author):
            if author.pk == authors[200].pk:
                raise ValueError("bad row")
            return author.name

    chunks = iter_export_chunks(
        FailsLater(), "json", Author.objects.order_by("pk"), chunk_bytes=256
    )
    received = [next(chunks)]
    with pytest.raises(ValueError, match="bad row"):
        received.extend(chunks)
    assert not b"".join(received).endswith(b"]")


@pytest.mark.parametrize("spool", [False, True], ids=["streamed", "spooled"])
def test_spooling_after_the_first_chunk_gives_the_same_bytes(authors, spool):
    chunks = iter_export_chunks(
        AuthorResource(),
        "csv",
        Author.objects.order_by("pk"),
        chunk_bytes=512,
        spool_after_first_chunk=spool,
    )
    assert (
        b"".join(chunks)
        == base_formats.CSV()
        .export_data(AuthorResource().export(Author.objects.order_by("pk")))
        .encode()
    )


def test_spooling_reads_every_row_before_the_second_chunk_is_handed_on(authors):
    rendered = []

    class Recording(AuthorResource):
        def dehydrate_name(self, author):
            rendered.append(author.pk)
            return author.name

    chunks = iter_export_chunks(Recording(), "csv", chunk_bytes=512, spool_after_first_chunk=True)
    next(chunks)
    assert len(rendered) == 1
    next(chunks)
    assert len(rendered) == len(authors)  # the cursor is finished; the rest comes from the file
    chunks.close()


def test_sqlite_spools_by_default_and_other_databases_stream(authors):
    from django.db import connection

    from import_export.streaming import reads_from_sqlite

    on_sqlite = connection.vendor == "sqlite"
    assert reads_from_sqlite(AuthorResource(), Author.objects.all()) is on_sqlite
    assert reads_from_sqlite(AuthorResource(), None) is on_sqlite
    assert reads_from_sqlite(AuthorResource(), list(Author.objects.all())) is False
