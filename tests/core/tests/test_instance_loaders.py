"""Instance loaders: finding the existing object a row updates, and what that costs in queries."""

import uuid
from unittest import mock

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Author, Book, UUIDBook
from import_export import instance_loaders
from import_export.resources import ModelResource


class BookResource(ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price")


class PerRowBookResource(BookResource):
    class Meta(BookResource.Meta):
        batch_import_lookups = False


class CachedBookResource(ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price")
        instance_loader_class = instance_loaders.CachedInstanceLoader


class BookByNameAndAuthorResource(ModelResource):
    class Meta:
        model = Book
        fields = ("name", "author", "price")
        import_id_fields = ("name", "author")
        instance_loader_class = instance_loaders.CachedInstanceLoader


class UUIDBookResource(ModelResource):
    class Meta:
        model = UUIDBook
        fields = ("id", "name")
        instance_loader_class = instance_loaders.CachedInstanceLoader


def _rows(dataset):
    return [dict(zip(dataset.headers, values)) for values in dataset]


def test_base_loader_must_be_subclassed():
    loader = instance_loaders.BaseInstanceLoader(resource=None)
    with pytest.raises(NotImplementedError):
        loader.get_instance({})


@pytest.mark.django_db
class TestModelInstanceLoader:
    def test_finds_the_instance_by_id_and_misses_unknown_ids(self):
        book = Book.objects.create(name="Dune")
        loader = instance_loaders.ModelInstanceLoader(BookResource())
        assert loader.get_instance({"id": str(book.pk), "name": "x"}) == book
        assert loader.get_instance({"id": str(book.pk + 100), "name": "x"}) is None

    def test_an_empty_id_costs_no_query(self):
        loader = instance_loaders.ModelInstanceLoader(BookResource())
        with CaptureQueriesContext(connection) as queries:
            assert loader.get_instance({"id": "", "name": "x"}) is None
        assert len(queries) == 0

    def test_uses_the_resource_queryset(self):
        kept = Book.objects.create(name="kept")
        hidden = Book.objects.create(name="hidden")

        class FilteredResource(BookResource):
            def get_queryset(self):
                return Book.objects.filter(name="kept")

        loader = instance_loaders.ModelInstanceLoader(FilteredResource())
        assert loader.get_instance({"id": kept.pk}) == kept
        assert loader.get_instance({"id": hidden.pk}) is None


@pytest.mark.django_db
class TestCachedInstanceLoader:
    def test_one_query_for_the_whole_dataset(self):
        books = [Book.objects.create(name=f"book {i}") for i in range(20)]
        dataset = tablib.Dataset(headers=["id", "name"])
        for book in books:
            dataset.append([str(book.pk), book.name])
        dataset.append(["", "a new one"])

        with CaptureQueriesContext(connection) as queries:
            loader = instance_loaders.CachedInstanceLoader(CachedBookResource(), dataset)
            found = [loader.get_instance(row) for row in _rows(dataset)]
        assert len(queries) == 1
        assert found == [*books, None]

    def test_import_with_cached_loader_reads_existing_rows_once(self):
        books = [Book.objects.create(name=f"book {i}") for i in range(10)]
        dataset = tablib.Dataset(headers=["id", "name"])
        for book in books:
            dataset.append([book.pk, book.name + " v2"])
        with CaptureQueriesContext(connection) as cached_queries:
            result = CachedBookResource().import_data(dataset)
        with CaptureQueriesContext(connection) as plain_queries:
            PerRowBookResource().import_data(dataset)
        assert result.totals["update"] == 10
        selects = [q for q in cached_queries if q["sql"].startswith("SELECT")]
        plain_selects = [q for q in plain_queries if q["sql"].startswith("SELECT")]
        assert len(selects) == 1
        assert len(plain_selects) == 10

    def test_no_id_column_means_no_query_and_every_row_new(self):
        dataset = tablib.Dataset(["only a name"], headers=["name"])
        with CaptureQueriesContext(connection) as queries:
            loader = instance_loaders.CachedInstanceLoader(CachedBookResource(), dataset)
        assert len(queries) == 0
        assert loader.get_instance({"name": "only a name"}) is None

    def test_splits_the_lookup_when_the_database_caps_parameters(self):
        books = [Book.objects.create(name=f"b{i}") for i in range(7)]
        dataset = tablib.Dataset(headers=["id", "name"])
        for book in books:
            dataset.append([book.pk, book.name])
        # Patched on the class as a property: Django 6.0 made SQLite's limit a read-only property
        # (asked of the live connection), which an instance attribute patch cannot override.
        with (
            mock.patch.object(
                type(connection.features),
                "max_query_params",
                new_callable=mock.PropertyMock,
                return_value=3,
            ),
            CaptureQueriesContext(connection) as queries,
        ):
            loader = instance_loaders.CachedInstanceLoader(CachedBookResource(), dataset)
        assert len(queries) == 3  # 7 ids in chunks of 3
        assert [loader.get_instance(row) for row in _rows(dataset)] == books

    def test_an_id_that_cannot_be_cleaned_fails_on_its_own_row(self):
        book = Book.objects.create(name="ok")
        dataset = tablib.Dataset(headers=["id", "name"])
        dataset.append([book.pk, "ok"])
        dataset.append(["not-a-number", "bad"])
        result = CachedBookResource().import_data(dataset)
        assert result.totals["update"] == 1
        assert [number for number, _ in result.row_errors()] == [2]
        assert result.error_messages()[0].startswith("Row 2, column 'id' (value 'not-a-number'):")

    def test_composite_key(self):
        ann = Author.objects.create(name="Ann")
        bob = Author.objects.create(name="Bob")
        anns = Book.objects.create(name="Same title", author=ann, price=1)
        bobs = Book.objects.create(name="Same title", author=bob, price=2)
        dataset = tablib.Dataset(headers=["name", "author", "price"])
        dataset.append(["Same title", bob.pk, "20"])
        dataset.append(["Same title", ann.pk, "10"])
        with CaptureQueriesContext(connection) as queries:
            loader = instance_loaders.CachedInstanceLoader(BookByNameAndAuthorResource(), dataset)
        assert len([q for q in queries if "core_book" in q["sql"]]) == 1
        assert [loader.get_instance(row) for row in _rows(dataset)] == [bobs, anns]

        result = BookByNameAndAuthorResource().import_data(dataset)
        assert result.totals["update"] == 2
        anns.refresh_from_db()
        bobs.refresh_from_db()
        assert (anns.price, bobs.price) == (10, 20)

    def test_uuid_keys_read_as_text_match_the_database(self):
        book = UUIDBook.objects.create(name="uuid book")
        dataset = tablib.Dataset([str(book.pk).upper(), "renamed"], headers=["id", "name"])
        loader = instance_loaders.CachedInstanceLoader(UUIDBookResource(), dataset)
        assert loader.get_instance(_rows(dataset)[0]) == book
        result = UUIDBookResource().import_data(dataset)
        assert result.totals["update"] == 1
        book.refresh_from_db()
        assert book.name == "renamed"
        assert UUIDBook.objects.count() == 1

    def test_a_new_uuid_is_created(self):
        new_id = uuid.uuid4()
        dataset = tablib.Dataset([str(new_id), "fresh"], headers=["id", "name"])
        result = UUIDBookResource().import_data(dataset)
        assert result.totals["new"] == 1
        assert UUIDBook.objects.get(pk=new_id).name == "fresh"

    def test_all_instances_is_keyed_by_the_id_value_or_the_tuple_of_id_values(self):
        ann = Author.objects.create(name="Ann")
        book = Book.objects.create(name="Title", author=ann)
        Book.objects.create(name="Not in the file")

        by_id = tablib.Dataset([str(book.pk), "Title"], headers=["id", "name"])
        loader = instance_loaders.CachedInstanceLoader(CachedBookResource(), by_id)
        assert loader.all_instances == {book.pk: book}

        by_pair = tablib.Dataset(["Title", ann.pk, ""], headers=["name", "author", "price"])
        loader = instance_loaders.CachedInstanceLoader(BookByNameAndAuthorResource(), by_pair)
        assert loader.all_instances == {("Title", ann.pk): book}

    def test_pk_field_is_the_first_id_field(self):
        dataset = tablib.Dataset(headers=["name", "author", "price"])
        loader = instance_loaders.CachedInstanceLoader(BookByNameAndAuthorResource(), dataset)
        assert [field.column_name for field in loader.id_fields] == ["name", "author"]
        assert loader.pk_field.column_name == "name"


@pytest.mark.django_db
def test_cached_loader_on_a_resource_without_an_id_field_treats_rows_as_new():
    class NoId(ModelResource):
        class Meta:
            model = Book
            fields = ("name",)
            instance_loader_class = instance_loaders.CachedInstanceLoader

    Book.objects.create(name="existing")
    result = NoId().import_data(tablib.Dataset(["existing"], headers=["name"]))
    assert [r.import_type for r in result.rows] == ["new"]
    assert Book.objects.count() == 2
