"""The examples of docs/bulk_import.rst (core/manual/bulk_import.py) do what the page says:
writes per batch, the hooks still called per row, no save() or save signals, errors per batch."""

import pytest
import tablib
from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_save
from django.test.utils import CaptureQueriesContext

from core.manual import bulk_import
from core.models import Book, Category

pytestmark = pytest.mark.django_db


def books_dataset(rows):
    dataset = tablib.Dataset(headers=["id", "name", "price"])
    for row in rows:
        dataset.append(row)
    return dataset


def writes(queries, verb):
    """The statements starting with ``verb``; an executemany is logged as "N times: SQL"."""
    statements = (q["sql"].split(" times: ", 1)[-1].lstrip().upper() for q in queries)
    return [sql for sql in statements if sql.startswith(verb)]


class FlushRecordingResource(bulk_import.BulkBookResource):
    """Notes how many instances each bulk write receives."""

    def __init__(self):
        super().__init__()
        self.flushes = []

    def bulk_create(self, *args, **kwargs):
        if self.create_instances:
            self.flushes.append(("create", len(self.create_instances)))
        super().bulk_create(*args, **kwargs)

    def bulk_update(self, *args, **kwargs):
        if self.update_instances:
            self.flushes.append(("update", len(self.update_instances)))
        super().bulk_update(*args, **kwargs)


def test_new_rows_are_written_per_batch_of_batch_size():
    rows = [["", f"Book {i}", "1.00"] for i in range(1200)]
    resource = FlushRecordingResource()
    with CaptureQueriesContext(connection) as captured:
        result = resource.import_data(books_dataset(rows))
    assert result.totals["new"] == 1200 and not result.has_errors()
    assert Book.objects.count() == 1200
    assert resource.flushes == [("create", 500), ("create", 500), ("create", 200)]
    # Django may cut a batch further to fit the database's parameter limit (SQLite), but
    # the statements are far fewer than the rows.
    assert len(writes(captured.captured_queries, "INSERT")) <= 12


def test_updates_are_written_per_batch_and_existing_rows_read_per_batch():
    Book.objects.bulk_create(Book(name=f"Book {i}", price="1.00") for i in range(1200))
    rows = [[book.pk, book.name, "2.00"] for book in Book.objects.order_by("pk")]
    resource = FlushRecordingResource()
    with CaptureQueriesContext(connection) as captured:
        result = resource.import_data(books_dataset(rows))
    assert result.totals["update"] == 1200
    assert set(Book.objects.values_list("price", flat=True)) == {2}
    assert resource.flushes == [("update", 500), ("update", 500), ("update", 200)]
    # One query per batch reads the existing books (the batched engine), none per row.
    assert len(writes(captured.captured_queries, "SELECT")) == 3
    assert len(writes(captured.captured_queries, "UPDATE")) <= 12


def test_force_init_instance_makes_every_row_new_without_looking_anything_up():
    with CaptureQueriesContext(connection) as captured:
        result = bulk_import.import_new_categories([f"Category {i}" for i in range(300)])
    assert result.totals["new"] == 300
    assert Category.objects.count() == 300
    # (On PostgreSQL after_import resets the id sequence with a SELECT setval(...); that is
    # not a lookup.)
    lookups = [sql for sql in writes(captured.captured_queries, "SELECT") if "SETVAL" not in sql]
    assert lookups == []


def test_a_failed_batch_is_an_error_of_the_whole_import_and_is_rolled_back():
    Category.objects.create(name="Poetry")
    result = bulk_import.import_new_categories(["Drama", "Poetry", "Prose"])
    # The database refused the batch (unique name); no single row can be blamed.
    assert result.has_errors()
    assert result.row_errors() == []
    assert len(result.base_errors) == 1
    assert "UNIQUE" in str(result.base_errors[0].error).upper()
    assert list(Category.objects.values_list("name", flat=True)) == ["Poetry"]


def test_skip_unchanged_rows_are_not_written():
    same = Book.objects.create(name="Same", price="1.00")
    changed = Book.objects.create(name="Changed", price="1.00")
    rows = [[same.pk, "Same", "1.00"], [changed.pk, "Changed", "5.00"]]
    with CaptureQueriesContext(connection) as captured:
        result = bulk_import.SyncBookResource().import_data(books_dataset(rows))
    assert result.totals["skip"] == 1 and result.totals["update"] == 1
    [update] = writes(captured.captured_queries, "UPDATE")
    changed.refresh_from_db()
    assert changed.price == 5


def test_every_hook_is_still_called_per_row_but_nothing_is_saved_one_by_one():
    Category.objects.create(name="Poetry")
    dataset = tablib.Dataset(headers=["id", "name", "price", "categories"])
    dataset.append(["", "Odes", "9.50", "Poetry"])
    dataset.append(["", "Epodes", "7.00", "Poetry"])
    resource = bulk_import.RecordingBulkBookResource()
    resource.import_data(dataset)
    first_row = resource.calls[1 : resource.calls.index("before_import_row 2")]
    assert first_row == [
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
        "after_save_instance pk=None",
        "save_m2m",
        "after_import_row new",
    ]
    assert resource.calls[-2:] == ["bulk_create of 2", "after_import"]
    assert "do_instance_save" not in resource.calls
    # Many-to-many values are not written in bulk mode.
    assert Book.objects.count() == 2
    assert not Book.categories.through.objects.exists()


def test_no_save_signals_are_sent_but_deletes_still_send_theirs():
    sent = []

    def receiver(signal_name):
        return lambda sender, **kwargs: sent.append(signal_name)

    on_pre_save, on_post_save = receiver("pre_save"), receiver("post_save")
    on_post_delete = receiver("post_delete")
    pre_save.connect(on_pre_save, sender=Book)
    post_save.connect(on_post_save, sender=Book)
    post_delete.connect(on_post_delete, sender=Book)
    try:
        old = Book.objects.create(name="Old")
        sent.clear()
        bulk_import.BulkBookResource().import_data(books_dataset([["", "New", "1.00"]]))
        assert sent == []

        class DeletingResource(bulk_import.BulkBookResource):
            def for_delete(self, row, instance):
                return True

        DeletingResource().import_data(books_dataset([[old.pk, "Old", ""]]))
        assert sent == ["post_delete"]
        assert not Book.objects.filter(pk=old.pk).exists()
    finally:
        pre_save.disconnect(on_pre_save, sender=Book)
        post_save.disconnect(on_post_save, sender=Book)
        post_delete.disconnect(on_post_delete, sender=Book)


def test_new_rows_have_no_object_id_in_the_result():
    result = bulk_import.BulkBookResource().import_data(books_dataset([["", "New", "1.00"]]))
    [row] = result.rows
    assert row.import_type == "new"
    assert row.object_id is None


def test_raise_errors_raises_the_failed_batch():
    from import_export.exceptions import ImportError as ImportExportImportError

    Category.objects.create(name="Poetry")
    dataset = tablib.Dataset(("Drama",), ("Poetry",), headers=["name"])
    with pytest.raises(ImportExportImportError):
        bulk_import.NewCategoriesResource().import_data(dataset, raise_errors=True)
    assert list(Category.objects.values_list("name", flat=True)) == ["Poetry"]


def test_clean_model_instances_names_the_row_that_breaks_a_unique_constraint():
    class CheckedCategories(bulk_import.NewCategoriesResource):
        class Meta(bulk_import.NewCategoriesResource.Meta):
            clean_model_instances = True

    Category.objects.create(name="Poetry")
    dataset = tablib.Dataset(("Drama",), ("Poetry",), ("Prose",), headers=["name"])
    result = CheckedCategories().import_data(dataset)
    assert [row.number for row in result.invalid_rows] == [2]
    assert "name" in result.invalid_rows[0].field_specific_errors
    # Invalid rows alone do not roll back: the other two were written.
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Drama", "Poetry", "Prose"]
