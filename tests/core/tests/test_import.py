"""The import workflow: hook order, transactions, dry runs, bulk mode, skipping, deleting, m2m."""

from decimal import Decimal, InvalidOperation
from unittest import mock

import pytest
import tablib
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.models import Author, Book, Category, Publisher
from import_export import exceptions, fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import Result, RowResult

pytestmark = pytest.mark.django_db


class BookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "author", "price", "categories")


def books(*rows, headers=("id", "name", "price")):
    return tablib.Dataset(*rows, headers=list(headers))


# ---- hooks -----------------------------------------------------------------------------------


class RecordingBookResource(BookResource):
    """Writes every hook call to ``calls`` as ``(hook, detail)``."""

    class Meta:
        model = Book
        fields = ("id", "name", "price")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []
        self.seen_kwargs = {}

    def for_delete(self, row, instance):
        return row.get("name") == "DELETE"

    def before_import(self, dataset, **kwargs):
        self.calls.append(("before_import", len(dataset)))
        self.seen_kwargs["before_import"] = kwargs

    def before_import_row(self, row, **kwargs):
        self.calls.append(("before_import_row", kwargs["row_number"]))

    def after_init_instance(self, instance, new, row, **kwargs):
        self.calls.append(("after_init_instance", new))

    def before_save_instance(self, instance, row, **kwargs):
        self.calls.append(("before_save_instance", instance.pk))

    def after_save_instance(self, instance, row, **kwargs):
        self.calls.append(("after_save_instance", instance.pk is not None))

    def before_delete_instance(self, instance, row, **kwargs):
        self.calls.append(("before_delete_instance", instance.pk))

    def after_delete_instance(self, instance, row, **kwargs):
        self.calls.append(("after_delete_instance", instance.pk))

    def after_import_row(self, row, row_result, **kwargs):
        self.calls.append(("after_import_row", row_result.import_type))

    def after_import(self, dataset, result, **kwargs):
        self.calls.append(("after_import", result.totals["new"]))
        self.seen_kwargs["after_import"] = kwargs
        super().after_import(dataset, result, **kwargs)


def test_hooks_run_in_upstream_order_for_save_and_delete():
    doomed = Book.objects.create(name="old")
    resource = RecordingBookResource()
    result = resource.import_data(
        books(["", "fresh", "1.00"], [doomed.pk, "DELETE", ""]), user="alice"
    )
    assert not result.has_errors()
    assert resource.calls == [
        ("before_import", 2),
        ("before_import_row", 1),
        ("after_init_instance", True),
        ("before_save_instance", None),
        ("after_save_instance", True),
        ("after_import_row", "new"),
        ("before_import_row", 2),
        ("after_init_instance", False),
        ("before_delete_instance", doomed.pk),
        ("after_delete_instance", None),
        ("after_import_row", "delete"),
        ("after_import", 1),
    ]
    assert resource.seen_kwargs["before_import"]["user"] == "alice"
    assert resource.seen_kwargs["after_import"]["dry_run"] is False
    assert not Book.objects.filter(pk=doomed.pk).exists()


def test_a_failing_row_skips_after_import_row_but_not_after_import():
    resource = RecordingBookResource()
    result = resource.import_data(books(["", "bad", "abc"]))
    hooks = [name for name, _ in resource.calls]
    assert "after_import_row" not in hooks
    assert hooks[-1] == "after_import"
    assert result.totals["error"] == 1  # a number that is no number: a row error, as upstream


def test_before_import_may_change_the_dataset():
    class AddsARow(BookResource):
        def before_import(self, dataset, **kwargs):
            dataset.append(["", "added by hook", "2"])

    result = AddsARow().import_data(books(["", "from file", "1"]))
    assert result.total_rows == 2
    assert set(Book.objects.values_list("name", flat=True)) == {"from file", "added by hook"}


def test_an_error_in_before_import_stops_the_import():
    class Broken(BookResource):
        def before_import(self, dataset, **kwargs):
            raise RuntimeError("cannot start")

    result = Broken().import_data(books(["", "x", "1"]))
    assert result.has_errors()
    assert "cannot start" in str(result.base_errors[0].error)
    assert result.rows == []
    assert Book.objects.count() == 0


def test_an_error_in_after_import_is_a_base_error_and_rolls_back():
    class Broken(BookResource):
        def after_import(self, dataset, result, **kwargs):
            raise RuntimeError("cleanup failed")

    result = Broken().import_data(books(["", "x", "1"]))
    assert [str(e.error) for e in result.base_errors] == ["cleanup failed"]
    assert Book.objects.count() == 0
    with pytest.raises(exceptions.ImportError):
        Broken().import_data(books(["", "x", "1"]), raise_errors=True)


# ---- new, update, dry run, transactions -------------------------------------------------------


def test_new_then_update_and_row_result_details():
    result = BookResource().import_data(books(["", "Dune", "9.99"]))
    (row,) = result.rows
    book = Book.objects.get()
    assert (row.import_type, row.object_id, row.object_repr) == ("new", book.pk, "Dune")
    assert row.number == 1
    assert book.price == Decimal("9.99")

    result = BookResource().import_data(books([book.pk, "Dune Messiah", "9.99"]))
    (row,) = result.rows
    assert row.is_update()
    assert row.original.name == "Dune"
    assert Book.objects.get().name == "Dune Messiah"
    # The diff shows the changed name, escaped and marked up.
    assert result.diff_headers == ["id", "name", "author", "price", "categories"]
    name_diff = row.diff[result.diff_headers.index("name")]
    assert "<ins" in name_diff and "Messiah" in name_diff


def test_the_diff_escapes_html_from_the_file():
    result = BookResource().import_data(books(["", "<script>alert(1)</script>", "1"]))
    name_diff = result.rows[0].diff[result.diff_headers.index("name")]
    assert "<script>" not in name_diff
    assert "&lt;script&gt;" in name_diff


def test_skip_diff_and_skip_html_diff():
    class NoDiff(BookResource):
        class Meta(BookResource.Meta):
            skip_diff = True

    class NoHtml(BookResource):
        class Meta(BookResource.Meta):
            skip_html_diff = True

    book = Book.objects.create(name="a")
    assert NoDiff().import_data(books([book.pk, "b", ""])).rows[0].diff is None
    assert NoDiff().import_data(books([book.pk, "b", ""])).rows[0].original is None
    row = NoHtml().import_data(books([book.pk, "c", ""])).rows[0]
    assert row.diff is None
    assert row.original.name == "b"


def test_dry_run_rolls_back_everything_but_reports_it():
    existing = Book.objects.create(name="keep me")
    result = BookResource().import_data(
        books(["", "new one", "1"], [existing.pk, "changed", "2"]), dry_run=True
    )
    assert [r.import_type for r in result.rows] == ["new", "update"]
    assert list(Book.objects.values_list("name", flat=True)) == ["keep me"]


def test_a_row_error_rolls_back_the_whole_import():
    dataset = books(
        ["", "good", ""], ["", "bad author", "424242"], headers=("id", "name", "author")
    )
    result = BookResource().import_data(dataset)
    assert result.totals == {
        "new": 1,
        "update": 0,
        "delete": 0,
        "skip": 0,
        "error": 1,
        "invalid": 0,
    }
    assert Book.objects.count() == 0


def test_validation_errors_keep_valid_rows_unless_asked_to_roll_back():
    dataset = books(["", "good", ""], ["", "bad", "abc"], headers=("id", "name", "author"))
    result = BookResource().import_data(dataset)
    assert result.has_validation_errors() and not result.has_errors()
    assert list(Book.objects.values_list("name", flat=True)) == ["good"]

    Book.objects.all().delete()
    BookResource().import_data(dataset, rollback_on_validation_errors=True)
    assert Book.objects.count() == 0


def test_without_transactions_a_dry_run_writes_nothing():
    book = Book.objects.create(name="a")
    dataset = books(["", "b", "1"], [book.pk, "changed", "1"])
    with mock.patch.object(connection.features, "supports_transactions", False):
        result = BookResource().import_data(dataset, dry_run=True, use_transactions=False)
    assert [r.import_type for r in result.rows] == ["new", "update"]
    assert list(Book.objects.values_list("name", flat=True)) == ["a"]


def test_without_transactions_rows_before_an_error_stay():
    with mock.patch.object(connection.features, "supports_transactions", False):
        result = BookResource().import_data(
            books(["", "kept", ""], ["", "broken", "424242"], headers=("id", "name", "author")),
            use_transactions=False,
        )
    assert result.has_errors()
    assert list(Book.objects.values_list("name", flat=True)) == ["kept"]


def test_asking_for_transactions_on_a_database_without_them_is_a_configuration_error():
    with mock.patch.object(connection.features, "supports_transactions", False):
        with pytest.raises(ImproperlyConfigured, match="does not support them"):
            BookResource().import_data(books(["", "x", "1"]), use_transactions=True)


def test_use_transactions_comes_from_meta_then_setting():
    class NoTransactions(BookResource):
        class Meta(BookResource.Meta):
            use_transactions = False

    assert NoTransactions().get_use_transactions() is False
    assert BookResource().get_use_transactions() is True
    with override_settings(IMPORT_EXPORT_USE_TRANSACTIONS=False):
        assert BookResource().get_use_transactions() is False


def test_setting_off_means_errors_do_not_roll_back():
    with override_settings(IMPORT_EXPORT_USE_TRANSACTIONS=False):
        BookResource().import_data(
            books(["", "kept", ""], ["", "broken", "424242"], headers=("id", "name", "author"))
        )
    assert list(Book.objects.values_list("name", flat=True)) == ["kept"]


def test_using_db_names_the_connection():
    class Other(BookResource):
        class Meta(BookResource.Meta):
            using_db = "default"

    assert Other.get_db_connection_name() == "default"
    assert BookResource.get_db_connection_name() == "default"


def test_a_new_row_never_overwrites_a_record_the_loader_could_not_see():
    hidden = Book.objects.create(name="hidden original")

    class OnlyVisible(BookResource):
        def get_queryset(self):
            return Book.objects.exclude(pk=hidden.pk)

    result = OnlyVisible().import_data(books([hidden.pk, "overwrite attempt", "1"]))
    assert result.has_errors()
    assert isinstance(result.row_errors()[0][1][0].error, IntegrityError)
    hidden.refresh_from_db()
    assert hidden.name == "hidden original"


def test_raise_errors_raises_with_the_row_number():
    dataset = books(["", "ok", ""], ["", "broken", "424242"], headers=("id", "name", "author"))
    with pytest.raises(exceptions.ImportError) as raised:
        BookResource().import_data(dataset, raise_errors=True)
    assert raised.value.number == 2
    assert "line number: 2" in str(raised.value)
    assert Book.objects.count() == 0


def test_raise_errors_for_validation_errors():
    with pytest.raises(exceptions.ImportError) as raised:
        BookResource().import_data(
            books(["", "x", "abc"], headers=("id", "name", "author")), raise_errors=True
        )
    assert isinstance(raised.value.error, ValidationError)
    assert raised.value.number == 1


def test_raise_errors_for_a_number_that_is_no_number_raises_upstreams_error():
    with pytest.raises(exceptions.ImportError) as raised:
        BookResource().import_data(books(["", "ok", "1"], ["", "x", "abc"]), raise_errors=True)
    assert isinstance(raised.value.error, InvalidOperation)
    assert raised.value.number == 2
    assert not Book.objects.exists()


def test_collect_failed_rows_builds_a_dataset_with_the_error():
    dataset = books(["", "ok", "1"], ["", "bad", "abc"], ["", "worse", "1"])
    dataset.append_col(["", "", "424242"], header="author")
    result = BookResource().import_data(dataset, collect_failed_rows=True)
    failed = result.failed_dataset
    assert failed.headers == ["id", "name", "price", "author", "Error"]
    assert [row[1] for row in failed] == ["bad", "worse"]
    assert failed[1][-1] == "Author matching query does not exist."  # upstream: str(error)


def test_store_instance_and_row_values():
    class Storing(BookResource):
        class Meta(BookResource.Meta):
            store_instance = True
            store_row_values = True

    result = Storing().import_data(books(["", "kept", "1"]))
    row = result.rows[0]
    assert row.instance == Book.objects.get()
    assert row.row_values == {"id": "", "name": "kept", "price": "1"}
    assert BookResource().import_data(books(["", "x", "1"])).rows[0].instance is None
    retained = BookResource().import_data(books(["", "y", "1"]), retain_instance_in_row_result=True)
    assert retained.rows[0].instance.name == "y"
    # The keyword applies to that call only.
    assert BookResource().import_data(books(["", "z", "1"])).rows[0].instance is None


# ---- skipping and deleting ----------------------------------------------------------------------


class SkippingResource(BookResource):
    class Meta(BookResource.Meta):
        skip_unchanged = True


def test_skip_unchanged_skips_identical_rows_and_reports_them():
    book = Book.objects.create(name="same", price=Decimal("1.00"))
    result = SkippingResource().import_data(books([book.pk, "same", "1.00"]))
    assert [r.import_type for r in result.rows] == ["skip"]
    result = SkippingResource().import_data(books([book.pk, "other", "1.00"]))
    assert [r.import_type for r in result.rows] == ["update"]


def test_report_skipped_false_leaves_skipped_rows_out_but_counts_them():
    class Quiet(SkippingResource):
        class Meta(SkippingResource.Meta):
            report_skipped = False

    book = Book.objects.create(name="same", price=Decimal("1.00"))
    result = Quiet().import_data(books([book.pk, "same", "1.00"], ["", "new", "2"]))
    assert [r.import_type for r in result.rows] == ["new"]
    assert result.totals["skip"] == 1


def test_skip_unchanged_compares_many_to_many():
    one, two = Category.objects.create(name="one"), Category.objects.create(name="two")
    book = Book.objects.create(name="b")
    book.categories.set([one])
    headers = ("id", "name", "categories")
    same = SkippingResource().import_data(books([book.pk, "b", str(one.pk)], headers=headers))
    assert same.rows[0].is_skip()
    changed = SkippingResource().import_data(
        books([book.pk, "b", f"{one.pk},{two.pk}"], headers=headers)
    )
    assert changed.rows[0].is_update()
    assert set(book.categories.all()) == {one, two}


def test_skip_unchanged_never_hides_validation_errors():
    book = Book.objects.create(name="same", price=Decimal("1.00"))
    result = SkippingResource().import_data(
        books([book.pk, "same", "nope"], headers=("id", "name", "author"))
    )
    assert result.totals["invalid"] == 1


def test_for_delete_deletes_existing_and_skips_unknown():
    class Deleting(BookResource):
        class Meta(BookResource.Meta):
            store_instance = True

        def for_delete(self, row, instance):
            return row["name"] == "delete me"

    doomed = Book.objects.create(name="x")
    result = Deleting().import_data(books([doomed.pk, "delete me", ""], ["", "delete me", ""]))
    assert [r.import_type for r in result.rows] == ["delete", "skip"]
    assert result.rows[0].object_id == doomed.pk
    # The stored copy keeps its id although the database row is gone.
    assert result.rows[0].instance.pk == doomed.pk
    assert not Book.objects.exists()


def test_force_init_instance_always_creates():
    class AlwaysNew(BookResource):
        class Meta(BookResource.Meta):
            force_init_instance = True
            fields = ("name", "price")

    Book.objects.create(name="a")
    result = AlwaysNew().import_data(tablib.Dataset(["a", "1"], headers=["name", "price"]))
    assert result.rows[0].is_new()
    assert Book.objects.filter(name="a").count() == 2


# ---- relations --------------------------------------------------------------------------------


def test_foreign_keys_by_id_and_by_natural_field():
    author = Author.objects.create(name="Frank Herbert")
    BookResource().import_data(books(["", "Dune", author.pk], headers=("id", "name", "author")))
    assert Book.objects.get().author == author

    class ByName(resources.ModelResource):
        author = fields.Field(
            attribute="author",
            column_name="author",
            widget=widgets.ForeignKeyWidget(Author, field="name"),
        )

        class Meta:
            model = Book
            fields = ("id", "name", "author")

    ByName().import_data(
        books(["", "Children of Dune", "Frank Herbert"], headers=("id", "name", "author"))
    )
    assert Book.objects.get(name="Children of Dune").author == author


def test_many_to_many_is_set_and_m2m_add_adds():
    one, two, three = (Category.objects.create(name=n) for n in ("one", "two", "three"))
    headers = ("id", "name", "categories")
    BookResource().import_data(books(["", "b", f"{one.pk},{two.pk}"], headers=headers))
    book = Book.objects.get()
    assert set(book.categories.all()) == {one, two}

    BookResource().import_data(books([book.pk, "b", str(three.pk)], headers=headers))
    assert set(book.categories.all()) == {three}

    class Adding(resources.ModelResource):
        categories = fields.Field(
            attribute="categories",
            column_name="categories",
            widget=widgets.ManyToManyWidget(Category),
            m2m_add=True,
        )

        class Meta:
            model = Book
            fields = ("id", "name", "categories")

    Adding().import_data(books([book.pk, "b", str(one.pk)], headers=headers))
    assert set(book.categories.all()) == {one, three}


def test_many_to_many_is_not_written_in_a_dry_run():
    one = Category.objects.create(name="one")
    book = Book.objects.create(name="b")
    BookResource().import_data(
        books([book.pk, "b", str(one.pk)], headers=("id", "name", "categories")), dry_run=True
    )
    assert not book.categories.exists()


# ---- bulk mode --------------------------------------------------------------------------------


class BulkBookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "price")
        use_bulk = True
        batch_size = 3
        skip_diff = True

    def for_delete(self, row, instance):
        return row["name"] == "DELETE"


def test_bulk_creates_in_batches():
    dataset = books(*[["", f"book {i}", str(i)] for i in range(7)])
    with CaptureQueriesContext(connection) as queries:
        result = BulkBookResource().import_data(dataset)
    inserts = [q for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3  # 3 + 3 + the final 1
    assert result.totals["new"] == 7
    assert Book.objects.count() == 7


def test_bulk_updates_and_deletes():
    existing = [Book.objects.create(name=f"b{i}", price=i) for i in range(4)]
    dataset = books(
        [existing[0].pk, "renamed 0", "10"],
        [existing[1].pk, "renamed 1", "11"],
        [existing[2].pk, "DELETE", ""],
        [existing[3].pk, "DELETE", ""],
    )
    result = BulkBookResource().import_data(dataset)
    assert [r.import_type for r in result.rows] == ["update", "update", "delete", "delete"]
    assert sorted(Book.objects.values_list("name", "price")) == [
        ("renamed 0", Decimal("10.00")),
        ("renamed 1", Decimal("11.00")),
    ]


def test_bulk_dry_run_rolls_back():
    BulkBookResource().import_data(books(["", "a", "1"], ["", "b", "2"]), dry_run=True)
    assert Book.objects.count() == 0


def test_bulk_failure_is_a_base_error_and_rolls_back():
    class Failing(BulkBookResource):
        class Meta(BulkBookResource.Meta):
            pass

    with mock.patch.object(Book.objects, "bulk_create", side_effect=IntegrityError("boom")):
        result = Failing().import_data(books(["", "a", "1"]))
    assert result.has_errors()
    assert "boom" in str(result.base_errors[0].error)
    assert Book.objects.count() == 0


def test_bulk_update_fields_are_model_columns_without_ids():
    assert BulkBookResource().get_bulk_update_fields() == ["name", "price"]
    assert BookResource().get_bulk_update_fields() == ["name", "author", "price"]


@pytest.mark.parametrize("batch_size", [0, -1, "3", 1.5, True])
def test_a_bad_batch_size_is_refused(batch_size):
    class Bad(BulkBookResource):
        class Meta(BulkBookResource.Meta):
            pass

    Bad._meta.batch_size = batch_size
    with pytest.raises(ValueError, match="batch_size"):
        Bad().import_data(books(["", "a", "1"]))


# ---- configuration accessors ------------------------------------------------------------------


def test_import_order_and_import_fields():
    class Ordered(resources.ModelResource):
        full_title = fields.Field(attribute="name", column_name="Title")

        class Meta:
            model = Book
            fields = ("id", "price", "full_title")
            import_order = ("price",)

    resource = Ordered()
    assert resource.get_import_order() == ("price", "id", "full_title")
    assert [f.column_name for f in resource.get_import_fields()] == ["price", "id", "Title"]
    assert resource.get_diff_headers() == ["price", "id", "Title"]


def test_import_fields_can_be_named_by_column_name():
    class ByColumn(resources.ModelResource):
        title = fields.Field(attribute="name", column_name="Book title")

        class Meta:
            model = Book
            fields = ("id", "Book title")

    assert [f.column_name for f in ByColumn().get_import_fields()] == ["id", "Book title"]


def test_result_classes_are_overridable():
    class MyResult(Result):
        pass

    class MyRowResult(RowResult):
        pass

    class Custom(BookResource):
        @classmethod
        def get_result_class(cls):
            return MyResult

        @classmethod
        def get_row_result_class(cls):
            return MyRowResult

    result = Custom().import_data(books(["", "a", "1"]))
    assert isinstance(result, MyResult)
    assert isinstance(result.rows[0], MyRowResult)
    assert BookResource.get_error_result_class().__name__ == "Error"
    assert BookResource.get_diff_class() is resources.Diff


def test_instance_loader_class_from_meta():
    class Cached(BookResource):
        class Meta(BookResource.Meta):
            instance_loader_class = CachedInstanceLoader

    assert Cached().get_instance_loader_class() is CachedInstanceLoader
    assert BookResource().get_instance_loader_class().__name__ == "ModelInstanceLoader"


def test_a_plain_resource_needs_init_instance():
    class Plain(resources.Resource):
        name = fields.Field(attribute="name", column_name="name")

    result = Plain().import_data(tablib.Dataset(["x"], headers=["name"]))
    assert result.has_errors()
    assert isinstance(result.row_errors()[0][1][0].error, NotImplementedError)


def test_a_plain_resource_can_import_into_dicts():
    imported = []

    class Record(dict):
        pk = None

    class Plain(resources.Resource):
        name = fields.Field(attribute="name", column_name="name")

        def init_instance(self, row=None):
            return Record()

        def import_field(self, field, instance, row, is_m2m=False, **kwargs):
            instance[field.attribute] = field.clean(row)

        def save_instance(self, instance, is_create, row, **kwargs):
            imported.append(dict(instance))

    result = Plain().import_data(tablib.Dataset(["x"], ["y"], headers=["name"]))
    assert [r.import_type for r in result.rows] == ["new", "new"]
    assert imported == [{"name": "x"}, {"name": "y"}]


def test_sequences_are_reset_after_new_rows_only():
    statements = ["SELECT 1 /* reset sequence */"]
    with mock.patch.object(connection.ops, "sequence_reset_sql", return_value=statements) as reset:
        with CaptureQueriesContext(connection) as queries:
            BookResource().import_data(books([500, "explicit id", "1"]))
        assert reset.call_args.args[1] == [Book]
        assert any("reset sequence" in q["sql"] for q in queries)

        reset.reset_mock()
        BookResource().import_data(books([500, "explicit id", "1"]), dry_run=True)
        BookResource().import_data(books([500, "only an update", "1"]))
        reset.assert_not_called()


def test_natural_key_publisher_unique_name_is_an_error_on_duplicate():
    Publisher.objects.create(name="Acme")

    class PublisherResource(resources.ModelResource):
        class Meta:
            model = Publisher
            fields = ("id", "name", "country")

    result = PublisherResource().import_data(
        tablib.Dataset(["", "Acme", "FR"], headers=["id", "name", "country"])
    )
    assert result.has_errors()
    assert Publisher.objects.get().country == ""


def test_default_import_id_fields_fall_back_to_a_differently_named_primary_key():
    from core.models import UUIDCategory

    class CategoryByCatid(resources.ModelResource):
        class Meta:
            model = UUIDCategory

    category = UUIDCategory.objects.create(name="before")
    assert CategoryByCatid().get_import_id_fields() == ["catid"]
    dataset = tablib.Dataset([str(category.pk), "after"], headers=["catid", "name"])
    result = CategoryByCatid().import_data(dataset)
    assert [r.import_type for r in result.rows] == ["update"]
    assert UUIDCategory.objects.get().name == "after"
    # A file without the key column is still fine: its rows are new records.
    result = CategoryByCatid().import_data(tablib.Dataset(["third"], headers=["name"]))
    assert [r.import_type for r in result.rows] == ["new"]


# ---- names code written for upstream patches on import_export.resources ----------------------
# Upstream runs the import inside resources.py, so its users patch names there. ``create=True``
# because resources.py need not define every one of them for the import to work unpatched.


def _transactionless_connections():
    connections = mock.MagicMock()
    connections.__getitem__.return_value.features.supports_transactions = False
    return connections


def test_a_patched_resources_connections_is_the_one_import_data_asks():
    with mock.patch(
        "import_export.resources.connections", _transactionless_connections(), create=True
    ):
        with pytest.raises(ImproperlyConfigured):
            BookResource().import_data(books(["", "Dune", "1"]), use_transactions=True)
        result = BookResource().import_data(books(["", "Dune", "1"]), use_transactions=False)
    assert not result.has_errors()
    assert Book.objects.filter(name="Dune").count() == 1


def test_a_patched_resources_logger_receives_the_skipped_field_messages():
    class NoAttribute(resources.ModelResource):
        note = fields.Field(column_name="note")

        class Meta:
            model = Book
            fields = ("id", "name", "price", "note")

    with mock.patch("import_export.resources.logger", create=True) as patched:
        NoAttribute().import_data(books(["", "Dune", "1"]), raise_errors=True)
    logged = [call.args[0] for call in patched.debug.call_args_list]
    expected = (
        "skipping field '<import_export.fields.Field: note>' - field attribute is not defined"
    )
    assert expected in logged


def test_the_import_logger_is_the_one_upstream_logs_to(caplog):
    with caplog.at_level("DEBUG", logger="import_export.resources"):
        BookResource().import_data(books(["", "Dune", "1"]))
    assert (
        "skipping field '<import_export.fields.Field: categories>' "
        "- column name 'categories' is not present in row"
    ) in caplog.messages


def test_patched_resources_diff_and_deepcopy_are_used_per_row():
    resource = BookResource()  # before the patch: __init__ deep-copies the fields too
    with (
        mock.patch("import_export.resources.Diff", spec=True) as diff_class,
        mock.patch("import_export.resources.deepcopy", create=True) as copy,
    ):
        resource.import_data(books(["", "Dune", "1"], ["", "Emma", "2"]))
    assert diff_class.call_count == 2
    assert diff_class.return_value.compare_with.call_count == 2
    assert copy.call_count == 2


def test_a_patched_atomic_if_using_transaction_wraps_rows_unless_bulk():
    class Bulk(BookResource):
        class Meta(BookResource.Meta):
            use_bulk = True

    for resource, rows_get_their_own_savepoint in ((BookResource(), True), (Bulk(), False)):
        with mock.patch(
            "import_export.resources.atomic_if_using_transaction", create=True
        ) as atomic:
            resource.import_data(books(["", "Dune", "1"]))
        using_transactions = [call.args[0] for call in atomic.call_args_list]
        assert len(using_transactions) >= 3  # the import, its row, after_import
        assert all(using_transactions) is rows_get_their_own_savepoint
