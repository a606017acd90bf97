"""Examples of docs/bulk_import.rst: bulk mode, insert-only files and what bulk mode skips.

tests/core/tests/test_manual_bulk_import.py runs them and checks what the page says.
"""

# -- imports
import tablib

from core.manual.import_workflow import RecordingBookResource
from core.models import Book, Category
from import_export import resources


# -- bulk resource
class BulkBookResource(resources.ModelResource):
    """Creates, updates and deletes are written 500 at a time instead of one by one."""

    class Meta:
        model = Book
        fields = ("id", "name", "price")
        use_bulk = True
        batch_size = 500


# -- end bulk resource


# -- insert only
class NewCategoriesResource(resources.ModelResource):
    """For files known to hold only new records: no lookup of existing ones at all."""

    class Meta:
        model = Category
        fields = ("name",)
        use_bulk = True
        force_init_instance = True
        batch_size = 1000


def import_new_categories(names):
    dataset = tablib.Dataset(headers=["name"])
    for name in names:
        dataset.append([name])
    return NewCategoriesResource().import_data(dataset)


# -- end insert only


# -- skip unchanged in bulk
class SyncBookResource(BulkBookResource):
    """Rows that change nothing are not queued, so they cost no write."""

    class Meta(BulkBookResource.Meta):
        skip_unchanged = True
        report_skipped = False


# -- end skip unchanged in bulk


# -- recording in bulk
class RecordingBulkBookResource(RecordingBookResource):
    """The hook recorder of the import workflow page, in bulk mode."""

    class Meta(RecordingBookResource.Meta):
        use_bulk = True

    def do_instance_save(self, instance, is_create):
        self.calls.append("do_instance_save")
        super().do_instance_save(instance, is_create)

    def after_save_instance(self, instance, row, **kwargs):
        # In bulk mode the instance is only queued here: a new one has no primary key yet.
        self.calls.append(f"after_save_instance pk={instance.pk}")

    def bulk_create(self, *args, **kwargs):
        self.calls.append(f"bulk_create of {len(self.create_instances)}")
        super().bulk_create(*args, **kwargs)


# -- end recording in bulk
