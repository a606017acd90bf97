"""Bad input: each kind gives a row-level error or validation error naming the row (and the column
and value where there is one), and a rolled-back import leaves the database as it was."""

from decimal import InvalidOperation

import pytest
import tablib
from django.db import DataError, IntegrityError

from core.models import Author, Book, Category, Package, Repository
from import_export import exceptions, resources
from import_export.importing import DuplicateKeyError, RowLengthError
from import_export.instance_loaders import CachedInstanceLoader

pytestmark = pytest.mark.django_db


class BookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "author", "price", "published")


class PackageResource(resources.ModelResource):
    class Meta:
        model = Package
        import_id_fields = ("pkg_id",)
        fields = ("pkg_id", "repository", "name", "version", "release", "arch", "size_package")


class CategoryResource(resources.ModelResource):
    class Meta:
        model = Category
        fields = ("id", "name")


class StrictCategoryResource(CategoryResource):
    """Opts in to the checks that upstream does not make."""

    class Meta(CategoryResource.Meta):
        reject_duplicate_import_ids = True
        reject_ragged_rows = True


def snapshot():
    """Every row of the tables these tests write, to compare before and after an import."""
    return {
        model.__name__: sorted(model.objects.values_list(flat=False))
        for model in (Book, Author, Category, Package, Repository)
    }


@pytest.fixture
def existing():
    author = Author.objects.create(name="Ursula")
    Book.objects.create(name="Earthsea", author=author, price=5)
    repo = Repository.objects.create(name="base")
    Package.objects.create(
        repository=repo, name="bash", version="5", release="1", arch="x86_64", pkg_id="p1"
    )
    Category.objects.create(name="fantasy")
    return snapshot()


def book_rows(*rows):
    return tablib.Dataset(*rows, headers=["id", "name", "author", "price", "published"])


def only_message(result):
    messages = result.error_messages()
    assert len(messages) == 1, messages
    return messages[0]


def test_missing_id_column_is_reported_before_any_row(existing):
    dataset = tablib.Dataset(
        ["1", "zsh", "5", "1", "x86_64", "0"],
        headers=["repository", "name", "version", "release", "arch", "size_package"],
    )
    result = PackageResource().import_data(dataset)
    assert result.has_errors()
    assert isinstance(result.base_errors[0].error, exceptions.FieldError)
    assert only_message(result) == (
        "The following fields are declared in 'import_id_fields' but are not present in the "
        "file headers: pkg_id"
    )
    assert result.rows == []
    assert snapshot() == existing


def test_an_id_field_the_resource_lacks_is_named():
    class Wrong(BookResource):
        class Meta(BookResource.Meta):
            import_id_fields = ("isbn",)

    result = Wrong().import_data(book_rows(["", "x", "", "", ""]))
    assert only_message(result) == (
        "The following fields are declared in 'import_id_fields' but are not present in the "
        "resource fields: isbn"
    )
    with pytest.raises(exceptions.ImportError, match="isbn"):
        Wrong().import_data(book_rows(["", "x", "", "", ""]), raise_errors=True)


def test_unknown_foreign_key(existing):
    result = BookResource().import_data(
        book_rows(["", "Fine", "", "1", ""], ["", "Orphan", "424242", "1", ""])
    )
    assert result.row_errors()[0][0] == 2
    message = only_message(result)
    assert message.startswith("Row 2, column 'author' (value '424242'):")
    assert "Author" in message
    assert snapshot() == existing


def test_non_numeric_value_for_a_number_fails_the_row_and_rolls_back(existing):
    # As upstream: the decimal module's error is not a ValueError, so it is a row error (not
    # a validation error) and the whole import is rolled back, the good first row included.
    result = BookResource().import_data(
        book_rows(["", "Priced", "", "12.5", ""], ["", "Unpriced", "", "twelve", ""])
    )
    assert result.has_errors() and not result.invalid_rows
    ((number, (error,)),) = result.row_errors()
    assert number == 2
    assert isinstance(error.error, InvalidOperation)
    assert not isinstance(error.error, ValueError)
    assert only_message(result).startswith("Row 2, column 'price' (value 'twelve'):")
    # Upstream's text (the decimal module's); the column and value are named by the line above.
    assert error.error.args[0] == "[<class 'decimal.ConversionSyntax'>]"
    assert snapshot() == existing


@pytest.mark.parametrize("loader", [None, CachedInstanceLoader])
def test_an_id_that_is_no_number_fails_its_row_with_either_loader(existing, loader):
    class Loading(BookResource):
        class Meta(BookResource.Meta):
            instance_loader_class = loader

    result = Loading().import_data(book_rows(["", "New", "", "", ""], ["abc", "Bad", "", "", ""]))
    ((number, (error,)),) = result.row_errors()
    assert number == 2 and not result.base_errors
    assert isinstance(error.error, InvalidOperation)
    assert only_message(result).startswith("Row 2, column 'id' (value 'abc'):")
    assert snapshot() == existing


def test_impossible_date(existing):
    result = BookResource().import_data(
        book_rows(["", "Leap", "", "", "2021-02-30"]), rollback_on_validation_errors=True
    )
    (invalid,) = result.invalid_rows
    assert invalid.number == 1
    assert "published" in invalid.field_specific_errors
    assert only_message(result).startswith("Row 1, column 'published' (value '2021-02-30'):")
    assert snapshot() == existing


def test_every_bad_cell_of_a_row_is_reported_together():
    result = BookResource().import_data(book_rows(["", "Both", "abc", "", "not a date"]))
    (invalid,) = result.invalid_rows
    assert set(invalid.field_specific_errors) == {"author_id", "published"}
    assert invalid.error_count == 2


def test_value_too_long_for_its_column_fails_the_row_as_the_database_would(existing):
    # Upstream leaves this to the database: PostgreSQL fails the row (DataError), and the
    # import rolls back. The fork reports the same on every database, naming the column.
    too_long = "x" * 101
    result = BookResource().import_data(
        book_rows(["", "short", "", "", ""], ["", too_long, "", "", ""])
    )
    assert not result.invalid_rows
    ((number, (error,)),) = result.row_errors()
    assert number == 2
    assert isinstance(error.error, DataError)
    message = only_message(result)
    assert message.startswith("Row 2, column 'name' (value 'xxxx")
    assert message.endswith("Ensure this value has at most 100 characters (it has 101).")
    assert snapshot() == existing


def test_value_too_long_with_clean_model_instances_is_a_validation_error(existing):
    # full_clean() reports it first, as in upstream.
    class Checked(BookResource):
        class Meta(BookResource.Meta):
            clean_model_instances = True

    result = Checked().import_data(
        book_rows(["", "short", "", "", ""], ["", "x" * 101, "", "", ""]),
        rollback_on_validation_errors=True,
    )
    (invalid,) = result.invalid_rows
    assert invalid.number == 2
    assert list(invalid.field_specific_errors) == ["name"]
    assert only_message(result).startswith("Row 2, column 'name' (value 'xxxx")
    assert snapshot() == existing


def test_duplicate_key_in_the_file(existing):
    dataset = tablib.Dataset(headers=["id", "name"])
    dataset.append(["900", "first"])
    dataset.append(["901", "other"])
    dataset.append(["900", "again"])
    result = StrictCategoryResource().import_data(dataset)
    ((number, errors),) = result.row_errors()
    assert number == 3
    assert isinstance(errors[0].error, DuplicateKeyError)
    message = only_message(result)
    assert message.startswith("Row 3, column 'id' (value '900'): Row 3 has the same key as row 1")
    assert snapshot() == existing


def test_duplicate_key_with_the_cached_loader(existing):
    class Cached(StrictCategoryResource):
        class Meta(StrictCategoryResource.Meta):
            instance_loader_class = CachedInstanceLoader

    dataset = tablib.Dataset(["7", "a"], [" 7 ", "b"], headers=["id", "name"])
    result = Cached().import_data(dataset)
    assert [number for number, _ in result.row_errors()] == [2]
    assert snapshot() == existing


def test_duplicate_keys_update_the_same_record_by_default():
    # upstream behaviour: e.g. one row per many-to-many value added to the same record
    dataset = tablib.Dataset(["7", "a"], ["7", "b"], headers=["id", "name"])
    result = CategoryResource().import_data(dataset)
    assert [r.import_type for r in result.rows] == ["new", "update"]
    assert Category.objects.get(pk=7).name == "b"


def test_duplicate_unique_value_without_ids(existing):
    dataset = tablib.Dataset(["", "scifi"], ["", "scifi"], headers=["id", "name"])
    result = CategoryResource().import_data(dataset)
    ((number, errors),) = result.row_errors()
    assert number == 2
    assert isinstance(errors[0].error, IntegrityError)
    assert "name" in only_message(result)
    assert snapshot() == existing


def test_duplicate_unique_value_as_validation_error(existing):
    class Validating(CategoryResource):
        class Meta(CategoryResource.Meta):
            clean_model_instances = True

    dataset = tablib.Dataset(["", "fantasy"], headers=["id", "name"])
    result = Validating().import_data(dataset, rollback_on_validation_errors=True)
    assert only_message(result).startswith("Row 1, column 'name' (value 'fantasy'):")
    assert snapshot() == existing


def test_row_with_fewer_cells_than_headers_in_csv(existing):
    # tablib pads a short CSV row with empty cells; the missing required value is then named.
    class Validating(PackageResource):
        class Meta(PackageResource.Meta):
            clean_model_instances = True

    repo_id = Repository.objects.get().pk
    text = (
        "pkg_id,repository,name,version,release,arch,size_package\n"
        f"p2,{repo_id},zsh,5.9,1,x86_64,100\n"
        f"p3,{repo_id},fish,3\n"
    )
    dataset = tablib.Dataset().load(text, format="csv")
    result = Validating().import_data(dataset, rollback_on_validation_errors=True)
    (invalid,) = result.invalid_rows
    assert invalid.number == 2
    assert {"release", "arch"} <= set(invalid.field_specific_errors)
    assert any(m.startswith("Row 2, column 'arch' (value '')") for m in result.error_messages())
    assert snapshot() == existing


class ShortRowDataset:
    """A dataset-like object whose second row is short: tablib never builds one, but other
    sources passed to ``import_data`` might."""

    headers = ["id", "name"]

    def __init__(self, *rows):
        self.rows = rows

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


def test_row_with_fewer_cells_than_headers_is_refused_when_asked(existing):
    result = StrictCategoryResource().import_data(ShortRowDataset(("", "ok"), ("only one",)))
    ((number, errors),) = result.row_errors()
    assert number == 2
    assert isinstance(errors[0].error, RowLengthError)
    assert "Row 2 has 1 cells but the file has 2 headers (id, name)" in only_message(result)
    assert snapshot() == existing


def test_a_header_added_by_before_import_leaves_the_rows_short_but_importable():
    # Upstream pairs cells with headers as far as both go; overrides rely on it.
    class AddsAColumn(resources.ModelResource):
        class Meta:
            model = Book
            fields = ("id", "name", "price")
            import_id_fields = ("name",)

        def before_import(self, dataset, **kwargs):
            dataset.headers.append("price")

    dataset = tablib.Dataset(["Dune"], headers=["name"])
    result = AddsAColumn().import_data(dataset, raise_errors=True)
    assert [r.import_type for r in result.rows] == ["new"]
    assert Book.objects.get(name="Dune").price is None


def test_extra_cells_are_ignored_by_default():
    result = CategoryResource().import_data(ShortRowDataset(("", "kept", "extra cell")))
    assert not result.has_errors()
    assert list(Category.objects.values_list("name", flat=True)) == ["kept"]


def test_raise_errors_names_the_row_of_a_bad_cell():
    with pytest.raises(exceptions.ImportError) as raised:
        BookResource().import_data(
            book_rows(["", "ok", "", "1", ""], ["", "bad", "", "x", ""]), raise_errors=True
        )
    assert raised.value.number == 2
    assert raised.value.row["price"] == "x"
