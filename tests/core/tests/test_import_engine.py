"""The batched import engine: one query per batch for each lookup, per-row fallbacks where a
batch could answer differently, and the same results as the per-row engine."""

import tablib
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from core.models import Author, Book, Category
from import_export import fields, resources, widgets


def _selects_from(queries, table):
    return [q for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]]


class BookResource(resources.ModelResource):
    author = fields.Field(
        attribute="author", column_name="author", widget=widgets.ForeignKeyWidget(Author, "name")
    )

    class Meta:
        model = Book
        fields = ("id", "name", "author")


class PerRowBookResource(BookResource):
    class Meta(BookResource.Meta):
        batch_import_lookups = False


class BookWithCategoriesResource(BookResource):
    categories = fields.Field(
        attribute="categories",
        column_name="categories",
        widget=widgets.ManyToManyWidget(Category, field="name"),
    )

    class Meta(BookResource.Meta):
        fields = ("id", "name", "author", "categories")


class PerRowBookWithCategories(BookWithCategoriesResource):
    class Meta(BookWithCategoriesResource.Meta):
        batch_import_lookups = False


def _category_lookups(queries):
    return [
        q for q in _selects_from(queries, "core_category") if "core_book_categories" not in q["sql"]
    ]


class BatchedLookupQueryCountTest(TestCase):
    def setUp(self):
        self.authors = [Author.objects.create(name=f"author {i}") for i in range(4)]
        self.books = [
            Book.objects.create(name=f"book {i}", author=self.authors[0]) for i in range(20)
        ]

    def _dataset(self, rows=None):
        dataset = tablib.Dataset(headers=["id", "name", "author"])
        for i, book in enumerate(rows or self.books):
            dataset.append([book.pk, f"{book.name} v2", f"author {i % 4}"])
        return dataset

    def _import(self, resource, dataset, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            result = resource.import_data(dataset, **kwargs)
        self.assertFalse(result.has_errors(), result.error_messages())
        return result, queries

    def test_instances_and_foreign_keys_are_read_once_per_batch(self):
        result, queries = self._import(BookResource(), self._dataset())
        self.assertEqual(result.totals["update"], 20)
        self.assertEqual(len(_selects_from(queries, "core_book")), 1)
        self.assertEqual(len(_selects_from(queries, "core_author")), 1)
        self.assertEqual(Book.objects.get(pk=self.books[5].pk).author, self.authors[1])

    def test_per_row_switch_reads_row_by_row(self):
        _, queries = self._import(PerRowBookResource(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_book")), 20)
        # The widget's lookup and the eager diff's read of the original's author, per row.
        self.assertEqual(len(_selects_from(queries, "core_author")), 40)

    def test_one_query_per_batch_of_batch_size_rows(self):
        class SmallBatches(BookResource):
            class Meta(BookResource.Meta):
                batch_size = 7

        _, queries = self._import(SmallBatches(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_book")), 3)
        self.assertEqual(len(_selects_from(queries, "core_author")), 3)

    def test_default_mode_writes_one_statement_per_row_without_savepoints(self):
        _, queries = self._import(BookResource(), self._dataset())
        statements = [q["sql"].split()[0] for q in queries]
        self.assertEqual(statements.count("UPDATE"), 20)
        # The import's block and its before_import/after_import blocks: none per row on
        # SQLite; elsewhere a failed statement may abort the transaction, so rows keep theirs
        # (and the batch's reads get one).
        per_row_savepoints = 0 if connection.vendor == "sqlite" else 20 + 1
        self.assertEqual(statements.count("SAVEPOINT"), 3 + per_row_savepoints)
        _, per_row = self._import(PerRowBookResource(), self._dataset())
        self.assertEqual([q["sql"].split()[0] for q in per_row].count("SAVEPOINT"), 23)

    def test_bulk_mode_reads_and_writes_per_batch(self):
        class BulkBooks(BookResource):
            class Meta(BookResource.Meta):
                use_bulk = True
                skip_diff = True

        _, queries = self._import(BulkBooks(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_book")), 1)
        self.assertEqual(len(_selects_from(queries, "core_author")), 1)
        # One prepared UPDATE executed for the batch (logged as "20 times: UPDATE ...").
        updates = [q["sql"] for q in queries if "UPDATE" in q["sql"]]
        self.assertEqual(len(updates), 1)
        self.assertTrue(updates[0].startswith("20 times"), updates[0])
        self.assertEqual(Book.objects.filter(name__endswith=" v2").count(), 20)

    def test_many_to_many_keys_are_read_once_per_batch(self):
        for name in ("red", "green", "blue"):
            Category.objects.create(name=name)
        dataset = tablib.Dataset(headers=["id", "name", "author", "categories"])
        for i, book in enumerate(self.books):
            dataset.append([book.pk, book.name, "author 0", ("red,green", "blue", "")[i % 3]])
        _, queries = self._import(BookWithCategoriesResource(), dataset)
        _, per_row = self._import(PerRowBookWithCategories(), dataset)
        # The widget's lookups; the relation's own reads (set(), the diff) join its table.
        self.assertEqual(len(_category_lookups(queries)), 1)
        self.assertEqual(len(_category_lookups(per_row)), 14)
        self.assertEqual(
            sorted(self.books[0].categories.values_list("name", flat=True)), ["green", "red"]
        )
        self.assertEqual(self.books[2].categories.count(), 0)

    # -- fallbacks -------------------------------------------------------------------------------

    def test_overridden_get_instance_looks_up_per_row(self):
        class OwnGetInstance(BookResource):
            def get_instance(self, instance_loader, row):
                return super().get_instance(instance_loader, row)

        _, queries = self._import(OwnGetInstance(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_book")), 20)
        # One batched read for the column; the diff reads each original's author, as upstream.
        self.assertEqual(len(_selects_from(queries, "core_author")), 21)

    def test_overridden_get_queryset_looks_up_per_row(self):
        class OwnQueryset(BookResource):
            def get_queryset(self):
                return Book.objects.filter(name__startswith="book")

        result, queries = self._import(OwnQueryset(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_book")), 20)
        self.assertEqual(result.totals["update"], 20)

    def test_custom_instance_loader_looks_up_per_row(self):
        from import_export.instance_loaders import ModelInstanceLoader

        class Loader(ModelInstanceLoader):
            def get_instance(self, row):
                return super().get_instance(row)

        class OwnLoader(BookResource):
            class Meta(BookResource.Meta):
                instance_loader_class = Loader

        _, queries = self._import(OwnLoader(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_book")), 20)

    def test_widget_with_own_get_queryset_looks_up_per_row(self):
        class ByRow(widgets.ForeignKeyWidget):
            def get_queryset(self, value, row, *args, **kwargs):
                return Author.objects.exclude(name="nobody")

        class OwnWidget(BookResource):
            author = fields.Field(
                attribute="author", column_name="author", widget=ByRow(Author, "name")
            )

        _, queries = self._import(OwnWidget(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_author")), 20)

    def test_widget_with_own_clean_looks_up_per_row(self):
        class OwnClean(widgets.ForeignKeyWidget):
            def clean(self, value, row=None, **kwargs):
                return super().clean(value, row, **kwargs)

        class OwnWidget(BookResource):
            author = fields.Field(
                attribute="author", column_name="author", widget=OwnClean(Author, "name")
            )

        _, queries = self._import(OwnWidget(), self._dataset())
        self.assertEqual(len(_selects_from(queries, "core_author")), 20)

    def test_before_import_row_rewriting_keys_is_looked_up_per_row(self):
        newcomer = Author.objects.create(name="newcomer")
        extra = Book.objects.create(name="not in the file")

        class Rewrites(BookResource):
            def before_import_row(self, row, **kwargs):
                if row["id"] == self_books[0].pk:
                    row["id"] = extra.pk
                    row["author"] = "newcomer"

        self_books = self.books
        result, queries = self._import(Rewrites(), self._dataset())
        self.assertEqual(result.totals["update"], 20)
        extra.refresh_from_db()
        self.assertEqual((extra.name, extra.author), ("book 0 v2", newcomer))
        # One batched read per table, plus one per-row read for the rewritten cells.
        self.assertEqual(len(_selects_from(queries, "core_book")), 2)
        self.assertEqual(len(_selects_from(queries, "core_author")), 2)

    def test_duplicate_key_in_a_batch_updates_what_the_first_row_created(self):
        dataset = tablib.Dataset(headers=["id", "name", "author"])
        dataset.append([900, "first", "author 1"])
        dataset.append([900, "second", "author 2"])
        result, _ = self._import(BookResource(), dataset)
        self.assertEqual([r.import_type for r in result.rows], ["new", "update"])
        book = Book.objects.get(pk=900)
        self.assertEqual((book.name, book.author), ("second", self.authors[2]))

    def test_missing_and_ambiguous_foreign_keys_raise_the_widgets_own_errors(self):
        Author.objects.create(name="author 3")  # a second "author 3"
        dataset = tablib.Dataset(headers=["id", "name", "author"])
        dataset.append([self.books[0].pk, "x", "nobody"])
        dataset.append([self.books[1].pk, "y", "author 3"])
        batched = BookResource().import_data(dataset)
        per_row = PerRowBookResource().import_data(dataset)
        batched_errors = [(n, type(e[0].error), str(e[0].error)) for n, e in batched.row_errors()]
        per_row_errors = [(n, type(e[0].error), str(e[0].error)) for n, e in per_row.row_errors()]
        self.assertEqual(batched_errors, per_row_errors)
        self.assertEqual(
            [t for _, t, _ in batched_errors],
            [Author.DoesNotExist, Author.MultipleObjectsReturned],
        )

    def test_row_failing_after_its_save_leaves_nothing_behind(self):
        class CategoriesByPk(BookResource):
            categories = fields.Field(
                attribute="categories",
                column_name="categories",
                widget=widgets.ManyToManyWidget(Category),
            )

            class Meta(BookResource.Meta):
                fields = ("id", "name", "author", "categories")

        dataset = tablib.Dataset(headers=["id", "name", "author", "categories"])
        dataset.append([901, "half", "author 1", "not-a-pk"])
        dataset.append([901, "whole", "author 1", ""])
        result = CategoriesByPk().import_data(dataset, use_transactions=True)
        self.assertEqual([r.import_type for r in result.rows], ["error", "new"])

    def test_lazy_diff_is_rendered_when_read_and_matches_the_eager_one(self):
        batched = BookResource().import_data(self._dataset(), dry_run=True)
        per_row = PerRowBookResource().import_data(self._dataset(), dry_run=True)
        self.assertIsNotNone(batched.rows[0]._diff_source)
        self.assertEqual([r.diff for r in batched.rows], [r.diff for r in per_row.rows])
        self.assertIsNone(batched.rows[0]._diff_source)
        self.assertIn("<ins", batched.rows[0].diff[1])

    def test_a_failed_insert_without_row_savepoint_lets_later_rows_import(self):
        class HidesFirstBook(BookResource):
            def get_queryset(self):
                return Book.objects.exclude(name="book 0")

        class PerRowHidesFirstBook(HidesFirstBook):
            class Meta(HidesFirstBook.Meta):
                batch_import_lookups = False

        dataset = self._dataset(self.books[:3])
        outcomes = []
        for resource in (HidesFirstBook(), PerRowHidesFirstBook()):
            result = resource.import_data(dataset, use_transactions=True)
            errors = [(n, type(e[0].error).__name__) for n, e in result.row_errors()]
            outcomes.append(([r.import_type for r in result.rows], errors))
        # The hidden book's row is an insert of an existing key; the rows after it still run.
        self.assertEqual(outcomes[0], (["error", "update", "update"], [(1, "IntegrityError")]))
        self.assertEqual(outcomes[0], outcomes[1])
