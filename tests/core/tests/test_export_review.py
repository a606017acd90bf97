"""Regression tests from an adversarial review of the streaming export core.

Each test pins a case where an optimised or streamed export used to differ from the classic,
unoptimised export (or to leak a database cursor), and asserts the behaviour it should have.
"""

import pytest
from django.db.models import F

from core.models import Author, Book, Category
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


def _rows(resource_class, queryset, optimise=True):
    """The classic export's rows, with the query optimisations on or off."""
    meta = type("Meta", (), {"model": Book, "optimize_export_queries": optimise})
    resource = type("Variant", (resource_class,), {"Meta": meta})()
    return [list(row) for row in resource.export(queryset)]


@pytest.fixture
def books(db):
    ann = Author.objects.create(name="Ann")
    bob = Author.objects.create(name="Bob")
    # Authors' keys in another order than the books' keys, so that an index on author_id
    # lists the books in another order than the table does.
    return [
        Book.objects.create(name=f"Book {index}", author=author)
        for index, author in enumerate([bob, None, ann, bob])
    ]


class BookIdResource(resources.Resource):
    id = fields.Field(attribute="id", column_name="id")


def test_unordered_queryset_keeps_the_order_of_the_instance_query(books):
    # SELECT id FROM book can be answered from the author_id index (it holds the row ids), so
    # on SQLite a values_list() reading came out in author order, unlike the table order that
    # the classic export (and upstream) gives for the same unordered queryset.
    optimised = _rows(BookIdResource, Book.objects.all())
    assert optimised == _rows(BookIdResource, Book.objects.all(), optimise=False)


@pytest.mark.parametrize(
    ("make_queryset", "reads_values"),
    [
        (lambda: Book.objects.order_by("pk"), True),
        (lambda: Book.objects.order_by("author", "-id"), True),
        (lambda: Book.objects.order_by(F("pk").desc()), True),
        (lambda: Category.objects.order_by("name"), True),  # unique, not null
        (lambda: Book.objects.all(), False),
        (lambda: Book.objects.order_by("name"), False),
        (lambda: Book.objects.order_by("author"), False),
        (lambda: Book.objects.order_by("?"), False),
    ],
    ids=["pk", "then-id", "F-pk", "unique", "unordered", "not-unique", "relation", "random"],
)
def test_values_list_only_for_orderings_without_ties(books, make_queryset, reads_values):
    # Rows that tie in the ordering may come back in any order, and in another order from the
    # narrower values_list() query than from the instance query.
    queryset = make_queryset()
    resource = resources.modelresource_factory(queryset.model, meta_options={"fields": ["id"]})()
    assert (resource.get_export_plan().value_columns(queryset) is not None) is reads_values
