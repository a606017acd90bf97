"""Regression tests from an adversarial review of the streaming export core.

Each test pins a case where an optimised or streamed export used to differ from the classic,
unoptimised export (or to leak a database cursor), and asserts the behaviour it should have.
"""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import F, signals
from django.db.models.query_utils import DeferredAttribute
from django.test.utils import CaptureQueriesContext

from core.models import Author, Book, Category, Package, Repository
from import_export import fields, resources, widgets
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


class BookNamesResource(resources.Resource):
    name = fields.Field(attribute="name", column_name="name")
    author_name = fields.Field(attribute="author__name", column_name="author")


def _upper_cased_on_load(model, monkeypatch):
    """Make ``model`` upper-case its ``name`` when loaded, through Django's ``from_db`` hook."""
    load = model.from_db.__func__

    def from_db(cls, db, field_names, values):
        instance = load(cls, db, field_names, values)
        instance.name = instance.name.upper()
        return instance

    monkeypatch.setattr(model, "from_db", classmethod(from_db))


@pytest.mark.parametrize(
    ("model", "column", "first_value"),
    [(Book, 0, "BOOK 0"), (Author, 1, "BOB")],
    ids=["exported-model", "related-model"],
)
def test_models_customising_from_db_are_read_as_instances(
    books, monkeypatch, model, column, first_value
):
    # ``Model.from_db`` is Django's documented hook for customising loaded instances;
    # values_list() never calls it, so its rows lacked what the hook does.
    _upper_cased_on_load(model, monkeypatch)
    queryset = Book.objects.order_by("pk")
    rows = _rows(BookNamesResource, queryset)
    assert rows == _rows(BookNamesResource, queryset, optimise=False)
    assert rows[0][column] == first_value


def test_models_with_post_init_receivers_are_read_as_instances(books):
    def shout(sender, instance, **kwargs):
        instance.name = instance.name.upper()

    signals.post_init.connect(shout, sender=Book)
    try:
        queryset = Book.objects.order_by("pk")
        rows = _rows(BookNamesResource, queryset)
        assert rows == _rows(BookNamesResource, queryset, optimise=False)
    finally:
        signals.post_init.disconnect(shout, sender=Book)
    assert rows[0][0] == "BOOK 0"


def test_models_overriding_init_are_read_as_instances(books, monkeypatch):
    init = Book.__init__

    def shouting_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.name = self.name.upper()

    monkeypatch.setattr(Book, "__init__", shouting_init)
    queryset = Book.objects.order_by("pk")
    rows = _rows(BookNamesResource, queryset)
    assert rows == _rows(BookNamesResource, queryset, optimise=False)
    assert rows[0][0] == "BOOK 0"


class ShoutingAttribute(DeferredAttribute):
    """A field descriptor that changes the value it hands out, as some custom fields do."""

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        return value.upper() if instance is not None else value

    def __set__(self, instance, value):  # a data descriptor, so reads always go through it
        instance.__dict__[self.field.attname] = value


def test_fields_with_their_own_descriptor_are_read_as_instances(books, monkeypatch):
    monkeypatch.setattr(Book, "name", ShoutingAttribute(Book._meta.get_field("name")))
    queryset = Book.objects.order_by("pk")
    rows = _rows(BookNamesResource, queryset)
    assert rows == _rows(BookNamesResource, queryset, optimise=False)
    assert rows[0][0] == "BOOK 0"


def test_unordered_queryset_keeps_its_order_when_joined(books):
    # A join changes the query the database plans: for an unordered queryset PostgreSQL
    # answered the LEFT JOIN with a hash join that listed the books by author.  Exports read an
    # unordered queryset in primary-key order, so the join can no longer reorder the rows.
    if connection.vendor == "postgresql":
        # The plan PostgreSQL picks for larger tables, forced for these few rows (until the
        # test's transaction ends).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
    queryset = Book.objects.all()
    optimised = _rows(BookNamesResource, queryset)
    assert optimised == _rows(BookNamesResource, queryset, optimise=False)
    assert "Bob" in {row[1] for row in optimised}


def test_unordered_queryset_still_reads_relations_without_a_query_per_row(books):
    resource = type("R", (BookNamesResource,), {"Meta": type("Meta", (), {"model": Book})})()
    with CaptureQueriesContext(connection) as queries:
        rows = list(resource.export_iter(Book.objects.all()))
    assert len(rows) == len(books)
    # Read in primary-key order, the plain columns come with their authors in one query.
    assert len(queries) == 1
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)


class PackageRepositoryResource(resources.Resource):
    name = fields.Field(attribute="name", column_name="name")
    repository = fields.Field(
        attribute="repository",
        column_name="repository",
        widget=widgets.ForeignKeyWidget(Repository, "name"),
    )
    repository_name = fields.Field(attribute="repository__name", column_name="repository_name")


class DehydratingPackageRepositoryResource(PackageRepositoryResource):
    shout = fields.Field(column_name="shout")

    def dehydrate_shout(self, package):
        return package.name.upper()


def _package_rows(resource_class, queryset, optimise=True):
    meta = type("Meta", (), {"model": Package, "optimize_export_queries": optimise})
    resource = type("Variant", (resource_class,), {"Meta": meta})()
    return [list(row) for row in resource.export(queryset)]


@pytest.mark.parametrize(
    "resource_class",
    [PackageRepositoryResource, DehydratingPackageRepositoryResource],
    ids=["values", "instances"],
)
@pytest.mark.parametrize("ordering", [("pk",), ()], ids=["ordered", "unordered"])
def test_foreign_keys_without_a_database_constraint_keep_dangling_rows(
    db, monkeypatch, resource_class, ordering
):
    # ForeignKey(db_constraint=False) lets a row refer to a deleted target.  Reading it
    # through the relation raises DoesNotExist, which the field renders as empty; an INNER
    # JOIN (select_related or values_list() across a non-null key) dropped the row instead.
    monkeypatch.setattr(Package._meta.get_field("repository"), "db_constraint", False)
    repository = Repository.objects.create(name="baseos")
    package = {"version": "1", "release": "1", "arch": "noarch"}
    Package.objects.create(repository=repository, name="kept", pkg_id="a", **package)
    orphan = Package.objects.create(
        repository_id=repository.pk + 1000, name="orphan", pkg_id="b", **package
    )
    try:
        queryset = Package.objects.order_by(*ordering)
        rows = _package_rows(resource_class, queryset)
        assert rows == _package_rows(resource_class, queryset, optimise=False)
    finally:
        orphan.delete()  # the test database's own constraint is checked when the test ends
    assert sorted(row[:3] for row in rows) == [["kept", "baseos", "baseos"], ["orphan", "", ""]]


class PermissionResource(resources.ModelResource):
    class Meta:
        model = Permission
        fields = ("id", "codename")


@pytest.mark.parametrize("optimise", [True, False], ids=["optimised", "plain"])
def test_prefetching_queryset_without_order_by_is_exported_in_key_order(db, optimise):
    # Upstream 4.4 reads a queryset that has prefetch_related() but no order_by() page by
    # page, ordered by primary key (replacing the model's Meta.ordering).  The fork reads it
    # with iterator() instead, and must still give the rows in upstream's order.
    meta = type("Meta", (PermissionResource.Meta,), {"optimize_export_queries": optimise})
    resource = type("Variant", (PermissionResource,), {"Meta": meta})()
    queryset = Permission.objects.prefetch_related("group_set")
    exported = [int(row[0]) for row in resource.export(queryset)]
    assert exported == sorted(Permission.objects.values_list("pk", flat=True))
    assert list(Permission.objects.values_list("pk", flat=True)) != exported  # Meta.ordering


def test_sliced_prefetching_queryset_is_exported_as_given(db):
    queryset = Permission.objects.prefetch_related("group_set")[:3]
    exported = [int(row[0]) for row in PermissionResource().export(queryset)]
    assert exported == [permission.pk for permission in queryset]


def test_prefetching_queryset_keeps_its_order_for_an_own_iter_queryset(db):
    # Upstream's reordering by primary key happens inside its iter_queryset(); a resource
    # that replaces iter_queryset() reads the queryset in its own order there.
    class OwnIteration(PermissionResource):
        def iter_queryset(self, queryset):
            yield from queryset.iterator(chunk_size=50)

    queryset = Permission.objects.prefetch_related("group_set")
    exported = [int(row[0]) for row in OwnIteration().export(queryset)]
    assert exported == list(Permission.objects.values_list("pk", flat=True))
