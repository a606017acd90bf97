"""The examples of docs/import_workflow.rst (core/manual/import_workflow.py) do what the page
says: the hook order, deletes, how errors are read, skip_unchanged and the rollback rules."""

import pytest
import tablib

from core.manual import import_workflow
from core.models import Book, Category

pytestmark = pytest.mark.django_db

# The list on the page ("A new row"), step for step.
NEW_ROW_ORDER = [
    "before_import",
    "before_import_row 1",
    "get_or_init_instance",
    "get_instance",
    "init_instance",
    "after_init_instance new=True",
    "import_instance",
    "skip_row",
    "validate_instance",
    "save_instance",
    "before_save_instance",
    "after_save_instance",
    "save_m2m",
    "after_import_row new",
    "after_import",
]


def test_a_new_row_goes_through_the_hooks_in_the_pages_order():
    assert import_workflow.record_one_new_row() == NEW_ROW_ORDER
    book = Book.objects.get(name="Odes")
    assert [c.name for c in book.categories.all()] == ["Poetry"]


def test_an_existing_row_is_found_and_not_initialised():
    book = Book.objects.create(name="Odes", price="1.00")
    dataset = tablib.Dataset(headers=["id", "name", "price", "categories"])
    dataset.append([book.pk, "Odes", "2.00", ""])
    resource = import_workflow.RecordingBookResource()
    resource.import_data(dataset)
    assert "init_instance" not in resource.calls
    assert "after_init_instance new=False" in resource.calls
    assert resource.calls[-2] == "after_import_row update"
    book.refresh_from_db()
    assert str(book.price) == "2.00"


def test_a_dry_run_calls_the_same_hooks_and_leaves_nothing_behind():
    Category.objects.create(name="Poetry")
    dataset = tablib.Dataset(headers=["id", "name", "price", "categories"])
    dataset.append(["", "Odes", "9.50", "Poetry"])
    resource = import_workflow.RecordingBookResource()
    result = resource.import_data(dataset, dry_run=True)
    assert resource.calls == NEW_ROW_ORDER
    assert result.totals["new"] == 1
    assert not Book.objects.exists()


def test_a_deleted_row_takes_the_delete_hooks_instead_of_the_save_hooks():
    book = Book.objects.create(name="Odes")
    dataset = tablib.Dataset(headers=["id", "name", "price", "categories", "delete"])
    dataset.append([book.pk, "Odes", "", "", "1"])
    resource = import_workflow.DeletingBookResource()
    resource.import_data(dataset)
    after_init = resource.calls.index("after_init_instance new=False")
    assert resource.calls[after_init + 1 :] == [
        "delete_instance",
        "before_delete_instance",
        "after_delete_instance",
        "after_import_row delete",
        "after_import",
    ]
    assert not Book.objects.exists()


class RefusingBookResource(import_workflow.RecordingBookResource):
    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        if instance.name == "Bad":
            raise RuntimeError("refused")


def test_a_failing_row_gets_no_after_import_row_and_the_import_is_rolled_back():
    dataset = tablib.Dataset(headers=["id", "name", "price", "categories"])
    dataset.append(["", "Good", "1.00", ""])
    dataset.append(["", "Bad", "2.00", ""])
    resource = RefusingBookResource()
    result = resource.import_data(dataset)
    assert result.has_errors()
    [(number, errors)] = result.row_errors()
    assert number == 2
    assert str(errors[0].error) == "refused"
    assert resource.calls.count("after_import_row new") == 1
    assert "after_import_row error" not in resource.calls
    assert resource.calls[-1] == "after_import"
    assert not Book.objects.exists()


def test_errors_and_invalid_rows_are_reported_with_their_row_numbers():
    totals, problems, messages = import_workflow.import_and_report(
        [
            ["", "Fine", "2024-01-31"],
            ["", "Undated", "not a date"],
            ["", "x" * 200, "2024-02-01"],
        ]
    )
    assert totals == {"new": 1, "update": 0, "delete": 0, "skip": 0, "error": 1, "invalid": 1}
    assert problems == [(3, "error", "FieldConstraintError"), (2, "invalid", "published")]
    assert messages[0].startswith("Row 3, column 'name' (value 'xxx")
    assert messages[1].startswith("Row 2, column 'published' (value 'not a date'): ")
    # A row error rolls the whole import back: not even the fine row was written.
    assert not Book.objects.exists()


def test_invalid_rows_alone_do_not_roll_back_the_valid_ones():
    totals, problems, _ = import_workflow.import_and_report(
        [["", "Fine", "2024-01-31"], ["", "Undated", "not a date"]]
    )
    assert problems == [(2, "invalid", "published")]
    assert list(Book.objects.values_list("name", flat=True)) == ["Fine"]


def test_rollback_on_validation_errors_writes_nothing_when_a_row_is_invalid():
    dataset = tablib.Dataset(headers=["id", "name", "published"])
    dataset.append(["", "Fine", "2024-01-31"])
    dataset.append(["", "Cheap", "not a date"])
    result = import_workflow.import_all_or_nothing(dataset)
    assert result.has_validation_errors()
    assert not Book.objects.exists()


def test_raise_errors_raises_at_the_first_bad_row():
    from import_export.exceptions import ImportError as ImportExportImportError

    dataset = tablib.Dataset(headers=["id", "name", "published"])
    dataset.append(["", "Fine", "2024-01-31"])
    dataset.append(["", "Cheap", "not a date"])
    with pytest.raises(ImportExportImportError) as raised:
        import_workflow.BookResource().import_data(dataset, raise_errors=True)
    assert raised.value.number == 2
    assert not Book.objects.exists()


def test_collect_failed_rows_gives_a_dataset_of_the_bad_rows_with_an_error_column():
    dataset = tablib.Dataset(headers=["id", "name", "published"])
    dataset.append(["", "Fine", "2024-01-31"])
    dataset.append(["", "Cheap", "not a date"])
    result = import_workflow.BookResource().import_data(dataset, collect_failed_rows=True)
    failed = result.failed_dataset
    assert failed.headers == ["id", "name", "published", "Error"]
    assert [row[:3] for row in failed] == [("", "Cheap", "not a date")]


def test_skip_unchanged_with_report_skipped_false_leaves_unchanged_rows_out():
    book = Book.objects.create(name="Odes", price="1.00")
    dataset = tablib.Dataset(headers=["id", "name", "price"])
    dataset.append([book.pk, "Odes", "1.00"])
    dataset.append(["", "New", "2.00"])
    result = import_workflow.QuietBookResource().import_data(dataset)
    assert result.totals["skip"] == 1
    assert [row.import_type for row in result.rows] == ["new"]
    # The same file without skip_unchanged updates the unchanged row.
    result = import_workflow.BookResource().import_data(dataset)
    assert result.totals["update"] == 1


@pytest.mark.parametrize(
    "meta_option, skips_unchanged", [("skip_diff", False), ("skip_html_diff", True)]
)
def test_skip_diff_and_skip_html_diff_leave_the_diff_empty(meta_option, skips_unchanged):
    book = Book.objects.create(name="Odes", price="1.00")
    meta = type(
        "Meta",
        (),
        {
            "model": Book,
            "fields": ("id", "name", "price"),
            "skip_unchanged": True,
            meta_option: True,
        },
    )
    resource_class = type("R", (import_workflow.QuietBookResource,), {"Meta": meta})
    dataset = tablib.Dataset(headers=["id", "name", "price"])
    dataset.append([book.pk, "Odes", "1.00"])
    dataset.append(["", "New", "2.00"])
    result = resource_class().import_data(dataset)
    assert all(row.diff is None for row in result.rows)
    assert (result.totals["skip"] == 1) is skips_unchanged


def test_the_diff_shows_each_column_before_and_after():
    book = Book.objects.create(name="Odes", price="1.00")
    dataset = tablib.Dataset(headers=["id", "name", "price"])
    dataset.append([book.pk, "Odes", "2.00"])
    result = import_workflow.QuietBookResource().import_data(dataset)
    assert result.diff_headers == ["id", "name", "price"]
    [row] = result.rows
    assert row.diff[1] == "<span>Odes</span>"
    assert "<del" in row.diff[2] and ">1</del>" in row.diff[2] and ">2</ins>" in row.diff[2]


def test_a_dry_run_uses_a_transaction_even_when_transactions_are_switched_off():
    dataset = tablib.Dataset(headers=["id", "name", "price"])
    dataset.append(["", "New", "2.00"])
    result = import_workflow.QuietBookResource().import_data(
        dataset, dry_run=True, use_transactions=False
    )
    assert result.totals["new"] == 1
    assert not Book.objects.exists()


def test_keyword_arguments_of_import_data_reach_the_hooks():
    seen = {}

    class Listening(import_workflow.BookResource):
        def before_import(self, dataset, **kwargs):
            seen["before_import"] = kwargs

        def before_import_row(self, row, **kwargs):
            seen["before_import_row"] = kwargs

        def after_import_row(self, row, row_result, **kwargs):
            seen["after_import_row"] = kwargs

    dataset = tablib.Dataset(headers=["id", "name"])
    dataset.append(["", "Odes"])
    Listening().import_data(dataset, user="clerk")
    assert seen["before_import"]["user"] == "clerk"
    assert seen["before_import"]["dry_run"] is False
    assert "using_transactions" in seen["before_import"]
    assert "row_number" not in seen["before_import"]
    for hook in ("before_import_row", "after_import_row"):
        assert seen[hook]["user"] == "clerk" and seen[hook]["row_number"] == 1


def test_missing_id_columns_stop_the_import_before_any_row():
    class ByName(import_workflow.BookResource):
        class Meta(import_workflow.BookResource.Meta):
            import_id_fields = ("name",)

    dataset = tablib.Dataset(headers=["id", "published"])
    dataset.append(["", "2024-01-31"])
    result = ByName().import_data(dataset)
    [error] = result.base_errors
    assert "not present in the file headers: name" in str(error.error)
    assert result.rows == [] and not Book.objects.exists()
