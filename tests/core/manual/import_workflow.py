"""Examples of docs/import_workflow.rst: which hook runs when, and how to read a Result.

tests/core/tests/test_manual_import_workflow.py runs every example and checks what the page
says about it.
"""

# -- imports
import tablib

from core.models import Book, Category
from import_export import fields, resources, widgets


# -- recording resource
class RecordingBookResource(resources.ModelResource):
    """A book resource that writes down every step of the import it takes part in."""

    categories = fields.Field(
        attribute="categories",
        column_name="categories",
        widget=widgets.ManyToManyWidget(Category, field="name"),
    )

    class Meta:
        model = Book
        fields = ("id", "name", "price", "categories")

    def __init__(self):
        super().__init__()
        self.calls = []

    def before_import(self, dataset, **kwargs):
        self.calls.append("before_import")

    def before_import_row(self, row, **kwargs):
        self.calls.append(f"before_import_row {kwargs['row_number']}")

    def get_or_init_instance(self, instance_loader, row):
        self.calls.append("get_or_init_instance")
        return super().get_or_init_instance(instance_loader, row)

    def get_instance(self, instance_loader, row):
        self.calls.append("get_instance")
        return super().get_instance(instance_loader, row)

    def init_instance(self, row=None):
        self.calls.append("init_instance")
        return super().init_instance(row)

    def after_init_instance(self, instance, new, row, **kwargs):
        self.calls.append(f"after_init_instance new={new}")

    def import_instance(self, instance, row, **kwargs):
        self.calls.append("import_instance")
        super().import_instance(instance, row, **kwargs)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        self.calls.append("skip_row")
        return super().skip_row(instance, original, row, import_validation_errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        self.calls.append("validate_instance")
        super().validate_instance(instance, import_validation_errors, validate_unique)

    def before_save_instance(self, instance, row, **kwargs):
        self.calls.append("before_save_instance")

    def save_instance(self, instance, is_create, row, **kwargs):
        self.calls.append("save_instance")
        super().save_instance(instance, is_create, row, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        self.calls.append("after_save_instance")

    def save_m2m(self, instance, row, **kwargs):
        self.calls.append("save_m2m")
        super().save_m2m(instance, row, **kwargs)

    def after_import_row(self, row, row_result, **kwargs):
        self.calls.append(f"after_import_row {row_result.import_type}")

    def after_import(self, dataset, result, **kwargs):
        self.calls.append("after_import")


# -- end recording resource


# -- deleting resource
class DeletingBookResource(RecordingBookResource):
    """Rows whose ``delete`` column says ``1`` delete their book instead of saving it."""

    class Meta:
        model = Book
        fields = ("id", "name", "price", "categories")

    def for_delete(self, row, instance):
        return row.get("delete") == "1"

    def before_delete_instance(self, instance, row, **kwargs):
        self.calls.append("before_delete_instance")

    def delete_instance(self, instance, row, **kwargs):
        self.calls.append("delete_instance")
        super().delete_instance(instance, row, **kwargs)

    def after_delete_instance(self, instance, row, **kwargs):
        self.calls.append("after_delete_instance")


# -- end deleting resource


# -- run recording
def record_one_new_row():
    """Import one new book with a category; returns the resource's list of calls."""
    Category.objects.get_or_create(name="Poetry")
    dataset = tablib.Dataset(headers=["id", "name", "price", "categories"])
    dataset.append(["", "Odes", "9.50", "Poetry"])
    resource = RecordingBookResource()
    result = resource.import_data(dataset)
    assert not result.has_errors()
    return resource.calls


# -- end run recording


# -- reading a result
def import_and_report(rows):
    """Import book rows; return the totals, what went wrong per row, and the one-line messages."""
    dataset = tablib.Dataset(headers=["id", "name", "published"])
    for row in rows:
        dataset.append(row)
    result = BookResource().import_data(dataset)

    problems = []
    for number, errors in result.row_errors():
        # Rows that raised: the exception is kept on each Error.
        problems.extend((number, "error", type(error.error).__name__) for error in errors)
    for invalid in result.invalid_rows:
        # Rows whose cells failed conversion or validation, messages grouped by field.
        problems.extend((invalid.number, "invalid", name) for name in invalid.field_specific_errors)
    # The same problems as sentences naming row, column and value (this fork's addition).
    return dict(result.totals), problems, result.error_messages()


class BookResource(resources.ModelResource):
    class Meta:
        model = Book
        fields = ("id", "name", "published")


# -- end reading a result


# -- skip unchanged
class QuietBookResource(resources.ModelResource):
    """Rows that change nothing are skipped, and are not even listed in the result."""

    class Meta:
        model = Book
        fields = ("id", "name", "price")
        skip_unchanged = True
        report_skipped = False


# -- end skip unchanged


# -- all or nothing
def import_all_or_nothing(dataset):
    """Import ``dataset`` only if every row is valid; otherwise write nothing."""
    return BookResource().import_data(dataset, rollback_on_validation_errors=True)


# -- end all or nothing
